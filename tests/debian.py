"""Real parts for the tests from Debian's packages: installed when missing, skipped only when they cannot be.

The browser (Chromium) and the SSH server (OpenSSH) are real programs, never mocks. A test that needs
one asks here; when the program is missing and this process may install it (root and ``apt-get``), the
package is installed once; otherwise the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

import pytest


def _may_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(package: str) -> None:
    """``apt-get install PACKAGE`` (after an update), quietly; failures leave the caller to skip."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-q", package], env=env, capture_output=True, timeout=1200)
    except (OSError, subprocess.TimeoutExpired):
        pass


def require(found: Callable[[], str | None], package: str, what: str) -> str:
    """What ``found`` returns, installing ``package`` first when it returns None; skip when still None."""
    result = found()
    if result is None and _may_install():
        apt_install(package)
        result = found()
    if result is None:
        pytest.skip(f"{what} is not installed and cannot be installed here")
    return result


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium() -> str:
    """Path of a headless-capable Chromium (Debian's ``chromium`` package)."""
    return require(find_chromium, "chromium", "Chromium")


POSTGRESQL_PROGRAMS = ("initdb", "pg_ctl", "postgres")


def _has_postgresql_programs(bindir: str) -> bool:
    return all(os.access(os.path.join(bindir, name), os.X_OK) for name in POSTGRESQL_PROGRAMS)


def _version_key(name: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return None


def find_postgresql(versions_root: str = "/usr/lib/postgresql") -> str | None:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``: PATH's first, else Debian's highest version.

    Debian puts the server programs in ``/usr/lib/postgresql/<version>/bin``, off PATH; a directory on
    PATH (or the one its ``initdb`` links to) wins so that a chosen installation is used as is.
    """
    initdb = shutil.which("initdb")
    if initdb is not None:
        for bindir in (os.path.dirname(initdb), os.path.dirname(os.path.realpath(initdb))):
            if _has_postgresql_programs(bindir):
                return bindir
    try:
        names = os.listdir(versions_root)
    except OSError:
        return None
    versions = sorted(
        ((key, name) for name in names if (key := _version_key(name)) is not None),
        reverse=True,
    )
    for _, name in versions:
        bindir = os.path.join(versions_root, name, "bin")
        if _has_postgresql_programs(bindir):
            return bindir
    return None


def postgresql() -> str:
    """Directory of the PostgreSQL server programs (Debian's ``postgresql`` package)."""
    return require(find_postgresql, "postgresql", "PostgreSQL server (initdb, pg_ctl, postgres)")
