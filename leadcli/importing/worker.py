"""Turning a file's rows into ready-to-insert statements' parameters, on a second core.

Reading, validating and normalising rows is Python work, and so is most of handing values to
SQLite: in one process the two queue for one interpreter lock while the machine's other cores
sit idle. A big import on Linux therefore forks a worker that reads and converts the rows and
sends them on through a pipe (pickled, a chunk at a time), while this process only inserts.

The library never decides to fork: the application asks for it (``parallel=True``; the CLI
does for a big regular file when ``can_fork()``), and calls ``prepared_chunks`` before it
starts any thread and before it opens its write transaction, so the worker copies neither a
running thread's locks nor a transaction in progress. The worker has the open file and the
converter already; it touches neither the database nor the terminal, ignores Ctrl-C in its
own process (this process handles it and ends the worker), and leaves with ``os._exit``,
running none of this process's exit code. If this process dies, the worker's next write
fails on the closed pipe and it ends too.

Chunks are numbered from 1; the caller adds the ids it starts after (known only once its
transaction holds the write lock).
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
from leadcli.importing.rows import Chunk, Evidence

#: Below this many bytes a file is converted in this process: forking is not worth it.
PARALLEL_MIN_BYTES = 1 << 20
#: A missing value (None) as ``Prepared.params`` carries it: the empty text, which no lead
#: value is (the converter makes every empty cell None), turned back into NULL by the INSERT
#: (``null_if_missing``). Python's sqlite3 binds str, int and float directly, but looks None
#: up as an object to adapt (a registry lookup and two failed attribute lookups, one of which
#: formats an error message) with the GIL held: a fifth of a million-row load's INSERT work,
#: on the thread that inserts, for the half of the values that are missing.
MISSING = ""


def null_if_missing(value_sql: str) -> str:
    """SQL for a value of ``Prepared.params`` as the table stores it: NULL for ``MISSING``."""
    return f"nullif({value_sql}, '{MISSING}')"


@dataclass
class Prepared:
    """One chunk of rows, ready for one multi-row INSERT.

    ``params`` holds each kept row's id followed by its values, row after row, a missing
    value as ``MISSING``; the ids run from ``first_id`` for ``count`` rows. ``rows`` counts
    the rows read, kept or rejected.
    """

    rows: int
    first_id: int
    count: int
    params: list[Any]
    tags: list[tuple[int, str]]
    rejects: list[tuple[int, list[str], str]]
    bytes_read: int
    unknown_statuses: set[tuple[str, str]]
    #: Cells that lost control or invisible characters.
    cleaned: int = 0
    #: What the chunk's number and date columns said of their style (``rows.Evidence``),
    #: its ambiguous cells as ``(id, column, other reading)`` and its cells not read as
    #: ``(line, column, cell, why)``: the loader decides each column once all are in.
    evidence: dict[str, Evidence] | None = None
    ambiguous: list[tuple[int, str, Any]] | None = None
    unread: list[tuple[int, str, str, str]] | None = None
    #: Phone cells kept as written (no valid number in their row's region).
    phones_kept: int = 0


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
            if None in column:
                column = [MISSING if value is None else value for value in column]
            params[offset::width] = column
        tags: list[tuple[int, str]] = []
        ambiguous: list[tuple[int, str, Any]] = []
        if chunk.tags or chunk.ambiguous:
            id_of = dict(zip(chunk.lines, ids, strict=True))
            tags = [(id_of[line], tag) for line, tag in chunk.tags]
            ambiguous = [(id_of[line], column, alt) for line, column, alt in chunk.ambiguous]
        yield Prepared(
            len(batch),
            next_id,
            count,
            params,
            tags,
            chunk.rejects,
            bytes_read() if bytes_read else 0,
            chunk.unknown_statuses,
            chunk.cleaned,
            chunk.evidence,
            ambiguous,
            chunk.unread,
            chunk.phones_kept,
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


class Chunks:
    """The rows as ``Prepared`` chunks, converted here or by a worker; iterate once.

    ``close()`` ends the worker (if any) and reaps it, whether or not iteration began;
    ``result`` is the value of ``finished()`` (called where the rows were read, once they are
    exhausted), e.g. the input's hash.
    """

    def __init__(self, chunks: Iterator[Prepared], finished: Callable[[], Any] | None) -> None:
        self._chunks = chunks
        self._finished = finished
        self.result: Any = None

    def __iter__(self) -> Iterator[Prepared]:
        yield from self._chunks
        if self._finished is not None:
            self.result = self._finished()

    def close(self) -> None:
        pass


class _WorkerChunks(Chunks):
    """The parent's side of a forked worker."""

    def __init__(self, pid: int, read_end: int) -> None:
        super().__init__(iter(()), None)
        self.pid: int | None = pid
        self.pipe = open(read_end, "rb")  # noqa: SIM115 - closed by close()

    def __iter__(self) -> Iterator[Prepared]:
        """Yield the worker's chunks; raise its error."""
        while True:
            try:
                kind, payload = pickle.load(self.pipe)
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
                self.result = payload
                return

    def close(self) -> None:
        """End the worker (it may not have finished: this process failed) and reap it."""
        self.pipe.close()
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None


def prepared_chunks(
    rows: Iterator[tuple[int, list[str]]],
    convert: Callable[[list[tuple[int, list[str]]]], Chunk],
    size: int,
    bytes_read: Callable[[], int] | None,
    *,
    parallel: bool,
    finished: Callable[[], Any] | None = None,
) -> Chunks:
    """The rows as ``Prepared`` chunks of ``size`` rows, numbered from 1.

    With ``parallel``, the worker is forked now: call this before starting any thread (a
    fork copies only the calling thread, so locks other threads held would stay locked) and
    before opening a transaction; close the result when done.
    """
    if not parallel:
        return Chunks(_prepare(rows, convert, size, 1, bytes_read), finished)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the worker; its work is checked through the parent
        os.close(read_end)
        _work(write_end, _prepare(rows, convert, size, 1, bytes_read), finished)
    os.close(write_end)
    return _WorkerChunks(pid, read_end)


def _work(
    write_end: int, chunks: Iterator[Prepared], finished: Callable[[], Any] | None
) -> None:  # pragma: no cover - worker
    """The worker: send every chunk, then ``done`` (with ``finished()``) or the error that
    stopped it; exit."""
    # In the worker's own process only: Ctrl-C reaches the whole process group, and the
    # parent, which owns the transaction, decides what happens.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    status = 0
    try:
        with open(write_end, "wb") as pipe:
            try:
                for prepared in chunks:
                    pickle.dump(("chunk", prepared), pipe, protocol=pickle.HIGHEST_PROTOCOL)
                message: tuple[str, Any] = ("done", finished() if finished else None)
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
