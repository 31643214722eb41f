"""Personal data never reaches the stream in plaintext; erasure destroys the key, replay works."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from events.codec import CodecError
from services.embedded import NatsServer
from services.jsread import read_filtered
from services.store import CaseHead, Draft
from services.vault import PersonErasedError
from tests.support.sample_events import SAMPLE_REGISTRY, SamplePersonSeen, meta, noted
from tests.support.stack import store_on

SECRETS = ("Fatima Zahra El Idrissi", "85.07.30-033.61")


def files_contain(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_raw_stream_holds_no_personal_value_and_erasure_keeps_replay_working(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, vault):
        person, case = uuid4(), uuid4()
        seen = SamplePersonSeen(label="intake", full_name=SECRETS[0], national_number=SECRETS[1])
        head = (
            await store.append(CaseHead(case), [Draft(meta(case, person_ref=person), seen)])
        ).head
        await store.append(head, [noted(case, 2)])

        raw = [m async for m in read_filtered(store.nc, store.stream, store.subjects.all_events)]
        assert len(raw) == 2
        for secret in SECRETS:
            assert all(secret.encode() not in m.data for m in raw)
            assert all(secret.encode() not in m.subject.encode() for m in raw)
            assert files_contain(nats_server.store_dir, secret.encode()) == []

        revealed = await store.read_case(case, reveal=True)
        assert revealed[0].event == seen
        assert not revealed[0].erased

        assert vault.erase(person)
        replay = await store.read_case(case, reveal=True)
        assert [r.case_version for r in replay] == [1, 2]
        first = replay[0]
        assert first.erased
        assert first.event.full_name is None  # type: ignore[attr-defined]
        assert first.event.national_number is None  # type: ignore[attr-defined]
        assert first.event.label == "intake"  # type: ignore[attr-defined]
        assert first.hash == revealed[0].hash  # the chain is untouched by erasure
        assert not replay[1].erased

        with pytest.raises(PersonErasedError):
            await store.append(await store.head(case), [Draft(meta(case, person_ref=person), seen)])


async def test_personal_fields_without_a_person_ref_are_refused(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        case = uuid4()
        seen = SamplePersonSeen(label="x", full_name=SECRETS[0], national_number=SECRETS[1])
        with pytest.raises(CodecError, match="person_ref"):
            await store.append(CaseHead(case), [Draft(meta(case), seen)])
        info = await store.js.stream_info(store.stream)
        assert info.state.messages == 0


async def test_projections_read_sealed_fields_as_none_without_the_key(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        person, case = uuid4(), uuid4()
        seen = SamplePersonSeen(label="x", full_name=SECRETS[0], national_number=SECRETS[1])
        await store.append(CaseHead(case), [Draft(meta(case, person_ref=person), seen)])
        (rec,) = await store.read_case(case, reveal=False)
        assert rec.sealed
        assert not rec.erased
        assert rec.event.full_name is None  # type: ignore[attr-defined]
