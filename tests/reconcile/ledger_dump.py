"""A canonical dump of a ledger's content, to compare two ledgers that should hold the same thing.

Two ledgers that went through the same work (one on SQLite, one on PostgreSQL; one run job after
job, one with the jobs running at once) hold the same facts under other surrogate ids, other
timestamps and, where builds ran at once, control numbers handed out in another order. The dump
leaves those out and names every row by its natural key instead:

- a claim by (patient control number, payer, coverage order, frequency, n-th such claim);
- a line by (its claim, line number); an encounter row by (encounter id, n-th);
- an interchange by (claim type, status, the claims it carries); a transaction set by (its
  interchange, payer, its claims);
- a remittance file by its sha256; a payment by (payer id, TRN02, BPR02); a claim or line posting
  by (its payment or claim posting, segment position, n-th); a denial by its postings;
- a user by name; a denial's work by the denial.

The control numbers (ISA13, GS06, ST02, BHT03, line control numbers) are kept apart, as sorted
lists, under ``control_numbers``: equal dumps hand out the same numbers, whatever the order.
Wall-clock columns (``*_at``), password hashes and secrets are left out; an 837's sha256 too (its
bytes hold control numbers and the build's date): :func:`check_consistent` holds each file
against its recorded hash instead.

A table the dump does not know fails the dump when it holds rows, so a new table is never
silently left out of a comparison: add it to ``TABLES``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from reconcile.ledger.db import Connection, dialect

Key = tuple[Any, ...]
DROPPED = re.compile(r".*_at$|^password_hash$")


def _rows(conn: Connection, table: str) -> list[dict[str, Any]]:
    order = "seq" if table == "migrations" and dialect(conn) == "postgresql" else None
    if order is None:
        cols = [k.lower() for k in _columns(conn, table)]
        order = "id" if "id" in cols else ", ".join(cols)
    return [
        {k.lower(): _value(v) for k, v in zip(r.keys(), r)}
        for r in conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
    ]


def _columns(conn: Connection, table: str) -> list[str]:
    cur = conn.execute(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in cur.description]


def _value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, (bytes, memoryview)):
        return bytes(v).hex()
    return v


def _tables(conn: Connection) -> list[str]:
    if dialect(conn) == "postgresql":
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return sorted(str(r[0]) for r in conn.execute(sql))


def _numbered(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Key]) -> dict[int, Key]:
    """id -> natural key, with the rank among rows of the same key (in id order) appended."""
    seen: Counter[Key] = Counter()
    out: dict[int, Key] = {}
    for r in rows:
        k = key(r)
        out[r["id"]] = (*k, seen[k])
        seen[k] += 1
    return out


def _clean(row: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "id" and k not in drop and not DROPPED.match(k)}


def _sorted(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda x: json.dumps(x, sort_keys=True, default=str))


def dump(conn: Connection) -> dict[str, Any]:
    """The ledger's content keyed on natural keys (see the module docstring); JSON-comparable."""
    t = {name: _rows(conn, name) for name in _tables(conn) if name in TABLES or _has_rows(conn, name)}
    unknown = sorted(name for name in t if name not in TABLES)
    if unknown:
        raise AssertionError(f"tables the canonical dump does not know hold rows: {unknown} (add them to TABLES)")

    claims = t["claims"]
    claim_key = _numbered(
        claims, lambda r: (r["patient_control_number"], r["payer"], r["coverage_order"], r["frequency"])
    )
    line_key = {r["id"]: (claim_key[r["claim_id"]], r["line_number"]) for r in t["lines"]}
    enc_key = _numbered(t["encounters"], lambda r: (r["encounter_id"],))
    pcns_of_tx: dict[int, list[str]] = defaultdict(list)
    for c in claims:
        pcns_of_tx[c["transaction_id"]].append(c["patient_control_number"])
    pcns_of_ix: dict[int, list[str]] = defaultdict(list)
    for tx in t["transactions"]:
        pcns_of_ix[tx["interchange_id"]] += pcns_of_tx[tx["id"]]
    ix_key = _numbered(t["interchanges"], lambda r: (r["claim_type"], r["status"], tuple(sorted(pcns_of_ix[r["id"]]))))
    tx_key = {
        r["id"]: (ix_key[r["interchange_id"]], r["payer"], tuple(sorted(pcns_of_tx[r["id"]])))
        for r in t["transactions"]
    }
    file_key = {r["id"]: r["sha256"] for r in t["remit_files"]}
    pay_key = {r["id"]: (r["payer_id"], r["trace"], r["amount"]) for r in t["payments"]}
    cp_key = _numbered(t["claim_postings"], lambda r: (pay_key[r["payment_id"]], r["segment"]))
    lp_key = _numbered(t["line_postings"], lambda r: (cp_key[r["claim_posting_id"]], r["segment"]))
    den_key = _numbered(t["denials"], lambda r: (cp_key[r["claim_posting_id"]], lp_key.get(r["line_posting_id"])))

    def ref(keys: dict[int, Key], value: Any) -> Any:
        return None if value is None else keys[value]

    ids_in_json = {
        "claim_posting_id": cp_key,
        "claim_id": claim_key,
        "line_id": line_key,
        "denial_id": den_key,
        # control numbers a detail names stand for their interchange or set
        "isa13": {r["isa13"]: ix_key[r["id"]] for r in t["interchanges"]},
        "gs06": {r["gs06"]: ix_key[r["id"]] for r in t["interchanges"]},
        "st02": {r["st02"]: tx_key[r["id"]] for r in t["transactions"]},
    }

    def detail(text: str | None) -> Any:
        """A JSON detail with the rows it names (a claim posting, a claim, an interchange by its
        ISA13) by their natural keys."""
        if text is None:
            return None
        obj = json.loads(text)

        def walk(o: Any) -> Any:
            if isinstance(o, dict):
                return {
                    k: (ids_in_json[k].get(v, v) if k in ids_in_json and isinstance(v, int) else walk(v))
                    for k, v in o.items()
                }
            if isinstance(o, list):
                return [walk(v) for v in o]
            return o

        return walk(obj)

    out: dict[str, Any] = {}
    numbers = {
        "isa13": sorted(r["isa13"] for r in t["interchanges"]),
        "gs06": sorted(r["gs06"] for r in t["interchanges"]),
        "st02": sorted(r["st02"] for r in t["transactions"]),
        "bht03": sorted(int(r["bht03"]) for r in t["transactions"]),
        "line": sorted(int(r["line_control_number"]) for r in t["lines"]),
    }
    out["control_numbers"] = numbers
    out["control_counters"] = sorted((r["name"], r["value"]) for r in t["control_counters"])
    out["migrations"] = [r["name"] for r in t["migrations"]]
    out["interchanges"] = _sorted(
        [
            {
                **_clean(r, ("isa13", "gs06", "sha256", "path", "temp_path")),
                "key": ix_key[r["id"]],
                # the file's name carries its ISA13: kept with the number left out
                "path": None if r["path"] is None else r["path"].replace(f"{r['isa13']:09d}", "#"),
                "temp_path": r["temp_path"] is not None,
            }
            for r in t["interchanges"]
        ]
    )
    out["transactions"] = _sorted(
        [{**_clean(r, ("interchange_id", "st02", "bht03")), "key": tx_key[r["id"]]} for r in t["transactions"]]
    )
    out["encounters"] = _sorted([{**_clean(r), "key": enc_key[r["id"]]} for r in t["encounters"]])
    out["claims"] = _sorted(
        [
            {
                **_clean(r, ("transaction_id", "encounter_row", "prior_claim_id")),
                "key": claim_key[r["id"]],
                "status_detail": detail(r["status_detail"]),
                "transaction": tx_key[r["transaction_id"]],
                "encounter_row": ref(enc_key, r["encounter_row"]),
                "prior_claim": ref(claim_key, r["prior_claim_id"]),
            }
            for r in claims
        ]
    )
    out["lines"] = _sorted(
        [{**_clean(r, ("claim_id", "line_control_number")), "key": line_key[r["id"]]} for r in t["lines"]]
    )
    history: dict[Key, list[Any]] = defaultdict(list)
    for r in t["claim_status_history"]:  # per claim, in the order it happened
        history[claim_key[r["claim_id"]]].append([r["status"], r["source"], detail(r["detail"])])
    out["claim_status_history"] = _sorted([[k, v] for k, v in history.items()])
    out["acknowledgments"] = _sorted([{**_clean(r), "summary": detail(r["summary"])} for r in t["acknowledgments"]])
    out["remit_files"] = _sorted([{**_clean(r), "summary": detail(r["summary"])} for r in t["remit_files"]])
    out["payments"] = _sorted([{**_clean(r, ("file_id",)), "file": file_key[r["file_id"]]} for r in t["payments"]])

    adjustments: dict[tuple[Key, Key | None], list[Any]] = defaultdict(list)
    for r in t["adjustments"]:
        adjustments[(cp_key[r["claim_posting_id"]], ref(lp_key, r["line_posting_id"]))].append(
            [r["group_code"], r["reason"], r["amount"], r["quantity"]]
        )
    out["claim_postings"] = _sorted(
        [
            {
                **_clean(
                    r, ("payment_id", "claim_id", "reversal_of", "reversed_by", "adjustments_from", "adjustments_to")
                ),
                "key": cp_key[r["id"]],
                "claim": ref(claim_key, r["claim_id"]),
                "reversal_of": ref(cp_key, r["reversal_of"]),
                "reversed_by": ref(cp_key, r["reversed_by"]),
                "adjustments": adjustments.get((cp_key[r["id"]], None), []),
            }
            for r in t["claim_postings"]
        ]
    )
    out["line_postings"] = _sorted(
        [
            {
                **_clean(r, ("claim_posting_id", "line_id")),
                "key": lp_key[r["id"]],
                "line": ref(line_key, r["line_id"]),
                "adjustments": adjustments.get((cp_key[r["claim_posting_id"]], lp_key[r["id"]]), []),
            }
            for r in t["line_postings"]
        ]
    )
    out["adjustments"] = len(t["adjustments"])  # each one is listed with its posting above
    out["provider_adjustments"] = _sorted(
        [
            {
                **_clean(r, ("payment_id", "claim_id")),
                "payment": pay_key[r["payment_id"]],
                "claim": ref(claim_key, r["claim_id"]),
            }
            for r in t["provider_adjustments"]
        ]
    )
    out["denials"] = _sorted(
        [
            {
                **_clean(r, ("claim_posting_id", "line_posting_id", "claim_id", "line_id")),
                "key": den_key[r["id"]],
                "claim": ref(claim_key, r["claim_id"]),
                "line": ref(line_key, r["line_id"]),
            }
            for r in t["denials"]
        ]
    )
    out["unmatched"] = _sorted(
        [
            {
                **_clean(r, ("payment_id", "claim_posting_id", "line_posting_id", "related_claim_id")),
                "payment": pay_key[r["payment_id"]],
                "claim_posting": ref(cp_key, r["claim_posting_id"]),
                "line_posting": ref(lp_key, r["line_posting_id"]),
                "related_claim": ref(claim_key, r["related_claim_id"]),
            }
            for r in t["unmatched"]
        ]
    )
    out["posting_findings"] = _sorted(
        [
            {
                **_clean(r, ("file_id", "payment_id")),
                "file": file_key[r["file_id"]],
                "payment": ref(pay_key, r["payment_id"]),
            }
            for r in t["posting_findings"]
        ]
    )
    out["claim_posting_forwards"] = _sorted(
        [
            {**_clean(r, ("claim_posting_id",)), "posting": cp_key[r["claim_posting_id"]]}
            for r in t["claim_posting_forwards"]
        ]
    )
    out["expected_allowed"] = _sorted(
        [{**_clean(r, ("line_id",)), "line": line_key[r["line_id"]]} for r in t["expected_allowed"]]
    )
    out["users"] = _sorted([_clean(r) for r in t["users"]])
    out["app_secrets"] = sorted(r["name"] for r in t["app_secrets"])
    out["denial_work"] = _sorted(
        [{**_clean(r, ("denial_id",)), "denial": den_key[r["denial_id"]]} for r in t["denial_work"]]
    )
    events: dict[Key, list[Any]] = defaultdict(list)
    for r in t["denial_events"]:  # per denial, in the order they happened
        events[den_key[r["denial_id"]]].append([r["kind"], r["old_value"], r["new_value"], r["user_name"]])
    out["denial_events"] = _sorted([[k, v] for k, v in events.items()])
    for name in GENERIC:
        out[name] = _sorted([_clean(r) for r in t.get(name, [])])
    return json.loads(json.dumps(out, default=str))


