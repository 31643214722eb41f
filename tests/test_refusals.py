"""Malformed events and envelopes are refused with the field and the problem; nothing is stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from events.envelope import EventMeta
from events.registry import UnknownEventError, registry
from events.rights import LeefloonGranted
from events.subsidies import SubsidyClaimApproved, SubsidyClaimSubmitted
from services.embedded import NatsServer
from services.offices import Offices, UnknownOfficeError
from services.store import CaseHead, Draft
from tests.fixtures.examples import example_body, example_event, example_meta
from tests.support.stack import store_on


def refused(build: Callable[[], Any]) -> str:
    with pytest.raises((ValidationError, ValueError)) as excinfo:
        build()
    return str(excinfo.value)


@pytest.mark.parametrize(
    ("build", "field", "problem"),
    [
        (
            lambda: SubsidyClaimApproved.model_validate(
                example_body(SubsidyClaimApproved, amount_cents=-500)
            ),
            "amount_cents",
            "greater than or equal to 0",
        ),
        (
            lambda: SubsidyClaimApproved.model_validate(
                example_body(SubsidyClaimApproved, amount_cents="veel")
            ),
            "amount_cents",
            "valid integer",
        ),
        (
            lambda: SubsidyClaimApproved.model_validate(
                {k: v for k, v in example_body(SubsidyClaimApproved).items() if k != "claim_id"}
            ),
            "claim_id",
            "Field required",
        ),
        (
            lambda: SubsidyClaimApproved.model_validate(
                example_body(SubsidyClaimApproved, surprise=1)
            ),
            "surprise",
            "Extra inputs are not permitted",
        ),
        (lambda: example_meta(office_id="Brugge"), "office_id", "pattern"),
        (
            lambda: example_meta(occurred_on=date(2099, 1, 1)),
            "occurred_on",
            "after the recording date",
        ),
        (lambda: example_meta(event_id="not-a-uuid"), "event_id", "UUID"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field_and_the_problem(
    build: Callable[[], Any], field: str, problem: str
) -> None:
    message = refused(build)
    assert field in message
    assert problem in message


def test_an_unknown_event_name_is_refused() -> None:
    with pytest.raises(UnknownEventError, match="PlacementTeleported"):
        registry().load("PlacementTeleported", 1, {})


async def test_a_write_for_an_unknown_office_is_refused_and_nothing_is_stored(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, registry()) as (store, _):
        store.offices = Offices.load()
        case = uuid.uuid4()
        meta = example_meta(case_id=case, event_id=uuid.uuid4(), office_id="99999")
        event = example_event(LeefloonGranted)
        with pytest.raises(UnknownOfficeError, match="office_id '99999'"):
            await store.append(CaseHead(case), [Draft(meta, event)])
        ok_meta = example_meta(case_id=case, event_id=uuid.uuid4())
        stored = await store.append(CaseHead(case), [Draft(ok_meta, event)])
        assert stored.seqs == (1,)
        assert (await store.js.stream_info(store.stream)).state.messages == 1


def test_an_envelope_is_never_built_from_a_dict_with_unknown_fields() -> None:
    body: dict[str, Any] = example_meta().model_dump()
    body["national_number"] = "85.07.30-033.61"
    message = refused(lambda: EventMeta.model_validate(body))
    assert "national_number" in message
    assert "85.07.30" not in message  # errors never echo the input (it may be personal)


def test_a_claim_submission_needs_a_valid_period() -> None:
    message = refused(
        lambda: SubsidyClaimSubmitted.model_validate(
            example_body(SubsidyClaimSubmitted, period="2025-13")
        )
    )
    assert "period" in message
