"""A GPMI breach in a demo case: missed agreement, warning, hearing, one month's suspension."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from events.base import Role
from services.commands.gpmi import MarkAgreementMissed
from services.commands.rights import ResumeLeefloon, SuspendLeefloon
from services.commands.sanctions import ImposeSanction, IssueWarning, RecordHearing
from services.demo.cases import CaseWriter
from services.demo.story import days, month_end
from services.domain.deadlines import add_months


def sanction(w: CaseWriter, gpmi: UUID, agreement: UUID, missed: date) -> None:
    """The legal path of art. 30 RMI: warning first, a hearing, then at most one month."""
    s, sw, bcsd = w.story, w.actor(Role.SOCIAL_WORKER), w.actor(Role.BCSD)
    counsellor = w.actor(Role(w.profile.counsellor_role))
    s.add(
        "sanction/missed",
        MarkAgreementMissed,
        missed,
        counsellor,
        gpmi_id=gpmi,
        agreement_id=agreement,
        valid_reason=False,
    )
    warning, hearing = s.id("warning/1"), s.id("hearing/1")
    s.add(
        "sanction/warning",
        IssueWarning,
        missed + days(2),
        sw,
        warning_id=warning,
        gpmi_id=gpmi,
        agreement_id=agreement,
        respond_by=missed + days(16),
    )
    s.add(
        "sanction/hearing",
        RecordHearing,
        missed + days(20),
        sw,
        hearing_id=hearing,
        warning_id=warning,
        attended=True,
        statement="Ik begrijp de afspraak; ik had geen vervoer naar de sollicitaties.",
    )
    decided, decision = missed + days(25), s.id("decision/sanction")
    starts = add_months(decided.replace(day=1), 1)
    s.add(
        "sanction",
        ImposeSanction,
        decided,
        bcsd,
        decision_id=decision,
        basis="gpmi_breach",
        months=1,
        repeat=False,
        starts_on=starts,
        hearing_id=hearing,
        warning_id=warning,
        legal_basis="RMI-wet 26/05/2002 art. 30 §2",
    )
    w.notify("sanction", decision, decided)
    suspension = s.id("decision/suspension")
    s.add(
        "suspension",
        SuspendLeefloon,
        decided,
        bcsd,
        decision_id=suspension,
        grant_decision_id=w.grant_id,
        reason="sanction",
        sanction_decision_id=decision,
        suspended_from=starts,
        suspended_until=month_end(starts),
    )
    w.notify("suspension", suspension, decided)
    resumed = add_months(starts, 1)
    s.add(
        "resumed", ResumeLeefloon, resumed, sw, grant_decision_id=w.grant_id, resumed_from=resumed
    )
    w.suspended.add(starts)
