"""The state of one case, folded from its events: what the rules need, and no personal data."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from events.base import Frozen
from events.envelope import Actor
from services.domain.activities import (
    Activity,
    Aftercare,
    Assignment,
    FormalWarning,
    Gpmi,
    Hearing,
    Membership,
    Outflow,
    Placement,
    Referral,
    Sanction,
    Trajectory,
)
from services.domain.marks import Mark, without_event
from services.domain.records import (
    AidRequest,
    Claim,
    Closure,
    Decision,
    Grant,
    LapEngagement,
    Person,
    Transfer,
)

if TYPE_CHECKING:
    from services.domain.deadlines import Deadline


class CaseKind(StrEnum):
    """A person's case, or an office's ledger case (LAP engagements)."""

    PERSON = "person"
    LEDGER = "ledger"


class Applied(Frozen):
    """Where the last event of an applied command landed (to answer a retried command)."""

    version: int
    seq: int
    events: int


class CaseState(Frozen):
    """Everything the rules of a case need, as of its last folded event.

    Dumped as JSON for snapshots (``CaseFold``). Personal data stays in the sealed fields of
    the events; the state holds the pseudonymous ``person_ref`` at most.
    """

    case_id: UUID
    kind: CaseKind | None = None
    origin_office: str | None = None
    opened_by: Actor | None = None  # who recorded the first event: the intake worker
    transfers: tuple[Transfer, ...] = ()
    closures: tuple[Closure, ...] = ()
    requests: tuple[AidRequest, ...] = ()
    person: Person | None = None
    inquiries: tuple[Mark, ...] = ()
    vdab_records: tuple[Mark, ...] = ()
    intakes: tuple[Mark, ...] = ()
    decisions: dict[UUID, Decision] = {}
    grants: dict[UUID, Grant] = {}
    counsellors: tuple[Assignment, ...] = ()
    trajectories: dict[UUID, Trajectory] = {}
    referrals: dict[UUID, Referral] = {}
    gpmis: dict[UUID, Gpmi] = {}
    warnings: dict[UUID, FormalWarning] = {}
    hearings: dict[UUID, Hearing] = {}
    sanctions: dict[UUID, Sanction] = {}
    memberships: tuple[Membership, ...] = ()
    courses: dict[UUID, Activity] = {}
    trainings: dict[UUID, Activity] = {}
    placements: dict[UUID, Placement] = {}
    aftercare: dict[UUID, Aftercare] = {}
    outflows: tuple[Outflow, ...] = ()
    employment_checks: tuple[Mark, ...] = ()
    claims: dict[UUID, Claim] = {}
    lap_calls: dict[str, LapEngagement] = {}
    # Bookkeeping: every event of the case by id, and which no longer count.
    events: dict[UUID, str] = {}
    retracted: frozenset[UUID] = frozenset()
    superseded: dict[UUID, UUID] = {}
    applied: dict[UUID, Applied] = {}

    @property
    def exists(self) -> bool:
        return self.kind is not None

    @property
    def office(self) -> str | None:
        """The office that owns the case now (after any transfers)."""
        return self.transfers[-1].to_office_id if self.transfers else self.origin_office

    @property
    def closed(self) -> bool:
        return bool(self.closures) and self.closures[-1].closed

    @property
    def closed_by(self) -> UUID | None:
        return self.closures[-1].event_id if self.closed else None

    @property
    def erased(self) -> bool:
        return self.person is not None and self.person.erased is not None

    def counts(self, event_id: UUID) -> bool:
        """The event is in this case and was neither retracted nor replaced by a correction."""
        return (
            event_id in self.events
            and event_id not in self.retracted
            and event_id not in self.superseded
        )

    def without(self, event_id: UUID) -> CaseState:
        """The state as if ``event_id`` had never been recorded (bookkeeping kept)."""
        return without_event(self, event_id)

    def put(self, field: str, key: Any, value: Any) -> CaseState:
        """The state with ``value`` under ``key`` in the mapping ``field``."""
        return self.model_copy(update={field: {**getattr(self, field), key: value}})

    def change(self, field: str, key: Any, **changes: Any) -> CaseState:
        """The state with the entity ``key`` of the mapping ``field`` changed (if it exists)."""
        current = getattr(self, field).get(key)
        if current is None:
            return self
        return self.put(field, key, current.model_copy(update=changes))

    def add(self, field: str, value: Any) -> CaseState:
        """The state with ``value`` appended to the tuple ``field``."""
        return self.model_copy(update={field: (*getattr(self, field), value)})

    def open_trajectories(self) -> dict[UUID, Trajectory]:
        return {k: t for k, t in self.trajectories.items() if t.ended is None}

    def running_placements(self) -> dict[UUID, Placement]:
        return {k: p for k, p in self.placements.items() if p.ended is None}

    def deadlines(self, as_of: date) -> tuple[Deadline, ...]:
        """Legal deadlines of the case (reported, never enforced) as of ``as_of``."""
        from services.domain.deadlines import deadlines

        return deadlines(self, as_of)
