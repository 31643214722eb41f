"""Persistence module for the ``eventsourcing`` library (9.5) on NATS JetStream.

Select it with ``PERSISTENCE_MODULE=services.es_nats`` (this package exposes exactly one
infrastructure factory, :class:`NatsFactory`; ``services.es_nats:NatsFactory`` works too).

Settings
--------
Read through the library's ``Environment``, so each one can also be given per
application as ``<APPNAME>_<SETTING>`` (for example ``BANKACCOUNTS_NATS_URL``):

``NATS_URL``
    Server URL or comma-separated list of URLs (default ``nats://127.0.0.1:4222``).
``NATS_CREDS`` / ``NATS_USER`` + ``NATS_PASSWORD`` / ``NATS_TOKEN``
    Optional credentials: a ``.creds`` file, user and password, or a token.
``NATS_TIMEOUT``
    Seconds to wait for any one server reply (default 5).
``NATS_STREAM_PREFIX``
    First part of stream names (default ``ES``).
``NATS_SUBJECT_PREFIX``
    First token(s) of every subject (default ``es``); keep it apart from the subjects of
    any other stream on the same account.
``NATS_REPLICAS``
    Replicas of the streams it creates (default 1; 3 on a cluster).
``NATS_DUPLICATE_WINDOW``
    Seconds the server remembers message ids (default 300).
``CREATE_TABLE``
    ``yes`` (default): create missing streams and check existing ones when a recorder is
    made. ``no``: the streams are provisioned elsewhere.

Streams and subjects
--------------------
One stream per application, named ``<NATS_STREAM_PREFIX>_<application name>`` with
characters outside ``[A-Za-z0-9_-]`` replaced (a short hash is then appended so names
stay distinct); snapshots go to ``..._snapshots``, a tracking recorder's records to
``..._tracking``. Streams use file storage, ``allow_direct``, ``allow_atomic``,
``deny_delete``, ``deny_purge``, discard-new and no age, size or count limits (the
tracking-only stream keeps just the last message per subject).

A stored event is one message on ``<subject prefix>.<stream>.<originator id>``:
UUIDs in canonical form, strings of ``[A-Za-z0-9_-]`` as they are, other strings as
``~`` + base64url (restored exactly, type included). The payload is the event's state
(bytes, untouched); headers ``Es-Version`` (originator version) and ``Es-Topic`` (the
topic, percent-encoded only when it contains spaces, ``%`` or non-ASCII) carry the rest.
Subjects hold nothing but the stream name and the originator id, so originator ids must
not be personal data (use UUIDs).

Writes
------
``insert_events`` is atomic per call: one message is a plain publish, more are an
atomic batch (ADR-50, at most 1000 messages). The first message of every originator
carries ``Nats-Expected-Last-Subject-Sequence``: the sequence of the last message known
on that subject (remembered from earlier reads and writes, 0 if unknown). A version not
above the last known one raises ``IntegrityError`` before anything is sent. When the
server refuses the sequence (10071 single server, 10164 cluster, 10201 duplicate
message id in a batch) the last messages are read from the stream leader: if the new
version is not above the stored one, ``IntegrityError``; otherwise the write is tried
again with the right sequence. So versions of one originator must increase in the order
they are written (the library always appends ``last + 1``); a missing lower version
cannot be filled in later, unlike with a unique index in SQL.

Every message has a ``Nats-Msg-Id`` unique to the call; after a lost acknowledgement
the same messages are sent once more, and the server's deduplication (within the
duplicate window) plus a check of the message that follows the expected sequence tell
our own earlier write from a conflicting one.

Reads
-----
Notification ids are stream sequence numbers. ``select_events`` and
``select_notifications`` use batch direct gets (``$JS.API.DIRECT.GET.<stream>``); when a
lagging replica ends before a sequence this process wrote itself, the rest comes from
the stream leader. ``max_notification_id`` asks the leader for the last event message.
``subscribe`` uses a hand-driven pull consumer (see ``services.es_nats.subscription``).

Tracking and process recorders
------------------------------
They are implemented on NATS, not delegated (the library's factory contract has no
delegation, and a process application needs events and tracking in one transaction).
A tracking record is a message on ``<prefix>.<stream>._tracking.<application>`` with the
notification id in the payload and ``Es-Tracking-Id``; a new one must beat the last one
(expected-sequence checked like events). ``tracking_recorder()`` keeps them in a stream of
their own; ``process_recorder()`` writes them into the application's stream in the same
atomic batch as the events, so the events and the tracking record are stored together
or not at all (process applications therefore have gaps in their notification ids).

Threads
-------
nats-py is asyncio only and the library has no async API: each factory owns one
connection and one event loop in a daemon thread; recorder calls are bridged with
``asyncio.run_coroutine_threadsafe``. ``NatsFactory.close()`` (called by
``Application.close()``) drains the connection, stops the loop and joins the thread.
"""

from services.es_nats.factory import NatsFactory
from services.es_nats.recorders import (
    NatsAggregateRecorder,
    NatsApplicationRecorder,
    NatsProcessRecorder,
    NatsTrackingRecorder,
)
from services.es_nats.subscription import NatsSubscription

__all__ = [
    "NatsAggregateRecorder",
    "NatsApplicationRecorder",
    "NatsFactory",
    "NatsProcessRecorder",
    "NatsSubscription",
    "NatsTrackingRecorder",
]
