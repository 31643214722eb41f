"""The role policy: who sends which command, who reads personal data."""

from __future__ import annotations

from events.base import Role
from services import access
from services.commands import COMMANDS


def test_every_command_has_a_human_sender() -> None:
    for name in COMMANDS:
        humans = set(access.senders(name)) - {Role.OFFICE_SYSTEM}
        assert humans, f"no role but the office system may send {name}"


def test_inspectors_and_the_bcsd_send_nothing() -> None:
    for role in (Role.INSPECTOR, Role.BCSD):
        assert not [name for name in COMMANDS if access.may_send(role, name)]


def test_only_the_dpo_destroys_a_persons_key() -> None:
    assert access.senders("ErasePersonData") == [Role.DPO]


def test_finance_sends_the_claims_and_no_trajectory_command() -> None:
    assert access.may_send(Role.FINANCE, "SubmitSubsidyClaim")
    assert access.may_send(Role.FINANCE, "RecordSubsidyClaimApproval")
    assert not access.may_send(Role.FINANCE, "StartTrajectory")
    assert not access.may_send(Role.FINANCE, "RegisterPerson")


def test_counsellors_send_the_trajectory_commands_but_not_the_decisions_on_the_right() -> None:
    for role in (Role.TRAJECTORY_COUNSELLOR, Role.JOB_COACH, Role.AFTERCARE_COUNSELLOR):
        assert access.may_send(role, "StartPlacement")
        assert access.may_send(role, "EvaluateGpmi")
        assert not access.may_send(role, "GrantLeefloon")
        assert not access.may_send(role, "ImposeSanction")


def test_personal_data_are_read_by_caseworkers_only() -> None:
    assert access.may_reveal(Role.SOCIAL_WORKER)
    assert access.may_reveal(Role.TRAJECTORY_COUNSELLOR)
    for role in (Role.INSPECTOR, Role.FINANCE, Role.DPO, Role.OFFICE_SYSTEM, Role.GROUP_LEADER):
        assert not access.may_reveal(role)


def test_an_unknown_command_is_sent_by_nobody() -> None:
    assert access.senders("NoSuchCommand") == []
