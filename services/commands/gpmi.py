"""Commands on the GPMI: sign, amend, extend, evaluate, end, and agreement follow-up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Code
from events.gpmi import Agreement, EvaluationOutcome, GpmiEndReason, GpmiSubsidyCode
from services.commands.base import Command, NoteText, PersonalCommand, PersonalIn, SaneDate

Agreements = Annotated[tuple[Agreement, ...], Field(max_length=100)]
Texts = Annotated[dict[UUID, NoteText], Field(max_length=100)]


def _texts_for_each(texts: Texts, agreements: Iterable[Agreement]) -> None:
    ids = [a.agreement_id for a in agreements]
    if len(ids) != len(set(ids)):
        raise ValueError("agreements: agreement ids must be unique")
    if set(texts) != set(ids):
        missing = sorted(str(i) for i in set(ids) - set(texts))
        extra = sorted(str(i) for i in set(texts) - set(ids))
        raise ValueError(
            f"agreement_texts needs one text per agreement: missing {missing}, unknown {extra}"
        )


class SignGpmi(PersonalCommand):
    """Record a signed GPMI with its agreements and their texts."""

    command_name: ClassVar[str] = "SignGpmi"
    produces: ClassVar[tuple[str, ...]] = ("GpmiSigned",)

    gpmi_id: UUID
    agreements: Agreements = Field(min_length=1)
    agreement_texts: PersonalIn[Texts]
    document_ref: Code
    subsidy_code: GpmiSubsidyCode
    trajectory_id: UUID | None = None

    @model_validator(mode="after")
    def _texts_match(self) -> Self:
        _texts_for_each(self.agreement_texts, self.agreements)
        return self


class AmendGpmi(PersonalCommand):
    """Record a signed amendment: added, changed or withdrawn agreements."""

    command_name: ClassVar[str] = "AmendGpmi"
    produces: ClassVar[tuple[str, ...]] = ("GpmiAmended",)

    gpmi_id: UUID
    added: Agreements = ()
    changed: Agreements = ()
    withdrawn: Annotated[tuple[UUID, ...], Field(max_length=100)] = ()
    agreement_texts: PersonalIn[Texts] = Field(description="Texts of added and changed ones.")
    document_ref: Code

    @model_validator(mode="after")
    def _something_changed(self) -> Self:
        if not (self.added or self.changed or self.withdrawn):
            raise ValueError("give added, changed or withdrawn agreements")
        _texts_for_each(self.agreement_texts, self.added + self.changed)
        return self


class ExtendGpmi(PersonalCommand):
    """Extend the GPMI subsidy beyond 12 months (code 17) with a written motivation."""

    command_name: ClassVar[str] = "ExtendGpmi"
    produces: ClassVar[tuple[str, ...]] = ("GpmiExtended",)

    gpmi_id: UUID
    extended_until: SaneDate
    motivation: PersonalIn[NoteText]


class EvaluateGpmi(PersonalCommand):
    """Record a GPMI evaluation and its report."""

    command_name: ClassVar[str] = "EvaluateGpmi"
    produces: ClassVar[tuple[str, ...]] = ("GpmiEvaluated",)

    gpmi_id: UUID
    in_person: bool
    outcome: EvaluationOutcome
    notes: PersonalIn[NoteText]


class EndGpmi(Command):
    """End a GPMI."""

    command_name: ClassVar[str] = "EndGpmi"
    produces: ClassVar[tuple[str, ...]] = ("GpmiEnded",)

    gpmi_id: UUID
    reason: GpmiEndReason


class MarkAgreementFulfilled(Command):
    """Record that an agreement was kept (name the proof in ``evidence``)."""

    command_name: ClassVar[str] = "MarkAgreementFulfilled"
    produces: ClassVar[tuple[str, ...]] = ("AgreementFulfilled",)

    gpmi_id: UUID
    agreement_id: UUID


class MarkAgreementMissed(Command):
    """Record that an agreement was not kept."""

    command_name: ClassVar[str] = "MarkAgreementMissed"
    produces: ClassVar[tuple[str, ...]] = ("AgreementMissed",)

    gpmi_id: UUID
    agreement_id: UUID
    valid_reason: bool
