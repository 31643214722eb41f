"""The import spread over worker processes: routing by case, rejects in line order, failures."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr

from services.commands.placements import StartPlacement
from services.embedded import NatsServer
from services.import_workers import (
    ImportStoppedError,
    WorkerFailedError,
    auto_workers,
    import_file_parallel,
    owner,
)
from services.importer import rejects_path
from services.settings import Settings
from tests.support.domain import Case
from tests.support.import_lines import histories, line, write

OFFICE = "31004"


def test_a_cases_lines_all_go_to_one_worker_and_lines_without_a_case_to_the_first() -> None:
    commands = histories(20)
    owners: dict[object, set[int]] = {}
    for command in commands:
        owners.setdefault(command.case_id, set()).add(owner(line(command), 2))
    assert all(len(found) == 1 for found in owners.values())
    assert {next(iter(found)) for found in owners.values()} == {0, 1}  # both get cases
    upper = orjson.loads(line(commands[0]))
    upper["body"]["case_id"] = upper["body"]["case_id"].upper()
    assert owner(orjson.dumps(upper), 2) == owner(line(commands[0]), 2)
    for raw in (b"{not json", b"[]", b'{"body": 3}', b'{"body": {"case_id": "x"}}', b"{}"):
        assert owner(raw, 2) == 0


def test_small_files_are_imported_in_one_process_and_big_ones_on_every_core() -> None:
    assert auto_workers(10_000, cpus=2) == 1
    assert auto_workers(50_000_000, cpus=2) == 2
    assert auto_workers(50_000_000, cpus=64) == 8
    assert auto_workers(50_000_000, cpus=1) == 1


def _refused_case_for(worker: int) -> Case:
    """A case whose lines worker ``worker`` (of two) decides."""
    while True:
        case = Case()
        if owner(line(case.cmd(StartPlacement)), 2) == worker:
            return case


def test_refusals_of_both_workers_come_out_in_line_order(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    good = [line(c) for c in histories(6)]
    # A placement for a case never opened is refused; cases alternate between the workers.
    refused_lines = [line(_refused_case_for(n % 2).cmd(StartPlacement)) for n in range(8)]
    lines: list[bytes] = []
    for n, bad in enumerate(refused_lines):
        lines.extend([*good[n * 7 : (n + 1) * 7], bad])
    lines.extend(good[56:])
    file = write(tmp_path / "mixed.jsonl", lines)
    expected = [number for number, raw in enumerate(lines, start=1) if raw in refused_lines]
    settings = Settings(nats_url=nats_server.url, data_dir=tmp_path / "var")

    summary = import_file_parallel(settings, file, OFFICE, workers=2, chunk_lines=5)

    assert (summary.read, summary.stored, summary.rejected) == (len(lines), len(good), 8)
    assert [number for number, _ in summary.rejects] == expected
    rejects = [orjson.loads(r) for r in rejects_path(file).read_bytes().splitlines()]
    assert [r["line"] for r in rejects] == expected
    assert {r["code"] for r in rejects} == {"case_not_found"}
    assert [r["original"].encode() for r in rejects] == refused_lines
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mixed.jsonl",
        "mixed.rejects.jsonl",
        "nats",  # the server's store (the fixture's)
        "var",
    ]  # no scratch files left beside the input


def test_a_worker_that_fails_stops_the_import_with_its_error(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    # Many chunks: the parent is still sending when the workers fail at their start.
    file = write(tmp_path / "cases.jsonl", [line(c) for c in histories(1500)])
    rejects_path(file).write_text("the rejects of an earlier run\n")
    short_key = SecretStr(base64.b64encode(bytes(16)).decode())
    settings = Settings(nats_url=nats_server.url, data_dir=tmp_path / "var", master_key=short_key)

    with pytest.raises(WorkerFailedError, match=r"import worker \d failed:(.|\n)*32 bytes"):
        import_file_parallel(settings, file, OFFICE, workers=2, chunk_lines=500)
    assert rejects_path(file).read_bytes() == b""


def test_an_import_asked_to_stop_ends_after_the_chunks_being_decided_and_a_rerun_completes_it(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    commands = histories(600)
    file = write(tmp_path / "cases.jsonl", [line(c) for c in commands])
    settings = Settings(nats_url=nats_server.url, data_dir=tmp_path / "var")
    stop = threading.Event()

    with pytest.raises(ImportStoppedError):
        import_file_parallel(
            settings,
            file,
            OFFICE,
            workers=2,
            chunk_lines=200,
            progress=lambda _: stop.set(),
            stop=stop,
        )
    summary = import_file_parallel(settings, file, OFFICE, workers=2, chunk_lines=200)

    assert summary.read == len(commands)
    assert 0 < summary.already_stored < len(commands)  # the first run stored some, not all
    assert summary.stored + summary.already_stored == len(commands)
    assert summary.rejected == 0
