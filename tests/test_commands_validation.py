"""Malformed commands are refused with errors that name the field and the problem."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from events.catalogue import EVENTS
from events.registry import registry
from services.commands import COMMANDS, Command, PersonalCommand, UnknownCommandError, parse_command
from tests.fixtures.examples import SKIP, example_body

COMMAND_IDS = list(COMMANDS)


def body(name: str, **overrides: Any) -> dict[str, Any]:
    return example_body(COMMANDS[name], **overrides)


def refusal(name: str, payload: dict[str, Any] | bytes) -> tuple[str, list[ErrorDetails]]:
    """The error text and error entries of a refused command."""
    with pytest.raises(ValidationError) as refused:
        parse_command(name, payload)
    return str(refused.value), refused.value.errors()


def locs(errors: list[ErrorDetails]) -> list[tuple[Any, ...]]:
    return [tuple(e["loc"]) for e in errors]


@pytest.mark.parametrize("name", COMMAND_IDS)
def test_every_command_accepts_a_realistic_body(name: str) -> None:
    command = parse_command(name, body(name))
    assert command.command_name == name


@pytest.mark.parametrize("name", COMMAND_IDS)
def test_every_command_accepts_json_bytes(name: str) -> None:
    assert parse_command(name, json.dumps(body(name)).encode()) == parse_command(name, body(name))


@pytest.mark.parametrize("name", COMMAND_IDS)
def test_every_command_names_events_of_the_catalogue(name: str) -> None:
    produced = COMMANDS[name].produces
    assert produced
    assert all(registry().knows(event) for event in produced)


def test_every_event_is_produced_by_some_command() -> None:
    produced = {event for cls in COMMANDS.values() for event in cls.produces}
    assert {cls.event_name for cls in EVENTS} <= produced


@pytest.mark.parametrize("name", COMMAND_IDS)
def test_entry_point_fields_are_not_in_the_body(name: str) -> None:
    fields = set(COMMANDS[name].model_fields)
    assert not fields & {"actor", "office_id", "recorded_at", "event_id", "correlation_id"}


@pytest.mark.parametrize("name", COMMAND_IDS)
def test_commands_with_personal_data_name_the_person(name: str) -> None:
    cls = COMMANDS[name]
    schema = cls.model_json_schema()
    personal = [k for k, v in schema["properties"].items() if v.get("x-personal")]
    if personal:
        assert issubclass(cls, PersonalCommand)
        assert "person_ref" in schema["required"]


def test_unknown_command_name_is_refused_with_a_suggestion() -> None:
    with pytest.raises(UnknownCommandError, match=r"'StartPlacment'.*did you mean StartPlacement"):
        parse_command("StartPlacment", {})


def test_unknown_field_is_refused_by_name() -> None:
    text, errors = refusal("StartPlacement", body("StartPlacement", colour="blue"))
    assert locs(errors) == [("colour",)]
    assert errors[0]["type"] == "extra_forbidden"
    assert "colour" in text


def test_missing_field_is_named() -> None:
    text, errors = refusal("StartPlacement", body("StartPlacement", placement_id=SKIP))
    assert locs(errors) == [("placement_id",)]
    assert errors[0]["type"] == "missing"
    assert "placement_id" in text


def test_wrong_type_is_named() -> None:
    text, errors = refusal("StartPlacement", body("StartPlacement", hours_per_week="veel"))
    assert locs(errors) == [("hours_per_week",)]
    assert "hours_per_week" in text


def test_wrong_enum_value_is_named_with_the_allowed_values() -> None:
    text, errors = refusal("StartPlacement", body("StartPlacement", placement_type="art99"))
    assert locs(errors) == [("placement_type",)]
    assert "twe_art60" in text


def test_negative_amount_is_refused() -> None:
    text, errors = refusal("GrantLeefloon", body("GrantLeefloon", monthly_amount_cents=-1))
    assert locs(errors) == [("monthly_amount_cents",)]
    assert "greater than or equal to 0" in text


def test_absurd_monthly_amount_is_refused() -> None:
    text, errors = refusal("GrantLeefloon", body("GrantLeefloon", monthly_amount_cents=10**8))
    assert locs(errors) == [("monthly_amount_cents",)]
    assert "less than or equal to 1000000" in text


def test_absurd_claim_amount_is_refused() -> None:
    _, errors = refusal("SubmitSubsidyClaim", body("SubmitSubsidyClaim", amount_cents=10**12))
    assert locs(errors) == [("amount_cents",)]


@pytest.mark.parametrize("amount", [1314.2, 131420.0, "131420", True])
def test_amount_must_be_integer_cents_not_euros_floats_or_text(amount: object) -> None:
    _, errors = refusal("GrantLeefloon", body("GrantLeefloon", monthly_amount_cents=amount))
    assert locs(errors) == [("monthly_amount_cents",)]


def test_float_cents_in_json_are_refused() -> None:
    raw = json.dumps(body("RecordLeefloonPayment", amount_cents=1314.2)).encode()
    _, errors = refusal("RecordLeefloonPayment", raw)
    assert locs(errors) == [("amount_cents",)]


def test_huge_free_text_is_refused() -> None:
    text, errors = refusal("EvaluateGpmi", body("EvaluateGpmi", notes="x" * 100_000))
    assert locs(errors) == [("notes",)]
    assert "at most 10000 characters" in text


def test_huge_code_is_refused() -> None:
    _, errors = refusal("SignGpmi", body("SignGpmi", document_ref="d" * 5_000))
    assert locs(errors) == [("document_ref",)]


def test_huge_list_is_refused() -> None:
    many = [{"kind": "document", "ref": f"doc-{i}"} for i in range(1_000)]
    _, errors = refusal("CloseCase", body("CloseCase", evidence=many))
    assert locs(errors) == [("evidence",)]


def test_period_that_ends_before_it_starts_names_both_fields() -> None:
    payload = body("GrantLeefloon", effective_from="2025-03-01", effective_until="2025-02-01")
    text, _ = refusal("GrantLeefloon", payload)
    assert "effective_from (2025-03-01) must not lie after effective_until (2025-02-01)" in text


def test_placement_cannot_end_before_it_starts() -> None:
    payload = body("StartPlacement", starts_on="2025-03-03", planned_end="2025-03-02")
    text, _ = refusal("StartPlacement", payload)
    assert "starts_on" in text
    assert "planned_end" in text


@pytest.mark.parametrize("field", ["occurred_on", "planned_end"])
def test_absurd_dates_are_refused(field: str) -> None:
    _, errors = refusal("StartPlacement", body("StartPlacement", **{field: "9999-12-31"}))
    assert (field,) in locs(errors)


def test_national_number_with_wrong_check_digits_is_refused() -> None:
    text, errors = refusal("RegisterPerson", body("RegisterPerson", national_number="85073003329"))
    assert locs(errors) == [("national_number",)]
    assert "check digits" in text


def test_national_number_of_someone_born_after_2000_passes_the_check() -> None:
    body_ = body("RegisterPerson", national_number="01020312345", birth_date="2001-02-03")
    assert parse_command("RegisterPerson", body_)


def test_kbo_with_wrong_check_digits_is_refused() -> None:
    _, errors = refusal("StartPlacement", body("StartPlacement", employer_kbo="0207437469"))
    assert locs(errors) == [("employer_kbo",)]


@pytest.mark.parametrize("field", ["family_name", "national_number", "address"])
def test_personal_fields_a_fact_needs_are_required_and_not_null(field: str) -> None:
    _, missing = refusal("RegisterPerson", body("RegisterPerson", **{field: SKIP}))
    assert locs(missing) == [(field,)]
    _, null = refusal("RegisterPerson", body("RegisterPerson", **{field: None}))
    assert [loc[0] for loc in locs(null)] == [field]


def test_personal_data_needs_a_person_ref() -> None:
    _, errors = refusal("EvaluateGpmi", body("EvaluateGpmi", person_ref=SKIP))
    assert locs(errors) == [("person_ref",)]


def test_nested_errors_name_the_path() -> None:
    address = {"street": "Kerkstraat", "house_number": "12", "municipality": "Gent"}
    _, errors = refusal("RegisterPerson", body("RegisterPerson", address=address))
    assert locs(errors) == [("address", "postal_code")]


def test_gpmi_needs_a_text_per_agreement() -> None:
    text, _ = refusal("SignGpmi", body("SignGpmi", agreement_texts={}))
    assert "agreement_texts needs one text per agreement" in text


def test_hearing_attended_needs_the_statement() -> None:
    text, _ = refusal("RecordHearing", body("RecordHearing", statement=SKIP))
    assert "statement is required" in text


def test_sanction_months_stay_within_the_law_s_outer_bounds() -> None:
    _, errors = refusal("ImposeSanction", body("ImposeSanction", months=0))
    assert locs(errors) == [("months",)]
    _, errors = refusal("ImposeSanction", body("ImposeSanction", months=25))
    assert locs(errors) == [("months",)]


def test_a_correction_cannot_supersede_itself() -> None:
    payload = body("CorrectSubsidyClaim")
    text, _ = refusal("CorrectSubsidyClaim", {**payload, "supersedes": payload["claim_id"]})
    assert "supersedes" in text


def test_a_retraction_is_not_a_correction() -> None:
    text, _ = refusal(
        "RetractEvent", body("RetractEvent", corrects=body("RetractEvent")["case_id"])
    )
    assert "corrects" in text


def test_malformed_json_is_refused() -> None:
    text, errors = refusal("CloseCase", b'{"reason": ')
    assert errors[0]["type"] == "json_invalid"
    assert "Invalid JSON" in text


def test_commands_are_frozen_values() -> None:
    command = parse_command("CloseCase", body("CloseCase"))
    assert isinstance(command, Command)
    with pytest.raises(ValidationError, match="frozen"):
        command.reason = "deceased"  # type: ignore[attr-defined]


def test_errors_never_echo_personal_input() -> None:
    payload = body("RegisterPerson", national_number="85073003329", household="Jan en Mie")
    text, errors = refusal("RegisterPerson", payload)
    assert {loc[0] for loc in locs(errors)} == {"national_number", "household"}
    for secret in ("85073003329", "Peeters", "Kerkstraat", "Jan en Mie"):
        assert secret not in text
