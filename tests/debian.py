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
