"""Getting files to and from a partner's mailbox: SFTP (paramiko) or a local/mounted folder.

Both transports offer the same few operations (:class:`Transport`). Errors come out as two kinds:
:class:`TransientError` (the connection dropped, timed out, was refused: worth another try after a
pause) and :class:`TransportError` (the host key is unknown or changed, the login was refused, a
folder is missing: trying again will not help). The SFTP host key is pinned: the server's key
must have the SHA256 fingerprint in the config, else the connection is closed before any login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shutil
import socket
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from reconcile.exchange.config import Partner

TIMEOUT_S = 30.0
CHUNK = 32768
MAX_REQUESTS = 64  # SFTP read requests in flight while downloading (16 reads at a tenth of the speed)
Progress = Callable[[int], None]  # bytes moved so far in the current file


class TransportError(Exception):
    """A problem that another try will not fix (host key, login, missing folder)."""


class TransientError(TransportError):
    """A network problem worth another try (dropped, refused, timed out)."""


class RemoteExists(TransportError):
    """The final name is taken in the mailbox: nothing was published under it."""


class HostKeyRefused(TransportError):
    """The server's host key is not the pinned one."""


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: int | None


def fingerprint(key_blob: bytes) -> str:
    """The SHA256 fingerprint of a public key blob as ``ssh-keygen -lf`` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key_blob).digest()).decode("ascii").rstrip("=")


def temp_name(final: str) -> str:
    """A hidden name to upload or download under before the rename that publishes the file."""
    return f".{final}.{secrets.token_hex(4)}.part"


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(".part")


class Transport(Protocol):
    def list_files(self, folder: str) -> list[RemoteFile]: ...

    def exists(self, folder: str, name: str) -> bool: ...

    def size(self, folder: str, name: str) -> int | None: ...

    def upload(self, local: Path, folder: str, name: str, progress: Progress | None = None) -> int: ...

    def download(self, folder: str, name: str, out: IO[bytes], progress: Progress | None = None) -> int: ...

    def remove(self, folder: str, name: str) -> None: ...

    def close(self) -> None: ...


def _publish(rename: Callable[[str, str], None], exists: Callable[[str], bool], tmp: str, final: str) -> None:
    if exists(final):
        raise RemoteExists(f"{PurePosixPath(final).name} already exists in the mailbox; not overwritten")
    rename(tmp, final)


# ---------------------------------------------------------------------------------- folder


class FolderTransport:
    """A partner whose mailbox is a pair of local (or mounted) folders."""

    def __init__(self, partner: Partner):
        self.partner = partner

    @staticmethod
    def _dir(folder: str) -> Path:
        p = Path(folder)
        if not p.is_dir():
            raise TransportError(f"folder {folder} does not exist")
        return p

    def list_files(self, folder: str) -> list[RemoteFile]:
        out = []
        for entry in os.scandir(self._dir(folder)):
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                out.append(RemoteFile(entry.name, st.st_size, int(st.st_mtime)))
        return sorted(out, key=lambda f: (f.mtime or 0, f.name))

    def exists(self, folder: str, name: str) -> bool:
        return (self._dir(folder) / name).exists()

    def size(self, folder: str, name: str) -> int | None:
        try:
            return (self._dir(folder) / name).stat().st_size
        except FileNotFoundError:
            return None

    def upload(self, local: Path, folder: str, name: str, progress: Progress | None = None) -> int:
        d = self._dir(folder)
        tmp = d / temp_name(name)
        try:
            with open(local, "rb") as src, open(tmp, "xb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
            size = tmp.stat().st_size
            if size != local.stat().st_size:
                raise TransportError(f"{name}: {size} bytes arrived of {local.stat().st_size}")
            _publish(lambda a, b: os.rename(d / a, d / b), lambda n: (d / n).exists(), tmp.name, name)
        finally:
            tmp.unlink(missing_ok=True)
        if progress:
            progress(size)
        return (d / name).stat().st_size

    def download(self, folder: str, name: str, out: IO[bytes], progress: Progress | None = None) -> int:
        done = 0
        with open(self._dir(folder) / name, "rb") as src:
            for block in iter(lambda: src.read(CHUNK), b""):
                out.write(block)
                done += len(block)
                if progress:
                    progress(done)
        return done

    def remove(self, folder: str, name: str) -> None:
        (self._dir(folder) / name).unlink(missing_ok=True)

    def close(self) -> None:
        return None


# ---------------------------------------------------------------------------------- sftp


def _transient(exc: BaseException) -> bool:
    """Whether a paramiko/socket error is a network problem (worth another try)."""
    import paramiko

    if isinstance(exc, paramiko.AuthenticationException | paramiko.BadHostKeyException):
        return False
    return isinstance(exc, OSError | EOFError | paramiko.SSHException) and not isinstance(
        exc, FileNotFoundError | PermissionError
    )


_hook_lock = threading.Lock()


def _quiet_read_ahead_errors() -> None:
    """Keep paramiko's read-ahead thread from printing a traceback when the connection drops.

    The download loop meets the same network error on its next read and reports it (and retries);
    the thread's own copy of it would only print a traceback on the user's terminal. Any other
    thread exception goes to the hook that was there before.
    """
    with _hook_lock:
        previous = threading.excepthook
        if getattr(previous, "_dripline_read_ahead", False):
            return

        def hook(args: threading.ExceptHookArgs) -> None:
            name = args.thread.name if args.thread is not None else ""
            if "_prefetch_thread" in name and args.exc_value is not None and _transient(args.exc_value):
                return
            previous(args)

        hook._dripline_read_ahead = True  # type: ignore[attr-defined]
        threading.excepthook = hook


class SftpTransport:
    """A partner's SFTP mailbox; the connection is opened by :func:`connect_sftp`."""

    def __init__(self, partner: Partner, transport: Any, sftp: Any):
        self.partner = partner
        self._transport = transport
        self._sftp = sftp

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except TransportError:
            raise
        except FileNotFoundError as exc:
            raise TransportError(f"{what}: no such file or folder on the server") from exc
        except PermissionError as exc:
            raise TransportError(f"{what}: permission denied by the server") from exc
        except Exception as exc:
            if _transient(exc):
                raise TransientError(f"{what}: {type(exc).__name__}: {exc}") from exc
            raise

    def list_files(self, folder: str) -> list[RemoteFile]:
        def run() -> list[RemoteFile]:
            out = []
            for a in self._sftp.listdir_attr(folder):
                if a.st_mode is not None and stat.S_ISREG(a.st_mode):
                    out.append(RemoteFile(a.filename, int(a.st_size or 0), a.st_mtime))
            return sorted(out, key=lambda f: (f.mtime or 0, f.name))

        return list(self._call(f"listing {folder}", run))

    def _path(self, folder: str, name: str) -> str:
        return str(PurePosixPath(folder) / name)

    def size(self, folder: str, name: str) -> int | None:
        def run() -> int | None:
            try:
                return int(self._sftp.stat(self._path(folder, name)).st_size or 0)
            except FileNotFoundError:
                return None

        result = self._call(f"stat {name}", run)
        return None if result is None else int(result)

    def exists(self, folder: str, name: str) -> bool:
        return self.size(folder, name) is not None

    def upload(self, local: Path, folder: str, name: str, progress: Progress | None = None) -> int:
        tmp = self._path(folder, temp_name(name))
        final = self._path(folder, name)
        want = local.stat().st_size

        def run() -> int:
            try:
                with open(local, "rb") as fh:
                    self._sftp.putfo(
                        fh, tmp, file_size=want, callback=(lambda done, _t: progress(done)) if progress else None
                    )
                got = int(self._sftp.stat(tmp).st_size or 0)
                if got != want:
                    raise TransportError(f"{name}: the server holds {got} bytes of {want}")
                _publish(self._sftp.rename, lambda n: self._exists_path(n), tmp, final)
                return int(self._sftp.stat(final).st_size or 0)
            except BaseException:
                try:
                    self._sftp.remove(tmp)
                except Exception:
                    pass
                raise

        return int(self._call(f"uploading {name}", run))

    def _exists_path(self, path: str) -> bool:
        try:
            self._sftp.stat(path)
            return True
        except FileNotFoundError:
            return False

    def download(self, folder: str, name: str, out: IO[bytes], progress: Progress | None = None) -> int:
        _quiet_read_ahead_errors()

        def run() -> int:
            done = 0
            with self._sftp.open(self._path(folder, name), "rb") as fh:
                size = int(fh.stat().st_size or 0)
                fh.prefetch(size, MAX_REQUESTS)
                while done < size:
                    block = fh.read(min(CHUNK, size - done))
                    if not block:
                        break
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done)
            if done != size:
                raise TransientError(f"downloading {name}: {done} bytes of {size}")
            return done

        return int(self._call(f"downloading {name}", run))

    def remove(self, folder: str, name: str) -> None:
        self._call(f"removing {name}", lambda: self._sftp.remove(self._path(folder, name)))

    def close(self) -> None:
        try:
            self._sftp.close()
        finally:
            self._transport.close()


