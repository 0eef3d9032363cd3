"""Contract terms of a payer profile, read from the TOML config.

- ``drug_rate = "ASP+15%"``: drugs at a percent over (or under, ``ASP-5%``) the average sales price,
  where ASP = the ASP file's payment limit ÷ 1.06 (the published limit is ASP + 6 %);
  ``"115% ASP"`` says the same.
- ``service_rate = "140% PFS"``: other services at a percent of Medicare's physician fee schedule
  amount for the facility's locality (``"120% OPPS"``: of the OPPS rate, for 837I).
- ``fee_schedule = "path.csv"``: the contract's own rates, CSV with header ``code,modifier,rate``
  (rate per billed unit; a row with the line's modifier wins over the blank-modifier row). It
  overrides both percent terms. A relative path is read from the config file's folder.
- ``per_diem_rates = { S9500 = "150.00" }``: home-infusion per-diem (and other per-unit) rates.

Unreadable terms are findings (``contract-term-unreadable``), never a guess.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from coding.config import Config, PayerProfile
from coding.findings import Finding, warning

__all__ = [
    "ASP_MARKUP",
    "Contract",
    "FeeRow",
    "contract_of",
    "parse_drug_rate",
    "parse_service_rate",
    "read_fee_schedule",
]

#: The ASP file's payment limit is ASP + 6 %.
ASP_MARKUP = Decimal("1.06")

_ASP_PLUS = re.compile(r"^ASP\s*([+-])\s*(\d+(?:\.\d+)?)\s*%$", re.IGNORECASE)
_PCT_OF = re.compile(r"^(\d+(?:\.\d+)?)\s*%\s*(?:OF\s+)?(ASP|PFS|OPPS|MEDICARE)$", re.IGNORECASE)


def parse_drug_rate(text: str) -> Decimal | None:
    """Factor on ASP: ``"ASP+15%"`` -> 1.15, ``"ASP-5%"`` -> 0.95, ``"110% ASP"`` -> 1.10.

    >>> parse_drug_rate("ASP+15%"), parse_drug_rate("asp - 2.5 %"), parse_drug_rate("110% of ASP")
    (Decimal('1.15'), Decimal('0.975'), Decimal('1.1'))
    >>> parse_drug_rate("AWP-15%") is None
    True
    """
    t = " ".join(str(text).split())
    m = _ASP_PLUS.match(t)
    if m:
        pct = Decimal(m.group(2)) / 100
        return 1 + pct if m.group(1) == "+" else 1 - pct
    m = _PCT_OF.match(t)
    if m and m.group(2).upper() == "ASP":
        return Decimal(m.group(1)) / 100
    return None


def parse_service_rate(text: str) -> tuple[Decimal, str] | None:
    """``"140% PFS"`` -> (1.4, "PFS"); ``"120% OPPS"`` -> (1.2, "OPPS"); ``"100% Medicare"`` -> PFS.

    >>> parse_service_rate("140% PFS"), parse_service_rate("120 % of OPPS")
    ((Decimal('1.4'), 'PFS'), (Decimal('1.2'), 'OPPS'))
    """
    m = _PCT_OF.match(" ".join(str(text).split()))
    if not m or m.group(2).upper() == "ASP":
        return None
    which = m.group(2).upper()
    return Decimal(m.group(1)) / 100, "PFS" if which == "MEDICARE" else which


@dataclass(frozen=True)
class FeeRow:
    code: str
    modifier: str
    rate: Decimal
    line: int


@dataclass
class Contract:
    """The contract terms of one payer profile (each None when the profile does not state it)."""

    drug_factor: Decimal | None = None
    drug_text: str = ""
    service: tuple[Decimal, str] | None = None
    service_text: str = ""
    fee_schedule: dict[tuple[str, str], FeeRow] | None = None
    fee_schedule_name: str = ""
    per_diem: dict[str, Decimal] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.drug_factor is None and self.service is None and not self.fee_schedule and not self.per_diem

    def fee(self, code: str, modifiers: list[str]) -> FeeRow | None:
        """The fee-schedule row of ``code``: one with a modifier of the line first, else the blank one."""
        if not self.fee_schedule:
            return None
        c = code.upper()
        for m in modifiers:
            hit = self.fee_schedule.get((c, m.upper()))
            if hit is not None:
                return hit
        return self.fee_schedule.get((c, ""))


def read_fee_schedule(path: Path, payer: str) -> tuple[dict[tuple[str, str], FeeRow], list[Finding]]:
    """Rows of a contract fee-schedule CSV (``code,modifier,rate``) and findings for bad rows."""
    rows: dict[tuple[str, str], FeeRow] = {}
    found: list[Finding] = []
    where = f"payers.{payer}.fee_schedule"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return rows, [
            warning("contract-term-unreadable", f"{where}: cannot read {path.name}: {exc.__class__.__name__}")
        ]
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:3] != ["code", "modifier", "rate"]:
        return rows, [
            warning("contract-term-unreadable", f"{where}: {path.name} must start with the header code,modifier,rate")
        ]
    for n, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        code = cells[0].strip().upper()
        mod = cells[1].strip().upper() if len(cells) > 1 else ""
        try:
            rate = Decimal(cells[2].strip().replace("$", "").replace(",", "")) if len(cells) > 2 else None
        except InvalidOperation:
            rate = None
        if not (len(code) == 5 and code.isalnum()) or rate is None or not rate.is_finite() or rate < 0:
            found.append(
                warning(
                    "fee-schedule-bad-row",
                    f"{where}: {path.name} line {n} is not code,modifier,rate; skipped",
                    file=str(path),
                    line=n,
                )
            )
            continue
        if (code, mod) in rows:
            found.append(
                warning(
                    "fee-schedule-bad-row",
                    f"{where}: {code} {mod} repeats at line {n}; the first row is kept",
                    file=str(path),
                    line=n,
                )
            )
            continue
        rows[(code, mod)] = FeeRow(code, mod, rate, n)
    return rows, found


def contract_of(cfg: Config, payer: PayerProfile) -> Contract:
    """The contract terms the payer profile states (findings for those that cannot be read)."""
    k = Contract()
    where = f"payers.{payer.key}"
    drug = payer.settings.get("drug_rate")
    if drug not in (None, ""):
        k.drug_factor, k.drug_text = parse_drug_rate(str(drug)), str(drug)
        if k.drug_factor is None:
            k.findings.append(
                warning(
                    "contract-term-unreadable",
                    f'{where}.drug_rate "{drug}" is not like "ASP+15%"; drugs have no contract basis',
                )
            )
    svc = payer.settings.get("service_rate")
    if svc not in (None, ""):
        k.service, k.service_text = parse_service_rate(str(svc)), str(svc)
        if k.service is None:
            k.findings.append(
                warning(
                    "contract-term-unreadable",
                    f'{where}.service_rate "{svc}" is not like "140% PFS"; services have no contract basis',
                )
            )
    fs = payer.settings.get("fee_schedule")
    if fs not in (None, ""):
        p = Path(str(fs))
        if not p.is_absolute() and cfg.source_path:
            p = Path(cfg.source_path).resolve().parent / p
        k.fee_schedule, found = read_fee_schedule(p, payer.key)
        k.fee_schedule_name = Path(str(fs)).name
        k.findings.extend(found)
    per_diem = payer.settings.get("per_diem_rates")
    if isinstance(per_diem, dict):
        for code, rate in per_diem.items():
            try:
                k.per_diem[str(code).strip().upper()] = Decimal(str(rate))
            except InvalidOperation:
                k.findings.append(
                    warning("contract-term-unreadable", f"{where}.per_diem_rates.{code} is not an amount")
                )
    elif per_diem is not None:
        k.findings.append(
            warning("contract-term-unreadable", f'{where}.per_diem_rates must be a table of code = "rate"')
        )
    return k
