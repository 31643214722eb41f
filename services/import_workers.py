"""The bulk import on several cores: the file's cases split over worker processes.

Deciding a command and encoding its events is Python work bound to one core; the import
spreads it over ``workers`` processes. The parent reads the file, sends each line to the
worker that owns its case (``body.case_id``, so a case's lines stay in file order in one
worker), counts the outcomes and writes the rejects file. Each worker has its own NATS
connection and application and handles its chunks one after another with
``importer.import_chunk``: the same parse, decide and append as the one-process import.

A line without a readable case id goes to worker 0, where it is refused as usual. The rejects
file is in line order: each worker's refusals come back in line order, and the parent merges
them at the end.

Crashes: a worker notices the end of its input pipe when the parent stops or dies, finishes
the chunk it is on (its cases' atomic appends) and exits; a re-run stores what is missing and
nothing twice, as with one process. A worker that fails sends its error back; the parent
stops the others and raises it.
"""

from __future__ import annotations

import asyncio
import heapq
import multiprocessing
import os
import signal
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO, Final, cast
from uuid import UUID

import orjson

from events.envelope import Actor
from services.app import Application
from services.bulk import fewer_collections
from services.importer import (
    CHUNK_LINES,
    KEEP_REJECTS,
    ChunkOutcome,
    ImportSummary,
    Line,
    Progress,
    import_chunk,
    import_file,
    reject,
    rejects_path,
)
from services.runtime import Runtime, build_application, open_runtime
from services.settings import Settings

PARALLEL_FROM_BYTES: Final = 4_000_000
"""Smaller files are imported in one process: starting workers costs about a second."""
MAX_WORKERS: Final = 8
IN_FLIGHT: Final = 2
"""Chunks sent to a worker and not yet answered: one being decided, one waiting."""
STOP_CHECK_S: Final = 0.5
"""How often the parent looks at its stop flag while it waits for answers."""
STOP_TIMEOUT_S: Final = 120.0
"""How long a stopping worker may take over its last chunk, and a failing one to tell why."""


def auto_workers(size: int, cpus: int | None = None) -> int:
    """Worker processes for a file of ``size`` bytes: one per core, one for small files."""
    cpus = cpus or os.cpu_count() or 1
    return 1 if size < PARALLEL_FROM_BYTES else max(1, min(cpus, MAX_WORKERS))


def owner(raw: bytes, workers: int) -> int:
    """The worker that decides this line: by its case id, or 0 for a line without one."""
    try:
        case = orjson.loads(raw)["body"]["case_id"]
        return UUID(case).int % workers
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return 0


class WorkerFailedError(RuntimeError):
    """A worker process failed or stopped: its error, or its exit code."""


class ImportStoppedError(RuntimeError):
    """The import was asked to stop (Ctrl-C) and did, after the chunks being decided."""


@dataclass
class _Failed:
    worker: int
    trace: str


@dataclass
class _Worker:
    index: int
    process: multiprocessing.process.BaseProcess
    inbox: Connection  # parent -> worker: chunks
    outbox: Connection  # worker -> parent: ChunkOutcome or _Failed
    rejects: IO[bytes]
    refused: ImportSummary = field(default_factory=ImportSummary)  # its refusals only
    pending: deque[int] = field(default_factory=deque)  # sizes in bytes of chunks in flight
    lines: list[Line] = field(default_factory=list)
    size: int = 0


async def import_on(
    rt: Runtime,
    path: Path,
    office: str,
    *,
    workers: int | None = None,
    default_actor: Actor | None = None,
    chunk_lines: int = CHUNK_LINES,
    progress: Progress | None = None,
    app: Application | None = None,
) -> ImportSummary:
    """Import ``path`` for ``office`` on ``rt``'s server: in this process (``app``, else one
    built here) with one worker, else spread over ``workers`` processes (None: by file size)."""
    if workers is None:
        workers = auto_workers((await asyncio.to_thread(path.stat)).st_size)
    if workers <= 1:
        return await import_file(
            app or await build_application(rt),
            path,
            office,
            default_actor=default_actor,
            chunk_lines=chunk_lines,
            progress=progress,
        )
    stop = threading.Event()
    task = asyncio.ensure_future(
        asyncio.to_thread(
            import_file_parallel,
            rt.settings_for_workers(),
            path,
            office,
            workers=workers,
            default_actor=default_actor,
            chunk_lines=chunk_lines,
            progress=progress,
            stop=stop,
        )
    )
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # Ctrl-C: stop feeding the workers and wait until they have finished the chunks they
        # are on, before the caller closes the runtime (and maybe the server) under them.
        stop.set()
        with suppress(ImportStoppedError):
            await task
        raise


