"""Hand-made coded encounters for the 837 writer tests (independent of the coder's evolution)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from coding.model import Address, CodedEncounter, Encounter, Patient, ServiceLine

NOW = datetime(2026, 3, 3, 9, 30)


def patient(pid: str = "P1", first: str = "JANE", last: str = "DOE", **kw) -> Patient:
    addr = kw.pop("address", None) or Address("12 OAK ST", "SPRINGFIELD", "IL", "62704")
    return Patient(
        pid, first, last, kw.pop("dob", date(1960, 5, 17)), kw.pop("sex", "F"), kw.pop("member_id", "MBR123456"), addr
    )


def line(
    code: str,
    charge: str,
    units: int = 1,
    mods: tuple[str, ...] = (),
    lcn: str | None = None,
    rev: str | None = None,
    ndc: str | None = None,
    qty: str | None = None,
    unit: str | None = None,
    day: date = date(2026, 3, 2),
) -> ServiceLine:
    return ServiceLine(
        code=code,
        units=units,
        service_date=day,
        charge=Decimal(charge),
        rationale="test",
        modifiers=list(mods),
        revenue_code=rev,
        ndc=ndc,
        ndc_quantity=None if qty is None else Decimal(qty),
        ndc_unit=unit,
        kind="drug" if ndc else "admin",
        line_control_number=lcn,
    )


def encounter(
    eid: str, setting: str = "office", payer: str = "medicare", lines: list[ServiceLine] | None = None, **kw
) -> CodedEncounter:
    enc = Encounter(
        id=eid,
        setting=setting,
        payer=payer,
        patient=kw.pop("patient", None) or patient(),
        diagnoses=kw.pop("diagnoses", ("K5090", "D509")),
        **kw,
    )
    return CodedEncounter(enc, lines or [], [])


def office_set() -> list[CodedEncounter]:
    """Three 837P claims: Medicare with NDC drug + waste, commercial dependent, replacement claim."""
    a = encounter(
        "ENC-P-001",
        lines=[
            line("96365", "350.00"),
            line("96366", "95.00"),
            line("J1745", "310.41", 35, ("JZ",), ndc="57894003001", qty="3.5", unit="UN"),
            line("96375", "55.00"),
        ],
    )
    b = encounter(
        "ENC-P-002",
        payer="commercial",
        relationship="child",
        patient=patient("P2", "TIM", "DOE", dob=date(2012, 1, 9), sex="M", member_id="ACM-998877-02"),
        subscriber=patient("S2", "JOHN", "DOE", dob=date(1980, 2, 2), sex="M", member_id="ACM-998877-01"),
        rendering_npi="1234567893",
        lines=[
            line("96413", "480.00"),
            line("J9035", "1600.00", 160, ndc="50242006001", qty="64", unit="ML"),
            line("J9035", "50.00", 5, ("JW",), ndc="50242006001", qty="2", unit="ML"),
        ],
    )
    c = encounter(
        "ENC-P-003",
        frequency="7",
        payer_claim_number="PCN7788990011",
        lines=[line("96372", "45.00"), line("J0897", "1200.00", 60, ("JZ",), ndc="55513073001", qty="1")],
    )
    return [a, b, c]


def hospital_set() -> list[CodedEncounter]:
    """Two 837I claims: 340B drug with NDC, and a void."""
    a = encounter(
        "ENC-I-001",
        setting="hospital_outpatient",
        lines=[
            line("96413", "480.00", rev="0335"),
            line("96415", "110.00", rev="0335"),
            line("J9035", "1600.00", 160, ("JG",), rev="0636", ndc="50242006001", qty="64", unit="ML"),
            line("G0463", "190.00", 1, ("25",), rev="0510"),
        ],
    )
    b = encounter(
        "ENC-I-002",
        setting="hospital_outpatient",
        payer="commercial",
        frequency="8",
        payer_claim_number="ACME-CLM-1",
        lines=[line("96365", "350.00", rev="0260")],
    )
    return [a, b]


def assign_lcns(coded: list[CodedEncounter], prefix: str = "L") -> None:
    """Line control numbers as the ledger would (unique in the batch)."""
    n = 0
    for ce in coded:
        for ln in ce.lines:
            n += 1
            ln.line_control_number = f"{prefix}{n:08d}"
