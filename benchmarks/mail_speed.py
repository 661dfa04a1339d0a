"""How fast does ``leadcli mail --send`` deliver? 1,000 messages to a real SMTP server.

Starts aiosmtpd on 127.0.0.1 (the test extra), imports N generated leads into a temporary
database, then alternates, ``--runs`` times: ``leadcli mail TEMPLATE - --send --again`` as a
whole process (render, consent checks, one SMTP connection, one logged touch committed per
message) and a bare ``smtplib`` loop sending N small messages over one connection in this
process (the floor). Prints both medians, the ratio and the per-message overhead.

    python benchmarks/mail_speed.py [--messages 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from _common import leadcli_command

TEMPLATE = "Subject: {{ company }} and you\n\nHi {{ first_name }},\n\nA call next week?\n"


class Sink:
    """Counts what arrives and keeps nothing."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bare_loop(port: int, n: int) -> float:
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            msg = EmailMessage()
            msg["From"] = "ann@consulting.example"
            msg["To"] = f"lead{i}@example.com"
            msg["Subject"] = f"Company {i} and you"
            msg.set_content(f"Hi Lead{i},\n\nA call next week?\n")
            smtp.send_message(msg)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            config = root / "config.toml"
            config.write_text(
                '[mail]\nfrom = "Ann <ann@consulting.example>"\nsmtp_host = "127.0.0.1"\n'
                f'smtp_port = {port}\nsmtp_security = "none"\nper_minute = 0\n',
                encoding="utf-8",
            )
            (root / "intro.txt").write_text(TEMPLATE, encoding="utf-8")
            csv = root / "leads.csv"
            csv.write_text(
                "First Name,Email,Company\n"
                + "".join(
                    f"Lead{i},lead{i}@example.com,Company {i}\n" for i in range(args.messages)
                ),
                encoding="utf-8",
            )
            env = {**os.environ, "LEADCLI_DB": str(root / "l.db"), "LEADCLI_CONFIG": str(config)}
            leadcli = leadcli_command()
            subprocess.run([*leadcli, "import", str(csv)], env=env, check=True, capture_output=True)
            ids = subprocess.run(
                [*leadcli, "list", "-q", "--limit", str(args.messages)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            ours, bare = [], []
            for _ in range(args.runs):
                before = sink.count
                start = time.perf_counter()
                subprocess.run(
                    [*leadcli, "mail", str(root / "intro.txt"), "-", "--send", "--again"],
                    input=ids,
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                ours.append(time.perf_counter() - start)
                assert sink.count - before == args.messages, "not every message arrived"
                bare.append(_bare_loop(port, args.messages))
    finally:
        controller.stop()
    mine, floor = statistics.median(ours), statistics.median(bare)
    n = args.messages
    print(f"leadcli mail --send   {n:,} messages  {mine:6.2f} s  ({mine / n * 1000:.2f} ms each)")
    print(f"bare smtplib loop     {n:,} messages  {floor:6.2f} s  ({floor / n * 1000:.2f} ms each)")
    print(
        f"ratio {mine / floor:.2f}x; overhead {(mine - floor) / n * 1000:.2f} ms a message "
        f"(medians of {args.runs} alternated runs; leadcli's includes process start-up)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
