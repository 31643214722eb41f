"""The event catalogue: complete against domain.md §2, frozen, flat, private by construction."""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from events.base import DomainEvent
from events.catalogue import AREA_MODULES, EVENTS
from events.codec import GENESIS, decode, encode
from events.envelope import EventMeta
from events.registry import registry
from events.rights import LeefloonCategory, LeefloonGranted
from events.schema import event_schema
from tests.fixtures.examples import PlainSealer, example_body, example_event, example_meta

# domain.md §2, item number -> event names (both halves of each pair).
CATALOGUE: dict[int, tuple[str, ...]] = {
    1: ("AidRequestReceived",),
    2: ("PersonRegistered",),
    3: ("SocialInquiryCompleted",),
    4: ("LeefloonGranted", "LeefloonRefused"),
    5: ("DecisionNotified",),
    6: ("LeefloonRevised",),
    7: ("LeefloonSuspended", "LeefloonResumed"),
    8: ("LeefloonEnded",),
    9: ("VdabRegistrationRecorded",),
    10: ("CounselorAssigned",),
    11: ("IntakeCompleted",),
    12: ("TrajectoryStarted",),
    13: ("GpmiSigned",),
    14: ("GpmiAmended",),
    15: ("GpmiEvaluated",),
    16: ("AgreementFulfilled", "AgreementMissed"),
    17: ("WarningIssued",),
    18: ("HearingHeld",),
    19: ("SanctionImposed",),
    20: ("GroupProjectJoined", "GroupProjectLeft"),
    21: ("LanguageCourseEnrolled", "LanguageCourseCompleted"),
    22: ("TrainingStarted", "TrainingEnded"),
    23: ("ReferralMade",),
    24: ("PlacementStarted",),
    25: ("PlacementEnded",),
    26: ("AftercareStarted", "AftercareEnded"),
    27: ("OutflowRecorded",),
    28: ("EmploymentVerified",),
    29: ("CaseTransferred",),
    30: ("SubsidyClaimSubmitted",),
    31: ("SubsidyClaimApproved", "SubsidyClaimRejected"),
    32: ("SubsidyClaimCorrected",),
    33: ("LapEngagementRegistered",),
    34: ("PersonDataErased",),
}
ASKED_BEYOND_CATALOGUE = ("TrajectoryEnded", "EventRetracted")

PERSONAL_NAME = re.compile(
    r"name|insz|inss|national|address|street|birth|note|text|statement|household|resource"
    r"|barrier|health|equity|motivation|explanation|observation|finding",
)
IRREGULAR_PAST = ("Held", "Made", "Left", "Paid", "Withdrawn")
EVENT_IDS = [cls.event_name for cls in EVENTS]


def by_name(name: str) -> type[DomainEvent]:
    return registry().get(name)


@pytest.mark.parametrize("item", sorted(CATALOGUE))
def test_every_item_of_the_domain_catalogue_has_its_events(item: int) -> None:
    for name in CATALOGUE[item]:
        assert by_name(name).event_name == name


@pytest.mark.parametrize("name", ASKED_BEYOND_CATALOGUE)
def test_trajectory_end_and_retraction_exist(name: str) -> None:
    assert by_name(name) in EVENTS


def test_names_and_stored_types_are_unique_and_all_registered() -> None:
    names = [cls.event_name for cls in EVENTS]
    assert len(names) == len(set(names))
    assert len({cls.stored_type() for cls in EVENTS}) == len(EVENTS)
    assert all(registry().get(cls.event_name) is cls for cls in EVENTS)
    assert all(cls.event_version >= 1 for cls in EVENTS)


def test_every_area_module_declares_events_of_its_own_area() -> None:
    for module in AREA_MODULES:
        area = module.__name__.rsplit(".", 1)[-1]
        declared = [c for c in EVENTS if c.__module__ == module.__name__]
        assert declared, f"{module.__name__} declares no event"
        assert {c.area for c in declared} == {area}


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_event_names_are_in_the_past_tense(cls: type[DomainEvent]) -> None:
    assert cls.event_name.endswith("ed") or cls.event_name.endswith(IRREGULAR_PAST)


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_event_is_frozen_and_refuses_unknown_fields(cls: type[DomainEvent]) -> None:
    event = example_event(cls)
    first = next(iter(cls.model_fields))
    with pytest.raises(ValidationError, match="frozen"):
        setattr(event, first, getattr(event, first))
    with pytest.raises(ValidationError) as refused:
        cls.model_validate({**example_body(cls), "surprise": 1})
    assert refused.value.errors()[0]["type"] == "extra_forbidden"
    assert refused.value.errors()[0]["loc"] == ("surprise",)


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_payload_does_not_repeat_envelope_fields(cls: type[DomainEvent]) -> None:
    assert not set(cls.model_fields) & set(EventMeta.model_fields)


