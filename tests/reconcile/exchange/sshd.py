"""A real OpenSSH server for the exchange tests: loopback port, throw-away host and user keys.

OpenSSH comes from Debian's ``openssh-server`` package, installed here when it is missing and we
may (root and apt-get), as the browser for the report tests is; the tests skip only when it cannot
be installed. The server runs in the foreground as a child of the test (``sshd -D -e``) with its own
configuration: only the test's user key, SFTP served in-process (``internal-sftp``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests import debian

SSHD = "/usr/sbin/sshd"


def _installed() -> bool:
    return Path(SSHD).is_file() and shutil.which("ssh-keygen") is not None


def ensure_openssh() -> None:
    """Install openssh-server when missing (root + apt-get); skip the test when that is impossible."""
    debian.require(lambda: SSHD if _installed() else None, "openssh-server", "OpenSSH server")


def keygen(path: Path, kind: str = "ed25519") -> str:
    """Write a new key pair at ``path`` (and ``path.pub``); return its SHA256 fingerprint as ssh-keygen prints it."""
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "test", "-f", str(path)], check=True)
    out = subprocess.run(["ssh-keygen", "-lf", str(path) + ".pub"], check=True, capture_output=True, text=True)
    return out.stdout.split()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


@dataclass
class Sshd:
    """A running sshd on 127.0.0.1 and what a client needs to reach it."""

    root: Path
    port: int
    host_key: Path
    fingerprint: str
    user_key: Path
    user: str
    proc: subprocess.Popen | None = None
    extra_host_keys: list[Path] = field(default_factory=list)
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "sshd.log"

    def start(self) -> None:
        cfg = self.root / "sshd_config"
        cfg.write_text(
            "\n".join(
                [
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    *(f"HostKey {k}" for k in self.extra_host_keys),
                    f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
                    "PidFile none",
                    "StrictModes no",
                    "UsePAM no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "PermitRootLogin prohibit-password",
                    "Subsystem sftp internal-sftp",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(cfg), "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: " + self.log.read_text()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("sshd did not start listening: " + self.log.read_text()[-2000:])

    def kill_sessions(self) -> int:
        """Kill every process serving a connection (the listener stays): a dropped session."""
        assert self.proc is not None
        killed = 0
        todo = _children(self.proc.pid)
        while todo:
            pid = todo.pop()
            todo += _children(pid)
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        return killed

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill_sessions()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart_with_new_host_key(self) -> str:
        """Stop, give the server a new host key, start again; return the new fingerprint."""
        self.stop()
        for p in (self.host_key, Path(str(self.host_key) + ".pub")):
            p.unlink()
        self.fingerprint = keygen(self.host_key)
        self.start()
        return self.fingerprint


def make_sshd(root: Path, rsa_too: bool = False) -> Sshd:
    """Keys, authorized_keys and a started server under ``root`` (with an RSA host key besides the
    Ed25519 one when ``rsa_too``)."""
    ensure_openssh()
    root.mkdir(parents=True, exist_ok=True)
    fp = keygen(root / "host_ed25519")
    keygen(root / "user_ed25519")
    (root / "authorized_keys").write_text((root / "user_ed25519.pub").read_text())
    import pwd

    server = Sshd(
        root, free_port(), root / "host_ed25519", fp, root / "user_ed25519", pwd.getpwuid(os.getuid()).pw_name
    )
    if rsa_too:
        keygen(root / "host_rsa", "rsa")
        server.extra_host_keys.append(root / "host_rsa")
    server.start()
    return server
