"""Turning a file's rows into ready-to-insert statements' parameters, on a second core.

Reading, validating and normalising rows is Python work, and so is most of handing values to
SQLite: in one process the two queue for one interpreter lock while the machine's other cores
sit idle. A big import on Linux therefore forks a worker that reads and converts the rows and
sends them on through a pipe (pickled, a chunk at a time), while this process only inserts.

The worker is a plain ``fork`` of this process taken before any thread starts, so it has the
open file, the converter and the numbering already; it touches neither the database nor the
terminal, ignores Ctrl-C (this process handles it and ends the worker), and leaves with
``os._exit``, running none of this process's exit code. If this process dies, the worker's
next write fails on the closed pipe and it ends too.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from leadcli.errors import LeadcliError
from leadcli.importing.rows import Chunk

#: Below this many bytes a file is converted in this process: forking is not worth it.
PARALLEL_MIN_BYTES = 1 << 20


@dataclass
class Prepared:
    """One chunk of rows, ready for one multi-row INSERT.

    ``params`` holds each kept row's id followed by its values, row after row; the ids run
    from ``first_id`` for ``count`` rows. ``rows`` counts the rows read, kept or rejected.
    """

    rows: int
    first_id: int
    count: int
    params: list[Any]
    tags: list[tuple[int, str]]
    rejects: list[tuple[int, list[str], str]]
    bytes_read: int
    unknown_statuses: set[tuple[str, str]]


def _prepare(
    rows: Iterator[tuple[int, list[str]]],
    convert: Callable[[list[tuple[int, list[str]]]], Chunk],
    size: int,
    first_id: int,
    bytes_read: Callable[[], int] | None,
) -> Generator[Prepared, None, None]:
    next_id = first_id
    while batch := list(islice(rows, size)):
        chunk = convert(batch)
        count = len(chunk.lines)
        ids = range(next_id, next_id + count)
        # Row after row: each column's values go to every width-th place (slices run in C).
        width = len(chunk.columns) + 1
        params: list[Any] = [None] * (count * width)
        params[0::width] = ids
        for offset, column in enumerate(chunk.columns, start=1):
            params[offset::width] = column
        tags: list[tuple[int, str]] = []
        if chunk.tags:
            id_of = dict(zip(chunk.lines, ids, strict=True))
            tags = [(id_of[line], tag) for line, tag in chunk.tags]
        yield Prepared(
            len(batch),
            next_id,
            count,
            params,
            tags,
            chunk.rejects,
            bytes_read() if bytes_read else 0,
            chunk.unknown_statuses,
        )
        next_id += count


def can_fork() -> bool:
    """Whether a worker can run on a core of its own: Linux (where fork is safe for a
    process with no threads) with at least two cores to run on."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    # Another thread might hold a lock at the moment of the fork (a library's, the standard
    # streams'), which would stay locked in the worker for ever.
    return threading.active_count() == 1 and len(os.sched_getaffinity(0)) >= 2


def prepared_chunks(
    rows: Iterator[tuple[int, list[str]]],
    convert: Callable[[list[tuple[int, list[str]]]], Chunk],
    size: int,
    first_id: int,
    bytes_read: Callable[[], int] | None,
    *,
    parallel: bool,
) -> Generator[Prepared, None, None]:
    """The rows as ``Prepared`` chunks of ``size`` rows, numbered from ``first_id``.

    With ``parallel``, the worker is forked now, before the caller starts any thread (a
    fork copies only the calling thread, so locks other threads held would stay locked).
    """
    if not parallel:
        return _prepare(rows, convert, size, first_id, bytes_read)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the worker; its work is checked through the parent
        os.close(read_end)
        _work(write_end, _prepare(rows, convert, size, first_id, bytes_read))
    os.close(write_end)
    return _receive(read_end, pid)


def _work(write_end: int, chunks: Iterator[Prepared]) -> None:  # pragma: no cover - worker
    """The worker: send every chunk, then ``done`` or the error that stopped it; exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    status = 0
    try:
        with open(write_end, "wb") as pipe:
            try:
                for prepared in chunks:
                    pickle.dump(("chunk", prepared), pipe, protocol=pickle.HIGHEST_PROTOCOL)
                message: tuple[str, Any] = ("done", None)
            except Exception as exc:  # handed to the parent, which raises it
                message = ("error", exc)
            try:
                pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # the error itself cannot be pickled: send its text
                text = "".join(traceback.format_exception(message[1]))
                pickle.dump(("error", RuntimeError(text)), pipe)
    except BaseException:  # the parent is gone (closed pipe): nobody to tell
        status = 1
    finally:
        os._exit(status)


def _receive(read_end: int, pid: int) -> Generator[Prepared, None, None]:
    """The parent's side: yield the worker's chunks; raise its error; always reap it."""
    try:
        with open(read_end, "rb") as pipe:
            while True:
                try:
                    kind, payload = pickle.load(pipe)
                except (EOFError, pickle.UnpicklingError):  # killed, even half-way through
                    raise LeadcliError(
                        "the import's worker process ended unexpectedly; nothing was imported",
                        hint="was it killed, or out of memory? run the import again",
                    ) from None
                if kind == "chunk":
                    yield payload
                elif kind == "error":
                    raise payload
                else:
                    return
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # it may not have finished: this process failed
        os.waitpid(pid, 0)
