"""The event store against a real nats-server: concurrency, idempotency, atomicity."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

import pytest

from services.embedded import NatsCluster, NatsServer
from services.jsread import last_message
from services.store import AppendError, CaseHead, ConcurrencyError, EventStore
from tests.support.sample_events import SAMPLE_REGISTRY, noted
from tests.support.stack import store_on


async def stream_count(store: EventStore) -> int:
    info = await store.js.stream_info(store.stream)
    return int(info.state.messages)


async def test_two_writers_racing_on_one_case_exactly_one_wins(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case = uuid4()
        first = await store.append(CaseHead(case), [noted(case, 1)])
        results = await asyncio.gather(
            store.append(first.head, [noted(case, 2)]),
            store.append(first.head, [noted(case, 3)]),
            return_exceptions=True,
        )
        wins = [r for r in results if not isinstance(r, BaseException)]
        losses = [r for r in results if isinstance(r, BaseException)]
        assert len(wins) == 1
        assert len(losses) == 1
        assert isinstance(losses[0], ConcurrencyError)
        assert losses[0].case_id == case
        events = await store.read_case(case)
        assert [e.case_version for e in events] == [1, 2]


async def test_a_new_case_expects_no_events(nats_server: NatsServer, tmp_path: Path) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case = uuid4()
        await store.append(CaseHead(case), [noted(case, 1)])
        with pytest.raises(ConcurrencyError):
            await store.append(CaseHead(case), [noted(case, 2)])


async def test_concurrency_is_per_case_across_offices_after_transfer(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case = uuid4()
        first = await store.append(CaseHead(case), [noted(case, 1, office="31004")])
        second = await store.append(first.head, [noted(case, 2, office="34027")])
        assert second.head.office_id == "34027"
        with pytest.raises(ConcurrencyError):
            await store.append(first.head, [noted(case, 3, office="31004")])
        assert [e.meta.office_id for e in await store.read_case(case)] == ["31004", "34027"]


async def _retry_after_lost_ack(store: EventStore) -> None:
    case = uuid4()
    head = (await store.append(CaseHead(case), [noted(case, 1)])).head
    draft = noted(case, 2)
    stored = await store.append(head, [draft])
    # Someone else appends afterwards; then our retry arrives with the now stale head.
    await store.append(stored.head, [noted(case, 3)])
    before = await stream_count(store)
    retried = await store.append(head, [draft])
    assert retried.duplicate
    assert retried.seqs == stored.seqs
    assert await stream_count(store) == before
    # A multi-event command retried the same way.
    batch = [noted(case, 10), noted(case, 11), noted(case, 12)]
    head = await store.head(case)
    first_try = await store.append(head, batch)
    again = await store.append(head, batch)
    assert again.duplicate
    assert again.seqs == first_try.seqs
    events = await store.read_case(case)
    assert [e.case_version for e in events] == [1, 2, 3, 4, 5, 6]
    assert len({e.meta.event_id for e in events}) == 6


async def test_retried_append_with_same_event_id_stores_nothing_twice(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        await _retry_after_lost_ack(store)


async def test_retry_right_after_lost_ack_reports_success(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case = uuid4()
        draft = noted(case, 1)
        stored = await store.append(CaseHead(case), [draft])
        again = await store.append(CaseHead(case), [draft])
        assert again.duplicate
        assert again.seqs == stored.seqs
        assert await stream_count(store) == 1


@pytest.mark.cluster
@pytest.mark.slow
async def test_retried_append_is_idempotent_on_a_three_node_cluster(
    nats_cluster: NatsCluster, tmp_path: Path
) -> None:
    async with store_on(nats_cluster.urls, tmp_path, SAMPLE_REGISTRY, replicas=3) as (store, _):
        info = await store.js.stream_info(store.stream)
        assert info.config.num_replicas == 3
        await _retry_after_lost_ack(store)
        case = uuid4()
        head = (await store.append(CaseHead(case), [noted(case, 1)])).head
        await store.append(head, [noted(case, 2)])
        with pytest.raises(ConcurrencyError):
            await store.append(head, [noted(case, 3)])


async def test_a_command_of_three_events_failing_midway_stores_nothing(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case = uuid4()
        head = (await store.append(CaseHead(case), [noted(case, 1)])).head
        before = await stream_count(store)
        drafts = [noted(case, 2), noted(case, 3), noted(case, 4)]
        original = store._publish_batch

        async def third_message_fails(chunk):  # type: ignore[no-untyped-def]
            # The first two messages go out; the third is too large to be sent at all,
            # so the batch is never committed and must leave no trace.
            object.__setattr__(chunk[0].encoded[2], "data", b"x" * (2 * 1024 * 1024))
            return await original(chunk)

        store._publish_batch = third_message_fails  # type: ignore[method-assign]
        with pytest.raises(Exception) as excinfo:
            await store.append(head, drafts)
        assert not isinstance(excinfo.value, ConcurrencyError)
        assert await stream_count(store) == before
        assert [e.case_version for e in await store.read_case(case)] == [1]


async def test_a_stale_head_in_any_command_of_a_bulk_batch_only_refuses_that_command(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        stale_case = uuid4()
        old_head = (await store.append(CaseHead(stale_case), [noted(stale_case, 1)])).head
        await store.append(old_head, [noted(stale_case, 2)])
        cases = [uuid4() for _ in range(5)]
        items = [(CaseHead(c), [noted(c, 1), noted(c, 2)]) for c in cases]
        items.insert(2, (old_head, [noted(stale_case, 3)]))
        results = await store.append_many(items)
        assert isinstance(results[2], ConcurrencyError)
        assert all(not isinstance(r, ConcurrencyError) for i, r in enumerate(results) if i != 2)
        for c in cases:
            assert [e.case_version for e in await store.read_case(c)] == [1, 2]
        assert len(await store.read_case(stale_case)) == 2


async def test_bulk_append_in_atomic_batches_keeps_order_and_versions(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        cases = [uuid4() for _ in range(700)]
        items = [(CaseHead(c), [noted(c, 1), noted(c, 2)]) for c in cases]
        results = await store.append_many(items)
        assert await stream_count(store) == 1400
        assert all(not isinstance(r, ConcurrencyError) for r in results)
        sample = cases[350]
        events = await store.read_case(sample)
        assert [(e.case_version, e.event.n) for e in events] == [(1, 1), (2, 2)]  # type: ignore[attr-defined]
        assert events[1].prev_hash == events[0].hash


async def test_drafts_of_another_case_are_refused_before_anything_is_sent(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case, other = uuid4(), uuid4()
        with pytest.raises(AppendError, match="not"):
            await store.append(CaseHead(case), [noted(case, 1), noted(other, 2)])
        draft = noted(case, 1)
        with pytest.raises(AppendError, match="share an event id"):
            await store.append(CaseHead(case), [draft, draft])
        assert await stream_count(store) == 0


async def test_head_reflects_the_last_event_of_the_case(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case = uuid4()
        assert await store.head(case) == CaseHead(case)
        r = await store.append(CaseHead(case), [noted(case, 1), noted(case, 2)])
        head = await store.head(case)
        assert (head.version, head.last_seq, head.last_hash) == (2, r.last_seq, r.head.last_hash)


async def test_walking_back_the_stored_links_finds_exactly_the_case_events(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case = uuid4()
        head = CaseHead(case)
        for round_ in range(4):
            others = [uuid4() for _ in range(30)]
            await store.append_many([(CaseHead(o), [noted(o, 1), noted(o, 2)]) for o in others])
            size = 1 + round_ % 3
            head = (await store.append(head, [noted(case, n) for n in range(size)])).head
            bulk = await store.append_many([(head, [noted(case, 9)])])
            assert not isinstance(bulk[0], ConcurrencyError)
            head = bulk[0].head
        scanned = await store.read_case(case)
        last = await last_message(store.nc, store.stream, store.subjects.case(case))
        assert last is not None
        walked = await store.walk_back(last, stop_after=0)
        assert walked is not None
        assert [m.seq for m in walked] == [e.seq for e in scanned]
        tail = await store.read_tail(case, last, scanned[3].seq)
        assert [e.case_version for e in tail] == [e.case_version for e in scanned[4:]]
