"""What a person takes part in, each a Mark of the event that started it: counsellors,
trajectories, referrals, the GPMI, sanctions, activation steps, placements, outflow."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from events.gpmi import GpmiSubsidyCode
from events.guidance import CounselorRole, ReferralTarget, TrajectoryKind
from events.outflow import OutflowReason
from events.placements import PlacementType
from events.sanctions import SanctionBasis
from services.domain.marks import Mark


class Assignment(Mark):
    role: CounselorRole
    counselor_user_id: str
    ended: Mark | None = None


class Trajectory(Mark):
    kind: TrajectoryKind
    ended: Mark | None = None


class Referral(Mark):
    target: ReferralTarget
    outcomes: tuple[Mark, ...] = ()


class AgreementOutcome(Mark):
    fulfilled: bool


class Agreement(Mark):
    """One agreement of a GPMI (its text stays sealed in the events)."""

    changes: tuple[Mark, ...] = ()
    withdrawn: Mark | None = None
    outcomes: tuple[AgreementOutcome, ...] = ()


class Evaluation(Mark):
    in_person: bool


class Extension(Mark):
    until: date


class Gpmi(Mark):
    subsidy_code: GpmiSubsidyCode
    trajectory_id: UUID | None
    agreements: dict[UUID, Agreement]
    amendments: tuple[Mark, ...] = ()
    evaluations: tuple[Evaluation, ...] = ()
    extensions: tuple[Extension, ...] = ()
    ended: Mark | None = None

    def current_agreement(self, agreement_id: UUID) -> Agreement | None:
        found = self.agreements.get(agreement_id)
        return found if found is not None and found.withdrawn is None else None


class FormalWarning(Mark):
    gpmi_id: UUID
    agreement_id: UUID


class Hearing(Mark):
    warning_id: UUID | None
    attended: bool


class Sanction(Mark):
    basis: SanctionBasis
    months: int
    repeat: bool
    starts_on: date
    warning_id: UUID | None


class Membership(Mark):
    project: str
    left: Mark | None = None


class Activity(Mark):
    """A language course or a training."""

    finished: Mark | None = None


class Placement(Mark):
    placement_type: PlacementType
    starts_on: date
    planned_end: date | None
    trajectory_id: UUID | None
    extensions: tuple[Extension, ...] = ()
    mlp_months: tuple[Mark, ...] = ()
    ended: Mark | None = None

    @property
    def current_planned_end(self) -> date | None:
        return self.extensions[-1].until if self.extensions else self.planned_end


class Aftercare(Mark):
    placement_id: UUID | None
    ended: Mark | None = None


class Outflow(Mark):
    reason: OutflowReason
    outflow_on: date
