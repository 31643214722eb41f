"""Commands of data-subject rights: erasure request, deferral, erasure."""

from __future__ import annotations

from typing import ClassVar

from events.privacy import DeferralGround, ErasureGround
from services.commands.base import PersonalCommand, SaneDate


class RequestErasure(PersonalCommand):
    """Record that erasure was asked for or became due."""

    command_name: ClassVar[str] = "RequestErasure"
    produces: ClassVar[tuple[str, ...]] = ("ErasureRequested",)

    ground: ErasureGround


class DeferErasure(PersonalCommand):
    """Record that erasure must wait for a retention duty or legal claim."""

    command_name: ClassVar[str] = "DeferErasure"
    produces: ClassVar[tuple[str, ...]] = ("ErasureDeferred",)

    ground: DeferralGround
    retain_until: SaneDate


class ErasePersonData(PersonalCommand):
    """Destroy the person's key (crypto-shredding); the vault reports whether it existed."""

    command_name: ClassVar[str] = "ErasePersonData"
    produces: ClassVar[tuple[str, ...]] = ("PersonDataErased",)

    ground: ErasureGround
