"""Subsidy history: every claim with its status history and evidence, and audit flags."""

from projections.subsidies.projection import subsidy_history
from projections.subsidies.queries import (
    AuditFlag,
    ClaimHistory,
    ClaimRow,
    ClaimStep,
    audit_flags,
    claim_history,
    claims_of_case,
    claims_of_office,
    claims_without_active_right,
    claims_without_evidence,
    duplicate_claims,
    gpmi_claims_outside_window,
)
from projections.subsidies.rules import Flag

__all__ = [
    "AuditFlag",
    "ClaimHistory",
    "ClaimRow",
    "ClaimStep",
    "Flag",
    "audit_flags",
    "claim_history",
    "claims_of_case",
    "claims_of_office",
    "claims_without_active_right",
    "claims_without_evidence",
    "duplicate_claims",
    "gpmi_claims_outside_window",
    "subsidy_history",
]
