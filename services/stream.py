"""The one place where the event stream and the snapshot bucket are provisioned."""

from __future__ import annotations

import nats.errors
from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
)
from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue

from events.subjects import Subjects
from services.settings import Settings


class UnsafeStreamError(RuntimeError):
    """An existing stream has settings that could lose or rewrite events."""


def event_stream_config(settings: Settings) -> StreamConfig:
    """Safe settings: file storage, keep everything, no deletes or purges, atomic batches."""
    return StreamConfig(
        name=settings.stream,
        description="Doorstroom trajectory events of all offices (immutable facts)",
        subjects=[Subjects(settings.subject_prefix).all_events],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=0,
        max_msgs=-1,
        max_bytes=-1,
        max_msgs_per_subject=-1,
        max_msg_size=1024 * 1024,
        discard=DiscardPolicy.NEW,
        num_replicas=settings.replicas,
        duplicate_window=settings.duplicate_window_s,
        deny_delete=True,
        deny_purge=True,
        allow_rollup_hdrs=False,
        allow_direct=True,
        allow_atomic=True,
    )


def _unsafe(cfg: StreamConfig) -> list[str]:
    problems = []
    if cfg.storage != StorageType.FILE:
        problems.append("storage is not file")
    if cfg.max_age:
        problems.append(f"max_age={cfg.max_age}")
    for name in ("max_msgs", "max_bytes", "max_msgs_per_subject"):
        value = getattr(cfg, name)
        if value not in (None, -1, 0):
            problems.append(f"{name}={value}")
    if not cfg.deny_delete:
        problems.append("deny_delete is off")
    if not cfg.deny_purge:
        problems.append("deny_purge is off")
    if cfg.allow_rollup_hdrs:
        problems.append("rollup headers are allowed")
    if cfg.retention not in (None, RetentionPolicy.LIMITS):
        problems.append(f"retention={cfg.retention}")
    return problems


ADD_ATTEMPTS = 3


async def _add_stream(js: JetStreamContext, wanted: StreamConfig) -> StreamInfo:
    """Create the stream. A cluster that is still placing its replicas may answer after the
    request's timeout: ask again (the same configuration twice is no error on the server)."""
    for attempt in range(1, ADD_ATTEMPTS + 1):
        try:
            return await js.add_stream(wanted)
        except nats.errors.TimeoutError:
            if attempt == ADD_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def provision_event_stream(js: JetStreamContext, settings: Settings) -> StreamInfo:
    """Create the stream, or check that the existing one is safe and bring it up to date."""
    wanted = event_stream_config(settings)
    try:
        info = await js.stream_info(settings.stream)
    except NotFoundError:
        return await _add_stream(js, wanted)
    problems = _unsafe(info.config)
    if problems:
        raise UnsafeStreamError(f"stream {settings.stream} is unsafe: {', '.join(problems)}")
    current = info.config
    if (
        not current.allow_direct
        or not current.allow_atomic
        or current.duplicate_window != wanted.duplicate_window
    ):
        # Only flags that can be turned on safely; limits are never relaxed or tightened here.
        wanted.num_replicas = current.num_replicas
        return await js.update_stream(wanted)
    return info


SNAPSHOT_BUCKET = "DS_CASE_SNAPSHOTS"


async def snapshot_bucket(js: JetStreamContext, settings: Settings) -> KeyValue:
    """Disposable case-state snapshots (a cache: rebuildable from the stream at any time)."""
    bucket = f"{settings.stream}_SNAPSHOTS"
    try:
        return await js.key_value(bucket)
    except NotFoundError:
        return await js.create_key_value(
            KeyValueConfig(
                bucket=bucket,
                history=1,
                storage=StorageType.FILE,
                replicas=settings.replicas,
                description="Case-state snapshots; a cache of the event stream",
            )
        )
