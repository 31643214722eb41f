"""Commands on the (equivalent) leefloon right: BCSD decisions, notification, payment, appeal."""

from __future__ import annotations

from typing import ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Code, Month, Personal
from events.rights import (
    AppealOutcome,
    GpmiExemption,
    LeefloonCategory,
    NotificationChannel,
    RefusalReason,
    RevisionCause,
    RightEndReason,
    RightType,
    SuspensionReason,
)
from services.commands.base import (
    Command,
    MonthlyCents,
    NoteText,
    PersonalCommand,
    SaneDate,
)

DecisionId = UUID


class GrantLeefloon(Command):
    """Record the BCSD's decision to grant the right."""

    command_name: ClassVar[str] = "GrantLeefloon"
    produces: ClassVar[tuple[str, ...]] = ("LeefloonGranted",)
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("effective_from", "effective_until"),)

    decision_id: DecisionId
    bcsd_session_on: SaneDate
    right_type: RightType
    category: LeefloonCategory
    monthly_amount_cents: MonthlyCents
    rate_valid_from: SaneDate
    effective_from: SaneDate
    effective_until: SaneDate | None = None
    gpmi_required: bool
    gpmi_exemption: GpmiExemption | None = None

    @model_validator(mode="after")
    def _gpmi_required_xor_exemption(self) -> Self:
        if self.gpmi_required == (self.gpmi_exemption is not None):
            raise ValueError("gpmi_exemption: give it exactly when gpmi_required is false")
        return self


class RefuseLeefloon(Command):
    """Record the BCSD's decision to refuse the right."""

    command_name: ClassVar[str] = "RefuseLeefloon"
    produces: ClassVar[tuple[str, ...]] = ("LeefloonRefused",)

    decision_id: DecisionId
    bcsd_session_on: SaneDate
    right_type: RightType
    reason: RefusalReason


class RecordDecisionNotification(Command):
    """Record that a decision was notified on ``occurred_on``."""

    command_name: ClassVar[str] = "RecordDecisionNotification"
    produces: ClassVar[tuple[str, ...]] = ("DecisionNotified",)

    decision_id: DecisionId
    channel: NotificationChannel


class ReviseLeefloon(Command):
    """Record a new category or amount of a running right."""

    command_name: ClassVar[str] = "ReviseLeefloon"
    produces: ClassVar[tuple[str, ...]] = ("LeefloonRevised",)

    decision_id: DecisionId
    grant_decision_id: DecisionId
    cause: RevisionCause
    category: LeefloonCategory
    monthly_amount_cents: MonthlyCents
    rate_valid_from: SaneDate
    effective_from: SaneDate


class SuspendLeefloon(PersonalCommand):
    """Suspend payment of the right; explain art. 10 grounds only in ``explanation``."""

    command_name: ClassVar[str] = "SuspendLeefloon"
    produces: ClassVar[tuple[str, ...]] = ("LeefloonSuspended",)
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("suspended_from", "suspended_until"),)

    decision_id: DecisionId
    grant_decision_id: DecisionId
    reason: SuspensionReason
    sanction_decision_id: DecisionId | None = None
    suspended_from: SaneDate
    suspended_until: SaneDate | None = None
    explanation: Personal[NoteText] = None

    @model_validator(mode="after")
    def _other_needs_explanation(self) -> Self:
        if self.reason is SuspensionReason.OTHER and self.explanation is None:
            raise ValueError("explanation is required when reason is 'other'")
        if (self.reason is SuspensionReason.SANCTION) != (self.sanction_decision_id is not None):
            raise ValueError("sanction_decision_id: give it exactly when reason is 'sanction'")
        return self


class ResumeLeefloon(Command):
    """Resume payment of a suspended right."""

    command_name: ClassVar[str] = "ResumeLeefloon"
    produces: ClassVar[tuple[str, ...]] = ("LeefloonResumed",)

    grant_decision_id: DecisionId
    resumed_from: SaneDate


class EndLeefloon(Command):
    """End the right; ``end_date`` is its last day."""

    command_name: ClassVar[str] = "EndLeefloon"
    produces: ClassVar[tuple[str, ...]] = ("LeefloonEnded",)

    decision_id: DecisionId
    grant_decision_id: DecisionId
    end_date: SaneDate
    reason: RightEndReason


class RecordLeefloonPayment(Command):
    """Record the amount paid for one month."""

    command_name: ClassVar[str] = "RecordLeefloonPayment"
    produces: ClassVar[tuple[str, ...]] = ("LeefloonPaid",)

    grant_decision_id: DecisionId
    month: Month
    amount_cents: MonthlyCents
    payment_ref: Code | None = None


class RecordAppeal(Command):
    """Record that the person appealed a decision at the labour court."""

    command_name: ClassVar[str] = "RecordAppeal"
    produces: ClassVar[tuple[str, ...]] = ("AppealLodged",)

    decision_id: DecisionId
    court: Code = Field(examples=["arbrb-antwerpen"])
    docket_ref: Code | None = None


class RecordAppealJudgment(Command):
    """Record the labour court's judgment on an appeal."""

    command_name: ClassVar[str] = "RecordAppealJudgment"
    produces: ClassVar[tuple[str, ...]] = ("AppealDecided",)

    decision_id: DecisionId
    outcome: AppealOutcome
    judgment_ref: Code | None = None
