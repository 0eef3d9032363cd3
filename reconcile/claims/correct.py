"""Rework a claim: a frequency-7 replacement (or 8 void) rebuilt from the stored source encounter.

The encounter the ledger kept for audit is coded again and goes through the same planner, writer,
validation and recording as ``claims build`` (:func:`reconcile.claims.build.build_encounters`),
with CLM05-3 = 7/8 and REF*F8 = the payer claim number the ledger learned from the 835 (or 277CA)
for exactly the claim named. When that claim is one part of a split encounter, only that part is
sent again, under its own CLM01 and with its own payer claim number. The encounter is read in
memory: no file with patient data is written besides the 837 itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from coding.config import Config
from reconcile.ledger.db import Connection, Row


class CorrectionError(Exception):
    """The claim cannot be corrected (unknown, no stored encounter, no payer claim number)."""


def _claim_rows(conn: Connection, pcn: str) -> list[Row]:
    return conn.execute(
        "SELECT c.encounter_id, c.part, c.payer_claim_number, e.source FROM claims c"
        " LEFT JOIN encounters e ON e.id = c.encounter_row WHERE c.patient_control_number = ?"
        " AND c.coverage_order = 1 ORDER BY c.id DESC",  # not a claim to a secondary/tertiary payer
        (pcn,),
    ).fetchall()


def correction_source(conn: Connection, pcn: str, void: bool = False) -> dict[str, Any]:
    """The stored encounter of claim ``pcn`` turned into a replacement (7) or void (8)."""
    rows = _claim_rows(conn, pcn)
    if not rows:
        raise CorrectionError(f"claim {pcn}: no claim with this patient control number in the ledger")
    icn = next((r["payer_claim_number"] for r in rows if r["payer_claim_number"]), None)
    if not icn:
        raise CorrectionError(
            f"claim {pcn}: field payer_claim_number is unknown (no 835 or 277CA has named "
            "it yet); a replacement or void needs it for REF*F8"
        )
    source = next((r["source"] for r in rows if r["source"]), None)
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
    conn: Connection,
    pcn: str,
    cfg: Config,
    out_dir: str | Path,
    *,
    void: bool = False,
    now: datetime | None = None,
) -> Any:
    """Build, validate and record the replacement/void of claim ``pcn``; returns the ``BuildResult``.

    Only the claim ``pcn`` names is sent: for a part of a split encounter, that part alone.
    """
    from coding.encounters.loader import validate_encounter
    from coding.findings import error
    from reconcile.claims.build import build_encounters

    enc_raw = correction_source(conn, pcn, void)
    part = int(_claim_rows(conn, pcn)[0]["part"])
    enc, findings = validate_encounter(enc_raw, cfg, file=f"ledger:{pcn}")
    encounters = [enc] if enc is not None else []
    if enc is None and not any(f.is_error for f in findings):  # pragma: no cover - the loader always says why
        findings.append(error("bad-value", "the stored encounter cannot be read", encounter_id=pcn))
    result = build_encounters(
        encounters,
        findings,
        cfg,
        conn,
        out_dir,
        now=now,
        only=lambda cp: cp.part == part and cp.patient_control_number == pcn,
    )
    if encounters and not result.claims and not result.input_error:
        result.findings.append(
            error(
                "correction-part-missing",
                f"claim {pcn}: the rebuilt encounter has no claim with this patient control number "
                f"(part {part}); nothing was sent",
                encounter_id=encounters[0].id,
            )
        )
    return result
