"""The envelope every event carries: who, when, where, on which evidence and legal basis."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from events.base import Code, Frozen, Role

BRUSSELS: Final = ZoneInfo("Europe/Brussels")

OfficeId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{5}$"),
    Field(description="NIS code of the municipality whose OCMW owns the case.", examples=["31004"]),
]
CaseId = Annotated[UUID, Field(description="Random case id; never derived from personal data.")]
PersonRef = Annotated[
    UUID,
    Field(description="Pseudonymous person id; keys the person's encryption key in the vault."),
]


class Actor(Frozen):
    """The user or system that recorded the fact."""

    user_id: Code = Field(description="User id within the office (no name).", examples=["u-1042"])
    role: Role


class EvidenceRef(Frozen):
    """What a fact rests on: an earlier event or a document (scan, BCSD decision, Dimona)."""

    kind: Literal["event", "document"]
    ref: Code = Field(description="Event id, or document id in the office's document system.")


class EventMeta(Frozen):
    """Envelope fields supplied by the writer; the store adds case version and hash chain."""

    event_id: UUID
    office_id: OfficeId
    case_id: CaseId
    occurred_on: date = Field(description="Business date: when the fact happened.")
    recorded_at: AwareDatetime = Field(description="Recording time (UTC) in Doorstroom.")
    actor: Actor
    evidence: tuple[EvidenceRef, ...] = Field(default=(), max_length=100)
    legal_basis: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Legal basis, e.g. 'RMI-wet 26/05/2002 art. 11'."
    )
    rule_version: Code | None = Field(default=None, description="Version of the rule set used.")
    correlation_id: UUID = Field(description="Shared by all events of one business process.")
    causation_id: UUID | None = Field(
        default=None, description="The command or event that caused this event."
    )
    person_ref: PersonRef | None = Field(
        default=None, description="Whose personal data this event's sealed fields hold."
    )
    corrects: UUID | None = Field(
        default=None,
        description="Id of an earlier event of the same case that this event replaces entirely "
        "(a correction; the original stays on the stream).",
    )

    @classmethod
    def of_validated(cls, **values: Any) -> EventMeta:
        """``EventMeta(**values)`` for every field, from values validated already: a command's
        fields (same types, bounds at least as strict) and a ``Context``.

        Validating them again costs more than the rest of building the envelope. What the
        command cannot have checked (the office code, the business date against the
        recording time, the types a Context carries) is checked here; anything else than
        the usual case is validated in full, so the errors stay the same.
        """
        occurred, recorded = values["occurred_on"], values["recorded_at"]
        office = values["office_id"]
        if (
            values.keys() == _FIELDS
            and type(values["actor"]) is Actor
            and type(office) is str
            and _OFFICE.fullmatch(office) is not None
            and type(occurred) is date
            and isinstance(recorded, datetime)
            and recorded.utcoffset() is not None
            and MIN_BUSINESS_DATE <= occurred <= recorded.astimezone(BRUSSELS).date()
            and type(values["evidence"]) is tuple
        ):
            meta = _new(cls)
            _set(meta, "__dict__", values)
            _set(meta, "__pydantic_fields_set__", set(_FIELDS))
            _set(meta, "__pydantic_extra__", None)
            _set(meta, "__pydantic_private__", None)
            return meta
        return cls(**values)

    @model_validator(mode="after")
    def _business_date_not_after_recording(self) -> EventMeta:
        recorded_local = self.recorded_at.astimezone(BRUSSELS).date()
        if self.occurred_on > recorded_local:
            raise ValueError(
                f"occurred_on {self.occurred_on.isoformat()} lies after the recording date "
                f"{recorded_local.isoformat()}: a fact cannot be recorded before it happens"
            )
        if self.occurred_on < MIN_BUSINESS_DATE:
            raise ValueError(f"occurred_on {self.occurred_on.isoformat()} is before 2000-01-01")
        return self


MIN_BUSINESS_DATE: Final = date(2000, 1, 1)
_FIELDS: Final = frozenset(EventMeta.model_fields)
_OFFICE: Final = re.compile("[0-9]{5}")
_new = object.__new__
_set = object.__setattr__
