"""The projection engine and the case directory on a real nats-server, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from events.codec import RecordedEvent
from events.registry import registry
from projections import checkpoints
from projections.case_directory import case_directory, cases_of_office, get_case
from projections.engine import Runner
from projections.projection import Projection, ProjectionError, Table, Tx, write_later
from services.db import Database
from services.embedded import NatsServer
from services.store import EventStore
from tests.support.sample_events import SAMPLE_REGISTRY, noted
from tests.support.stack import store_on
from tests.test_projections_support import (
    BRUGGE,
    DB_KINDS,
    GENT,
    LEUVEN,
    append,
    database_url,
    event,
    event_log,
    names_seen,
    three_cases,
)


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url(request.param, str(tmp_path))


@pytest.fixture
async def store(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[EventStore]:
    async with store_on(nats_server.url, tmp_path, registry()) as (event_store, _):
        yield event_store


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.connect(db_url)
    yield database
    database.close()


def runner_for(
    projection: Projection, db: Database, store: EventStore, batch_size: int = 1000
) -> Runner:
    return Runner(
        projection,
        db,
        store.nc,
        stream=store.stream,
        subjects=store.subjects,
        registry=store.registry,
        batch_size=batch_size,
    )


async def caught_up(projection: Projection, db: Database, store: EventStore, **kw: int) -> Runner:
    runner = runner_for(projection, db, store, **kw)
    await runner.install()
    await runner.catch_up()
    return runner


def stored_position(db: Database, key: str) -> int:
    return checkpoints.checkpoints(db)[key].position


async def test_every_event_lands_in_the_case_directory(store: EventStore, db: Database) -> None:
    closed, moved, open_case = await three_cases(store)
    await caught_up(case_directory, db, store)

    row = get_case(db, closed, office_id=BRUGGE)
    assert row is not None
    assert (row.version, row.event_count, row.last_event, row.closed) == (
        4,
        4,
        "OutflowRecorded",
        False,  # an outflow does not close the case: aftercare and claims follow it
    )
    assert (row.first_occurred_on, row.last_occurred_on) == (date(2025, 2, 3), date(2025, 3, 3))
    assert row.last_seq == 7
    assert row.last_recorded_at.year == 2025

    moved_row = get_case(db, moved, office_id=GENT)
    assert moved_row is not None
    assert (moved_row.office_id, moved_row.event_count, moved_row.closed) == (GENT, 3, False)
    assert (moved_row.first_occurred_on, moved_row.last_occurred_on) == (
        date(2025, 1, 6),
        date(2025, 3, 3),
    )
    assert get_case(db, moved, office_id=BRUGGE) is None
    assert [c.case_id for c in cases_of_office(db, BRUGGE)] == [closed]
    assert [c.case_id for c in cases_of_office(db, LEUVEN)] == [open_case]
    assert stored_position(db, case_directory.key) == await store.last_seq()


def closed_in_brugge(db: Database, case: UUID) -> bool:
    row = get_case(db, case, office_id=BRUGGE)
    assert row is not None
    return row.closed


async def test_closing_reopening_and_retracting_the_close(store: EventStore, db: Database) -> None:
    case = uuid4()
    await append(store, case, BRUGGE, event("AidRequestReceived"), event("CaseClosed"))
    runner = await caught_up(case_directory, db, store)
    assert closed_in_brugge(db, case)
    await append(store, case, BRUGGE, event("CaseReopened"))
    await runner.catch_up()
    assert not closed_in_brugge(db, case)
    await append(store, case, BRUGGE, event("OutflowRecorded"))
    await runner.catch_up()
    assert not closed_in_brugge(db, case)  # outflow alone leaves the case open
    await append(store, case, BRUGGE, event("CaseClosed"))
    await runner.catch_up()
    assert closed_in_brugge(db, case)
    close_id = (await store.read_case(case))[-1].meta.event_id
    await append(store, case, BRUGGE, event("EventRetracted", retracted_event_id=str(close_id)))
    await runner.catch_up()
    assert not closed_in_brugge(db, case)
    row = get_case(db, case, office_id=BRUGGE)
    assert row is not None
    assert (row.event_count, row.version, row.last_event) == (6, 6, "EventRetracted")


async def test_restart_resumes_from_the_checkpoint_and_applies_nothing_twice(
    store: EventStore, db_url: str
) -> None:
    cases = await three_cases(store)
    first = Database.connect(db_url)
    await caught_up(case_directory, first, store, batch_size=2)
    first.close()
    await append(store, cases[2], LEUVEN, event("PlacementStarted"), event("PlacementEnded"))

    again = Database.connect(db_url)
    try:
        runner = runner_for(case_directory, again, store)
        assert await runner.install() == 8
        assert await runner.catch_up() == 2
        assert await runner.catch_up() == 0
        counts = {
            c.case_id: c.event_count
            for o in (BRUGGE, GENT, LEUVEN)
            for c in cases_of_office(again, o)
        }
        assert counts == {cases[0]: 4, cases[1]: 3, cases[2]: 3}
        assert (
            sum(counts.values())
            == await store.last_seq()
            == stored_position(again, "case_directory.v1")
        )
    finally:
        again.close()


async def test_a_lost_checkpoint_is_caught_by_the_case_version_check(
    store: EventStore, db: Database
) -> None:
    await three_cases(store)
    await caught_up(case_directory, db, store)
    db.execute("UPDATE projection_checkpoints SET position = 0")
    if db.postgres:
        db.conn.commit()
    with pytest.raises(ProjectionError, match=r"case_directory.v1 stopped at stream sequence 1: "):
        await caught_up(case_directory, db, store)
    assert stored_position(db, case_directory.key) == 0
    assert sum(c.event_count for c in cases_of_office(db, BRUGGE)) == 4


def logged(db: Database) -> list[int]:
    return [r[0] for r in checkpoints.query(db, "SELECT seq FROM test_event_log ORDER BY seq")]


async def test_a_failing_handler_stops_the_projection_before_the_event(
    store: EventStore, db: Database
) -> None:
    await three_cases(store)
    with pytest.raises(ProjectionError) as stopped:
        await caught_up(event_log(fail_on={6}), db, store)
    assert str(stopped.value).startswith(
        "projection test_event_log.v1 stopped at stream sequence 6: "
    )
    assert "AidRequestReceived: RuntimeError: the handler broke" in str(stopped.value)
    assert (stopped.value.projection, stopped.value.seq) == ("test_event_log.v1", 6)
    assert stored_position(db, "test_event_log.v1") == 5
    assert logged(db) == [1, 2, 3, 4, 5]

    await caught_up(event_log(fail_on=set()), db, store)
    assert logged(db) == [1, 2, 3, 4, 5, 6, 7, 8]


async def test_an_undeclared_event_from_the_filter_stops_the_projection(
    store: EventStore, db: Database, nats_server: NatsServer, tmp_path: Path
) -> None:
    await three_cases(store)
    async with store_on(nats_server.url, tmp_path / "newer", SAMPLE_REGISTRY) as (newer, _):
        case = uuid4()
        await newer.append(await newer.head(case), [noted(case, 1)])
    undeclared = "SampleNoted is delivered by the subject filter ds.ev.> but the projection"
    with pytest.raises(
        ProjectionError, match=f"sequence 9: SampleNoted: LookupError: {undeclared}"
    ):
        await caught_up(case_directory, db, store)
    assert stored_position(db, case_directory.key) == 8


async def test_a_projection_of_some_events_skips_the_others_by_name(
    store: EventStore, db: Database
) -> None:
    await three_cases(store)
    runner = await caught_up(names_seen(["CaseTransferred", "OutflowRecorded"]), db, store)
    assert runner.plan.subject_filter == "ds.ev.>"
    assert not runner.plan.precise
    assert runner.skipped == 6
    assert checkpoints.query(db, "SELECT seq, name FROM test_names ORDER BY seq") == [
        (5, "CaseTransferred"),
        (7, "OutflowRecorded"),
    ]
    assert stored_position(db, "test_names.v1") == 8


async def test_a_projection_of_one_event_reads_only_its_subjects(
    store: EventStore, db: Database
) -> None:
    await three_cases(store)
    runner = await caught_up(names_seen(["AidRequestReceived"]), db, store)
    assert runner.plan.subject_filter == "ds.ev.*.*.AidRequestReceived"
    assert runner.skipped == 0
    assert [r[0] for r in checkpoints.query(db, "SELECT seq FROM test_names ORDER BY seq")] == [
        1,
        3,
        6,
    ]
    assert stored_position(db, "test_names.v1") == 6


def test_a_projection_handling_an_unknown_event_name_is_refused(
    store: EventStore, db: Database
) -> None:
    with pytest.raises(
        ValueError, match=r"test_names.v1 handles unknown events: \['PlacementStartd'\]"
    ):
        runner_for(names_seen(["PlacementStarted", "PlacementStartd"]), db, store)


async def test_a_checkpoint_that_does_not_increase_is_refused(db: Database) -> None:
    assert checkpoints.install(db, case_directory) == 0
    with checkpoints.transaction(db) as tx:
        checkpoints.advance(tx, case_directory.key, 0, 10)
    for expected, position in ((10, 10), (10, 9), (3, 20)):
        with (
            pytest.raises(checkpoints.CheckpointError, match="stored position is 10"),
            checkpoints.transaction(db) as tx,
        ):
            checkpoints.advance(tx, case_directory.key, expected, position)
    assert stored_position(db, case_directory.key) == 10


def test_a_new_version_may_not_write_into_the_tables_of_the_old_one(db: Database) -> None:
    checkpoints.install(db, case_directory)
    bumped = Projection("case_directory", 2, case_directory.tables)
    with pytest.raises(
        checkpoints.CheckpointError, match=r"table case_directory belongs to case_directory\.v1"
    ):
        checkpoints.install(db, bumped)
    assert set(checkpoints.checkpoints(db)) == {"case_directory.v1"}


def once_per_name() -> Projection:
    """A test projection whose deferred insert fails on the second event of any name."""
    ddl = "CREATE TABLE IF NOT EXISTS test_once (name TEXT PRIMARY KEY, seq BIGINT NOT NULL)"
    projection = Projection("test_once", 1, (Table("test_once", (ddl,)),))

    def note(tx: Tx, rec: RecordedEvent) -> None:
        write_later(tx, "INSERT INTO test_once (name, seq) VALUES (?, ?)", (rec.name, rec.seq))

    for name in registry().names():
        projection.on(name)(note)
    return projection


async def test_a_deferred_write_that_fails_later_is_pinned_to_its_event(
    store: EventStore, db: Database
) -> None:
    """The batched write fails at its flush; the error still names the event that caused it."""
    await three_cases(store)
    with pytest.raises(ProjectionError) as stopped:
        await caught_up(once_per_name(), db, store)
    assert (stopped.value.projection, stopped.value.seq) == ("test_once.v1", 3)
    assert "AidRequestReceived: " in stopped.value.reason
    assert "Integrity" in stopped.value.reason or "UniqueViolation" in stopped.value.reason
    assert stored_position(db, "test_once.v1") == 2
    rows = checkpoints.query(db, "SELECT name, seq FROM test_once ORDER BY seq")
    assert rows == [("AidRequestReceived", 1), ("PersonRegistered", 2)]


async def test_the_read_models_write_their_batches_the_fast_way(
    store: EventStore, db: Database
) -> None:
    """Deferred and merged writes flush on both databases: no batch falls back to the slow,
    statement-by-statement transaction (which once happened to every PostgreSQL batch)."""
    from projections.catalogue import PROJECTIONS

    await three_cases(store)
    for projection in PROJECTIONS:
        runner = await caught_up(projection, db, store)
        assert (runner.key, runner.position, runner.rewritten) == (projection.key, 8, 0)
    assert db.execute("SELECT count(*) FROM caseload_journal").fetchone()[0] == 8


def test_deferred_writes_wait_for_a_statement_naming_their_table(tmp_path: Path) -> None:
    """A journal-like write waits for the commit; a statement naming its table sees it."""
    from projections.engine import _statements
    from projections.projection import merge_later

    db = Database.connect(f"sqlite:///{tmp_path / 'tx.sqlite3'}")
    try:
        db.execute("CREATE TABLE a (k TEXT PRIMARY KEY, n INTEGER)")
        db.execute("CREATE TABLE b (k TEXT)")
        upsert = (
            "INSERT INTO a (k, n) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = a.n + excluded.n"
        )

        def add(pending: tuple[object, ...], new: tuple[object, ...]) -> tuple[object, ...]:
            return (pending[0], int(str(pending[1])) + int(str(new[1])))

        with _statements(db, fast=True) as tx:
            write_later(tx, "INSERT INTO b (k) VALUES (?)", ("x",))
            merge_later(tx, upsert, "k1", ("k1", 1), add)
            merge_later(tx, upsert, "k1", ("k1", 2), add)
            assert (
                tx.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
                == 2
            )
            assert db.execute("SELECT count(*) FROM b").fetchone()[0] == 0  # still waiting
            assert tx.execute("SELECT n FROM a WHERE k = 'k1'").fetchone()[0] == 3
            merge_later(tx, upsert, "k1", ("k1", 4), add)
            assert db.execute("SELECT count(*) FROM b").fetchone()[0] == 0
        assert db.execute("SELECT k FROM b").fetchall() == [("x",)]
        assert db.execute("SELECT n FROM a").fetchall() == [(7,)]
    finally:
        db.close()


def test_postgres_literals_are_those_of_psycopgs_client_side_binding(pg_dsn: str) -> None:
    """The batch's statements carry their parameters as literals, quoted as psycopg would."""
    import psycopg

    db = Database.connect(pg_dsn)
    try:
        values = (
            "it's",
            "back\\slash",
            "",
            "ünïcode ✓",
            0,
            -7,
            2**40,
            -(2**70),
            None,
            True,
            False,
            date(2026, 2, 3),
            1.5,
            b"\x00\x01'",
            UUID(int=5),
        )
        statement = "SELECT " + ", ".join("?" for _ in values) + " WHERE 'x%%' LIKE ?"
        params = (*values, "x%")
        expected = psycopg.ClientCursor(db.conn).mogrify(db.sql(statement), params)
        assert db.literal(statement, params) == expected
        assert db.execute(db.literal(statement, params).replace("%", "%%")).fetchone() == values
    finally:
        db.close()


