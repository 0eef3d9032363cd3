"""Typed domain model shared by every layer.

Input side (parsed from the encounter contract, ``docs/encounter-format.md``):
:class:`Encounter`, :class:`Administration`, :class:`Service`, :class:`Therapy`,
:class:`NursingVisit`, :class:`Patient`, :class:`Coverage`, :class:`Address`, :class:`Quantity`.

Output side (what the coder produces and the 837 writer consumes):
:class:`ServiceLine` and :class:`CodedEncounter`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from coding.findings import Finding

Setting = Literal["office", "infusion_center", "home", "hospital_outpatient"]
Route = Literal["iv_infusion", "iv_push", "sc", "im", "intra_arterial", "on_body_injector"]
Purpose = Literal["chemo", "therapeutic", "hydration"]
ClaimType = Literal["837P", "837I"]

SETTINGS: tuple[str, ...] = ("office", "infusion_center", "home", "hospital_outpatient")
ROUTES: tuple[str, ...] = ("iv_infusion", "iv_push", "sc", "im", "intra_arterial", "on_body_injector")
PURPOSES: tuple[str, ...] = ("chemo", "therapeutic", "hydration")
QUANTITY_UNITS: tuple[str, ...] = ("mg", "g", "mcg", "units", "mL")


@dataclass(frozen=True, slots=True)
class Quantity:
    value: Decimal
    unit: str  # one of QUANTITY_UNITS


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str
    line2: str | None = None


@dataclass(frozen=True, slots=True)
class Patient:
    id: str
    first: str
    last: str
    dob: date
    sex: str  # M / F / U
    member_id: str
    address: Address


@dataclass(frozen=True, slots=True)
class Administration:
    id: str
    drug: str  # HCPCS, upper case
    route: str
    start: datetime
    dose: Quantity
    end: datetime | None = None
    ndc: str | None = None  # as given; normalized form comes from coding.identifiers.ndc
    purpose: str | None = None  # None: default from the drug table
    volume_ml: Decimal | None = None
    rate_ml_per_hr: Decimal | None = None
    wasted: Quantity | None = None
    container: str | None = None  # single_dose / multi_dose; None: from drug table
    access: str = "A"
    separate_site_reason: str | None = None
    visit: str = "1"
    containers: int | None = None  # extension: vials/syringes opened (NDC quantity in UN); None: unknown
    # extension: administrations of one encounter with the same label were mixed in one bag or
    # syringe and are one administration for the CPT code (each drug keeps its own HCPCS line)
    bag: str | None = None
    esa_indication: str | None = None  # extension: EA / EB / EC for an ESA; None: from the diagnoses


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    units: int = 1
    modifiers: tuple[str, ...] = ()
    separately_identifiable: bool = False


@dataclass(frozen=True, slots=True)
class Therapy:
    """Home infusion course of one drug (``setting: home``)."""

    id: str
    category: str
    start_date: date
    end_date: date
    drug: str
    dose: Quantity
    schedule: str = "q24h"
    ndc: str | None = None
    doses_per_day: int | None = None
    pump: bool = False


@dataclass(frozen=True, slots=True)
class NursingVisit:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Coverage:
    """A payer after the primary (``secondary`` / ``tertiary`` in the encounter contract).

    ``member_id`` is the insured's id with that payer; ``subscriber`` is the insured when it is
    not the patient (``relationship`` other than self), carrying that same member id.
    """

    payer: str
    member_id: str
    relationship: str = "self"
    subscriber: Patient | None = None


@dataclass(frozen=True, slots=True)
class Encounter:
    id: str
    setting: str
    payer: str
    patient: Patient
    diagnoses: tuple[str, ...]  # normalized, without the dot, upper case
    administrations: tuple[Administration, ...] = ()
    services: tuple[Service, ...] = ()
    place_of_service: str | None = None
    rendering_npi: str | None = None
    reason_for_visit: str | None = None
    relationship: str = "self"
    subscriber: Patient | None = None
    frequency: str = "1"
    payer_claim_number: str | None = None
    therapies: tuple[Therapy, ...] = ()
    nursing_visits: tuple[NursingVisit, ...] = ()
    first_hit_visit: bool | None = None
    # 340B status of this encounter's drugs, overriding the facility's program_340b:
    # "JG" / "TB" (340B-acquired), "none" (not 340B-acquired), None (use the facility setting)
    program_340b: str | None = None
    # payers after the primary, in order (coordination of benefits)
    secondary: Coverage | None = None
    tertiary: Coverage | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def claim_type(self) -> ClaimType:
        return "837I" if self.setting == "hospital_outpatient" else "837P"

    @property
    def coverages(self) -> tuple[Coverage, ...]:
        """The payers in order: the primary (from ``payer``/``relationship``/``subscriber``), then
        ``secondary`` and ``tertiary`` when given."""
        insured = self.subscriber if self.subscriber is not None else self.patient
        primary = Coverage(self.payer, insured.member_id, self.relationship, self.subscriber)
        return (primary, *(c for c in (self.secondary, self.tertiary) if c is not None))


@dataclass(slots=True)
class ServiceLine:
    """One claim service line (Loop 2400), with its reason.

    ``units`` is an integer; ``modifiers`` ordered as billed; ``revenue_code`` set on 837I;
    ``ndc`` is the 11-digit form with ``ndc_quantity``/``ndc_unit`` for Loop 2410 CTP.
    """

    code: str
    units: int
    service_date: date
    charge: Decimal
    rationale: str
    modifiers: list[str] = field(default_factory=list)
    administration_ids: list[str] = field(default_factory=list)
    revenue_code: str | None = None
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    kind: str = "admin"  # admin / drug / service / home  (not in the JSON contract)
    line_control_number: str | None = None  # assigned by the ledger when billed

    def to_dict(self) -> dict[str, Any]:
        """The line as in the ``dripline code --json`` contract."""
        return {
            "code": self.code,
            "modifiers": list(self.modifiers),
            "units": int(self.units),
            "revenue_code": self.revenue_code,
            "service_date": self.service_date.isoformat(),
            "ndc": self.ndc,
            "ndc_quantity": None if self.ndc_quantity is None else str(self.ndc_quantity),
            "ndc_unit": self.ndc_unit,
            "charge": str(self.charge.quantize(Decimal("0.01"))),
            "administration_ids": list(self.administration_ids),
            "rationale": self.rationale,
        }


@dataclass(slots=True)
class CodedEncounter:
    """The coder's result for one encounter: claim lines plus findings."""

    encounter: Encounter
    lines: list[ServiceLine]
    findings: list[Finding]

    @property
    def id(self) -> str:
        return self.encounter.id

    @property
    def claim_type(self) -> ClaimType:
        return self.encounter.claim_type

    @property
    def total_charge(self) -> Decimal:
        return sum((ln.charge for ln in self.lines), Decimal("0"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.encounter.id,
            "claim_type": self.claim_type,
            "lines": [ln.to_dict() for ln in self.lines],
            "findings": [f.to_dict() for f in self.findings],
        }