def _public_field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    personal = model.personal_fields() if issubclass(model, DomainEvent) else frozenset()
    paths = []
    for name, info in model.model_fields.items():
        if name in personal:
            continue
        paths.append(prefix + name)
        paths += [
            p for sub in _models_in(info.annotation) for p in _public_field_paths(sub, f"{name}.")
        ]
    return paths


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_no_public_field_is_named_like_personal_data(cls: type[DomainEvent]) -> None:
    suspicious = [p for p in _public_field_paths(cls) if PERSONAL_NAME.search(p)]
    assert suspicious == [], f"{cls.event_name}: declare these Personal[...]: {suspicious}"


def _free_strings(schema: Any, defs: dict[str, Any], path: str) -> list[str]:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _free_strings(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, path)
        if schema.get("type") == "string" and not {"pattern", "enum", "format", "const"} & set(
            schema
        ):
            return [path]
        found = []
        for key, sub in schema.items():
            if key not in ("examples", "default"):
                found += _free_strings(sub, defs, f"{path}.{key}")
        return found
    if isinstance(schema, list):
        return [p for sub in schema for p in _free_strings(sub, defs, path)]
    return []


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_public_payload_has_no_free_text(cls: type[DomainEvent]) -> None:
    """Outside Personal fields every string is an enum, a code, an id or a date."""
    schema = event_schema(cls)
    data = schema["$defs"][f"{cls.event_name}Data"]
    assert _free_strings(data, schema["$defs"], cls.event_name) == []


def _annotations(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    return [annotation, *(a for arg in args for a in _annotations(arg))]


def _money_fields(model: type[BaseModel]) -> list[tuple[str, Any]]:
    found = []
    for name, info in model.model_fields.items():
        if name.endswith("_cents"):
            found.append((name, info.annotation))
        found += [f for sub in _models_in(info.annotation) for f in _money_fields(sub)]
    return found


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_money_is_integer_cents_and_nothing_is_a_float(cls: type[DomainEvent]) -> None:
    for name, annotation in _money_fields(cls):
        assert annotation is int, f"{cls.event_name}.{name} is {annotation}"
    for name, info in cls.model_fields.items():
        assert float not in _annotations(info.annotation), f"{cls.event_name}.{name} is a float"


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_every_event_round_trips_through_json_and_the_registry(cls: type[DomainEvent]) -> None:
    event = example_event(cls)
    stored = json.loads(event.model_dump_json())
    assert registry().load(cls.event_name, cls.event_version, stored) == event


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_every_event_round_trips_through_the_stored_record(cls: type[DomainEvent]) -> None:
    event = example_event(cls)
    encoded = encode(example_meta(), event, case_version=1, prev_hash=GENESIS, sealer=PlainSealer())
    record = json.loads(encoded.data)
    assert not set(record["data"]) & cls.personal_fields()
    assert (record["sealed"] is not None) == bool(cls.personal_fields())
    back = decode(encoded.data, registry(), sealer=PlainSealer(), reveal=True)
    assert back.event == event


def test_personal_fields_read_as_none_after_erasure() -> None:
    cls = by_name("PersonRegistered")
    erased = cls.model_validate(dict.fromkeys(cls.personal_fields()))
    assert all(getattr(erased, f) is None for f in cls.personal_fields())


def test_a_period_that_ends_before_it_starts_is_refused_naming_both_fields() -> None:
    body = example_body(LeefloonGranted, effective_from="2025-03-01", effective_until="2025-02-28")
    with pytest.raises(ValidationError) as refused:
        LeefloonGranted.model_validate(body)
    assert "effective_from" in str(refused.value)
    assert "effective_until" in str(refused.value)


def test_category_numbers_follow_the_law() -> None:
    assert [c.number for c in LeefloonCategory] == [1, 2, 3]
    assert LeefloonCategory("alleenstaand").number == 2


def test_gpmi_texts_must_belong_to_an_agreement_of_the_contract() -> None:
    cls = by_name("GpmiSigned")
    stray = {"00000000-0000-4000-8000-000000000001": "Tekst"}
    with pytest.raises(ValidationError, match="agreement_texts"):
        cls.model_validate(example_body(cls, agreement_texts=stray))


def test_events_hold_no_mutable_containers() -> None:
    for cls in EVENTS:
        for name, info in cls.model_fields.items():
            origins = {typing.get_origin(a) for a in _annotations(info.annotation)}
            assert not origins & {list, set}, f"{cls.event_name}.{name} is mutable"
