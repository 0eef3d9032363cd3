"""A real, throw-away PostgreSQL server for the tests.

:class:`PgServer` runs ``initdb`` into a fresh temporary directory and starts ``postgres`` on a Unix
socket only (no TCP port), with settings that trade durability for speed (``fsync``,
``synchronous_commit`` and ``full_page_writes`` off) and ``trust`` authentication for local
connections. The superuser role is named after the operating-system user the server runs as.

``initdb`` and ``postgres`` refuse to run as root: when the tests run as root, the server programs
run as the ``postgres`` system user (created by Debian's package; ``nobody`` when absent), and the
data and socket directories are owned by that user. The parent directory is mode 0755 so the socket
can be reached; the data and socket directories are 0700, the socket itself 0700 (root reaches it
all the same).

The pytest fixtures ``pg_server`` (one server per session, started on first use) and ``pg_url`` (a
fresh database per test) live in ``tests/conftest.py``; this module knows nothing of pytest.
Admin statements go through psycopg 3 on an autocommit connection to the ``postgres`` database.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    # Imported where used, so that collecting the tests (doctest modules included) needs no psycopg.
    import psycopg
    from psycopg import sql

# The socket file is named after the port; each server has its own socket directory, so the
# standard port never collides with another server (another pytest-xdist worker, a system cluster).
PORT = 5432

SETTINGS: Mapping[str, str] = {
    "listen_addresses": "''",
    "port": str(PORT),
    "unix_socket_permissions": "0700",
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Fewer background writes and no checkpoint pressure for short test databases.
    "shared_buffers": "32MB",
    "max_wal_size": "1GB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "autovacuum": "off",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] '",
}


# Run by a watcher process beside each server: it blocks reading its stdin, a pipe only the test
# process writes to, so it reads end-of-file when that process exits however it exits (SIGTERM and
# SIGKILL included, where atexit handlers never run), and then stops the server and removes its
# directory. A clean stop() does both itself and ends the watcher.
_WATCHER = """
import os, shutil, subprocess, sys
pg_ctl, base, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.stdin.buffer.read()
data = os.path.join(base, "data")
if os.path.exists(os.path.join(data, "postmaster.pid")):
    other = uid != os.geteuid()
    subprocess.run(
        [pg_ctl, "-D", data, "-m", "immediate", "-w", "-t", "60", "stop"],
        cwd=base, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        user=uid if other else None, group=gid if other else None, extra_groups=[] if other else None,
    )
shutil.rmtree(base, ignore_errors=True)
"""


class PgServerError(RuntimeError):
    """The server could not be initialised, started or stopped; the message carries the programs' output."""


@dataclass(frozen=True)
class RunAs:
    """The operating-system user the server programs run as."""

    name: str
    uid: int
    gid: int

    @property
    def is_self(self) -> bool:
        return self.uid == os.geteuid()


def server_user() -> RunAs:
    """This process's user, or when it is root the ``postgres`` system user (``nobody`` without one)."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
    raise PgServerError("running as root and neither a 'postgres' nor a 'nobody' user exists to run the server as")


def _child_env() -> dict[str, str]:
    """This environment without libpq's and the server's ``PG*`` variables (PGDATA, PGPORT, ...)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def database_name(url: str) -> str:
    """The database a URL made by :meth:`PgServer.url` names."""
    return unquote(urlsplit(url).path.lstrip("/"))


