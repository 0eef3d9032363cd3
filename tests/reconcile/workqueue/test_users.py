"""Users: scrypt hashes with a salt and stored parameters, constant-time verification, the session key."""

from __future__ import annotations

import base64
import hashlib

import pytest

from reconcile.ledger.store import connect
from reconcile.workqueue import users as U
from tests.reconcile.workqueue.support import language_collation


@pytest.fixture
def conn(ledger_target):
    c = connect(ledger_target)
    yield c
    c.close()


def test_hash_keeps_kdf_parameters_and_a_fresh_salt():
    h1, h2 = U.hash_password("s3cret-pass"), U.hash_password("s3cret-pass")
    assert h1 != h2  # a new salt each time
    kdf, n, r, p, salt, digest = h1.split("$")
    assert (kdf, int(n), int(r), int(p)) == ("scrypt", U.SCRYPT_N, U.SCRYPT_R, U.SCRYPT_P)
    assert len(base64.b64decode(salt)) == U.SALT_BYTES
    expected = hashlib.scrypt(
        b"s3cret-pass", salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32, maxmem=64 * 1024 * 1024
    )
    assert base64.b64decode(digest) == expected
    assert "s3cret-pass" not in h1


def test_verify_accepts_the_password_only():
    h = U.hash_password("s3cret-pass")
    assert U.verify_password("s3cret-pass", h)
    assert not U.verify_password("s3cret-pasS", h)
    assert not U.verify_password("", h)


def test_verify_reads_the_parameters_stored_with_the_hash():
    salt = b"0123456789abcdef"
    weak = hashlib.scrypt(b"old-password", salt=salt, n=1024, r=8, p=1, dklen=32)
    stored = f"scrypt$1024$8$1${base64.b64encode(salt).decode()}${base64.b64encode(weak).decode()}"
    assert U.verify_password("old-password", stored)


@pytest.mark.parametrize("stored", ["", "plain", "md5$1$2$3$4$5", "scrypt$x$8$1$AA==$AA==", "scrypt$1024$8$1$!!$AA=="])
def test_a_malformed_hash_never_verifies(stored):
    assert not U.verify_password("anything", stored)


def test_verify_compares_in_constant_time(monkeypatch):
    calls = []
    real = U.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(U.hmac, "compare_digest", spy)
    assert U.verify_password("s3cret-pass", U.hash_password("s3cret-pass"))
    assert len(calls) == 1


def test_add_list_and_login(conn):
    u = U.add_user(conn, "alice", "correct horse")
    assert u.name == "alice" and u.active
    stored = conn.execute("SELECT password_hash FROM users WHERE name = 'alice'").fetchone()[0]
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert [x.name for x in U.list_users(conn)] == ["alice"]
    assert U.verify_login(conn, "alice", "correct horse") is not None
    assert U.verify_login(conn, "alice", "wrong horse!") is None
    assert U.verify_login(conn, "nobody", "correct horse") is None


def test_unknown_name_still_runs_the_kdf(conn, monkeypatch):
    seen = []
    real = U._scrypt

    def counting(*a):
        seen.append(1)
        return real(*a)

    monkeypatch.setattr(U, "_scrypt", counting)
    U.verify_login(conn, "nobody", "whatever1")
    assert seen  # same work as a wrong password: the answer time does not tell which names exist


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("alice", "short", "at least"),
        ("", "long enough", "user name"),
        ("al ice", "long enough", "user name"),
        ("-alice", "long enough", "user name"),
        ("a" * 65, "long enough", "user name"),
        ("alice", "x" * 1025, "at most"),
    ],
)
def test_bad_names_and_weak_passwords_are_refused(conn, name, password, message):
    with pytest.raises(U.UserError, match=message):
        U.add_user(conn, name, password)
    assert U.list_users(conn) == []


def test_a_name_is_added_once(conn):
    U.add_user(conn, "alice", "correct horse")
    with pytest.raises(U.UserError, match="already exists"):
        U.add_user(conn, "alice", "another horse")
    assert U.verify_login(conn, "alice", "correct horse") is not None


def test_users_are_listed_in_code_point_order_whatever_the_server_collation(conn):
    language_collation(conn, "users", "name")
    for name in ("bob", "Carol", "alice", "Bob"):
        U.add_user(conn, name, "correct horse")
    assert [u.name for u in U.list_users(conn)] == ["Bob", "Carol", "alice", "bob"]  # as SQLite orders them


def test_session_key_is_made_once_per_ledger(ledger_target, another_ledger_target):
    a = connect(ledger_target)
    key = U.session_key(a)
    assert len(key) == 64 and U.session_key(a) == key
    assert U.session_key(connect(ledger_target)) == key
    assert U.session_key(connect(another_ledger_target)) != key
