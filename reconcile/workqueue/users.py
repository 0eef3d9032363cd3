"""Users of the worklist: names with scrypt-hashed passwords, and the key that signs the login cookies.

A password is stored as ``scrypt$N$r$p$salt$hash`` (salt and hash base64): a fresh 16-byte salt
per user and the KDF parameters kept with the hash, so stronger parameters later still verify the
old hashes. Verification compares in constant time (:func:`hmac.compare_digest`), and a login for
an unknown name still runs the KDF once, so the answer time does not tell which names exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from reconcile.ledger.db import Connection
from reconcile.ledger.store import transaction, utcnow

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
SESSION_KEY = "session_key"


class UserError(Exception):
    """A user cannot be added (bad name, weak password, name taken)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    created_at: str
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at, "active": self.active}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # maxmem: scrypt needs 128 * N * r bytes; leave room above that
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * n * r + 1024 * 1024
    )


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` for ``password`` with a new random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored hash (constant-time compare; False on a malformed hash)."""
    try:
        kdf, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if kdf != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        digest = _scrypt(password, salt, int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


# A well-formed hash of a random password: an unknown name costs as much as a wrong password.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    return _DUMMY_HASH


def check_name(name: str) -> str | None:
    """A message when ``name`` cannot be a user name, else None."""
    if not NAME_RE.match(name):
        return "user name: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
    return None


def check_password(password: str) -> str | None:
    """A message when ``password`` is too short or too long, else None."""
    if len(password) < MIN_PASSWORD:
        return f"password: at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password: at most {MAX_PASSWORD} characters"
    return None


def add_user(conn: Connection, name: str, password: str) -> User:
    """Add a user; raises :class:`UserError` for a bad name, a weak password or a name taken."""
    problem = check_name(name) or check_password(password)
    if problem:
        raise UserError(problem)
    hashed = hash_password(password)
    now = utcnow()
    with transaction(conn):
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise UserError(f"user {name!r} already exists")
        conn.execute(
            "INSERT INTO users (name, password_hash, created_at, active) VALUES (?, ?, ?, 1)", (name, hashed, now)
        )
        row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
    return User(int(row[0]), name, now, True)


def list_users(conn: Connection) -> list[User]:
    """Every user, by name in code-point order (sorted here: a PostgreSQL server's collation may
    order text by a language's rules, SQLite's by code point)."""
    users = [
        User(int(r[0]), str(r[1]), str(r[2]), bool(r[3]))
        for r in conn.execute("SELECT id, name, created_at, active FROM users")
    ]
    return sorted(users, key=lambda u: u.name)


def user_exists(conn: Connection, name: str) -> bool:
    """Whether ``name`` is an active user."""
    return conn.execute("SELECT 1 FROM users WHERE name = ? AND active = 1", (name,)).fetchone() is not None


def verify_login(conn: Connection, name: str, password: str) -> User | None:
    """The active user when name and password match, else None (same work either way)."""
    row = conn.execute(
        "SELECT id, name, created_at, active, password_hash FROM users WHERE name = ?", (name,)
    ).fetchone()
    if row is None or not row[3]:
        verify_password(password, _dummy_hash())
        return None
    if not verify_password(password, str(row[4])):
        return None
    return User(int(row[0]), str(row[1]), str(row[2]), True)


def session_key(conn: Connection) -> str:
    """The key that signs this ledger's login cookies, made (random, 32 bytes) on first use."""
    row = conn.execute("SELECT value FROM app_secrets WHERE name = ?", (SESSION_KEY,)).fetchone()
    if row is not None:
        return str(row[0])
    with transaction(conn):
        row = conn.execute("SELECT value FROM app_secrets WHERE name = ?", (SESSION_KEY,)).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO app_secrets (name, value, created_at) VALUES (?, ?, ?)",
                (SESSION_KEY, secrets.token_hex(32), utcnow()),
            )
            row = conn.execute("SELECT value FROM app_secrets WHERE name = ?", (SESSION_KEY,)).fetchone()
    return str(row[0])