def _has_rows(conn: Connection, table: str) -> bool:
    return conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None


# tables whose rows name nothing by surrogate id: dumped as they are (without id and timestamps)
GENERIC = (
    "codesets",
    "codeset_hcpcs",
    "codeset_asp",
    "codeset_asp_ndc",
    "codeset_ptp",
    "codeset_mue",
    "codeset_pfs_rvu",
    "codeset_gpci",
    "codeset_opps_b",
    "exchange_partners",
)
TABLES = frozenset(
    {
        "control_counters",
        "migrations",
        "interchanges",
        "transactions",
        "encounters",
        "claims",
        "lines",
        "claim_status_history",
        "acknowledgments",
        "remit_files",
        "payments",
        "claim_postings",
        "line_postings",
        "adjustments",
        "provider_adjustments",
        "denials",
        "unmatched",
        "posting_findings",
        "claim_posting_forwards",
        "expected_allowed",
        "users",
        "app_secrets",
        "denial_work",
        "denial_events",
        *GENERIC,
    }
)


def check_consistent(conn: Connection, base: Path) -> list[str]:
    """What is wrong with the ledger's content (empty: nothing). ``base``: where relative paths start.

    Every claim has its lines, its charge is their sum, it belongs to a set of a recorded
    interchange whose file is in place with the recorded sha256 and carries each of its line
    control numbers; no claim (CLM01, payer, coverage order) is recorded twice but as a
    replacement or void; no control number is handed out twice or beyond
    its counter; every posting belongs to a payment of a posted file and every denial to a posting.
    """
    problems: list[str] = []

    def q(sql: str, *params: Any) -> list[Any]:
        return conn.execute(sql, params).fetchall()

    counters = {r[0]: int(r[1]) for r in q("SELECT name, value FROM control_counters")}
    for column, table, counter in (
        ("isa13", "interchanges", "isa13"),
        ("gs06", "interchanges", "gs06"),
        ("st02", "transactions", "st02"),
        ("bht03", "transactions", "bht03"),
        ("line_control_number", "lines", "line"),
    ):
        values = [int(r[0]) for r in q(f"SELECT {column} FROM {table}")]
        dup = sorted(v for v, n in Counter(values).items() if n > 1)
        if dup:
            problems.append(f"{table}.{column} handed out twice: {dup[:10]}")
        if values and max(values) > counters[counter]:
            problems.append(f"{table}.{column} {max(values)} beyond its counter {counters[counter]}")
    for pcn, payer, order, n in q(
        "SELECT patient_control_number, payer, coverage_order, COUNT(*) FROM claims"
        " WHERE frequency NOT IN ('7', '8') GROUP BY patient_control_number, payer, coverage_order"
    ):
        if n > 1:
            problems.append(f"claim {pcn} to {payer} (coverage order {order}) recorded {n} times")
    for pcn, _total, lines in q(
        "SELECT c.patient_control_number, c.total_charge, COUNT(l.id) FROM claims c"
        " LEFT JOIN lines l ON l.claim_id = c.id GROUP BY c.id, c.patient_control_number, c.total_charge"
    ):
        if not lines:
            problems.append(f"claim {pcn} has no lines")
    for c in q("SELECT id, patient_control_number, total_charge FROM claims"):
        charges = sum((Decimal(r[0]) for r in q("SELECT charge FROM lines WHERE claim_id = ?", c[0])), Decimal(0))
        if charges != Decimal(c[2]):
            problems.append(f"claim {c[1]}: charge {c[2]} but its lines add up to {charges}")
    orphans = q(
        "SELECT c.patient_control_number FROM claims c LEFT JOIN transactions t ON t.id = c.transaction_id"
        " LEFT JOIN interchanges i ON i.id = t.interchange_id WHERE i.id IS NULL OR i.status = 'reserved'"
        " OR i.status = 'refused' OR i.status = 'failed'"
    )
    if orphans:
        problems.append(f"claims outside a recorded interchange: {[r[0] for r in orphans]}")
    for iid, isa13, path, sha, temp in q(
        "SELECT id, isa13, path, sha256, temp_path FROM interchanges WHERE id IN (SELECT interchange_id FROM transactions)"
    ):
        if temp is not None:
            problems.append(f"interchange {isa13}: temporary file still recorded")
        f = base / path
        if not f.is_file():
            problems.append(f"interchange {isa13}: file {path} missing")
            continue
        data = f.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            problems.append(f"interchange {isa13}: {path} does not have the recorded sha256")
        text = data.decode("latin-1")
        if f"*{isa13:09d}*" not in text.split("~", 1)[0]:
            problems.append(f"interchange {isa13}: {path} carries another ISA13")
        lcns = set(re.findall(r"REF\*6R\*([^~*]+)~", text))
        recorded = {
            r[0]
            for r in q(
                "SELECT l.line_control_number FROM lines l JOIN claims c ON c.id = l.claim_id"
                " JOIN transactions t ON t.id = c.transaction_id WHERE t.interchange_id = ?",
                iid,
            )
        }
        if lcns != recorded:
            problems.append(f"interchange {isa13}: the file's REF*6R differ from the recorded lines")
    for table, column, parent in (
        ("payments", "file_id", "remit_files"),
        ("claim_postings", "payment_id", "payments"),
        ("line_postings", "claim_posting_id", "claim_postings"),
        ("adjustments", "claim_posting_id", "claim_postings"),
        ("denials", "claim_posting_id", "claim_postings"),
        ("unmatched", "payment_id", "payments"),
        ("denial_work", "denial_id", "denials"),
        ("denial_events", "denial_id", "denials"),
        ("lines", "claim_id", "claims"),
    ):
        n = q(f"SELECT COUNT(*) FROM {table} x LEFT JOIN {parent} p ON p.id = x.{column} WHERE p.id IS NULL")[0][0]
        if n:
            problems.append(f"{n} {table} rows without their {parent} row")
    for sha, n in q("SELECT sha256, COUNT(*) FROM remit_files GROUP BY sha256"):
        if n > 1:
            problems.append(f"835 file {sha} posted {n} times")
    for key in q("SELECT payer_id, trace, amount, COUNT(*) FROM payments GROUP BY payer_id, trace, amount"):
        if key[3] > 1:
            problems.append(f"payment {tuple(key[:3])} posted {key[3]} times")
    return problems
