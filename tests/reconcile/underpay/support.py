"""Fee schedules, a config and encounters for the expected-payment tests (all numbers synthetic)."""

from __future__ import annotations

import json
from pathlib import Path

from reconcile.codesets import load_path
from tests.reconcile.codesets import synth
from tests.reconcile.codesets.synth_fees import Rvu, gpci_file, opps_b_file, pfs_file

# ASP payment limits per billing unit: the quarter before the services and the services' quarter
ASP_2025Q4 = {"J1745": "17.802", "J1569": "45.100", "J9035": "70.000"}
ASP_2026Q1 = {"J1745": "18.215", "J1569": "46.350", "J9035": "72.113"}

RVUS = [
    Rvu("96365", "0.21", "1.95", "NA", "0.03"),
    Rvu("96366", "0.18", "0.52", "NA", "0.01"),
    Rvu("96413", "0.28", "3.10", "NA", "0.05"),
    Rvu("96372", "0.17", "0.33", "NA", "0.01"),
    Rvu("99213", "1.30", "1.25", "0.55", "0.10"),
    Rvu("99213", "1.30", "0.00", "0.00", "0.10", mod="TC", status="I"),
]
RVUS_PRIOR = [Rvu("96365", "0.21", "1.80", "NA", "0.03"), Rvu("96366", "0.18", "0.50", "NA", "0.01")]
GPCI = [("06102", "IL", "16", "1.007", "1.005", "2.295"), ("06102", "IL", "99", "1.000", "0.913", "1.563")]
OPPS = [
    ("96365", "S", "5692", "$210.50"),
    ("96366", "N", "", ""),
    ("96413", "S", "5694", "$334.87"),
    ("96372", "Q1", "5692", "$61.00"),
    ("G0463", "J2", "5012", "$139.26"),
    ("J1745", "K", "9041", "$18.215"),
    ("J9035", "K", "9112", "$72.113"),
]


def load_fee_schedules(conn, tmp: Path) -> None:
    """Load the synthetic ASP (two quarters), PFS, GPCI and OPPS B files into ``conn``."""
    tmp.mkdir(parents=True, exist_ok=True)
    files = {
        "Section 508 version of October 2025 Payment Limit File.csv": synth.asp_file(
            [(c, "Synthetic", "10 MG", v) for c, v in ASP_2025Q4.items()],
            period="Effective October 1, 2025 through December 31, 2025",
        ),
        "Section 508 version of January 2026 Payment Limit File.csv": synth.asp_file(
            [(c, "Synthetic", "10 MG", v) for c, v in ASP_2026Q1.items()],
            period="Effective January 1, 2026 through March 31, 2026",
        ),
        "PPRRVU2025_Oct_nonQPP.csv": pfs_file(RVUS_PRIOR, pric_ind=False),
        "PPRRVU2026_Jan_nonQPP.csv": pfs_file(RVUS),
        "GPCI2026.csv": gpci_file(GPCI),
        "2026_January_Web_Addendum_B.csv": opps_b_file(OPPS),
    }
    for name, data in files.items():
        for r in load_path(conn, synth.write(tmp / name, data)):
            assert r.status == "loaded" and not r.has_errors, (name, r.findings)


CONFIG = """
[facility]
facility_type = "13"
attending_npi = "1456789019"
attending_first = "JORDAN"
attending_last = "LEE"
medicare_carrier = "06102"
medicare_locality = "16"
{facility_extra}

[payers.medicare]
name = "MEDICARE PART B"
payer_id = "00952"
filing_indicator = "MB"
sequestration_percent = "2"
coinsurance_percent = "20"

[payers.commercial]
name = "ACME HEALTH PLAN"
payer_id = "ACME01"
filing_indicator = "CI"
drug_rate = "ASP+15%"
service_rate = "140% PFS"
{commercial_extra}
"""


def write_config(tmp: Path, facility_extra: str = "", commercial_extra: str = "") -> Path:
    p = tmp / "dripline.toml"
    p.write_text(CONFIG.format(facility_extra=facility_extra, commercial_extra=commercial_extra), encoding="utf-8")
    return p


FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "encounters.json"


def encounters(tmp: Path, ids: list[str]) -> Path:
    """The bundled demo encounters with these ids, as one file."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    picked = [e for e in data["encounters"] if e["id"] in ids]
    p = tmp / "encounters.json"
    p.write_text(json.dumps({"encounters": picked}), encoding="utf-8")
    return p
