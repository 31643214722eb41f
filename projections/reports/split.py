"""Computing a report in two processes: each folds the cases of half of the people.

The parent copies its in-memory facts store into shared memory; a worker (a fresh interpreter,
started without re-running the parent's main module) loads the copy and takes the people of
part 1, the parent those of part 0 (``history.share_of``: a person's cases all go to one part,
so per-person figures never need combining). The work runs
in two steps: ``first`` over each part's cases, ``merge`` of the two results in the parent (for
figures that need every case, such as the monthly counts behind the refund rates), then
``second`` over each part's cases with the merged result. Functions are passed by reference
(module-level), so the worker imports them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any, TypeVar

from projections.reports.facts import CASE_INDEX
from projections.reports.history import CaseHistory, Share, iter_cases
from projections.reports.model import Params
from projections.reports.replay import memory_database
from services.db import Database

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")

SPLIT_FROM_FACTS = 200_000
"""Below this many facts one process is quicker than starting a second (about a second)."""


def worth_splitting(db: Database) -> bool:
    """A SQLite store with enough facts, on a machine with a second core."""
    if db.postgres or (os.cpu_count() or 1) < 2:
        return False
    facts = int(db.execute("SELECT count(*) FROM rf_events").fetchone()[0])
    return facts >= SPLIT_FROM_FACTS and _fits_in_shared_memory(db)


def _fits_in_shared_memory(db: Database, shm: Path = Path("/dev/shm")) -> bool:  # noqa: S108
    """Whether the store's copy fits where shared memory lives (a container's /dev/shm is
    often 64 MB; writing past it kills the process with SIGBUS instead of raising)."""
    if not shm.is_dir():
        return True  # not Linux: shared memory is not a size-limited file system there
    pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    size = int(db.execute("PRAGMA page_size").fetchone()[0])
    return shutil.disk_usage(shm).free > pages * size * 5 // 4


class WorkerError(RuntimeError):
    """The second process raised; its traceback is the message."""


def in_two(
    db: Database,
    params: Params,
    first: Callable[[list[CaseHistory], Params], A],
    merge: Callable[[A, A], B],
    second: Callable[[list[CaseHistory], Params, B], C],
) -> tuple[C, C]:
    """``second``'s results for part 0 (this process) and part 1 (a worker), in that order."""
    worker, here = _start()
    memory: SharedMemory | None = None
    answered = False
    try:
        # The index both processes read the cases by goes in the copy: the worker starts
        # meanwhile, and need not build it again.
        db.execute(CASE_INDEX)
        image = db.conn.serialize()
        memory = SharedMemory(create=True, size=max(1, len(image)))
        assert memory.buf is not None
        memory.buf[: len(image)] = image
        here.send((memory.name, len(image), params, (1, 2), first, second))
        del image
        cases = list(iter_cases(db, params.on, share=(0, 2)))
        mine = first(cases, params)
        theirs: A = _answer(here)
        memory.close()
        memory.unlink()
        memory = None
        merged = merge(mine, theirs)
        here.send(merged)
        result = second(cases, params, merged)
        theirs_too: C = _answer(here)
        answered = True
        return result, theirs_too
    finally:
        here.close()
        _stop(worker, at_once=not answered)
        if memory is not None:
            memory.close()
            memory.unlink()


def _stop(worker: subprocess.Popen[bytes], *, at_once: bool) -> None:
    """Wait for a worker that answered to exit; one that did not is killed (this process
    raised, and the worker would otherwise finish its part for nobody)."""
    if not at_once:
        try:
            worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        else:
            return
    worker.kill()
    worker.wait()


def _start() -> tuple[subprocess.Popen[bytes], Connection]:
    """The worker process and this end of its connection."""
    ours, theirs = socket.socketpair()
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    with theirs:
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-c", f"from {__name__} import serve; serve({theirs.fileno()})"],
            pass_fds=(theirs.fileno(),),
            env={**os.environ, "PYTHONPATH": path},
        )
    return worker, Connection(ours.detach())


def serve(fd: int) -> None:
    """The worker's entry point: answer one report over the connection on ``fd``."""
    _work(Connection(fd))


def _answer(conn: Connection) -> Any:
    try:
        answer = conn.recv()
    except EOFError:
        raise WorkerError("the report worker ended without an answer") from None
    if isinstance(answer, WorkerError):
        raise answer
    return answer


def _work(conn: Connection) -> None:
    """The worker: load the parent's store, then answer both steps for its part."""
    gc.disable()  # as in ``catalogue.build``: many small objects, no cycles
    try:
        name, size, params, share, first, second = conn.recv()
        cases = _load(name, size, params, share)
        conn.send(first(cases, params))
        conn.send(second(cases, params, conn.recv()))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent gave up (it raised and hung up); nobody to answer
    except BaseException:
        with contextlib.suppress(OSError):
            conn.send(WorkerError(traceback.format_exc()))
    finally:
        conn.close()


def _load(name: str, size: int, params: Params, share: Share) -> list[CaseHistory]:
    memory = SharedMemory(name=name)
    # Attaching registers the block as if this process had made it (CPython issue 82300);
    # the parent unlinks it.
    resource_tracker.unregister(f"/{memory.name}", "shared_memory")
    db = memory_database()
    try:
        assert memory.buf is not None
        image = memory.buf[:size]
        db.conn.deserialize(image)
        image.release()
        memory.close()
        return list(iter_cases(db, params.on, share=share))
    finally:
        db.close()
