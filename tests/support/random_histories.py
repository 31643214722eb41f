"""Random valid histories for property tests: actions interpreted against a small model.

A history is a list of actions ``(kind, case index, choice)``; the model turns each into one
event that is valid in the case's state, or skips it, so every history projects without
stopping. Retractions and corrections replace only a case's latest event; the model then
returns to the state before that event.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final
from uuid import UUID, uuid4

from events.base import DomainEvent
from events.case import CaseReopened, EventRetracted, ReopenReason, RetractionReason
from events.envelope import EvidenceRef
from events.gpmi import GpmiEvaluated
from events.guidance import CounselorAssigned, CounselorRole, TrajectoryKind
from events.placements import PlacementEndReason, PlacementExtended, PlacementType
from events.subsidies import ClaimField, SubsidyClaimApproved, SubsidyScheme
from tests.support import histories as h

OFFICES: Final = ("31004", "44021")
CASES: Final = 3
ROLES: Final = (CounselorRole.SOCIAL_WORKER, CounselorRole.JOB_COACH)
USERS: Final = ("u-1", "u-2", "u-3")
EMPLOYERS: Final = ("0207437468", "0456789133", "0403170701")
PEOPLE: Final = (UUID(int=1), UUID(int=2))
START: Final = date(2024, 1, 1)
DAY: Final = timedelta(days=1)

Action = tuple[str, int, int]


@dataclass
class CaseState:
    office: str
    grants: dict[UUID, str] = field(default_factory=dict)
    counsellors: set[tuple[CounselorRole, str]] = field(default_factory=set)
    gpmis: set[UUID] = field(default_factory=set)
    placements: dict[UUID, bool] = field(default_factory=dict)
    claims: dict[UUID, bool] = field(default_factory=dict)
    events: list[tuple[UUID, str, DomainEvent]] = field(default_factory=list)


@dataclass(frozen=True)
class Extras:
    person: UUID | None = None
    evidence: tuple[EvidenceRef, ...] = ()
    corrects: UUID | None = None


@dataclass(frozen=True)
class Planned:
    """One event to append: its case and office, business date, and envelope extras."""

    case: UUID
    office: str
    event: DomainEvent
    on: date
    event_id: UUID
    extras: Extras


Made = tuple[DomainEvent, Extras] | None


@dataclass
class HistoryModel:
    cases: list[UUID] = field(default_factory=lambda: [uuid4() for _ in range(CASES)])
    states: list[CaseState] = field(default_factory=list)
    undo: dict[UUID, CaseState] = field(default_factory=dict)
    day: date = START

    def __post_init__(self) -> None:
        self.states = [CaseState(OFFICES[i % len(OFFICES)]) for i in range(len(self.cases))]

    def plan(self, actions: list[Action]) -> list[Planned]:
        out = []
        for kind, index, choice in actions:
            planned = self.step(kind, index % len(self.cases), random.Random(choice))
            if planned is not None:
                out.append(planned)
        return out

    def step(self, kind: str, index: int, rnd: random.Random) -> Planned | None:
        state = self.states[index]
        before = copy.deepcopy(state)
        made = MAKERS[kind](self, state, rnd)
        if made is None:
            self.states[index] = before
            return None
        event, extras = made
        self.day += rnd.randint(0, 12) * DAY
        planned = Planned(self.cases[index], before.office, event, self.day, uuid4(), extras)
        if kind == "retract":
            self.states[index] = self.undo.pop(state.events[-1][0])
        else:
            self.undo[planned.event_id] = before
        # A correction replaces the latest event with one of the same kind and effect.
        recorded_kind = state.events[-1][1] if kind == "fix" else kind
        self.states[index].events.append((planned.event_id, recorded_kind, event))
        return planned


def _pick(rnd: random.Random, options: list[UUID]) -> UUID | None:
    return rnd.choice(sorted(options)) if options else None


def _grant(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    grant = uuid4()
    s.grants[grant] = "granted"
    start = m.day - rnd.randint(0, 40) * DAY
    required = rnd.random() < 0.7
    return h.granted(
        grant, decided_on=m.day, effective_from=start, gpmi_required=required
    ), Extras()


def _right_change(wanted: tuple[str, ...], becomes: str) -> Callable[..., Made]:
    def make(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
        grant = _pick(rnd, [g for g, status in s.grants.items() if status in wanted])
        if grant is None:
            return None
        s.grants[grant] = becomes
        later = m.day + rnd.randint(0, 40) * DAY
        if becomes == "suspended":
            return h.suspended(grant, later), Extras()
        if becomes == "granted":
            return h.resumed(grant, later), Extras()
        return h.right_ended(grant, later), Extras()

    return make


def _assign(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    role, user = rnd.choice(ROLES), rnd.choice(USERS)
    s.counsellors.add((role, user))
    return h.assigned(role, user, m.day), Extras()


def _unassign(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    if not s.counsellors:
        return None
    role, user = rnd.choice(sorted(s.counsellors))
    s.counsellors.discard((role, user))
    return h.unassigned(role, user, m.day), Extras()


def _trajectory(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    return h.trajectory(uuid4(), rnd.choice(list(TrajectoryKind))), Extras()


def _gpmi(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    gpmi = uuid4()
    s.gpmis.add(gpmi)
    return h.gpmi_signed(gpmi), Extras()


def _on_gpmi(kind: str) -> Callable[..., Made]:
    def make(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
        gpmi = _pick(rnd, list(s.gpmis))
        if gpmi is None:
            return None
        if kind == "evaluate":
            return h.evaluated(gpmi, in_person=rnd.random() < 0.6), Extras()
        if kind == "extend":
            return h.gpmi_extended(gpmi, m.day + rnd.randint(200, 600) * DAY), Extras()
        s.gpmis.discard(gpmi)
        return h.gpmi_ended(gpmi), Extras()

    return make


def _place(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    placement = uuid4()
    s.placements[placement] = True
    start = m.day + rnd.randint(0, 30) * DAY
    event = h.placement(
        placement,
        rnd.choice(list(PlacementType)),
        starts_on=start,
        planned_end=start + rnd.randint(30, 400) * DAY,
        employer=rnd.choice(EMPLOYERS),
        placed_with=rnd.choice((None, *EMPLOYERS)),
    )
    return event, Extras()


def _extend(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    placement = _pick(rnd, list(s.placements))
    if placement is None:
        return None
    return h.placement_extended(placement, m.day + rnd.randint(30, 400) * DAY), Extras()


def _end_placement(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    placement = _pick(rnd, [p for p, running in s.placements.items() if running])
    if placement is None:
        return None
    s.placements[placement] = False
    return h.placement_ended(placement, rnd.choice(list(PlacementEndReason))), Extras()


def _claim_line(rnd: random.Random) -> tuple[SubsidyScheme, str, int]:
    scheme = rnd.choice((SubsidyScheme.RMI_BASE, SubsidyScheme.GPMI, SubsidyScheme.ART60))
    period = f"{rnd.choice((2024, 2025))}-{rnd.randint(1, 12):02d}"
    return scheme, period, rnd.randint(0, 150_000)


def _claim(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    claim = uuid4()
    s.claims[claim] = True
    grounds: tuple[EvidenceRef, ...] = ()
    if s.events and rnd.random() < 0.7:
        grounds = (EvidenceRef(kind="event", ref=str(s.events[0][0])),)
    extras = Extras(person=rnd.choice((None, *PEOPLE)), evidence=grounds)
    return h.claim(claim, *_claim_line(rnd), gpmi=_pick(rnd, list(s.gpmis))), extras


def _answer(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    claim = _pick(rnd, list(s.claims))
    if claim is None:
        return None
    if rnd.random() < 0.6:
        return h.claim_approved(claim, rnd.randint(0, 20_000)), Extras()
    return h.claim_rejected(claim, rnd.choice(("R1", "R17"))), Extras()


def _correct_claim(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    old = _pick(rnd, [c for c, standing in s.claims.items() if standing])
    if old is None:
        return None
    new = uuid4()
    s.claims[old], s.claims[new] = False, True
    scheme, period, cents = _claim_line(rnd)
    return h.claim_corrected(new, old, scheme, period, cents, (ClaimField.AMOUNT,)), Extras()


def _transfer(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    s.office = OFFICES[(OFFICES.index(s.office) + 1) % len(OFFICES)]
    return h.transferred(s.office, m.day), Extras()


def _close(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    if rnd.random() < 0.5:
        return h.case_closed(), Extras()
    return CaseReopened(reason=ReopenReason.NEW_AID_REQUEST), Extras()


def _retract(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    """Retract the case's latest event (not a retraction, nor a transfer)."""
    if not s.events or s.events[-1][1] in ("retract", "transfer"):
        return None
    reason = rnd.choice(list(RetractionReason))
    return EventRetracted(retracted_event_id=s.events[-1][0], reason=reason), Extras()