def test_a_batch_writes_the_rows_the_plain_way_writes(db: Database) -> None:
    """Queued, prepared and joined statements give the rows of one statement at a time:
    repeated upsert keys, awkward values, answers read in the middle of the batch."""
    from projections.engine import _statements
    from projections.projection import update_one

    upsert = (
        "INSERT INTO {t} (k, n, note) VALUES (?, ?, ?)"
        " ON CONFLICT (k) DO UPDATE SET n = {t}.n * 10 + excluded.n, note = excluded.note"
    )
    rows = [(f"k{i % 3}", i, "it's \\ {%s} ?" if i % 2 else None) for i in range(9)]

    def write(tx: Tx, table: str) -> list[object]:
        seen: list[object] = []
        for index, row in enumerate(rows):
            write_later(tx, upsert.format(t=table), row)
            odd = "tab\there\nline \\N {x} 'q'" if index % 2 else None
            # Copied on PostgreSQL (text, an int into a text column, NULL); then inserted.
            write_later(tx, f"INSERT INTO {table}_journal (i, note) VALUES (?, ?)", (index, odd))
            write_later(tx, f"INSERT INTO {table}_journal (i, note) VALUES (?, ?)", (-index, index))
            write_later(tx, f"INSERT INTO {table}_log (i, flag) VALUES (?, ?)", (-index, True))
            tx.execute(f"INSERT INTO {table}_log (i, flag) VALUES (?, ?)", (index, index % 2 == 0))
            if index % 4 == 3:
                seen.append(tx.execute(f"SELECT n FROM {table} WHERE k = ?", ("k0",)).fetchone())
                flip = f"UPDATE {table}_log SET flag = NOT flag -- every row"
                tx.execute(flip)  # not the last statement the batch sends at once
                seen.append(tx.execute(f"SELECT count(*) FROM {table}_log WHERE flag").fetchone())
                seen.append(tx.execute(f"SELECT i FROM {table}_log ORDER BY i").fetchall())
        update_one(tx, f"UPDATE {table} SET n = -n WHERE k = ?", ("k1",), "no k1")
        return seen

    with checkpoints.transaction(db):
        for table in ("plain", "fast"):
            db.execute(f"CREATE TABLE {table} (k TEXT PRIMARY KEY, n BIGINT, note TEXT)")
            db.execute(f"CREATE TABLE {table}_log (i INTEGER, flag BOOLEAN)")
            db.execute(f"CREATE TABLE {table}_journal (i INTEGER, note TEXT)")
    with checkpoints.transaction(db), _statements(db, fast=False) as tx:
        plain = write(tx, "plain")
    with checkpoints.transaction(db), _statements(db, fast=True) as tx:
        fast = write(tx, "fast")
    assert fast == plain
    for table in ("", "_log", "_journal"):
        order = "k" if table == "" else "i, flag" if table == "_log" else "i, note"
        assert db.execute(f"SELECT * FROM fast{table} ORDER BY {order}").fetchall() == (
            db.execute(f"SELECT * FROM plain{table} ORDER BY {order}").fetchall()
        )

    def missing_row() -> None:
        with checkpoints.transaction(db), _statements(db, fast=True) as tx:
            tx.execute("INSERT INTO fast_log (i, flag) VALUES (?, ?)", (99, None))
            update_one(tx, "UPDATE fast SET n = 0 WHERE k = ?", ("nope",), "no such row")

    with pytest.raises(LookupError, match="no such row"):
        missing_row()
    assert db.execute("SELECT count(*) FROM fast_log WHERE i = 99").fetchone()[0] == 0
