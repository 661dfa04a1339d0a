"""How fast is capture? ``leadcli capture big.mbox`` as a whole process on a 10,000-message
mbox, into a new database each run, against Python's ``mailbox`` module reading and parsing
the same messages (``email.policy.default``, as capture parses them) in a process of its
own; prints medians and the ratio (target: at most 10x).

The mbox is a working inbox: inquiries from distinct people (half with a quoted reply and a
signature), text and HTML form notifications, newsletters with list headers, auto-replies,
and replies from people written to earlier (activities of existing leads).

    python benchmarks/capture_speed.py [--messages 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from _common import COMPANIES, DATA_DIR, FIRST, LAST, leadcli_command, measured_run

TARGET = 10.0

REFERENCE = (
    "import email, email.policy, mailbox, sys\n"
    "box = mailbox.mbox(sys.argv[1], factory=lambda f: email.message_from_binary_file("
    "f, policy=email.policy.default), create=False)\n"
    "n = sum(1 for _ in box)\n"
    "print(n)\n"
)


def _message(rng: random.Random, n: int, when: datetime, people: list[tuple[str, str]]) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = rng.choice(COMPANIES)
    email = f"{first.lower()}.{last.lower()}{n}@{company.lower()}.example"
    date = format_datetime(when)
    kind = rng.random()
    head = f"Date: {date}\nMessage-ID: <m{n}@bench.example>\nMIME-Version: 1.0\n"
    if kind < 0.5:
        people.append((f"{first} {last}", email))
        quoted = (
            f"\n\nOn {date}, Me <me@consulting.example> wrote:\n> Thanks for your note.\n> " * 3
            if n % 2
            else ""
        )
        return (
            f"From: {first} {last} <{email}>\nTo: me@consulting.example\n"
            f"Subject: Question about your services\n{head}"
            "Content-Type: text/plain; charset=utf-8\n\n"
            f"Hello,\n\nWe at {company} would like a proposal for next quarter.\n"
            f"Could we talk this week?\n\n{first}\n\n-- \n{first} {last}, {company}\n"
            f"+1 415 555 {rng.randint(1000, 9999)}{quoted}\n"
        )
    if kind < 0.65:
        return (
            "From: Website Forms <no-reply@forms.example>\n"
            f"Reply-To: {email}\nTo: me@consulting.example\n"
            f"Subject: New submission: Contact us\n{head}"
            "Auto-Submitted: auto-generated\nContent-Type: text/plain; charset=utf-8\n\n"
            f"Full name: {first} {last}\nE-mail: {email}\n"
            f"Phone: (415) 555-{rng.randint(1000, 9999)}\nCompany: {company}\n"
            "Message: We need a quote for 40 seats.\n"
        )
    if kind < 0.75:
        return (
            "From: Forms <notifications@forms.example>\nTo: me@consulting.example\n"
            f"Subject: New form entry\n{head}Content-Type: text/html; charset=utf-8\n\n"
            f"<html><body><table><tr><th>Name</th><td>{first} {last}</td></tr>"
            f"<tr><th>Email</th><td>{email}</td></tr>"
            f"<tr><th>Organisation</th><td>{company}</td></tr>"
            "<tr><th>Comments</th><td>Interested in the audit.</td></tr>"
            "</table></body></html>\n"
        )
    if kind < 0.85:
        return (
            f"From: {company} News <news@{company.lower()}.example>\n"
            f"To: me@consulting.example\nSubject: Our newsletter\n{head}"
            f"List-Id: <news.{company.lower()}.example>\nPrecedence: bulk\n"
            "Content-Type: text/plain\n\nAll our news.\n"
        )
    if kind < 0.9 or not people:
        return (
            f"From: {first} {last} <{email}>\nTo: me@consulting.example\n"
            f"Subject: Out of office\n{head}Auto-Submitted: auto-replied\n"
            "Content-Type: text/plain\n\nI am away until Monday.\n"
        )
    name, address = rng.choice(people)
    return (
        f"From: {name} <{address}>\nTo: me@consulting.example\nSubject: Re: our call\n"
        f"{head}Content-Type: text/plain\n\nYes, Thursday works.\n\n"
        f"On {date}, Me <me@consulting.example> wrote:\n> Shall we talk on Thursday?\n"
    )


def build_mbox(messages: int, seed: int = 1) -> Path:
    path = DATA_DIR / f"capture-{messages}.mbox"
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    people: list[tuple[str, str]] = []
    tmp = path.with_suffix(".building")
    with tmp.open("w", encoding="utf-8") as out:
        for n in range(messages):
            when = start + timedelta(minutes=20 * n)
            text = _message(rng, n, when, people).replace("\nFrom ", "\n>From ")
            out.write(f"From bench@example {when:%a %b %d %H:%M:%S %Y}\n{text}\n")
    tmp.rename(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    box = build_mbox(args.messages)

    reference_times, capture_times = [], []
    summary: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        config = str(Path(folder) / "config.toml")
        for run in range(args.runs):
            out, seconds, _ = measured_run([sys.executable, "-c", REFERENCE, str(box)])
            assert int(out) == args.messages, out
            reference_times.append(seconds)
            env = {"LEADCLI_DB": str(Path(folder) / f"run{run}.db"), "LEADCLI_CONFIG": config}
            out, seconds, _ = measured_run(
                [*leadcli_command(), "capture", str(box), "-f", "json"], env
            )
            capture_times.append(seconds)
            summary = json.loads(out)
            summary.pop("results")
    reference = statistics.median(reference_times)
    seconds = statistics.median(capture_times)
    ratio = seconds / reference
    print(f"reference  mailbox + email.policy.default parse  {reference:7.2f} s")
    print(
        f"leadcli capture (new database each run)         {seconds:7.2f} s  {ratio:5.1f}x"
        + (" ok" if ratio <= TARGET else f" OVER {TARGET}x")
    )
    counts = ", ".join(f"{k} {summary[k]}" for k in ("created", "matched", "skipped", "failed"))
    print(f"({args.runs} runs each, medians; {args.messages:,} messages: {counts})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
