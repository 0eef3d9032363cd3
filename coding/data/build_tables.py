"""Build the drug reference tables in ``coding/data/`` from ``../shared/reference``.

Run from the repository root (development only; the product reads only the generated CSVs):

    .venv/bin/python coding/data/build_tables.py [REFERENCE_DIR]

Outputs (see PROVENANCE.md):

* ``hcpcs_drugs.csv``: every HCPCS Level II J and Q code of the CMS 2020 HCPCS file, plus
  J/Q codes that are newer than that file (from ``infusion_drug_reference.csv`` and the OPPS
  2026-Q2 Addendum B), with the billing unit parsed from the long descriptor.
  ``parse_status``: ``ok`` (unit parsed), ``per_item`` (per vial/dose/each: 1 unit per item),
  ``noc`` (not otherwise classified: no dosage descriptor), ``unparseable`` (a unit we cannot
  convert a dose to, e.g. meq, square cm, vector genomes, or a range), ``no_descriptor`` (code
  newer than the 2020 file and not in our curated reference: billing unit unknown).
* ``opps_2026q2.csv``: OPPS status indicator and payment rate for the J/Q drug codes, the
  drug-administration CPT codes, E/M and clinic-visit codes.
"""

from __future__ import annotations

import csv
import sys
from decimal import Decimal
from pathlib import Path

from coding.codesets.units import parse_unit

HERE = Path(__file__).resolve().parent
DEFAULT_REF = HERE.parent.parent.parent / "shared" / "reference"

# Descriptors the generic parser reads wrongly; value, unit, up_to, reason.
OVERRIDES: dict[str, tuple[str, str, bool, str]] = {
    "J2543": ("1.125", "g", False, "combination product: 1 g piperacillin + 0.125 g tazobactam = 1.125 g per unit"),
    "J3471": ("1", "units", False, "per 1 USP unit (the parenthetical 'up to 999' is a range note)"),
    "J0295": ("1.5", "g", False, "ampicillin/sulbactam per 1.5 g"),
    "J0695": ("75", "mg", False, "combination: ceftolozane 50 mg + tazobactam 25 mg = 75 mg per unit"),
    "J0702": ("6", "mg", False, "combination: betamethasone acetate 3 mg + sodium phosphate 3 mg = 6 mg per unit"),
    "J0714": ("0.625", "g", False, "combination: ceftazidime 0.5 g + avibactam 0.125 g = 0.625 g per unit"),
    "J1454": ("235", "mg", False, "combination: dose expressed as the fosnetupitant component (235 mg)"),
    "J2186": ("20", "mg", False, "combination: meropenem 10 mg + vaborbactam 10 mg = 20 mg per unit"),
    "J3240": ("0.9", "mg", False, "0.9 mg per unit (provided in a 1.1 mg vial)"),
    "J7186": ("1", "units", False, "per factor VIII IU"),
    "J8655": ("300", "mg", False, "combination: dose expressed as the netupitant component (300 mg)"),
    "Q9978": ("300", "mg", False, "combination: dose expressed as the netupitant component (300 mg)"),
    "J9153": ("1", "mg", False, "liposomal combination: 1 mg daunorubicin (with 2.27 mg cytarabine) per unit"),
}
# Descriptors with two independent doses and no combined unit: no billing unit (finding when coded).
UNPARSEABLE: dict[str, str] = {
    "J7620": "two components each 'up to' a dose (albuterol + ipratropium); no single billing unit",
}


def _norm_unit_text(s: str) -> tuple[Decimal | None, str | None]:
    """Units as written in infusion_drug_reference.csv ("10 mg", "1000 cc", "500 ml", "1 microgram")."""
    if not s:
        return None, None
    st, v, u, _, _ = parse_unit(s)
    return (v, u) if st == "ok" else (None, None)


