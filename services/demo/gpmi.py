"""The GPMI of a demo case: signing, evaluations, the +10 % claims, and its end."""

from __future__ import annotations

from datetime import date
from typing import Final
from uuid import UUID

from events.base import Role
from services.commands.gpmi import EndGpmi, EvaluateGpmi, MarkAgreementFulfilled, SignGpmi
from services.demo.cases import CaseWriter
from services.demo.sanctions import sanction
from services.demo.story import days, months
from services.domain.deadlines import add_months

AGREEMENTS: Final = {
    "werk": (
        ("work_search", "Solliciteert twee keer per week en houdt een logboek bij."),
        ("training", "Volgt de oriëntatiemodule bij VDAB."),
    ),
    "taal": (
        ("language", "Volgt de Nederlandse les en gaat wekelijks naar de praattafel."),
        ("administration", "Blijft ingeschreven bij VDAB."),
    ),
    "sociale_activering": (
        ("wellbeing", "Start de begeleiding bij het CAW."),
        ("finances", "Werkt mee aan de budgetbegeleiding."),
        ("social_activation", "Neemt deel aan een groepsproject."),
    ),
}


def sign(w: CaseWriter, kind: str, trajectory: UUID, on: date) -> tuple[UUID, date, UUID, UUID]:
    """Sign the GPMI: (gpmi id, date, first agreement, the GpmiSigned event)."""
    s = w.story
    gpmi = s.id("gpmi")
    agreements = [
        {
            "agreement_id": s.id(f"agreement/{i}"),
            "party": "client",
            "category": category,
            "due_on": (on + days(120)).isoformat(),
        }
        for i, (category, _) in enumerate(AGREEMENTS[kind])
    ]
    texts = {
        a["agreement_id"]: text for a, (_, text) in zip(agreements, AGREEMENTS[kind], strict=True)
    }
    signed = s.add(
        "gpmi",
        SignGpmi,
        on,
        w.actor(Role.SOCIAL_WORKER),
        gpmi_id=gpmi,
        agreements=agreements,
        agreement_texts=texts,
        subsidy_code="11",
        document_ref=f"gpmi-{s.nis}-{w.number:04d}",
        trajectory_id=trajectory,
        legal_basis="RMI-wet 26/05/2002 art. 11",
    )
    return gpmi, on, s.id("agreement/0"), signed


def follow_up(
    w: CaseWriter, gpmi: UUID, signed: date, first_agreement: UUID, signed_event: UUID
) -> None:
    """Evaluations (3 a year, 2 in person), the +10 % claims, perhaps a sanction, the end."""
    rng, s = w.rng, w.story
    stop = min(w.outflow_on or w.last_day, w.last_day)
    if rng.random() < 0.04 and signed + days(150) < stop:
        sanction(w, gpmi, first_agreement, signed + days(rng.randint(50, 80)))
    for n in range(1, 8):
        on = add_months(signed, 4 * n) - days(rng.randint(0, 20))
        if on >= stop:
            break
        s.add(
            f"gpmi/evaluation/{n}",
            EvaluateGpmi,
            on,
            w.actor(Role.SOCIAL_WORKER),
            gpmi_id=gpmi,
            in_person=n % 3 != 2,
            outcome="on_track",
            notes="Afspraken overlopen; volgende stappen afgesproken.",
        )
        if n == 1:
            s.add(
                "gpmi/fulfilled",
                MarkAgreementFulfilled,
                on,
                w.actor(Role.SOCIAL_WORKER),
                gpmi_id=gpmi,
                agreement_id=first_agreement,
                evidence=[{"kind": "document", "ref": f"bewijs-{s.nis}-{w.number:04d}"}],
            )
    last_month = min(add_months(signed.replace(day=1), 11), stop - days(1))
    for month in months(signed, last_month):
        if month not in w.suspended:
            figure = w.rules.gpmi_supplement(w.category, month)
            w.monthly_claim(
                f"gpmi/{month:%Y-%m}", month, "gpmi", figure.cents, signed_event, gpmi=gpmi
            )
    if w.outflow_on is not None:
        s.add(
            "gpmi/end",
            EndGpmi,
            w.outflow_on + days(3),
            w.actor(Role.SOCIAL_WORKER),
            gpmi_id=gpmi,
            reason="right_ended",
        )
