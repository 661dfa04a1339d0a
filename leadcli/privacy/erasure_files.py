"""What erasure finds of a person outside the lead rows: text that names them (an import's
file name such as ``ana-silva.vcf``, a rejects file named after it) and the rows of theirs in
the rejects files imports wrote beside their sources.

Matching is on folded text (case and accents: ``Yárborough`` is ``yarborough``), as a file
name or a Message-ID may spell a name. Functions take plain values, not ``erasure.Person``,
so that this module sits below ``privacy.erasure``.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath

from leadcli.exporting.leads import atomic_output
from leadcli.identity.evidence import DEFAULT_LISTS, Lists, is_personal_email
from leadcli.leads import history

#: What stands in for an erased value quoted in someone else's history or journal.
ERASED_VALUE = "[erased]"


def fold(text: str) -> str:
    """Case and accents folded, compatibility forms unified (full-width letters too)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text))


def naming_pattern(
    emails: Iterable[str],
    first_names: Iterable[str],
    last_names: Iterable[str],
    lists: Lists = DEFAULT_LISTS,
) -> re.Pattern[str] | None:
    """What in a file name names the person, matched on ``fold``ed text: a personal
    e-mail's local part (``yolanda.yarb``), a last name, or first and last name run
    together in either order (``yolandayarborough``), each as a whole word. A first name
    alone is not enough (``ana.csv`` may be anyone's), nor a local part that is one
    (``ana@``) or a role address's (``info.csv``); parts shorter than three characters
    never count. A last name shared with a word (``Sales``) may rename another file: a
    label lost, never a person left behind."""
    firsts, lasts = list(first_names), list(last_names)
    given = {w for name in firsts for w in _words(name)}
    marks: set[str] = set()
    for email in emails:
        local = fold(email.partition("@")[0])
        if len(local) >= 3 and local not in given and is_personal_email(email, lists):
            marks.add(re.escape(local))
    marks |= {re.escape(w) for name in lasts for w in _words(name) if len(w) >= 3}
    for first in firsts:
        for last in lasts:  # either order: family name first is common
            for squashed in (
                "".join(_words(f"{first} {last}")),
                "".join(_words(f"{last} {first}")),
            ):
                if len(squashed) >= 3:
                    marks.add(re.escape(squashed))
    if not marks:
        return None
    alternatives = "|".join(sorted(marks, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")


def names(pattern: re.Pattern[str] | None, text: str | None) -> bool:
    """Whether ``text`` names the person ``pattern`` (from ``naming_pattern``) stands for."""
    return bool(pattern is not None and text and pattern.search(fold(text)))


def erased_file_name(name: str) -> str:
    """A file name that named the person: ``[erased]`` with its extension kept (what kind of
    file it was), its folder dropped (that may name them too)."""
    suffix = PurePath(name).suffix
    return ERASED_VALUE + (suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else "")


def rename_files(
    conn: sqlite3.Connection, pattern: re.Pattern[str] | None
) -> list[tuple[str, str]]:
    """Rewrite the file names that name the person in every batch (not only theirs: a file
    named after them may have brought someone else), with the history reasons quoting them
    (``history.import_reason``, by which ``import undo`` finds its merges); point rejects
    files that name them at ``erased-ID.rejects.csv``. Returns the rejects files' (old, new)
    paths, moved after the commit (``move_rejects``). Call while history's triggers are
    dropped. Batches are few (one per import): read in Python, not matched in SQL."""
    renamed: list[tuple[str, str]] = []
    batches = conn.execute("SELECT id, file_name, rejects_file FROM import_batches").fetchall()
    for batch_id, file_name, rejects_file in batches:
        name = erased_file_name(file_name) if names(pattern, file_name) else file_name
        new_rejects = rejects_file
        if rejects_file and names(pattern, Path(rejects_file).name):
            new_rejects = str(Path(rejects_file).with_name(f"erased-{batch_id}.rejects.csv"))
            renamed.append((rejects_file, new_rejects))
        if (name, new_rejects) == (file_name, rejects_file):
            continue
        if name != file_name:
            conn.execute(
                "UPDATE history SET reason = ? WHERE reason = ?",
                (history.import_reason(batch_id, name), history.import_reason(batch_id, file_name)),
            )
        conn.execute(
            "UPDATE import_batches SET file_name = ?, rejects_file = ? WHERE id = ?",
            (name, new_rejects, batch_id),
        )
    return renamed


def scrub_pattern(emails: Iterable[str]) -> re.Pattern[str] | None:
    """The person's e-mails as whole addresses inside JSON or free text (escaped as
    json.dumps does): ``bob@x.com`` matches, ``jimbob@x.com`` does not. Phones are not
    scrubbed from other leads: a shared phone is those leads' own value too."""
    values = sorted({json.dumps(v, ensure_ascii=False)[1:-1] for v in emails}, key=len)
    if not values:
        return None
    alternatives = "|".join(re.escape(v) for v in reversed(values))
    return re.compile(rf"(?<![\w.+-])(?:{alternatives})(?![\w-]|\.\w)", re.IGNORECASE)


def _row_test(
    emails: set[str], phones: set[str], full_names: set[tuple[str, str]], lists: Lists
) -> Callable[[list[str]], bool]:
    """Whether a rejects row is the person's: a cell holding one of their e-mails, or the
    local part of a personal one before any ``@`` (a domain mistyped is why a row is
    rejected), a phone cell with their digits (as typed), or their first and last name
    together in the row (a row rejected for both its address and its phone). A namesake's
    rejected row goes too: a row to mend lost, never theirs left."""
    pattern = scrub_pattern(emails)
    locals_ = {fold(e.partition("@")[0]) for e in emails if is_personal_email(e, lists)}
    local = (
        re.compile(rf"(?<![\w.+-])(?:{'|'.join(map(re.escape, locals_))})@")
        if any(len(x) >= 3 for x in locals_)
        else None
    )
    digits_of = {re.sub(r"\D", "", p) for p in phones}

    def theirs(cells: list[str]) -> bool:
        folded = {fold(c.strip()) for c in cells}
        if any(first in folded and last in folded for first, last in full_names):
            return True
        for cell in cells:
            text = cell.strip().lstrip("'")
            if pattern is not None and pattern.search(text):
                return True
            if local is not None and local.search(fold(text)):
                return True
            digits = re.sub(r"\D", "", text)
            if len(digits) >= 7 and any(p.endswith(digits) for p in digits_of):
                return True
        return False

    return theirs


def scrub_rejects(
    paths: Iterable[str],
    emails: set[str],
    phones: set[str],
    full_names: set[tuple[str, str]],
    lists: Lists = DEFAULT_LISTS,
) -> tuple[list[str], list[str]]:
    """Rewrite each rejects file without the person's rows (``_row_test``); return the files
    changed and those not found (moved, or named relative to another folder: the user must
    check them). ``full_names`` are (first, last) pairs, ``fold``ed."""
    changed: list[str] = []
    missing: list[str] = []
    theirs = _row_test(emails, phones, full_names, lists)
    for name in paths:
        path = Path(name)
        if not path.is_file():
            missing.append(name)
            continue
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        # The header is never a row of theirs (a column may be called "Phone 5550100").
        kept = rows[:1] + [r for r in rows[1:] if not theirs(r)]
        if len(kept) == len(rows):
            continue
        # Whole or not at all, and a failure leaves no temporary copy of the rows erased.
        with atomic_output(path) as handle:
            csv.writer(handle).writerows(kept)
        changed.append(str(path))
    return changed, missing


def move_rejects(renamed: list[tuple[str, str]]) -> dict[str, str]:
    """Give the rejects files whose names named the person the names the database now
    holds (``rename_files``); returns those moved, old path to new. A name already taken
    (another database's batch of the same id beside it) is left alone, not overwritten."""
    import os

    moved: dict[str, str] = {}
    for old, new in renamed:
        if Path(old).is_file() and not Path(new).exists():
            os.replace(old, new)
            moved[old] = new
    return moved
