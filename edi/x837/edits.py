"""Our own 837 edits: checks clearinghouses and payers apply that pyx12 does not.

Each check is a small function over the claims read by :mod:`edi.x837.read`, returning
findings with the file position (``segment_number``: ordinal of the segment in the file;
``line``: physical line where it starts; segment id, loop, element):

- ``claim-charge-mismatch``: CLM02 must equal the sum of the line charges (SV102 / SV203);
- ``bad-npi``: every NM1 with an NPI (NM108 = XX) must pass the NPI check digit (an error in
  strict mode, used for files dripline writes; a warning for other files);
- ``bad-ndc`` / ``missing-ndc-quantity``: a 2410 LIN with N4 must carry an 11-digit NDC and a
  CTP quantity greater than zero;
- ``jw-jz-conflict``: JW and JZ never both on one drug and date of service in a claim;
- ``missing-payer-claim-number``: frequency 7 or 8 needs REF*F8 (the payer's claim number);
- ``bad-icd10``: diagnosis codes (ABK/ABF/ABJ/APR) must have the ICD-10-CM shape;
- ``cob-line-imbalance`` / ``cob-claim-imbalance`` (claims to a later payer): per prior payer,
  every line charge = its Loop 2430 SVD02 + the line's CAS, and the claim charge = AMT*D +
  claim-level CAS + every line's CAS;
- ``missing-line-control-number`` (warning: situational in the guide, but dripline puts one on
  every line so remittances match back) and ``duplicate-line-control-number`` (error).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

from coding.findings import Finding, Severity
from coding.identifiers import icd10cm, npi
from edi.x837.read import ReadClaim, ReadLine

ICD10_QUALIFIERS = {"ABK", "ABF", "ABJ", "APR"}
Check = Callable[[ReadClaim, str | None], list[Finding]]


def _f(
    code: str,
    msg: str,
    file: str | None,
    pos: tuple[int, int],
    seg: str,
    loop: str,
    element: str | None = None,
    severity: Severity = "error",
) -> Finding:
    """A finding at ``pos`` = (segment number in the file, physical line)."""
    return Finding(
        severity,
        code,
        msg,
        file=file,
        line=pos[1] or None,
        segment=seg,
        loop=loop,
        element=element,
        segment_number=pos[0] or None,
    )


def _at(obj: ReadClaim | ReadLine) -> tuple[int, int]:
    return obj.segment_line, obj.file_line


def check_charge_balance(c: ReadClaim, file: str | None) -> list[Finding]:
    """CLM02 = sum of line charges."""
    total = sum((ln.charge for ln in c.lines), Decimal(0))
    if c.charge is None or c.charge != total:
        return [
            _f(
                "claim-charge-mismatch",
                f"claim {c.patient_control_number}: CLM02 {c.raw_charge or 'missing'}"
                f" is not the sum of its line charges ({total})",
                file,
                _at(c),
                "CLM",
                c.loop,
                "CLM02",
            )
        ]
    return []


def check_cob_balance(c: ReadClaim, file: str | None) -> list[Finding]:
    """Per prior payer (Loop 2320): lines and claim balance against what it paid and adjusted."""
    out: list[Finding] = []
    for op in c.other_payers:
        line_cas = Decimal(0)
        for ln in c.lines:
            for adj in ln.adjudications:
                if adj.payer_id != op.payer_id:
                    continue
                paid = adj.paid or Decimal(0)
                line_cas += adj.adjustments
                if ln.charge != paid + adj.adjustments:
                    out.append(
                        _f(
                            "cob-line-imbalance",
                            f"claim {c.patient_control_number} line {ln.number}: charge {ln.charge} is not payer"
                            f" {op.payer_id}'s paid {paid} + line CAS {adj.adjustments}",
                            file,
                            (adj.segment_line, adj.file_line),
                            "SVD",
                            f"{c.loop}/2400/2430",
                            "SVD02",
                        )
                    )
        adjudicated = (
            op.paid is not None
            or op.adjustments != 0
            or any(adj.payer_id == op.payer_id for ln in c.lines for adj in ln.adjudications)
        )
        if not adjudicated:  # a 2320 without AMT*D, CAS or 2430 (e.g. repricing): nothing to balance
            continue
        paid = op.paid or Decimal(0)
        at = (op.segment_line, op.file_line)
        if c.charge is not None and c.charge != paid + op.adjustments + line_cas:
            out.append(
                _f(
                    "cob-claim-imbalance",
                    f"claim {c.patient_control_number}: CLM02 {c.charge} is not payer {op.payer_id}'s AMT*D {paid}"
                    f" + claim CAS {op.adjustments} + line CAS {line_cas}",
                    file,
                    at,
                    "AMT",
                    f"{c.loop}/2320",
                    "AMT02",
                )
            )
    return out


# Claim-level provider loops (2310x) by NM101, per guide; other NM1s are reported under 2310.
PROVIDER_LOOPS = {
    "837P": {"DN": "2310A", "P3": "2310A", "82": "2310B", "77": "2310C", "DQ": "2310D"},
    "837I": {"71": "2310A", "72": "2310B", "ZZ": "2310C", "82": "2310D", "77": "2310E", "DN": "2310F"},
}


def _provider_loop(c: ReadClaim, who: str) -> str:
    return f"{c.loop}/{PROVIDER_LOOPS.get(c.claim_type, {}).get(who, '2310')}"


def check_npis(c: ReadClaim, file: str | None, severity: Severity = "warning") -> list[Finding]:
    """NPI check digits on the billing provider and every claim-level provider."""
    out = []
    if c.billing_npi is not None and not npi.is_valid(c.billing_npi):
        out.append(
            _f(
                "bad-npi",
                f"billing provider NPI of claim {c.patient_control_number} fails the check digit",
                file,
                c.billing_pos,
                "NM1",
                "2000A/2010AA",
                "NM109",
                severity,
            )
        )
    for who, value, number, line in c.provider_npis:
        if not npi.is_valid(value):
            out.append(
                _f(
                    "bad-npi",
                    f"provider NPI (NM1*{who}) fails the check digit",
                    file,
                    (number, line),
                    "NM1",
                    _provider_loop(c, who),
                    "NM109",
                    severity,
                )
            )
    return out


def check_npis_strict(c: ReadClaim, file: str | None) -> list[Finding]:
    """:func:`check_npis` with error severity (files dripline writes)."""
    return check_npis(c, file, "error")


def check_ndcs(c: ReadClaim, file: str | None) -> list[Finding]:
    """2410: N4 NDC is 11 digits and CTP04 quantity > 0."""
    out = []
    for ln in c.lines:
        if ln.ndc is None:
            continue
        if ln.ndc_qualifier == "N4" and (len(ln.ndc) != 11 or not ln.ndc.isdigit()):
            out.append(
                _f(
                    "bad-ndc",
                    f"line {ln.number} of claim {c.patient_control_number}: NDC must be 11 digits",
                    file,
                    _at(ln),
                    "LIN",
                    f"{c.loop}/2400/2410",
                    "LIN03",
                )
            )
        if not ln.has_ctp or ln.ndc_quantity is None or ln.ndc_quantity <= 0:
            out.append(
                _f(
                    "missing-ndc-quantity",
                    f"line {ln.number} of claim {c.patient_control_number}: NDC needs a CTP quantity greater than zero",
                    file,
                    _at(ln),
                    "CTP",
                    f"{c.loop}/2400/2410",
                    "CTP04",
                )
            )
    return out


def check_jw_jz(c: ReadClaim, file: str | None) -> list[Finding]:
    """JW (waste) and JZ (no waste) are never both billed for one drug on one date."""
    seen: dict[tuple[str, object], set[str]] = defaultdict(set)
    first_line: dict[tuple[str, object], tuple[int, int]] = {}
    for ln in c.lines:
        key = (ln.code, ln.service_date)
        seen[key].update(m for m in ln.modifiers if m in ("JW", "JZ"))
        first_line.setdefault(key, _at(ln))
    return [
        _f(
            "jw-jz-conflict",
            f"claim {c.patient_control_number}: drug {code} has both JW and JZ on one date",
            file,
            first_line[(code, d)],
            "SV1" if c.claim_type == "837P" else "SV2",
            f"{c.loop}/2400",
        )
        for (code, d), mods in seen.items()
        if mods == {"JW", "JZ"}
    ]


def check_frequency(c: ReadClaim, file: str | None) -> list[Finding]:
    """Replacement (7) and void (8) claims name the claim they change (REF*F8)."""
    if c.frequency in ("7", "8") and not c.payer_claim_number:
        return [
            _f(
                "missing-payer-claim-number",
                f"claim {c.patient_control_number} has frequency {c.frequency} without REF*F8",
                file,
                _at(c),
                "CLM",
                c.loop,
                "CLM05-03",
            )
        ]
    return []


def check_icd10(c: ReadClaim, file: str | None) -> list[Finding]:
    """ICD-10-CM shape of every diagnosis (ICD-9 qualifiers BK/BF are not checked)."""
    return [
        _f(
            "bad-icd10",
            f"claim {c.patient_control_number}: diagnosis {code!r} is not an ICD-10-CM code",
            file,
            _at(c),
            "HI",
            c.loop,
        )
        for qual, code in c.diagnoses
        if qual in ICD10_QUALIFIERS and not icd10cm.is_valid(code)
    ]


CLAIM_CHECKS: tuple[Check, ...] = (
    check_charge_balance,
    check_cob_balance,
    check_npis,
    check_ndcs,
    check_jw_jz,
    check_frequency,
    check_icd10,
)
STRICT_CHECKS: tuple[Check, ...] = tuple(check_npis_strict if c is check_npis else c for c in CLAIM_CHECKS)


def check_line_control_numbers(claims: Iterable[ReadClaim], file: str | None) -> list[Finding]:
    """REF*6R on every line, unique within the file."""
    out: list[Finding] = []
    seen: dict[str, tuple[int, int]] = {}
    for c in claims:
        for ln in c.lines:
            lcn = ln.line_control_number
            if not lcn:
                out.append(
                    _f(
                        "missing-line-control-number",
                        f"line {ln.number} of claim {c.patient_control_number} has no REF*6R line control number",
                        file,
                        _at(ln),
                        "REF",
                        f"{c.loop}/2400",
                        "REF02",
                        severity="warning",
                    )
                )
            elif lcn in seen:
                out.append(
                    _f(
                        "duplicate-line-control-number",
                        f"line control number {lcn} is used twice (first at segment {seen[lcn][0]})",
                        file,
                        _at(ln),
                        "REF",
                        f"{c.loop}/2400",
                        "REF02",
                    )
                )
            else:
                seen[lcn] = _at(ln)
    return out


def run_edits(claims: list[ReadClaim], file: str | None = None, strict: bool = False) -> list[Finding]:
    """Every edit over every claim of one file, in file order.

    ``strict`` (used for files dripline writes) makes a failed NPI check digit an error; for
    files from elsewhere it is a warning, because the guide itself only requires 10 digits and
    public sample files use made-up NPIs.
    """
    out: list[Finding] = []
    for c in claims:
        for check in STRICT_CHECKS if strict else CLAIM_CHECKS:
            out += check(c, file)
    out += check_line_control_numbers(claims, file)
    return sorted(out, key=lambda f: f.segment_number or 0)
