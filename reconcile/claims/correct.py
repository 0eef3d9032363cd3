"""Rework a claim: a frequency-7 replacement (or 8 void) rebuilt from the stored source encounter.

The encounter the ledger kept for audit is coded again and goes through the same planner, writer,
validation and recording as ``claims build`` (:func:`reconcile.claims.build.build_claims`), with CLM05-3
= 7/8 and REF*F8 = the payer claim number the ledger learned from the 835 (or 277CA).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from coding.config import Config


class CorrectionError(Exception):
    """The claim cannot be corrected (unknown, no stored encounter, no payer claim number)."""


def correction_source(conn: sqlite3.Connection, pcn: str, void: bool = False) -> dict[str, Any]:
    """The stored encounter of claim ``pcn`` turned into a replacement (7) or void (8)."""
    rows = conn.execute(
        "SELECT c.encounter_id, c.payer_claim_number, e.source FROM claims c"
        " LEFT JOIN encounters e ON e.id = c.encounter_row WHERE c.patient_control_number = ?"
        " ORDER BY c.id DESC",
        (pcn,),
    ).fetchall()
    if not rows:
        raise CorrectionError(f"claim {pcn}: no claim with this patient control number in the ledger")
    icn = next((r[1] for r in rows if r[1]), None)
    if not icn:
        raise CorrectionError(
            f"claim {pcn}: field payer_claim_number is unknown (no 835 or 277CA has named "
            "it yet); a replacement or void needs it for REF*F8"
        )
    source = next((r[2] for r in rows if r[2]), None)
    try:
        enc = json.loads(source) if source else None
    except ValueError:
        enc = None
    if not isinstance(enc, dict) or "patient" not in enc:
        raise CorrectionError(f"claim {pcn}: the ledger holds no source encounter to rebuild it from")
    enc = dict(enc)
    enc["frequency"] = "8" if void else "7"
    enc["payer_claim_number"] = icn
    return enc


def correct_claim(
    conn: sqlite3.Connection,
    pcn: str,
    cfg: Config,
    out_dir: str | Path,
    *,
    void: bool = False,
    now: datetime | None = None,
) -> Any:
    """Build, validate and record the replacement/void of claim ``pcn``; returns the ``BuildResult``."""
    from reconcile.claims.build import build_claims

    enc = correction_source(conn, pcn, void)
    fd, tmp = tempfile.mkstemp(prefix="dripline-correct-", suffix=".json")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"encounters": [enc]}, fh)
        return build_claims([Path(tmp)], cfg, conn, out_dir, now=now)
    finally:
        os.unlink(tmp)
