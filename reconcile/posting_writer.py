"""The poster's batched writes: a background writer thread on a connection of its own.

SQLite does its B-tree work with the GIL released, so while the writer inserts one batch the main
thread parses the next. The main thread touches the connection only when the writer is idle, and
every write stays inside the one transaction the poster opened.
"""
from __future__ import annotations

import gc
import queue
import sqlite3
import threading
from contextlib import contextmanager
from typing import Iterator


class Writer:
    """Runs the poster's batched writes in order, in a background thread when allowed.

    SQLite does its B-tree work with the GIL released, so while the writer inserts one chunk the
    main thread parses the next. The main thread touches the connection only after :meth:`sync`
    (every submitted batch written, the writer idle): the connection is never used by two threads
    at once, and everything stays inside the caller's one transaction.
    """

    def __init__(self, conn: sqlite3.Connection, threaded: bool) -> None:
        self.conn = conn
        self.exc: BaseException | None = None
        self.q: queue.Queue | None = queue.Queue(maxsize=2) if threaded else None
        if self.q is not None:
            self.thread = threading.Thread(target=self._run, name="dripline-post-writer", daemon=True)
            self.thread.start()

    def submit(self, jobs: list[tuple[str, list]]) -> None:
        if self.q is None:
            for sql, rows in jobs:
                self.conn.executemany(sql, rows)
            return
        self._raise()
        self.q.put(jobs)

    def _run(self) -> None:
        assert self.q is not None
        while True:
            jobs = self.q.get()
            try:
                if jobs is None:
                    return
                if self.exc is None:
                    for sql, rows in jobs:
                        self.conn.executemany(sql, rows)
            except BaseException as exc:  # re-raised in the main thread at the next sync
                self.exc = exc
            finally:
                self.q.task_done()

    def _raise(self) -> None:
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc

    def sync(self) -> sqlite3.Connection:
        """Wait until every submitted batch is written; the connection is then the caller's alone."""
        if self.q is not None:
            self.q.join()
        self._raise()
        return self.conn

    def close(self) -> None:
        """Stop the thread (after the pending batches); never raises."""
        if self.q is not None:
            self.q.put(None)
            self.thread.join()
            self.q = None


def writer_connection(conn: sqlite3.Connection) -> sqlite3.Connection | None:
    """A connection to the same ledger file that a background writer thread may use (None for an
    in-memory ledger: then everything runs on ``conn`` in this thread)."""
    row = next((r for r in conn.execute("PRAGMA database_list") if r[1] == "main"), None)
    if row is None or not row[2]:
        return None
    own = sqlite3.connect(row[2], timeout=60.0, isolation_level=None, check_same_thread=False)
    own.execute("PRAGMA foreign_keys=ON")
    own.execute("PRAGMA busy_timeout=60000")
    return own


@contextmanager
def bulk_gc() -> Iterator[None]:
    """Fewer cyclic-GC passes while posting: the many short-lived rows and records are freed by
    reference counting (no cycles), so collecting every 700 allocations is pure overhead."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 20_000), max(old[1], 20), max(old[2], 20))
    try:
        yield
    finally:
        gc.set_threshold(*old)
