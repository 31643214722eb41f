"""Tables of the ``caseload`` read model; every one has the ``case_id`` its rows belong to."""

from __future__ import annotations

from projections.projection import Table

CASES = Table(
    name="caseload_cases",
    ddl=(
        "CREATE TABLE IF NOT EXISTS caseload_cases ("
        " case_id TEXT PRIMARY KEY,"
        " office_id TEXT NOT NULL,"
        " person_ref TEXT,"
        " opened_on DATE NOT NULL,"
        " closed BOOLEAN NOT NULL,"
        " closed_on DATE,"
        " outflow_on DATE,"
        " outflow_reason TEXT,"
        " grant_decision_id TEXT,"
        " right_type TEXT,"
        " category TEXT,"
        " right_status TEXT NOT NULL,"
        " gpmi_required_since DATE,"
        " gpmi_exemption TEXT,"
        " trajectory_id TEXT,"
        " trajectory_kind TEXT,"
        " gpmi_id TEXT,"
        " last_activity_on DATE NOT NULL,"
        " last_event TEXT NOT NULL,"
        " last_seq BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS caseload_cases_office ON caseload_cases (office_id, closed)",
    ),
)

GRANTS = Table(
    name="caseload_grants",
    ddl=(
        "CREATE TABLE IF NOT EXISTS caseload_grants ("
        " case_id TEXT NOT NULL,"
        " decision_id TEXT NOT NULL,"
        " right_type TEXT NOT NULL,"
        " category TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " decided_on DATE NOT NULL,"
        " effective_from DATE NOT NULL,"
        " effective_until DATE,"
        " ended_on DATE,"
        " gpmi_required BOOLEAN NOT NULL,"
        " gpmi_exemption TEXT,"
        " seq BIGINT NOT NULL,"
        " PRIMARY KEY (case_id, decision_id))",
    ),
)

COUNSELLORS = Table(
    name="caseload_counsellors",
    ddl=(
        "CREATE TABLE IF NOT EXISTS caseload_counsellors ("
        " case_id TEXT NOT NULL,"
        " role TEXT NOT NULL,"
        " counselor_user_id TEXT NOT NULL,"
        " assigned_from DATE NOT NULL,"
        " assigned_until DATE,"
        " PRIMARY KEY (case_id, role, counselor_user_id))",
        "CREATE INDEX IF NOT EXISTS caseload_counsellors_user"
        " ON caseload_counsellors (counselor_user_id)",
    ),
)

TRAJECTORIES = Table(
    name="caseload_trajectories",
    ddl=(
        "CREATE TABLE IF NOT EXISTS caseload_trajectories ("
        " case_id TEXT NOT NULL,"
        " trajectory_id TEXT NOT NULL,"
        " kind TEXT NOT NULL,"
        " started_on DATE NOT NULL,"
        " ended_on DATE,"
        " end_reason TEXT,"
        " seq BIGINT NOT NULL,"
        " PRIMARY KEY (case_id, trajectory_id))",
    ),
)

GPMIS = Table(
    name="caseload_gpmis",
    ddl=(
        "CREATE TABLE IF NOT EXISTS caseload_gpmis ("
        " case_id TEXT NOT NULL,"
        " gpmi_id TEXT NOT NULL,"
        " signed_on DATE NOT NULL,"
        " subsidy_code TEXT NOT NULL,"
        " extended_until DATE,"
        " ended_on DATE,"
        " end_reason TEXT,"
        " seq BIGINT NOT NULL,"
        " PRIMARY KEY (case_id, gpmi_id))",
    ),
)

EVALUATIONS = Table(
    name="caseload_evaluations",
    ddl=(
        "CREATE TABLE IF NOT EXISTS caseload_evaluations ("
        " case_id TEXT NOT NULL,"
        " event_id TEXT PRIMARY KEY,"
        " gpmi_id TEXT NOT NULL,"
        " evaluated_on DATE NOT NULL,"
        " in_person BOOLEAN NOT NULL)",
        "CREATE INDEX IF NOT EXISTS caseload_evaluations_gpmi"
        " ON caseload_evaluations (case_id, gpmi_id)",
    ),
)

TABLES = (CASES, GRANTS, COUNSELLORS, TRAJECTORIES, GPMIS, EVALUATIONS)
