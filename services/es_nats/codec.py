"""Pure mapping between eventsourcing records and NATS names, subjects and messages.

Nothing here touches the network, so it is unit-testable on its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote
from uuid import UUID

from eventsourcing.persistence import DataError, Notification, StoredEvent

#: Header with the originator version of a stored event.
VERSION_HEADER = "Es-Version"
#: Header with the (percent-encoded when necessary) topic of a stored event.
TOPIC_HEADER = "Es-Topic"
#: Header with the notification id of a tracking record (also in the payload).
TRACKING_HEADER = "Es-Tracking-Id"

#: Second-to-last token of the subjects of tracking records; the last token names the
#: upstream application. Event subjects have one token less, so the two never overlap.
TRACKING_TOKEN = "_tracking"  # noqa: S105 - a subject token, not a secret

_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_UUID_TOKEN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STREAM_NAME_MAX = 200
# Printable ASCII except space and "%": kept as is in the topic header, the rest is quoted.
_TOPIC_SAFE = "".join(c for c in string.printable if c not in string.whitespace and c != "%")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii")


def _unb64(token: str) -> str:
    padded = token + "=" * (-len(token) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")


def encode_id(originator_id: UUID | str) -> str:
    """One subject token for an originator id, reversible and type-preserving.

    * a UUID becomes its canonical lowercase form (``0b6e...-...``);
    * a string of ``[A-Za-z0-9_-]`` that does not look like a canonical UUID stays as is;
    * any other string becomes ``~`` + unpadded base64url of its UTF-8 bytes.

    The three forms cannot collide: plain tokens never start with ``~`` and never have
    the UUID shape, UUID tokens always have it. Strings are encoded, not hashed: do not
    use personal data as aggregate ids.
    """
    if isinstance(originator_id, UUID):
        return str(originator_id)
    if _PLAIN_TOKEN.fullmatch(originator_id) and not _UUID_TOKEN.fullmatch(originator_id):
        return originator_id
    return "~" + _b64(originator_id)


def decode_id(token: str) -> UUID | str:
    """Inverse of :func:`encode_id`."""
    if token.startswith("~"):
        try:
            return _unb64(token[1:])
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise DataError(f"Invalid encoded originator id in subject token {token!r}") from exc
    if _UUID_TOKEN.fullmatch(token):
        return UUID(token)
    return token


def encode_topic(topic: str) -> str:
    """Header-safe form of a topic (unchanged for ordinary ``module:Class`` topics)."""
    return quote(topic, safe=_TOPIC_SAFE)


def decode_topic(value: str) -> str:
    return unquote(value)


def validate_subject_prefix(prefix: str) -> str:
    """Check that ``prefix`` is a literal subject (dot-separated, no wildcards)."""
    tokens = prefix.split(".")
    for token in tokens:
        if not token or any(c in token for c in "*>") or any(c.isspace() for c in token):
            raise OSError(f"Invalid NATS subject prefix {prefix!r}")
    return prefix


def stream_name(prefix: str, name: str, purpose: str = "") -> str:
    """A valid, stable JetStream stream name for an application (and purpose).

    ``<prefix>_<name>[_<purpose>]`` where characters other than ``[A-Za-z0-9_-]`` become
    ``_``. When that changed anything (or the name is very long) a short hash of the
    original is appended, so that different application names never share a stream.
    """
    raw = "_".join(part for part in (prefix, name or "default", purpose) if part)
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", raw)
    if clean != raw or len(clean) > _STREAM_NAME_MAX:
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:10]
        clean = f"{clean[: _STREAM_NAME_MAX - 11]}_{digest}"
    return clean


@dataclass(frozen=True)
class StreamSubjects:
    """The subjects of one stream: ``<prefix>.<stream>.<originator>`` for events and
    ``<prefix>.<stream>._tracking.<application>`` for tracking records."""

    subject_prefix: str
    stream: str

    @property
    def base(self) -> str:
        return f"{self.subject_prefix}.{self.stream}"

    @property
    def all(self) -> str:
        """Subject filter of the whole stream (used in the stream config)."""
        return f"{self.base}.>"

    @property
    def events(self) -> str:
        """Subject filter of all stored events (not tracking records)."""
        return f"{self.base}.*"

    def event(self, originator_id: UUID | str) -> str:
        return f"{self.base}.{encode_id(originator_id)}"

    def tracking(self, application_name: str) -> str:
        return f"{self.base}.{TRACKING_TOKEN}.{encode_id(application_name)}"

    def originator_id(self, subject: str) -> UUID | str:
        return decode_id(subject.rsplit(".", 1)[-1])


def event_headers(event: StoredEvent) -> dict[str, str]:
    return {
        VERSION_HEADER: str(event.originator_version),
        TOPIC_HEADER: encode_topic(event.topic),
    }


def to_notification(
    subjects: StreamSubjects,
    seq: int,
    subject: str,
    headers: Mapping[str, str] | None,
    data: bytes,
) -> Notification:
    """Rebuild a Notification (and so a StoredEvent) from a stored message."""
    if headers is None or VERSION_HEADER not in headers or TOPIC_HEADER not in headers:
        raise DataError(f"Message {seq} on {subject!r} is not a stored event (headers missing)")
    return Notification(
        id=seq,
        originator_id=subjects.originator_id(subject),
        originator_version=int(headers[VERSION_HEADER]),
        topic=decode_topic(headers[TOPIC_HEADER]),
        state=bytes(data),
    )


def to_stored_event(notification: Notification) -> StoredEvent:
    return StoredEvent(
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=notification.state,
    )