class PgServer:
    """One throw-away PostgreSQL cluster: ``start()``, hand out database URLs, ``stop()``.

    ``bindir`` is the directory holding ``initdb``, ``pg_ctl`` and ``postgres``. ``stop()`` is
    idempotent and also registered with :mod:`atexit` while the server runs, and a watcher process
    stops the server and removes its directory should this process end without either (SIGTERM,
    SIGKILL), so an interrupted test run does not leave a server or its directory behind.
    """

    def __init__(self, bindir: str | os.PathLike[str], *, base_parent: str | None = None) -> None:
        self.bindir = Path(bindir)
        self.user = server_user()
        self._base_parent = base_parent if base_parent is not None else ("/tmp" if os.path.isdir("/tmp") else None)
        self.base: Path | None = None
        self._admin: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()
        self._running = False
        self._watcher: subprocess.Popen[bytes] | None = None

    # Directories, valid once start() has created them.

    def _base(self) -> Path:
        if self.base is None:
            raise PgServerError("the server has not been started")
        return self.base

    @property
    def data_dir(self) -> Path:
        return self._base() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._base() / "socket"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def running(self) -> bool:
        return self._running

    # Life cycle.

    def start(self) -> PgServer:
        """``initdb`` and start the server; returns self. Raises PgServerError with the programs' output."""
        if self._running:
            return self
        base = Path(tempfile.mkdtemp(prefix="dripline-pg-", dir=self._base_parent))
        self.base = base
        atexit.register(self.stop)
        try:
            base.chmod(0o755)
            self._watcher = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WATCHER,
                    str(self.bindir / "pg_ctl"),
                    str(base),
                    str(self.user.uid),
                    str(self.user.gid),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=base,
                start_new_session=True,  # a Ctrl-C to the test run's process group leaves it to do its work
            )
            for directory in (self.data_dir, self.socket_dir):
                directory.mkdir(mode=0o700)
                if not self.user.is_self:
                    os.chown(directory, self.user.uid, self.user.gid)
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                self.user.name,
                "--auth-local=trust",
                "--auth-host=reject",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                cwd=base,
                timeout=180,
            )
            settings = "".join(f"{key} = {value}\n" for key, value in SETTINGS.items())
            settings += f"unix_socket_directories = '{self._conf_quote(str(self.socket_dir))}'\n"
            with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write("\n# throw-away test server\n" + settings)
            self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "start", cwd=base)
            self._running = True
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server at once (``pg_ctl stop -m immediate``) and remove its directory; idempotent."""
        with self._lock:
            if self._admin is not None:
                admin, self._admin = self._admin, None
                try:
                    admin.close()
                except Exception:  # a broken admin connection must not keep the server running
                    pass
        base, self.base = self.base, None
        if base is None:
            return
        atexit.unregister(self.stop)
        try:
            if (base / "data" / "postmaster.pid").exists():
                try:
                    self._run("pg_ctl", "-D", str(base / "data"), "-m", "immediate", "-w", "-t", "60", "stop", cwd=base)
                except PgServerError:
                    pass
        finally:
            self._running = False
            shutil.rmtree(base, ignore_errors=True)
            self._end_watcher()

    def _end_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is None:
            return
        watcher.terminate()
        try:
            watcher.wait(timeout=10)
        except subprocess.TimeoutExpired:
            watcher.kill()
            watcher.wait()
        if watcher.stdin is not None:
            watcher.stdin.close()

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Databases.

    def url(self, dbname: str = "postgres") -> str:
        """libpq URL of database ``dbname`` over this server's socket, usable by psycopg and the CLI.

        ``postgresql://USER@/DBNAME?host=/socket/dir&port=5432``: the port is given so that a
        ``PGPORT`` in the environment cannot redirect libpq to another socket file.
        """
        user = quote(self.user.name, safe="")
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql://{user}@/{quote(dbname, safe='')}?host={host}&port={PORT}"

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a database (a fresh unique name unless ``name`` is given) and return its URL.

        With ``template`` the new database is a copy of that one (``CREATE DATABASE ... TEMPLATE``),
        a cheap way to give each test an already migrated schema; the template must have no open
        connections while it is copied.
        """
        from psycopg import sql

        if name is None:
            name = f"t_{uuid.uuid4().hex[:16]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        self._admin_execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, ending the sessions still connected to it."""
        from psycopg import sql

        self._admin_execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _admin_execute(self, statement: sql.Composed) -> None:
        import psycopg

        with self._lock:
            if not self._running:
                raise PgServerError("the server is not running")
            if self._admin is None or self._admin.closed:
                self._admin = psycopg.connect(self.url("postgres"), autocommit=True)
            self._admin.execute(statement)

    # Programs.

    @staticmethod
    def _conf_quote(value: str) -> str:
        return value.replace("\\", "\\\\").replace("'", "''")

    def _run(self, program: str, *args: str, cwd: Path, timeout: float = 90) -> None:
        """Run one server program as the server user; raise PgServerError with its output on failure."""
        command: Sequence[str] = [str(self.bindir / program), *args]
        other = not self.user.is_self
        try:
            done = subprocess.run(
                command,
                cwd=cwd,  # a directory the server user can enter: the programs resolve their working directory
                env=_child_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                user=self.user.uid if other else None,
                group=self.user.gid if other else None,
                extra_groups=[] if other else None,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PgServerError(f"{program} failed: {error}") from error
        if done.returncode != 0:
            raise PgServerError(
                f"{program} exited with {done.returncode}:\n{done.stdout}{done.stderr}{self._log_tail(cwd)}"
            )

    @staticmethod
    def _log_tail(base: Path, lines: int = 20) -> str:
        try:
            text = (base / "data" / "server.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "server log:\n" + "\n".join(text.splitlines()[-lines:])
