"""Events of the GPMI (individualised integration project): contract, agreements, evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Code, FreeText, Frozen, Personal
from events.common import CatalogueEvent

AgreementTexts = dict[UUID, FreeText]


class GpmiEvent(CatalogueEvent):
    area: ClassVar[str] = "gpmi"


class AgreementParty(StrEnum):
    """Who commits to an agreement."""

    CLIENT = "client"
    OCMW = "ocmw"
    BOTH = "both"
    THIRD_PARTY = "third_party"


class AgreementCategory(StrEnum):
    """Coarse category of an agreement; the text itself is sealed."""

    WORK_SEARCH = "work_search"
    TRAINING = "training"
    LANGUAGE = "language"
    SOCIAL_ACTIVATION = "social_activation"
    ADMINISTRATION = "administration"
    HOUSING = "housing"
    FINANCES = "finances"
    WELLBEING = "wellbeing"
    OTHER = "other"


class GpmiSubsidyCode(StrEnum):
    """Formulier B code of the GPMI subsidy: 11 = GPMI, 17 = exceptional extension/second."""

    GPMI = "11"
    EXCEPTIONAL = "17"


class EvaluationOutcome(StrEnum):
    """Overall result of a GPMI evaluation."""

    ON_TRACK = "on_track"
    PARTLY_ON_TRACK = "partly_on_track"
    NOT_ON_TRACK = "not_on_track"
    GOALS_REACHED = "goals_reached"


class GpmiEndReason(StrEnum):
    """Why a GPMI ended."""

    GOALS_REACHED = "goals_reached"
    RIGHT_ENDED = "right_ended"
    REPLACED = "replaced"
    TRANSFERRED = "transferred"
    TERMINATED = "terminated"


class Agreement(Frozen):
    """One agreement of a GPMI, without its text (that is sealed, keyed by ``agreement_id``)."""

    agreement_id: UUID
    party: AgreementParty
    category: AgreementCategory
    due_on: date | None = None


Agreements = Annotated[tuple[Agreement, ...], Field(max_length=100)]


def _check_texts(texts: AgreementTexts | None, agreements: Iterable[Agreement]) -> None:
    ids = [a.agreement_id for a in agreements]
    if len(ids) != len(set(ids)):
        raise ValueError("agreement ids must be unique")
    unknown = set(texts or {}) - set(ids)
    if unknown:
        raise ValueError(f"agreement_texts has keys without agreement: {sorted(map(str, unknown))}")


class GpmiSigned(GpmiEvent):
    """Client and OCMW signed a GPMI on ``occurred_on``."""

    event_name: ClassVar[str] = "GpmiSigned"
    event_version: ClassVar[int] = 1

    gpmi_id: UUID
    agreements: Agreements = Field(min_length=1)
    agreement_texts: Personal[AgreementTexts] = Field(
        default=None,
        description="Agreement texts by agreement id; may hold health or addiction details.",
    )
    document_ref: Code = Field(description="Id of the signed scan.", examples=["doc-2025-0042"])
    subsidy_code: GpmiSubsidyCode = Field(examples=["11"])
    trajectory_id: UUID | None = None

    @model_validator(mode="after")
    def _texts_match_agreements(self) -> Self:
        _check_texts(self.agreement_texts, self.agreements)
        return self


class GpmiAmended(GpmiEvent):
    """Agreements were added, replaced or withdrawn; a new signed version exists."""

    event_name: ClassVar[str] = "GpmiAmended"
    event_version: ClassVar[int] = 1

    gpmi_id: UUID
    added: Agreements = ()
    changed: Agreements = Field(default=(), description="New versions of existing agreements.")
    withdrawn: Annotated[tuple[UUID, ...], Field(max_length=100)] = Field(
        default=(), description="Ids of agreements that no longer apply."
    )
    agreement_texts: Personal[AgreementTexts] = Field(
        default=None, description="Texts of the added and changed agreements."
    )
    document_ref: Code = Field(examples=["doc-2025-0107"])

    @model_validator(mode="after")
    def _something_changed(self) -> Self:
        if not (self.added or self.changed or self.withdrawn):
            raise ValueError("an amendment needs added, changed or withdrawn agreements")
        _check_texts(self.agreement_texts, self.added + self.changed)
        return self


class GpmiExtended(GpmiEvent):
    """The GPMI subsidy runs beyond 12 months (code 17) on a written motivation."""

    event_name: ClassVar[str] = "GpmiExtended"
    event_version: ClassVar[int] = 1

    gpmi_id: UUID
    extended_until: date
    motivation: Personal[FreeText] = None


class GpmiEvaluated(GpmiEvent):
    """A GPMI evaluation took place (at least 3 a year, at least 2 in person)."""

    event_name: ClassVar[str] = "GpmiEvaluated"
    event_version: ClassVar[int] = 1

    gpmi_id: UUID
    in_person: bool
    outcome: EvaluationOutcome
    notes: Personal[FreeText] = None


class GpmiEnded(GpmiEvent):
    """A GPMI ended; its deadlines and subsidy window stop."""

    event_name: ClassVar[str] = "GpmiEnded"
    event_version: ClassVar[int] = 1

    gpmi_id: UUID
    reason: GpmiEndReason


class AgreementFulfilled(GpmiEvent):
    """An agreement was kept; the envelope's evidence says how that is known."""

    event_name: ClassVar[str] = "AgreementFulfilled"
    event_version: ClassVar[int] = 1

    gpmi_id: UUID
    agreement_id: UUID


class AgreementMissed(GpmiEvent):
    """An agreement was not kept."""

    event_name: ClassVar[str] = "AgreementMissed"
    event_version: ClassVar[int] = 1

    gpmi_id: UUID
    agreement_id: UUID
    valid_reason: bool = Field(description="The person had a valid reason (no sanction basis).")