KEY_TYPES = {
    "ED25519": ["ssh-ed25519"],
    "RSA": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
    "ECDSA": ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"],
}


def _credentials(partner: Partner, env: dict[str, str]) -> tuple[Any, str | None]:
    import paramiko

    if partner.key_file:
        try:
            return paramiko.PKey.from_path(os.path.expanduser(partner.key_file)), None
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise TransportError(f"{partner.name}: cannot read key_file {partner.key_file}: {exc}") from exc
    name = partner.password_env or ""
    password = env.get(name)
    if not password:
        raise TransportError(f"{partner.name}: environment variable {name} (password_env) is not set")
    return None, password


def _handshake(partner: Partner, key_types: list[str] | None, timeout: float) -> tuple[Any, str, str]:
    """Connect and agree on keys (no login yet), offering only ``key_types`` as host key types when
    given; return the paramiko transport, the server key's fingerprint and its type name."""
    import paramiko

    try:
        sock = socket.create_connection((partner.host, partner.port), timeout=timeout)
    except OSError as exc:
        raise TransientError(f"{partner.name}: cannot connect to {partner.host}:{partner.port}: {exc}") from exc
    t = paramiko.Transport(sock)
    try:
        t.banner_timeout = timeout
        t.auth_timeout = timeout
        if key_types:
            options = t.get_security_options()
            options.key_types = [k for k in key_types if k in options.key_types]
        t.start_client(timeout=timeout)
        key = t.get_remote_server_key()
        return t, fingerprint(key.asbytes()), str(key.get_name())
    except BaseException:
        t.close()
        raise


