"""The script writers: TSV is one record a line and reads back exactly."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from leadcli.exporting.writers import write_records
from leadcli.text import tsv


@given(st.text())
def test_tsv_escape_is_one_line_and_reversible(text):
    escaped = tsv.escape(text)
    assert not set("\t\n\r") & set(escaped)
    assert tsv.unescape(escaped) == text


def test_tsv_unescape_keeps_unknown_backslashes():
    assert tsv.unescape(r"C:\Users\ana") == r"C:\Users\ana"


def test_tsv_writes_one_record_a_line_header_too():
    out = io.StringIO()
    records = [{"id": 1, "notes": "line one\nline\ttwo\r\\end", "a\tb": "x"}]
    write_records(records, "tsv", columns=["id", "notes", "a\tb"], out=out)
    lines = out.getvalue().split("\n")
    # A CR (only in data stored before input cleaning) leaves as a newline, as an import
    # would store it.
    assert lines == ["id\tnotes\ta\\tb", "1\tline one\\nline\\ttwo\\n\\\\end\tx", ""]
