"""The infrastructure factory selected with ``PERSISTENCE_MODULE=services.es_nats``."""

from __future__ import annotations

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic, strtobool

from services.es_nats.codec import stream_name, validate_subject_prefix
from services.es_nats.datastore import NatsDatastore, NatsSettings
from services.es_nats.recorders import (
    NatsAggregateRecorder,
    NatsApplicationRecorder,
    NatsProcessRecorder,
    NatsRecorder,
    NatsTrackingRecorder,
    StreamOptions,
)


class NatsFactory(InfrastructureFactory[NatsTrackingRecorder]):
    """Creates NATS JetStream recorders sharing one connection (one loop thread)."""

    NATS_URL = "NATS_URL"
    NATS_CREDS = "NATS_CREDS"
    NATS_USER = "NATS_USER"
    NATS_PASSWORD = "NATS_PASSWORD"  # noqa: S105 - the name of a setting
    NATS_TOKEN = "NATS_TOKEN"  # noqa: S105 - the name of a setting
    NATS_TIMEOUT = "NATS_TIMEOUT"
    NATS_STREAM_PREFIX = "NATS_STREAM_PREFIX"
    NATS_SUBJECT_PREFIX = "NATS_SUBJECT_PREFIX"
    NATS_REPLICAS = "NATS_REPLICAS"
    NATS_DUPLICATE_WINDOW = "NATS_DUPLICATE_WINDOW"
    CREATE_TABLE = "CREATE_TABLE"

    aggregate_recorder_class = NatsAggregateRecorder
    application_recorder_class = NatsApplicationRecorder
    tracking_recorder_class = NatsTrackingRecorder
    process_recorder_class = NatsProcessRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        self.datastore = NatsDatastore(NatsSettings.from_env(self.env))

    # -- naming and options (read when a recorder is made: env.name may change) -------------

    def stream_name(self, purpose: str = "") -> str:
        prefix = self.env.get(self.NATS_STREAM_PREFIX, "ES")
        return stream_name(prefix, self.env.name, purpose)

    def stream_options(self) -> StreamOptions:
        prefix = validate_subject_prefix(self.env.get(self.NATS_SUBJECT_PREFIX, "es"))
        try:
            replicas = int(self.env.get(self.NATS_REPLICAS, "1"))
            window = float(self.env.get(self.NATS_DUPLICATE_WINDOW, "300"))
        except ValueError as exc:
            raise OSError(f"Invalid NATS stream setting: {exc}") from None
        if not 1 <= replicas <= 5 or window <= 0:
            raise OSError("NATS_REPLICAS must be 1..5 and NATS_DUPLICATE_WINDOW positive")
        return StreamOptions(subject_prefix=prefix, replicas=replicas, duplicate_window=window)

    def env_create_table(self) -> bool:
        return bool(strtobool(self.env.get(self.CREATE_TABLE, "yes") or "yes"))

    def _provisioned(self, recorder: NatsRecorder) -> None:
        if self.env_create_table():
            recorder.create_stream()

    # -- recorders ------------------------------------------------------------------------

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        name = self.stream_name("" if purpose == "events" else purpose)
        recorder = self.aggregate_recorder_class(self.datastore, name, self.stream_options())
        self._provisioned(recorder)
        return recorder

    def application_recorder(self) -> ApplicationRecorder:
        topic = self.env.get(self.APPLICATION_RECORDER_TOPIC)
        cls: type[NatsApplicationRecorder] = (
            resolve_topic(topic) if topic else self.application_recorder_class
        )
        assert issubclass(cls, NatsApplicationRecorder)
        recorder = cls(self.datastore, self.stream_name(), self.stream_options())
        self._provisioned(recorder)
        return recorder

    def tracking_recorder(
        self, tracking_recorder_class: type[NatsTrackingRecorder] | None = None
    ) -> NatsTrackingRecorder:
        cls = tracking_recorder_class
        if cls is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            cls = resolve_topic(topic) if topic else self.tracking_recorder_class
        assert cls is not None
        assert issubclass(cls, NatsTrackingRecorder)
        recorder = cls(self.datastore, self.stream_name("tracking"), self.stream_options())
        self._provisioned(recorder)
        return recorder

    def process_recorder(self) -> ProcessRecorder:
        topic = self.env.get(self.PROCESS_RECORDER_TOPIC)
        cls: type[NatsProcessRecorder] = (
            resolve_topic(topic) if topic else self.process_recorder_class
        )
        assert issubclass(cls, NatsProcessRecorder)
        recorder = cls(self.datastore, self.stream_name(), self.stream_options())
        self._provisioned(recorder)
        return recorder

    def close(self) -> None:
        """Drain and close the NATS connection and stop its loop thread."""
        self.datastore.close()
