"""What the API answers: a command's landing place and a case's timeline."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from events.codec import RecordedEvent
from events.envelope import Actor, EvidenceRef
from services.app import Handled


class CommandAccepted(BaseModel):
    """Where a command's events landed on the stream."""

    command: str = Field(examples=["StartTrajectory"])
    case_id: UUID
    case_version: int = Field(description="The case's version after the command (its events).")
    last_seq: int = Field(description="Stream sequence of the command's last event.")
    event_ids: list[UUID]
    duplicate: bool = Field(
        description="True when the command id was applied before: nothing new was stored."
    )

    @classmethod
    def of(cls, name: str, handled: Handled) -> CommandAccepted:
        return cls(
            command=name,
            case_id=handled.case_id,
            case_version=handled.case_version,
            last_seq=handled.last_seq,
            event_ids=list(handled.event_ids),
            duplicate=handled.duplicate,
        )


class PersonalData(StrEnum):
    """What became of an event's personal fields in this answer."""

    NONE = "none"  # the event holds none
    REVEALED = "revealed"  # decrypted into ``data``
    WITHHELD = "withheld"  # left out of ``data``: the reader's role does not see them
    ERASED = "erased"  # the person's key was destroyed: they read as null


class TimelineEvent(BaseModel):
    """One stored event: its envelope, its place on the stream and its payload."""

    seq: int = Field(description="Stream sequence.")
    case_version: int
    type: str = Field(examples=["PlacementStarted"])
    stored_type: str = Field(examples=["PlacementStarted.v1"])
    event_id: UUID
    office_id: str
    occurred_on: date
    recorded_at: datetime
    actor: Actor
    evidence: list[EvidenceRef]
    legal_basis: str | None
    rule_version: str | None
    correlation_id: UUID
    causation_id: UUID | None
    person_ref: UUID | None
    corrects: UUID | None
    hash: str
    prev_hash: str
    personal_data: PersonalData
    data: dict[str, Any] = Field(
        description="The payload: public fields, plus personal ones "
        "when `personal_data` is `revealed` (or null when `erased`)."
    )

    @classmethod
    def of(cls, rec: RecordedEvent, *, revealed: bool) -> TimelineEvent:
        public, personal = rec.event.public_and_personal("json")
        status = PersonalData.NONE
        if rec.erased:
            status = PersonalData.ERASED
            public.update(dict.fromkeys(personal))
        elif rec.sealed:
            status = PersonalData.WITHHELD
        elif revealed and any(v is not None for v in personal.values()):
            status = PersonalData.REVEALED
            public.update(personal)
        m = rec.meta
        return cls(
            seq=rec.seq,
            case_version=rec.case_version,
            type=rec.name,
            stored_type=rec.stored_type,
            event_id=m.event_id,
            office_id=m.office_id,
            occurred_on=m.occurred_on,
            recorded_at=m.recorded_at,
            actor=m.actor,
            evidence=list(m.evidence),
            legal_basis=m.legal_basis,
            rule_version=m.rule_version,
            correlation_id=m.correlation_id,
            causation_id=m.causation_id,
            person_ref=m.person_ref,
            corrects=m.corrects,
            hash=rec.hash,
            prev_hash=rec.prev_hash,
            personal_data=status,
            data=public,
        )


class Timeline(BaseModel):
    """A case's events in stream order, as the reader's office and role may see them."""

    case_id: UUID
    office_id: str = Field(description="The office that owns the case now.")
    version: int
    personal_data_shown: bool = Field(description="Whether the reader's role sees personal data.")
    events: list[TimelineEvent]