def _pinned_handshake(partner: Partner, timeout: float) -> Any:
    """A transport to a server whose host key is the pinned one, else :class:`HostKeyRefused`.

    A server usually has several host keys (Ed25519, ECDSA, RSA) and shows one per connection;
    when ``host_key`` does not say which type it is and the first key shown is not it, the other
    types are asked for one by one, so a pinned RSA fingerprint works on a server that prefers
    Ed25519. Only a key with the pinned fingerprint is ever accepted.
    """
    import paramiko

    if partner.host_key_type in KEY_TYPES:
        families: list[str | None] = [partner.host_key_type]
    else:
        families = [None, *KEY_TYPES]
    seen: dict[str, str] = {}  # key type name -> fingerprint shown
    for family in families:
        wanted = KEY_TYPES.get(family) if family else None
        if wanted is not None and any(name in seen for name in wanted):
            continue  # that key was shown already
        try:
            t, fp, name = _handshake(partner, wanted, timeout)
        except paramiko.SSHException:
            if family is None or partner.host_key_type:
                raise
            continue  # the server has no host key of this type
        if hmac.compare_digest(fp, partner.host_key):
            return t
        t.close()
        seen[name] = fp
    shown = ", ".join(f"{fp} ({name})" for name, fp in seen.items()) or "none"
    raise HostKeyRefused(
        f"{partner.name}: the server's host key ({shown}) is not the pinned host_key {partner.host_key}; "
        "connection refused (if the clearinghouse changed its key, confirm the new fingerprint "
        "with them and update host_key)"
    )


def connect_sftp(partner: Partner, env: dict[str, str] | None = None, timeout: float = TIMEOUT_S) -> SftpTransport:
    """Open an SFTP connection to ``partner``: pinned host key first, then the login."""
    import paramiko

    pkey, password = _credentials(partner, dict(os.environ) if env is None else env)
    try:
        t = _pinned_handshake(partner, timeout)
    except TransportError:
        raise
    except Exception as exc:
        if _transient(exc):
            raise TransientError(f"{partner.name}: {type(exc).__name__}: {exc}") from exc
        raise
    try:
        if pkey is not None:
            t.auth_publickey(partner.username, pkey)
        else:
            t.auth_password(partner.username, password or "")
        sftp = paramiko.SFTPClient.from_transport(t)
        if sftp is None:
            raise TransientError(f"{partner.name}: the server opened no SFTP channel")
        sftp.get_channel().settimeout(timeout)
        return SftpTransport(partner, t, sftp)
    except TransportError:
        t.close()
        raise
    except paramiko.AuthenticationException as exc:
        t.close()
        raise TransportError(f"{partner.name}: login refused for user {partner.username}: {exc}") from exc
    except Exception as exc:
        t.close()
        if _transient(exc):
            raise TransientError(f"{partner.name}: {type(exc).__name__}: {exc}") from exc
        raise


def open_transport(partner: Partner) -> Transport:
    """The transport for a partner's ``kind``."""
    if partner.kind == "folder":
        return FolderTransport(partner)
    return connect_sftp(partner)
