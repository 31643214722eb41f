"""The case file, the person, BCSD decisions, the right and claims: Marks, no personal data."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from events.aid import RequestedAid
from events.rights import RightType
from events.subsidies import SubsidyScheme
from services.domain.marks import Mark


class Transfer(Mark):
    to_office_id: str


class Closure(Mark):
    """A CaseClosed (``closed``) or CaseReopened (not ``closed``)."""

    closed: bool


class AidRequest(Mark):
    requested: RequestedAid
    decided: Mark | None = None
    withdrawn: Mark | None = None

    @property
    def pending(self) -> bool:
        return self.decided is None and self.withdrawn is None


class Deferral(Mark):
    retain_until: date


class Person(Mark):
    """The registered person, by pseudonymous reference only."""

    person_ref: UUID | None
    erasure_requests: tuple[Mark, ...] = ()
    deferrals: tuple[Deferral, ...] = ()
    erased: Mark | None = None


class DecisionKind(StrEnum):
    GRANT = "grant"
    REFUSAL = "refusal"
    REVISION = "revision"
    SUSPENSION = "suspension"
    END = "end"
    SANCTION = "sanction"


class Appeal(Mark):
    decided: Mark | None = None


class Decision(Mark):
    """A BCSD decision; it must be notified (8 days) and can be appealed."""

    kind: DecisionKind
    notifications: tuple[Mark, ...] = ()
    appeals: tuple[Appeal, ...] = ()


class GrantStatus(StrEnum):
    GRANTED = "granted"
    SUSPENDED = "suspended"
    ENDED = "ended"


class GrantStep(Mark):
    status: GrantStatus


class Grant(Mark):
    right_type: RightType
    bcsd_session_on: date
    effective_from: date
    effective_until: date | None
    gpmi_required: bool
    steps: tuple[GrantStep, ...] = ()

    @property
    def status(self) -> GrantStatus:
        return self.steps[-1].status if self.steps else GrantStatus.GRANTED

    @property
    def running(self) -> bool:
        return self.status is not GrantStatus.ENDED


class ClaimDecision(Mark):
    approved: bool


class Claim(Mark):
    scheme: SubsidyScheme
    period: str
    supersedes: UUID | None = None
    decided: ClaimDecision | None = None
    superseded_by: Mark | None = None


class LapEngagement(Mark):
    call_from: date
    call_to: date
