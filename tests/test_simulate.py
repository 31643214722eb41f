"""`doorstroom simulate`: seeded files that import with no rejects, in the manifest's order."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import defaultdict
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import nats
import orjson
import pytest

from services.embedded import NatsServer
from services.simulate import SimulationConfig, simulate
from services.simulate.offices import INVENTED_PREFIX

TODAY = date(2026, 11, 23)
SMALL = SimulationConfig(offices=6, clients=60, seed=7, employers=50)
# Seed and size chosen so that the run holds transfers and late recordings (asserted below).
MIXED = SimulationConfig(offices=8, clients=220, seed=11, employers=200)


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def lines(directory: Path, manifest: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every line with its manifest entry, in import order."""
    out = []
    for entry in manifest["files"]:
        for raw in (directory / entry["file"]).read_bytes().splitlines():
            out.append((entry, orjson.loads(raw)))
    return out


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    simulate(SMALL, tmp_path / "a", today=TODAY)
    simulate(SMALL, tmp_path / "b", today=TODAY)
    simulate(
        SimulationConfig(offices=6, clients=60, seed=8, employers=50), tmp_path / "c", today=TODAY
    )
    a, b, c = (files(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() >= {"manifest.json", "offices.json"}
    assert a != c


def test_a_directory_with_files_is_refused_and_so_is_a_start_without_amounts(
    tmp_path: Path,
) -> None:
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        simulate(SMALL, tmp_path, today=TODAY)
    early = SimulationConfig(start=date(2020, 1, 1))
    with pytest.raises(ValueError, match="leefloon amounts from 2024-05-01"):
        simulate(early, tmp_path / "new", today=TODAY)
    assert not (tmp_path / "new").exists()


def test_the_mix_holds_every_kind_the_issue_lists(tmp_path: Path) -> None:
    manifest = simulate(MIXED, tmp_path, today=TODAY)
    kinds = manifest["commands_by_kind"]
    for name in (
        "ReceiveAidRequest",
        "GrantLeefloon",
        "RefuseLeefloon",
        "ReviseLeefloon",
        "SignGpmi",
        "EvaluateGpmi",
        "EnrolInLanguageCourse",
        "JoinGroupProject",
        "StartPlacement",
        "StartAftercare",
        "RecordOutflow",
        "SubmitSubsidyClaim",
        "RecordSubsidyClaimRejection",
        "CorrectSubsidyClaim",
        "TransferCase",
        "RegisterLapEngagement",
    ):
        assert kinds.get(name, 0) > 0, name
    assert manifest["transfers"] == kinds["TransferCase"] > 0
    assert manifest["late_recordings"] > 0
    assert sum(kinds.values()) == manifest["commands"]

    offices = orjson.loads((tmp_path / "offices.json").read_bytes())
    assert len(offices) == 8
    assert {"31004", "11016", "34027"} <= offices.keys()
    assert all(
        code.startswith(INVENTED_PREFIX) for code in offices.keys() - {"31004", "11016", "34027"}
    )

    everything = lines(tmp_path, manifest)
    reasons = {b["body"]["reason"] for _, b in everything if b["command"] == "RecordOutflow"}
    assert len(reasons) >= 4
    employers = {
        b["body"]["employer_kbo"] for _, b in everything if b["command"] == "StartPlacement"
    }
    assert len(employers) >= 10

    # a case's commands: dates and hops never go back in import order, except late ones
    by_case: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for entry, body in everything:
        by_case[body["body"]["case_id"]].append((entry, body))
    late = 0
    for history in by_case.values():
        owners = [e["office"] for e, _ in history]
        hops = [e["hop"] for e, _ in history]
        assert hops == sorted(hops)
        # one office per hop: the transfer is the source's last line
        for hop in set(hops):
            assert len({o for o, h in zip(owners, hops, strict=True) if h == hop}) == 1
        dates = [b["body"]["occurred_on"] for _, b in history]
        late += sum(1 for earlier, later in pairwise(dates) if later < earlier)
        if 1 in hops:
            transfer = [b for _, b in history if b["command"] == "TransferCase"]
            assert len(transfer) == 1
            assert transfer[0]["body"]["to_office_id"] == owners[-1] != owners[0]
    assert late > 0


async def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 600)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_simulate_then_import_stores_every_line_and_a_transfer_spans_two_offices(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    directory = tmp_path / "sim"
    manifest = simulate(MIXED, directory, today=TODAY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTROOM_")}
    env |= {"DOORSTROOM_NATS_URL": nats_server.url, "DOORSTROOM_DATA_DIR": str(tmp_path / "var")}

    # the documented loop for one office file first: doorstroom import FILE --office X
    first = manifest["files"][0]
    env_offices = env | {"DOORSTROOM_OFFICES_FILE": str(directory / "offices.json")}
    code, out, _ = await run(
        env_offices, "import", str(directory / first["file"]), "--office", first["office"]
    )
    assert code == 0, out
    assert f"stored {first['lines']}, already stored 0, rejected 0" in out

    # then everything in the manifest's order (the first file again: already stored)
    from services.settings import Settings
    from services.simulate import import_simulation

    settings = Settings(nats_url=nats_server.url, data_dir=tmp_path / "var")
    summary = await import_simulation(settings, directory)
    assert summary.rejects == []
    assert (summary.read, summary.rejected) == (manifest["commands"], 0)
    assert summary.stored == manifest["commands"] - first["lines"]
    assert summary.already_stored == first["lines"]

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        transfer = next(b for _, b in lines(directory, manifest) if b["command"] == "TransferCase")
        case = transfer["body"]["case_id"]
        info = await js.stream_info("DOORSTROOM", subjects_filter=f"ds.ev.*.{case}.*")
        offices = {subject.split(".")[2] for subject in info.state.subjects or {}}
        assert offices == {transfer["body"]["to_office_id"], _source_of(directory, manifest, case)}
    finally:
        await nc.close()


def _source_of(directory: Path, manifest: dict[str, Any], case: str) -> str:
    for entry, body in lines(directory, manifest):
        if body["body"]["case_id"] == case:
            return str(entry["office"])
    raise AssertionError(case)
