"""Events of data-subject rights: erasure requests, deferral, crypto-shredding."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from events.common import CatalogueEvent


class PrivacyEvent(CatalogueEvent):
    area: ClassVar[str] = "privacy"


class ErasureGround(StrEnum):
    """Why personal data is to be erased."""

    DATA_SUBJECT_REQUEST = "data_subject_request"
    RETENTION_EXPIRED = "retention_expired"
    UNLAWFULLY_PROCESSED = "unlawfully_processed"


class DeferralGround(StrEnum):
    """Why erasure waits (GDPR art. 17(3))."""

    RETENTION_DUTY = "retention_duty"
    LEGAL_CLAIMS = "legal_claims"
    INSPECTION_PENDING = "inspection_pending"


class ErasureRequested(PrivacyEvent):
    """Erasure of the person's data was asked for or became due (envelope person_ref)."""

    event_name: ClassVar[str] = "ErasureRequested"
    event_version: ClassVar[int] = 1

    ground: ErasureGround


class ErasureDeferred(PrivacyEvent):
    """Erasure must wait until ``retain_until``."""

    event_name: ClassVar[str] = "ErasureDeferred"
    event_version: ClassVar[int] = 1

    ground: DeferralGround
    retain_until: date


class PersonDataErased(PrivacyEvent):
    """The person's key was destroyed: sealed fields of the envelope's person_ref read as None."""

    event_name: ClassVar[str] = "PersonDataErased"
    event_version: ClassVar[int] = 1

    ground: ErasureGround
    key_destroyed: bool = Field(description="The person's encryption key no longer exists.")