def import_file_parallel(
    settings: Settings,
    path: Path,
    office: str,
    *,
    workers: int,
    default_actor: Actor | None = None,
    chunk_lines: int = CHUNK_LINES,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> ImportSummary:
    """Import ``path`` for ``office`` with ``workers`` processes (blocking; run it in a thread).

    ``settings.nats_url`` must name the server to use (a started embedded one included).
    Setting ``stop`` ends the import early (``ImportStoppedError``) once the workers have
    finished the chunks they are on. The workers are started by ``multiprocessing``'s spawn,
    which imports the caller's main module again: a script calling this needs the
    ``if __name__ == "__main__"`` guard (the ``doorstroom`` command has it).
    """
    if settings.nats_url is None:
        raise ValueError("the workers need the NATS URL of the server in use")
    summary = ImportSummary()
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    stop = stop or threading.Event()
    pool: list[_Worker] = []
    rejects_path(path).write_bytes(b"")  # never the rejects of an earlier run
    with ExitStack() as stack:
        try:
            for index in range(workers):
                # Anonymous where the system allows: nothing is left if this process is killed.
                rejects = stack.enter_context(tempfile.TemporaryFile(dir=path.parent))
                pool.append(_start(context, index, settings, office, default_actor, rejects))
            with path.open("rb") as source:
                blank = 0
                for number, raw in enumerate(source, start=1):
                    if stop.is_set():
                        raise ImportStoppedError(f"stopped before line {number}")
                    if not raw.strip():
                        blank += len(raw)
                        continue
                    worker = pool[owner(raw, workers)]
                    worker.lines.append((number, raw))
                    worker.size += len(raw)
                    if len(worker.lines) >= chunk_lines:
                        _send(pool, worker, summary, progress, stop)
                if progress is not None and blank:
                    progress(blank)
            for worker in pool:
                if worker.lines:
                    _send(pool, worker, summary, progress, stop)
            while any(w.pending for w in pool):
                _receive(pool, summary, progress, stop)
        finally:
            _stop(pool)
            _merge_rejects(pool, path, summary)  # also what was refused before a failure
    summary.seconds = time.perf_counter() - started
    return summary


def _start(
    context: multiprocessing.context.SpawnContext,
    index: int,
    settings: Settings,
    office: str,
    default_actor: Actor | None,
    rejects: IO[bytes],
) -> _Worker:
    their_inbox, inbox = context.Pipe(duplex=False)
    outbox, their_outbox = context.Pipe(duplex=False)
    process = context.Process(
        target=_work,
        args=(index, settings, office, default_actor, their_inbox, their_outbox),
        name=f"doorstroom-import-{index}",
        daemon=True,
    )
    process.start()
    # Only the worker holds these ends now: it sees the parent's end of input as EOF.
    their_inbox.close()
    their_outbox.close()
    return _Worker(index, process, inbox, outbox, rejects)


def _send(
    pool: list[_Worker],
    worker: _Worker,
    summary: ImportSummary,
    progress: Progress | None,
    stop: threading.Event,
) -> None:
    while len(worker.pending) >= IN_FLIGHT:
        _receive(pool, summary, progress, stop)
    try:
        worker.inbox.send(worker.lines)
    except OSError:
        raise _failure(worker) from None
    worker.pending.append(worker.size)
    worker.lines, worker.size = [], 0


def _receive(
    pool: list[_Worker], summary: ImportSummary, progress: Progress | None, stop: threading.Event
) -> None:
    """Wait for at least one answer (or ``stop``) and take in every answer that is there."""
    waiting = {w.outbox: w for w in pool if w.pending}
    ready = wait(list(waiting), timeout=STOP_CHECK_S)
    if stop.is_set():
        raise ImportStoppedError("stopped while the workers were deciding")
    for conn in ready:
        worker = waiting[cast(Connection, conn)]
        try:
            answer = worker.outbox.recv()
        except (EOFError, OSError):
            raise _failure(worker) from None
        if isinstance(answer, _Failed):
            raise _failed(answer)
        _count(worker, answer, summary)
        size = worker.pending.popleft()
        if progress is not None:
            progress(size)


def _failed(answer: _Failed) -> WorkerFailedError:
    return WorkerFailedError(f"import worker {answer.worker} failed:\n{answer.trace}")


def _failure(worker: _Worker) -> WorkerFailedError:
    """Why ``worker`` stopped taking chunks or answering: the error it sent, if it sent one
    (answers before it are dropped), else how it ended."""
    with suppress(EOFError, OSError):
        while worker.outbox.poll(STOP_TIMEOUT_S):
            answer = worker.outbox.recv()
            if isinstance(answer, _Failed):
                return _failed(answer)
    worker.process.join(STOP_TIMEOUT_S)
    code = worker.process.exitcode
    return WorkerFailedError(f"import worker {worker.index} stopped (exit code {code})")


def _count(worker: _Worker, outcome: ChunkOutcome, summary: ImportSummary) -> None:
    summary.add(outcome)
    for number, raw, refusal in outcome.refused:
        reject(worker.refused, worker.rejects, number, raw, refusal)


def _stop(pool: list[_Worker]) -> None:
    """End every worker's input and wait until each has exited (a worker finishes the chunk
    it is on first); answers still on their way are read and dropped, so none blocks. A
    worker still running after ``STOP_TIMEOUT_S`` is terminated."""
    for worker in pool:
        worker.inbox.close()
    running = {worker.process.sentinel: worker for worker in pool}
    answering = {worker.outbox: worker for worker in pool}
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while running:
        left = deadline - time.monotonic()
        ready = wait([*running, *answering], timeout=max(left, 0))
        if not ready:
            for worker in running.values():
                worker.process.terminate()
            for worker in running.values():
                worker.process.join()
            running.clear()
        for conn in ready:
            if isinstance(conn, int):
                running.pop(conn).process.join()
                continue
            try:
                cast(Connection, conn).recv()
            except (EOFError, OSError):
                answering.pop(cast(Connection, conn)).outbox.close()
    for connection in answering:
        connection.close()


def _merge_rejects(pool: list[_Worker], path: Path, summary: ImportSummary) -> None:
    """One rejects file in line order from the workers' (each in line order)."""
    summary.rejected += sum(w.refused.rejected for w in pool)
    first = heapq.merge(*(w.refused.rejects for w in pool), key=lambda r: r[0])
    summary.rejects = list(first)[:KEEP_REJECTS]
    for worker in pool:
        worker.rejects.seek(0)
    merged: Iterator[bytes] = heapq.merge(*(w.rejects for w in pool), key=_line_number)
    with rejects_path(path).open("wb") as out:
        out.writelines(merged)


def _line_number(reject: bytes) -> int:
    number: int = orjson.loads(reject)["line"]
    return number


# --- in the worker process ---------------------------------------------------------------


def _work(
    index: int,
    settings: Settings,
    office: str,
    default_actor: Actor | None,
    inbox: Connection,
    outbox: Connection,
) -> None:
    # Ctrl-C goes to the parent; the worker stops when the parent's input ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_serve(settings, office, default_actor, inbox, outbox))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone: nothing to answer to
    except BaseException:
        with suppress(OSError):
            outbox.send(_Failed(index, traceback.format_exc()))
        raise SystemExit(1) from None


async def _serve(
    settings: Settings,
    office: str,
    default_actor: Actor | None,
    inbox: Connection,
    outbox: Connection,
) -> None:
    chunks: asyncio.Queue[list[Line] | None] = asyncio.Queue()
    ended = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_take_in, args=(inbox, loop, chunks, ended), daemon=True).start()
    async with open_runtime(settings) as rt:
        app = await build_application(rt)
        with fewer_collections():
            while (lines := await chunks.get()) is not None and not ended.is_set():
                outcome = await import_chunk(app, lines, office, default_actor, datetime.now(UTC))
                outbox.send(outcome)


def _take_in(
    inbox: Connection,
    loop: asyncio.AbstractEventLoop,
    chunks: asyncio.Queue[list[Line] | None],
    ended: asyncio.Event,
) -> None:
    """Read chunks as they come, so the parent never waits on a busy worker's pipe. At the
    end of input (the parent finished, stopped or died) chunks not yet begun are dropped."""
    try:
        while True:
            loop.call_soon_threadsafe(chunks.put_nowait, inbox.recv())
    except (EOFError, OSError):
        loop.call_soon_threadsafe(ended.set)
        loop.call_soon_threadsafe(chunks.put_nowait, None)
