"""Run a dripline command in this process and SIGKILL it at its Nth SQLite statement.

Test-side fault injection: every connection the command opens gets a trace callback
(``sqlite3.Connection.set_trace_callback``, called once per statement SQLite runs) that counts
statements and kills the process with SIGKILL, which no handler can catch, when the count reaches
N. With N = 0 nothing is killed and the number of statements the command ran is written to
stderr as ``statements=<count>`` when it exits, which tells a test the range to draw kill points
from.

Usage: ``python -m tests.reconcile.posting.killer N dripline-arguments...``
"""

from __future__ import annotations

import atexit
import os
import signal
import sqlite3
import sys
from typing import Any


def install(kill_at: int) -> list[int]:
    """Count (and at ``kill_at``, die on) every statement of every connection opened from now on."""
    count = [0]
    real_connect = sqlite3.connect

    def trace(_statement: str) -> None:
        count[0] += 1
        if kill_at and count[0] >= kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(trace)
        return conn

    sqlite3.connect = connect  # type: ignore[assignment]
    return count


def main(argv: list[str]) -> None:
    kill_at = int(argv[0])
    count = install(kill_at)
    if not kill_at:
        atexit.register(lambda: print(f"statements={count[0]}", file=sys.stderr))
    from dripline.cli import app

    app(args=argv[1:], prog_name="dripline")


if __name__ == "__main__":
    main(sys.argv[1:])
