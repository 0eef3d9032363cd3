"""Run the dripline CLI and SIGKILL it at the Nth observed event: fault injection from the test side.

    python -m tests.killpoint COUNT_FILE N PREFIX ARGS...

Events are every SQL statement the process runs (a ``sqlite3`` trace callback on each connection,
called before the statement executes; on a PostgreSQL ledger, each psycopg ``execute``,
``executemany`` and ``copy`` before it is sent) and every call of ``os.open``, ``os.write``, ``os.fsync``,
``os.replace`` and ``os.unlink``, described as ``sql:<statement>`` or ``os.<name>``. Only events
whose description starts with PREFIX count ("" counts all, "sql:" only SQL statements). At the Nth
counted event the process kills itself with SIGKILL (no cleanup handlers run, as with ``kill -9``
or a power cut); with N 0 it runs to the end and writes the number of counted events to
COUNT_FILE. Production code knows nothing of this: the wrapping happens here, before
``dripline.cli.main()`` is imported. :func:`run_killed` starts it from a test.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run_killed(
    args: Sequence[str],
    count_file: Path,
    target: int = 0,
    prefix: str = "",
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> tuple[subprocess.CompletedProcess[str], int]:
    """``dripline ARGS`` in a child process killed at its ``target``-th counted event (0: never);
    the finished process and the number of events it counted (-1 when it was killed)."""
    count_file.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.killpoint", str(count_file), str(target), prefix, *args],
        cwd=REPO,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seen = int(count_file.read_text()) if count_file.exists() else -1
    return proc, seen


def main(argv: list[str]) -> None:
    count_file, target, prefix, args = argv[0], int(argv[1]), argv[2], argv[3:]
    seen = 0

    def event(what: str) -> None:
        nonlocal seen
        if not what.startswith(prefix):
            return
        seen += 1
        if seen == target:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(name: str) -> None:
        real: Callable[..., Any] = getattr(os, name)

        def wrapped(*a: Any, **kw: Any) -> Any:
            event(f"os.{name}")
            return real(*a, **kw)

        setattr(os, name, wrapped)

    for name in ("open", "write", "fsync", "replace", "unlink"):
        wrap(name)
    real_connect = sqlite3.connect

    def connect(*a: Any, **kw: Any) -> sqlite3.Connection:
        conn = real_connect(*a, **kw)
        conn.set_trace_callback(lambda stmt: event("sql:" + stmt.strip()))
        return conn

    sqlite3.connect = connect  # type: ignore[assignment]
    _wrap_psycopg(event)
    sys.argv = ["dripline", *args]
    from dripline.cli import main as cli_main

    code = 0
    try:
        cli_main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    with open(count_file, "w", encoding="utf-8") as fh:
        fh.write(str(seen))
    sys.exit(code)


def _wrap_psycopg(event: Callable[[str], None]) -> None:
    """Count the statements psycopg sends (when it is installed): a PostgreSQL ledger's kill points."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the SQLite-only install
        return
    for name in ("execute", "executemany", "copy"):
        real: Callable[..., Any] = getattr(psycopg.Cursor, name)

        def wrapped(self: Any, query: Any, *a: Any, _real: Callable[..., Any] = real, **kw: Any) -> Any:
            event("sql:" + str(query).strip())
            return _real(self, query, *a, **kw)

        setattr(psycopg.Cursor, name, wrapped)


if __name__ == "__main__":
    main(sys.argv[1:])
