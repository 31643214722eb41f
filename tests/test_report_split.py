"""The subsidy ledger computed in two processes is the ledger computed in one."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

import pytest

from projections.reports.facts import report_facts
from projections.reports.history import CaseHistory, iter_cases
from projections.reports.ledger import ledger_parts, ledger_report
from projections.reports.model import Params
from projections.reports.replay import memory_database, replay_into
from projections.reports.split import WorkerError, _fits_in_shared_memory, in_two
from projections.rules import default_rules
from services.db import Database
from services.embedded import NatsServer
from services.store import EventStore
from tests.support.readmodels import Writer, fresh_store
from tests.test_projections_support import BRUGGE
from tests.test_report_ledger import Story


@pytest.fixture
async def facts(module_nats_server: NatsServer) -> AsyncIterator[Database]:
    """Five ledger stories (ten cases); the first person also has the fourth story's case A."""
    async with fresh_store(module_nats_server.url) as store:
        stories = [Story() for _ in range(5)]
        for n, story in enumerate(stories):
            story.person_a, story.person_b = UUID(int=2 * n + 1), UUID(int=2 * n + 2)
        stories[3].person_a = stories[0].person_a
        for story in stories:
            await story.write(Writer(store))
        db = memory_database()
        try:
            await _replay(db, store)
            yield db
        finally:
            db.close()


async def _replay(db: Database, store: EventStore) -> None:
    await replay_into(
        db,
        [report_facts],
        store.nc,
        stream=store.stream,
        subjects=store.subjects,
        registry=store.registry,
    )


def params(on: date, offices: frozenset[str] | None = None) -> Params:
    return Params(on=on, known_on=None, offices=offices, year=on.year, rules=default_rules())


@pytest.mark.parametrize(
    "asked",
    [
        params(date(2025, 4, 30)),
        params(date(2025, 2, 28)),
        params(date(2025, 4, 30), frozenset({BRUGGE})),
    ],
    ids=["april", "february", "brugge"],
)
def test_the_ledger_in_two_processes_is_the_ledger_in_one(facts: Database, asked: Params) -> None:
    parts = ledger_parts(facts, asked, split=True)
    assert len(parts) == 2
    assert all(part.rows for part in parts), "each process had people with ledger lines"
    assert ledger_report(facts, asked, split=True) == ledger_report(facts, asked, split=False)


def test_a_persons_cases_are_all_in_one_part(facts: Database) -> None:
    on = date(2025, 4, 30)
    parts = [{c.person: c.case_id for c in iter_cases(facts, on, share=(k, 2))} for k in (0, 1)]
    every = list(iter_cases(facts, on))
    assert not parts[0].keys() & parts[1].keys()
    assert sum(len(p) for p in parts) == len({c.person for c in every}) == 9
    assert sorted(c.case_id for k in (0, 1) for c in iter_cases(facts, on, share=(k, 2))) == sorted(
        c.case_id for c in every
    )


def _fails_in_the_worker(cases: list[CaseHistory], _params: Params) -> int:
    if os.environ["PARENT_PID"] != str(os.getpid()):
        raise ValueError("part 1 cannot be counted")
    return len(cases)


def _merged(_cases: list[CaseHistory], _params: Params, merged: int) -> int:
    return merged


def test_an_error_in_the_worker_is_raised_in_the_parent_with_its_traceback(
    facts: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARENT_PID", str(os.getpid()))
    with pytest.raises(WorkerError, match="part 1 cannot be counted"):
        in_two(facts, params(date(2025, 4, 30)), _fails_in_the_worker, max, _merged)


def test_a_store_larger_than_the_free_shared_memory_is_not_split(
    facts: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _fits_in_shared_memory(facts, tmp_path)  # the small store fits here
    # A container's /dev/shm with 1 KB left: the copy would die of SIGBUS, so no split.
    monkeypatch.setattr(shutil, "disk_usage", lambda _: SimpleNamespace(free=1024))
    assert not _fits_in_shared_memory(facts, tmp_path)
    assert _fits_in_shared_memory(facts, tmp_path / "missing")  # no /dev/shm: not Linux
