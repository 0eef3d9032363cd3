"""Other services on the claim (the encounter's ``services``): E/M visits and the like.

Rules (fact base §3.3, §6, §7):

* an E/M marked ``separately_identifiable`` gets modifier 25 (significant, separately
  identifiable visit on the day of drug administration) [S76][S60];
* 99211 is never billed with drug administration: dropped with a ``warning`` finding [S14][S26];
* an E/M billed with drug administration but not marked separately identifiable is kept with a
  warning (payers bundle it);
* 96523 (port flush) is not reported when an injection or infusion is on the same claim [S14][S116];
* on 837I the office E/M codes become the payer's ``facility_em_code`` (default G0463, the OPPS
  clinic visit; set it to "" to keep the CPT code) and E/M lines get revenue code ``evaluation``
  (0510); services listed in ``data/service_revenue.csv`` take their revenue key from it
  (G0378 observation hours: ``observation``, 0762); other services take the revenue key of their
  code in ``data/admin_codes.csv`` or ``admin`` (0260).
"""

from __future__ import annotations

import csv
from datetime import date
from functools import lru_cache
from pathlib import Path

from coding.admin.codes import ADMIN_CODES, charge
from coding.config import Config, PayerProfile
from coding.findings import Finding, error, warning
from coding.model import Encounter, ServiceLine

# E/M codes that take modifier 25 (office/outpatient visits, OPPS clinic visit)
EM_CODES: frozenset[str] = frozenset(
    [f"992{n:02d}" for n in range(2, 6)] + [f"992{n:02d}" for n in range(11, 16)] + ["G0463"]
)
NO_DRUG_ADMIN_EM = "99211"
PORT_FLUSH = "96523"


@lru_cache(maxsize=1)
def service_revenue() -> dict[str, tuple[str, str]]:
    """``data/service_revenue.csv``: code -> (revenue key of the config, default revenue code) for
    837I services that are neither E/M visits nor drug administration (G0378 observation: 0762)."""
    path = Path(__file__).resolve().parent / "data" / "service_revenue.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(ln for ln in fh if not ln.startswith("#"))
        return {r["code"].strip().upper(): (r["revenue_key"].strip(), r["default"].strip()) for r in rows}


def _raw_date(enc: Encounter) -> date | None:
    """``service_date`` (or ``date``) of a services-only encounter, when the input carries one
    (an additive field of the encounter contract)."""
    raw = enc.raw or {}
    for key in ("service_date", "date"):
        v = raw.get(key)
        if isinstance(v, str):
            try:
                return date.fromisoformat(v[:10])
            except ValueError:
                return None
    return None


def is_em(code: str) -> bool:
    return code in EM_CODES


def service_lines(
    enc: Encounter, cfg: Config, payer: PayerProfile, admin_lines: list[ServiceLine]
) -> tuple[list[ServiceLine], list[Finding]]:
    """Lines for ``enc.services`` (in input order) and findings; dated on the encounter's
    first administration (or nursing visit) date."""
    lines: list[ServiceLine] = []
    findings: list[Finding] = []
    if not enc.services:
        return lines, findings
    inst = enc.claim_type == "837I"
    has_admin = bool(admin_lines) or any(True for _ in enc.administrations)
    day = min((a.start for a in enc.administrations), default=None)
    if day is None:
        nv = [v.start for v in enc.nursing_visits]
        day = min(nv) if nv else None
    svc_date = day.date() if day is not None else _raw_date(enc)
    fac_em = str(payer.get("facility_em_code", "G0463") or "")
    rev = cfg.revenue_codes
    for i, s in enumerate(enc.services):
        code = s.code.upper()
        where = dict(encounter_id=enc.id, field=f"services[{i}].code")
        if code == NO_DRUG_ADMIN_EM and has_admin:
            findings.append(
                warning(
                    "99211-with-drug-admin",
                    "99211 is not reported with drug administration services; E/M line dropped",
                    **where,
                )
            )
            continue
        if code == PORT_FLUSH and has_admin:
            findings.append(
                warning(
                    "port-flush-with-admin",
                    "96523 (port flush) is not reported when an injection or infusion is on the claim; line dropped",
                    **where,
                )
            )
            continue
        mods = [m.upper() for m in s.modifiers]
        why = f"{code}: service from the encounter"
        em = is_em(code)
        if em:
            if s.separately_identifiable:
                if "25" not in mods:
                    mods.insert(0, "25")
                why = f"{code}: E/M marked separately identifiable from the drug administration, modifier 25"
            elif has_admin:
                findings.append(
                    warning(
                        "em-not-separately-identifiable",
                        "E/M billed with drug administration is not marked separately_identifiable "
                        "(no modifier 25); payers bundle it into the administration",
                        **where,
                    )
                )
                why = f"{code}: E/M without modifier 25 (not marked separately identifiable)"
            else:
                why = f"{code}: E/M visit"
            if inst and fac_em and code != fac_em and code != NO_DRUG_ADMIN_EM:
                why += f"; facility claim: {code} reported as the payer's clinic visit {fac_em}"
                code = fac_em
        if svc_date is None:
            findings.append(
                error(
                    "no-service-date",
                    "service has no date: the encounter has no administration or "
                    "visit times and no service_date; service held",
                    **where,
                )
            )
            continue
        units = max(1, int(s.units))
        amount, f = charge(cfg, code, units, encounter_id=enc.id, field=f"services[{i}].code")
        if f is not None:
            findings.append(f)
            continue
        ln = ServiceLine(
            code=code, units=units, service_date=svc_date, charge=amount, rationale=why, modifiers=mods, kind="service"
        )
        if inst:
            if em:
                ln.revenue_code = rev.get("evaluation", "0510")
            elif code in service_revenue():
                key, default = service_revenue()[code]
                ln.revenue_code = rev.get(key, default)
                ln.rationale += f"; revenue code {ln.revenue_code} ({key})"
            else:
                a = ADMIN_CODES.get(code)
                ln.revenue_code = rev.get(a.revenue_key if a else "admin", rev.get("admin", "0260"))
        lines.append(ln)
    return lines, findings
