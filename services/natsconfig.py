"""nats-server authorisation: each office's system may publish only into its own command space.

``doorstroom nats-config DIR`` writes ``DIR/auth.conf`` (include it from a server config)
and, per office, an NKey seed file ``DIR/offices/<NIS>.nk`` (mode 0600) to hand to that
office's IT. The config holds only public keys. Existing seeds are kept, so re-running after
adding an office does not lock the others out.

Permissions of an office user:
- publish ``ds.cmd.<office>.>`` (commands, as requests) and nothing else;
- subscribe only to its own reply inbox prefix ``_INBOX_<office>.>``
  (clients connect with ``inbox_prefix="_INBOX_<office>"``).
The services' user may use everything except deleting or purging streams.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import nkeys

from events.subjects import Subjects

JS_DENY = ("$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>", "$JS.API.STREAM.MSG.DELETE.>")


def inbox_prefix(office_id: str) -> str:
    return f"_INBOX_{office_id}"


def office_seed(directory: Path, office_id: str) -> bytes:
    """The office's NKey seed, created once (0600) and kept on later runs."""
    path = directory / "offices" / f"{office_id}.nk"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER))
    return path.read_bytes().strip()


def public_key(seed: bytes) -> str:
    key: bytes = nkeys.from_seed(bytearray(seed)).public_key
    return key.decode()


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def render_auth(
    offices: Iterable[str],
    directory: Path,
    subjects: Subjects,
    *,
    service_user: str = "doorstroom",
    service_password_env: str = "DOORSTROOM_NATS_PASSWORD",  # noqa: S107 - a variable name
) -> str:
    """The ``authorization`` block for the services' user and one NKey user per office."""
    users = [
        "    {",
        f"      user: {service_user}",
        f"      password: ${service_password_env}",
        "      permissions: {",
        f'        publish: {{ allow: [">"], deny: [{_quoted(JS_DENY)}] }}',
        '        subscribe: { allow: [">"] }',
        "      }",
        "    }",
    ]
    for office in sorted(offices):
        key = public_key(office_seed(directory, office))
        users += [
            f"    # office {office}",
            "    {",
            f"      nkey: {key}",
            "      permissions: {",
            f'        publish: {{ allow: ["{subjects.command(office, ">")}"] }}',
            f'        subscribe: {{ allow: ["{inbox_prefix(office)}.>"] }}',
            "      }",
            "    }",
        ]
    body = "\n".join(users)
    return (
        f"# Written by `doorstroom nats-config`.\nauthorization {{\n  users: [\n{body}\n  ]\n}}\n"
    )


def write_config(offices: Iterable[str], directory: Path, subjects: Subjects) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "auth.conf"
    path.write_text(render_auth(offices, directory, subjects))
    return path
