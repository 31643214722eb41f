"""Tables of the ``subsidy_history`` read model; each row belongs to one ``case_id``."""

from __future__ import annotations

from projections.projection import Table

CLAIMS = Table(
    name="subsidy_claims",
    ddl=(
        "CREATE TABLE IF NOT EXISTS subsidy_claims ("
        " claim_id TEXT PRIMARY KEY,"
        " case_id TEXT NOT NULL,"
        " office_id TEXT NOT NULL,"
        " person_ref TEXT,"
        " scheme TEXT NOT NULL,"
        " period TEXT NOT NULL,"
        " amount_cents BIGINT NOT NULL,"
        " form TEXT NOT NULL,"
        " form_code TEXT,"
        " tier_percent INTEGER,"
        " decision_id TEXT,"
        " gpmi_id TEXT,"
        " placement_id TEXT,"
        " rule_version TEXT,"
        " status TEXT NOT NULL,"
        " approved_cents BIGINT,"
        " rejection_code TEXT,"
        " supersedes TEXT,"
        " superseded_by TEXT,"
        " claimed_by_event TEXT NOT NULL,"
        " claimed_on DATE NOT NULL,"
        " recorded_at TIMESTAMPTZ NOT NULL,"
        " seq BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS subsidy_claims_case ON subsidy_claims (case_id)",
        "CREATE INDEX IF NOT EXISTS subsidy_claims_office"
        " ON subsidy_claims (office_id, scheme, period)",
        "CREATE INDEX IF NOT EXISTS subsidy_claims_person"
        " ON subsidy_claims (person_ref, scheme, period)",
    ),
)

STEPS = Table(
    name="subsidy_claim_steps",
    ddl=(
        "CREATE TABLE IF NOT EXISTS subsidy_claim_steps ("
        " claim_id TEXT NOT NULL,"
        " event_id TEXT NOT NULL,"
        " case_id TEXT NOT NULL,"
        " step TEXT NOT NULL,"
        " amount_cents BIGINT,"
        " reason_code TEXT,"
        " other_claim_id TEXT,"
        " rule_version TEXT,"
        " actor_user_id TEXT NOT NULL,"
        " actor_role TEXT NOT NULL,"
        " occurred_on DATE NOT NULL,"
        " recorded_at TIMESTAMPTZ NOT NULL,"
        " seq BIGINT NOT NULL,"
        " PRIMARY KEY (claim_id, event_id))",
        "CREATE INDEX IF NOT EXISTS subsidy_claim_steps_case ON subsidy_claim_steps (case_id)",
    ),
)

EVIDENCE = Table(
    name="subsidy_claim_evidence",
    ddl=(
        "CREATE TABLE IF NOT EXISTS subsidy_claim_evidence ("
        " claim_id TEXT NOT NULL,"
        " event_id TEXT NOT NULL,"
        " case_id TEXT NOT NULL,"
        " kind TEXT NOT NULL,"
        " ref TEXT NOT NULL,"
        " PRIMARY KEY (claim_id, event_id, kind, ref))",
        "CREATE INDEX IF NOT EXISTS subsidy_claim_evidence_case"
        " ON subsidy_claim_evidence (case_id)",
    ),
)

GRANTS = Table(
    name="subsidy_grants",
    ddl=(
        "CREATE TABLE IF NOT EXISTS subsidy_grants ("
        " case_id TEXT NOT NULL,"
        " decision_id TEXT NOT NULL,"
        " right_type TEXT NOT NULL,"
        " effective_from DATE NOT NULL,"
        " effective_until DATE,"
        " ended_on DATE,"
        " PRIMARY KEY (case_id, decision_id))",
    ),
)

SUSPENSIONS = Table(
    name="subsidy_suspensions",
    ddl=(
        "CREATE TABLE IF NOT EXISTS subsidy_suspensions ("
        " case_id TEXT NOT NULL,"
        " decision_id TEXT NOT NULL,"
        " grant_decision_id TEXT NOT NULL,"
        " suspended_from DATE NOT NULL,"
        " suspended_until DATE,"
        " resumed_from DATE,"
        " seq BIGINT NOT NULL,"
        " PRIMARY KEY (case_id, decision_id))",
    ),
)

GPMIS = Table(
    name="subsidy_gpmis",
    ddl=(
        "CREATE TABLE IF NOT EXISTS subsidy_gpmis ("
        " case_id TEXT NOT NULL,"
        " gpmi_id TEXT NOT NULL,"
        " signed_on DATE NOT NULL,"
        " extended_until DATE,"
        " ended_on DATE,"
        " PRIMARY KEY (case_id, gpmi_id))",
    ),
)

TABLES = (CLAIMS, STEPS, EVIDENCE, GRANTS, SUSPENSIONS, GPMIS)
