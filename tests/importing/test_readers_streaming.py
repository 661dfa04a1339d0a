"""The reader streams: it closes what it opens, yields CSV rows as a pipe delivers them,
parses JSON arrays element by element, keeps memory flat for JSON from a pipe, and hashes
every byte exactly once, whatever the input."""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import threading
import tracemalloc
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadcli.importing.readers import ReadError, open_table


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
@pytest.mark.parametrize("suffix", ["csv", "jsonl", "json"])
def test_the_file_opened_is_closed(tmp_path: Path, suffix: str):
    path = tmp_path / f"leads.{suffix}"
    rows = [{"Email": f"p{i}@acme.com", "Name": f"P {i}"} for i in range(50)]
    if suffix == "csv":
        path.write_text("Email,Name\n" + "".join(f"{r['Email']},{r['Name']}\n" for r in rows))
    elif suffix == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        path.write_text(json.dumps(rows))
    before = _open_fds()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        table = open_table(path)
        assert len(list(table.rows)) == 50  # exhausted: closed
        assert _open_fds() == before
        with open_table(path) as table:  # left half-read: closed by the block's end
            next(table.rows)
        assert _open_fds() == before
        gc.collect()


def test_a_table_that_cannot_be_read_closes_its_file(tmp_path: Path):
    path = tmp_path / "leads.json"
    path.write_text('[{"a": 1}, oops]')
    before = _open_fds()
    with pytest.raises(ReadError, match="not valid JSON"):
        open_table(path)
    assert _open_fds() == before


def test_csv_rows_come_out_before_the_input_ends():
    """A pipe that has sent a header and one row, and is still open: the row is there."""
    read_end, write_end = os.pipe()
    reader = os.fdopen(read_end, "rb")
    os.write(write_end, b"Email,Name\nana@acme.com,Ana\n")
    got: list = []
    table = open_table("-", stdin=reader)
    thread = threading.Thread(target=lambda: got.append(next(table.rows)))
    thread.start()
    thread.join(10)
    try:
        assert got == [(2, ["ana@acme.com", "Ana"])]
    finally:
        os.write(write_end, b"bo@berg.se,Bo\n")
        os.close(write_end)
    assert list(table.rows) == [(3, ["bo@berg.se", "Bo"])]
    data = b"Email,Name\nana@acme.com,Ana\nbo@berg.se,Bo\n"
    assert table.sha256() == hashlib.sha256(data).hexdigest()
    reader.close()


class _Trickle(io.RawIOBase):
    """A pipe-like stream: not seekable, a few bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.data[self.at : self.at + min(self.step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self.at += len(chunk)
        return len(chunk)


def _peak_reading(lines: int) -> tuple[int, int]:
    """(peak Python memory, input bytes) reading ``lines`` JSON Lines from a stream that
    cannot seek; checks every row came out with every key, hashed."""
    data = b"".join(
        json.dumps({"Email": f"p{i}@acme.com", "Notes": "x" * 200, f"k{i % 3}": i}).encode() + b"\n"
        for i in range(lines)
    )
    tracemalloc.start()
    try:
        table = open_table("-", stdin=io.BufferedReader(_Trickle(data, 1 << 16)))
        count = sum(1 for _ in table.rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == lines
    assert table.header == ["Email", "Notes", "k0", "k1", "k2"]  # every object's keys
    assert table.sha256() == hashlib.sha256(data).hexdigest()
    return peak, len(data)


def test_jsonl_from_a_pipe_keeps_memory_flat():
    """Twice the lines from a stream that cannot seek, not twice the memory: the reader
    holds a line and its buffers, never the input (it copies the input to a temporary file
    to read the keys first)."""
    small, _ = _peak_reading(10_000)
    big, big_bytes = _peak_reading(20_000)
    assert big < small * 1.25 + 100_000, (small, big)
    assert big < big_bytes / 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.text(min_size=1, max_size=5),
            st.one_of(
                st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()
            ),
            max_size=4,
        ),
        max_size=12,
    ),
    st.integers(min_value=1, max_value=40),
    st.sampled_from([None, 2]),
)
def test_json_arrays_parse_element_by_element_as_json_loads_would(objects, step, indent):
    """Whatever the chunk boundaries (a number or string cut in two), the incremental parse
    gives what ``json.loads`` gives for the whole text."""
    import leadcli.importing.readers as readers

    data = json.dumps(objects, indent=indent, ensure_ascii=False).encode()
    old = readers.JSON_CHUNK
    readers.JSON_CHUNK = step
    try:
        table = open_table("-", stdin=io.BufferedReader(_Trickle(data, 7)), input_format="json")
        got = [cells for _, cells in table.rows]
    finally:
        readers.JSON_CHUNK = old
    header = list(dict.fromkeys(k for o in objects for k in o))
    assert table.header == header
    want = [[readers._cell(o.get(k)) for k in header] for o in objects]
    assert got == want


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"a": 1} {"a": 2}]', "expected , or ]"),
        ('[{"a": 1}', "not valid JSON"),
        ('[{"a": 1}] x', "extra data"),
        ('"just a string"', "array of objects"),
    ],
)
def test_broken_json_is_one_clear_error(tmp_path: Path, text: str, message: str):
    path = tmp_path / "leads.json"
    path.write_text(text)
    with pytest.raises(ReadError, match=message):
        list(open_table(path).rows)


def test_one_object_and_an_empty_input_are_read(tmp_path: Path):
    path = tmp_path / "one.json"
    path.write_text('{"Email": "a@b.co"}')
    table = open_table(path)
    assert (table.header, list(table.rows)) == (["Email"], [(1, ["a@b.co"])])
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    table = open_table(empty)
    assert (table.header, list(table.rows)) == ([], [])