def build(ref: Path, out: Path) -> dict[str, int]:
    rows: dict[str, dict[str, str]] = {}
    with (ref / "hcpcs_level2_2020.tsv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            code = r["hcpcs"].strip().upper()
            if not code or code[0] not in "JQ":
                continue
            desc = " ".join(r["long_description"].split())
            status, value, unit, up_to, matched = parse_unit(desc)
            note = ""
            if code in UNPARSEABLE:
                status, value, unit, up_to, matched, note = "unparseable", None, None, False, "", UNPARSEABLE[code]
            if code in OVERRIDES:
                v, u, up, note = OVERRIDES[code]
                status, value, unit, up_to, matched = "ok", Decimal(v), u, up, "override"
            rows[code] = {
                "code": code,
                "billing_unit_value": "" if value is None else str(value),
                "billing_unit": unit or "",
                "up_to": "1" if up_to else "0",
                "parse_status": status,
                "unit_text": matched,
                "source": "hcpcs2020",
                "descriptor": desc,
                "note": note,
            }
    with (ref / "infusion_drug_reference.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            code = r["hcpcs"].strip().upper()
            ref_value, ref_unit = _norm_unit_text(r["billing_unit_parsed"])
            note = " ".join(r.get("notes", "").split())
            if code in rows:
                cur = rows[code]
                if (
                    ref_value is not None
                    and cur["parse_status"] == "ok"
                    and (Decimal(cur["billing_unit_value"]) != ref_value or cur["billing_unit"] != ref_unit)
                ):
                    raise SystemExit(
                        f"{code}: parsed unit {cur['billing_unit_value']} {cur['billing_unit']} "
                        f"disagrees with infusion_drug_reference {ref_value} {ref_unit}"
                    )
                if note and not cur["note"]:
                    cur["note"] = note
                continue
            rows[code] = {
                "code": code,
                "billing_unit_value": "" if ref_value is None else str(ref_value),
                "billing_unit": ref_unit or "",
                "up_to": "0",
                "parse_status": "ok" if ref_value is not None else "no_descriptor",
                "unit_text": r["billing_unit_parsed"],
                "source": "infusion_drug_reference",
                "descriptor": "",
                "note": note,
            }
    opps: dict[str, tuple[str, str]] = {}
    with (ref / "opps_addendum_b_2026q2.csv").open(encoding="cp1252") as f:
        for r in csv.DictReader(f):
            opps[r["hcpcs"].strip().upper()] = (r["status_indicator"].strip(), r["payment_rate"].strip())
    for code in sorted(opps):
        if code[0] in "JQ" and code[1:].isdigit() and code not in rows:
            rows[code] = {
                "code": code,
                "billing_unit_value": "",
                "billing_unit": "",
                "up_to": "0",
                "parse_status": "no_descriptor",
                "unit_text": "",
                "source": "opps2026q2",
                "descriptor": "",
                "note": "code newer than the 2020 HCPCS file; billing unit not in the shipped tables",
            }
    fields = [
        "code",
        "billing_unit_value",
        "billing_unit",
        "up_to",
        "parse_status",
        "unit_text",
        "source",
        "descriptor",
        "note",
    ]
    with (out / "hcpcs_drugs.csv").open("w", encoding="utf-8", newline="") as f:
        f.write(
            "# HCPCS Level II J/Q drug codes with billing unit parsed from the long descriptor.\n"
            "# Source: CMS 2020 HCPCS Level II file (public domain) via wamuir/hcpcs @50425cb;\n"
            "# newer codes from infusion_drug_reference.csv and CMS OPPS Addendum B 2026-04.\n"
            "# Generated by coding/data/build_tables.py; effective 2020-01-01 descriptors, 2026-Q2 code list.\n"
        )
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for code in sorted(rows):
            w.writerow(rows[code])
    # OPPS: drugs + administration + visit codes
    admin_codes = set()
    with (ref / "infusion_admin_codes.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            admin_codes.add(r["code"].strip().upper())
    keep = set(rows) | admin_codes | {f"9921{i}" for i in range(1, 6)} | {"G0463", "99601", "99602"}
    keep |= {c for c in opps if c.startswith(("963", "964", "965", "S9", "G00", "G01"))}
    with (out / "opps_2026q2.csv").open("w", encoding="utf-8", newline="") as f:
        f.write(
            "# CMS OPPS Addendum B, April 2026 (2026-Q2): status indicator and payment rate (USD).\n"
            "# Source: softek/CMS.HCPCS sample.csv @55a5494 (public CMS data); descriptors removed.\n"
            "# Generated by coding/data/build_tables.py; effective 2026-04-01.\n"
        )
        cw = csv.writer(f, lineterminator="\n")
        cw.writerow(["code", "status_indicator", "payment_rate"])
        n_opps = 0
        for code in sorted(keep):
            if code in opps:
                cw.writerow([code, *opps[code]])
                n_opps += 1
    stats: dict[str, int] = {}
    for r in rows.values():
        stats[r["parse_status"]] = stats.get(r["parse_status"], 0) + 1
    stats["opps_rows"] = n_opps
    return stats


def main(argv: list[str]) -> None:
    ref = Path(argv[1]) if len(argv) > 1 else DEFAULT_REF
    print(build(ref, HERE))


if __name__ == "__main__":
    main(sys.argv)