def _fix(m: HistoryModel, s: CaseState, rnd: random.Random) -> Made:
    """Correct the case's latest event with the same fact, one detail changed."""
    if not s.events or s.events[-1][1] in ("retract", "transfer"):
        return None
    latest, _, event = s.events[-1]
    fixed: DomainEvent | None = None
    if isinstance(event, CounselorAssigned):
        fixed = event.model_copy(update={"assigned_from": event.assigned_from - DAY})
    elif isinstance(event, GpmiEvaluated):
        fixed = event.model_copy(update={"in_person": not event.in_person})
    elif isinstance(event, SubsidyClaimApproved):
        fixed = event.model_copy(update={"amount_cents": event.amount_cents + 1})
    elif isinstance(event, PlacementExtended):
        fixed = event.model_copy(update={"planned_end": event.planned_end + DAY})
    return None if fixed is None else (fixed, Extras(corrects=latest))


MAKERS: Final[dict[str, Callable[[HistoryModel, CaseState, random.Random], Made]]] = {
    "grant": _grant,
    "suspend": _right_change(("granted",), "suspended"),
    "resume": _right_change(("suspended",), "granted"),
    "end_right": _right_change(("granted", "suspended"), "ended"),
    "assign": _assign,
    "unassign": _unassign,
    "trajectory": _trajectory,
    "gpmi": _gpmi,
    "evaluate": _on_gpmi("evaluate"),
    "gpmi_extend": _on_gpmi("extend"),
    "gpmi_end": _on_gpmi("end"),
    "place": _place,
    "extend": _extend,
    "end_placement": _end_placement,
    "claim": _claim,
    "answer": _answer,
    "correct_claim": _correct_claim,
    "transfer": _transfer,
    "close": _close,
    "retract": _retract,
    "fix": _fix,
}
ACTIONS: Final = tuple(MAKERS)
