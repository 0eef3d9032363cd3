"""Drug lines: HCPCS billing units, waste (JW/JZ), 340B (JG/TB), NDC and revenue codes.

Rules (fact base §3.3, §4; tables in ``coding/data``, see ``PROVENANCE.md``):

* **Units** = ceil(dose ÷ billing unit of the HCPCS long descriptor), after converting the dose
  to the descriptor's unit (g ↔ mg ↔ mcg; units; mL). "up to X" and "per X" descriptors bill the
  same way (one unit per X or part of X). A dose whose unit cannot be converted holds the drug with
  an ``error`` finding. All administrations of one HCPCS on one date of service go on ONE line
  (doses are summed, then rounded up; ``administration_ids`` lists them all); administrations on
  another date (an encounter spanning midnight or days) get their own line dated on that day.
* **Waste** (``wasted`` on single-dose containers): a separate JW line with
  ceil((dose + waste) ÷ unit) − ceil(dose ÷ unit) units; none when rounding already covers the
  waste, and then the administered line carries JZ as if nothing were wasted. With a JW line the
  administered line carries no JW/JZ (Noridian's worked example; fact base §4.1 [CONFLICT]).
  JW/JZ only for single-dose containers of separately payable drugs (837P: every drug;
  837I: OPPS status indicator K/K1/G); never both on one drug and date.
* **340B**: the facility's ``program_340b`` modifier (JG or TB) on separately payable drugs on
  837I only, on the administered and on the JW line. Modifiers are dated
  (:mod:`coding.modifiers`): JG ended 2024-12-31, so a JG configuration bills TB from 2025-01-01;
  JZ is not added before 2023-01-01.
* **Sources** (:func:`drug_info_on`): with loaded code sets the billing unit comes from the ASP
  dosage, then the HCPCS descriptor in effect on the date of service, then the bundled table; the
  rationale names the source ("J0174: 1 mg per unit (ASP 2026Q3)"). The NDC quantity uses the ASP
  NDC-HCPCS crosswalk's billable units per item when it knows the NDC.
* **ESA indication** (:mod:`coding.drugs.esa`): EA/EB/EC on the lines of an ESA (J0881, J0882,
  J0885, J0887, J0888, Q5105, Q5106) for payers that require it (Medicare by default), from the
  administration's ``esa_indication`` or the diagnoses; held with an ``error`` finding when it
  cannot be told. Administrations with different ``esa_indication`` are separate lines.
* **Modifier order** (:data:`MODIFIER_ORDER`): the ESA indication, then the 340B modifier, then
  JW/JZ (e.g. ``J0885-EC-JG-JZ``, ``J1745-JG-JZ``). Neither CMS nor the X12 guide fixes an order between them; we keep one.
* **NDC**: 11-digit form; ``ndc_unit`` is the payer's ``ndc_unit`` (default ``UN``). Quantity:
  for ``UN`` the number of containers (vials/syringes) when the administrations give
  ``containers`` (an extension of the contract; shared by amount between the administered and the
  JW line, 3 decimals), otherwise one NDC unit per HCPCS billing unit on the line; for
  ``ML``/``ME``/``GR``/``F2`` the amount in mL/mg/g/units when the dose converts, otherwise ``UN``
  as above. Quantity is always > 0.
* **837I revenue codes**: IV solutions ``iv_solution`` (0258); other drugs ``drug`` (0636),
  packaged drugs ``packaged_drug`` (default 0636, as CMS recommends for all HCPCS-coded drugs).
* **Charge**: chargemaster price per HCPCS billing unit × units (:func:`coding.pricing.line_charge`);
  an unpriced drug is held with an ``error`` finding.

>>> info = drug_info("J1745")
>>> info.billing_unit_value, info.billing_unit, info.opps_si, info.complex_biologic
(Decimal('10'), 'mg', 'K', True)
>>> drug_info("J1200").unit_label
'up to 50 mg'
>>> billing_units(Decimal("400"), "mg", info)
40
>>> billing_units(Decimal("0.4"), "g", info)
40
>>> billing_units(Decimal("25"), "mg", drug_info("J1200"))
1
>>> billing_units(Decimal("6"), "mg", drug_info("J2506"))
12
>>> billing_units(Decimal("5"), "mL", info) is None
True
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_CEILING, Context, Decimal
from functools import lru_cache
from pathlib import Path

from coding.codesets import NO_CODESETS, CodeSets, DosageFact
from coding.codesets.units import dosage_unit, parse_unit
from coding.config import Config, PayerProfile
from coding.drugs import esa
from coding.findings import Finding, error, warning
from coding.findings import info as info_finding
from coding.identifiers import InvalidIdentifier
from coding.identifiers import ndc as ndc_id
from coding.model import Administration, Encounter, Quantity, ServiceLine
from coding.modifiers import dated_modifier
from coding.pricing import line_charge, unit_price

DATA = Path(__file__).resolve().parent.parent / "data"

#: OPPS status indicators of separately paid drugs (JW/JZ and 340B apply on 837I).
#: K: non-pass-through drugs and biologicals; K1: same class in the 2026 legend; G: pass-through drugs.
SEPARATELY_PAYABLE_SI: frozenset[str] = frozenset({"K", "K1", "G"})

#: Billing order of drug modifiers: lower first. The ESA indication (EA/EB/EC) first, then 340B
#: (JG/TB), then the waste modifiers.
MODIFIER_ORDER: dict[str, int] = {"EA": 5, "EB": 5, "EC": 5, "JG": 10, "TB": 10, "JW": 20, "JZ": 20}

#: Dose units per kind; factors convert to the base unit of the kind (mg, units, mL).
_MASS = {"mcg": Decimal("0.001"), "mg": Decimal("1"), "g": Decimal("1000")}
_KIND = {"mcg": "mass", "mg": "mass", "g": "mass", "units": "units", "mL": "volume"}

#: NDC unit-of-measure qualifiers (837 Loop 2410 CTP05-1) and the dose unit each counts.
NDC_UNIT_BASIS = {"ML": "mL", "ME": "mg", "GR": "g", "F2": "units"}

_CTX = Context(prec=60)

#: Rationale names of the bundled table's sources (``hcpcs_drugs.csv`` column ``source``).
BUNDLED_HCPCS = "bundled HCPCS 2020"
_BUNDLED_SOURCES = {
    "hcpcs2020": BUNDLED_HCPCS,
    "opps2026q2": "bundled OPPS 2026Q2 code list",
    "infusion_drug_reference": "bundled drug reference 2026Q2",
}


@dataclass(frozen=True, slots=True)
class DrugInfo:
    """Reference data for one HCPCS drug code."""

    code: str
    billing_unit_value: Decimal | None  # None: no dosage descriptor (see parse_status)
    billing_unit: str | None  # mg / g / mcg / units / mL / each
    up_to: bool
    purpose: str
    hormonal_antineoplastic: bool
    complex_biologic: bool
    container: str  # single_dose / multi_dose / not_applicable
    is_fluid: bool
    opps_si: str | None
    opps_rate: Decimal | None
    parse_status: str = "ok"  # ok / per_item / noc / unparseable / no_descriptor
    source: str = BUNDLED_HCPCS  # where the billing unit came from, named in the line's rationale
    curated: bool = False  # the bundled unit is a curated reading of a descriptor the parser misreads

    @property
    def unit_label(self) -> str:
        """The billing unit as words ("10 mg", "up to 50 mg", "each")."""
        if self.billing_unit_value is None or self.billing_unit is None:
            return "no dosage descriptor"
        if self.billing_unit == "each":
            return "each (per vial/dose)"
        return f"{'up to ' if self.up_to else ''}{_fmt(self.billing_unit_value)} {self.billing_unit}"

    @property
    def codable_by_dose(self) -> bool:
        return self.parse_status == "ok" and self.billing_unit_value is not None


@lru_cache(maxsize=4096)
def _fmt(d: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros (1000 not 1E+3)."""
    s = format(d.normalize(), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _rows(name: str) -> Iterable[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(line for line in f if not line.startswith("#"))


@lru_cache(maxsize=1)
def _opps() -> dict[str, tuple[str, Decimal | None]]:
    out: dict[str, tuple[str, Decimal | None]] = {}
    for r in _rows("opps_2026q2.csv"):
        rate = r["payment_rate"].strip()
        out[r["code"]] = (r["status_indicator"].strip(), Decimal(rate) if rate else None)
    return out


def opps_status(code: str) -> tuple[str | None, Decimal | None]:
    """OPPS 2026-Q2 status indicator and payment rate of any code we ship (None, None if absent)."""
    return _opps().get(code.upper(), (None, None))


@lru_cache(maxsize=1)
def _purpose_table() -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    single: dict[str, dict[str, str]] = {}
    ranges: list[tuple[str, str, dict[str, str]]] = []
    for r in _rows("drug_purpose.csv"):
        lo, hi = r["code_from"].strip().upper(), r["code_to"].strip().upper()
        if lo == hi:
            single[lo] = r
        else:
            ranges.append((lo, hi, r))
    # narrower ranges first
    ranges.sort(key=lambda t: (t[0][0], int(t[1][1:]) - int(t[0][1:])))
    return single, ranges


def _purpose_row(code: str) -> dict[str, str] | None:
    single, ranges = _purpose_table()
    if code in single:
        return single[code]
    for lo, hi, r in ranges:
        if lo[0] == code[0] and lo <= code <= hi:
            return r
    return None


def default_purpose(code: str) -> str:
    """Rule when the curated table says nothing: J9xxx chemo, everything else therapeutic.

    >>> default_purpose("J9999"), default_purpose("J1745"), default_purpose("J7030")
    ('chemo', 'therapeutic', 'hydration')
    """
    row = _purpose_row(code.upper())
    if row is not None:
        return row["purpose"]
    return "chemo" if code.upper().startswith("J9") else "therapeutic"


@lru_cache(maxsize=1)
def _drug_table() -> dict[str, DrugInfo]:
    out: dict[str, DrugInfo] = {}
    opps = _opps()
    for r in _rows("hcpcs_drugs.csv"):
        code = r["code"]
        pr = _purpose_row(code)
        si, rate = opps.get(code, (None, None))
        val = r["billing_unit_value"].strip()
        out[code] = DrugInfo(
            code=code,
            billing_unit_value=Decimal(val) if val else None,
            billing_unit=r["billing_unit"].strip() or None,
            up_to=r["up_to"] == "1",
            purpose=pr["purpose"] if pr else ("chemo" if code.startswith("J9") else "therapeutic"),
            hormonal_antineoplastic=bool(pr and pr["hormonal_antineoplastic"] == "1"),
            complex_biologic=bool(pr and pr["complex_biologic"] == "1"),
            container=pr["container"] if pr else "single_dose",
            is_fluid=bool(pr and pr["is_fluid"] == "1"),
            opps_si=si or None,
            opps_rate=rate,
            parse_status=r["parse_status"],
            source=_BUNDLED_SOURCES.get(r["source"].strip(), BUNDLED_HCPCS),
            curated=r["unit_text"].strip() == "override",
        )
    return out


@lru_cache(maxsize=1)
def _code_changes() -> dict[str, tuple[date, str, str]]:
    out: dict[str, tuple[date, str, str]] = {}
    for r in _rows("drug_code_changes.csv"):
        out[r["code"].strip().upper()] = (
            date.fromisoformat(r["last_valid"].strip()),
            r["replaced_by"].strip().upper(),
            r["note"].strip(),
        )
    return out


def deleted_after(code: str) -> tuple[date, str] | None:
    """(last valid date, replacement code) for a drug code deleted since the 2020 file, else None.

    >>> deleted_after("J2505")
    (datetime.date(2021, 12, 31), 'J2506')
    >>> deleted_after("J2506") is None
    True
    """
    ch = _code_changes().get(code.upper())
    return (ch[0], ch[1]) if ch else None


def drug_info(code: str) -> DrugInfo | None:
    """Reference data for a J/Q drug code (upper/lower case), or None when not in the tables."""
    if not isinstance(code, str):
        return None
    return _drug_table().get(code.strip().upper())


def new_drug_info(code: str) -> DrugInfo:
    """Reference data for a drug code the bundled table lacks (a code newer than it): purpose and
    container from the curated ranges of ``drug_purpose.csv``, OPPS status from the bundled
    Addendum B, and no billing unit (a loaded set supplies it)."""
    code = code.strip().upper()
    pr = _purpose_row(code)
    si, rate = _opps().get(code, (None, None))
    return DrugInfo(
        code=code,
        billing_unit_value=None,
        billing_unit=None,
        up_to=False,
        purpose=pr["purpose"] if pr else ("chemo" if code.startswith("J9") else "therapeutic"),
        hormonal_antineoplastic=bool(pr and pr["hormonal_antineoplastic"] == "1"),
        complex_biologic=bool(pr and pr["complex_biologic"] == "1"),
        container=pr["container"] if pr else "single_dose",
        is_fluid=bool(pr and pr["is_fluid"] == "1"),
        opps_si=si or None,
        opps_rate=rate,
        parse_status="no_descriptor",
        source="",
    )


def drug_info_on(code: str, on: date, codesets: CodeSets = NO_CODESETS) -> DrugInfo | None:
    """A drug code's reference data with the billing unit in effect on ``on``.

    Sources in order: the loaded ASP file's "HCPCS Code Dosage", the loaded HCPCS file's long
    descriptor (skipped for the few codes whose bundled unit is a curated reading of a descriptor
    the parser misreads), then the bundled table. ``source`` names the one that answered. A code
    the bundled table lacks is known once a loaded set gives it a unit (or a NOC/per-item
    descriptor); otherwise None.
    """
    base = drug_info(code)
    if codesets is NO_CODESETS or not isinstance(code, str):
        return base
    code = code.strip().upper()
    d = codesets.dosage(code, on)
    if d is not None:
        got = _dosage_unit(d)
        if got is not None:
            return _with_unit(code, *got, "ok", d.source.label)
    cf = codesets.code(code, on)
    if cf is not None and cf.description and not (base is not None and base.curated):
        status, value, unit, up_to = _descriptor_unit(cf.description)
        if status in ("ok", "per_item", "noc"):
            return _with_unit(code, value, unit, up_to, status, cf.source.label)
    return base


@lru_cache(maxsize=8192)
def _dosage_unit(d: DosageFact) -> tuple[Decimal, str, bool] | None:
    return dosage_unit(d)


@lru_cache(maxsize=8192)
def _descriptor_unit(description: str) -> tuple[str, Decimal | None, str | None, bool]:
    status, value, unit, up_to, _ = parse_unit(" ".join(description.split()))
    return status, value, unit, up_to


@lru_cache(maxsize=8192)
def _with_unit(code: str, value: Decimal | None, unit: str | None, up_to: bool, status: str, source: str) -> DrugInfo:
    """The code's reference data with a billing unit from a loaded set (one object per fact, so
    the drug line's per-code facts are computed once)."""
    return replace(
        drug_info(code) or new_drug_info(code),
        billing_unit_value=value,
        billing_unit=unit,
        up_to=up_to,
        parse_status=status,
        source=source,
    )


def known_drug_codes() -> frozenset[str]:
    """Every drug code the shipped tables know (the loader's 'unknown drug' check)."""
    return frozenset(_drug_table())


def resolve_purpose(adm: Administration, payer: PayerProfile) -> str:
    """Purpose of an administration: explicit ``purpose`` wins; a complex biologic counts as chemo
    only when the payer's ``complex_biologic_as_chemo`` is true; otherwise the drug table default."""
    if adm.purpose:
        return adm.purpose
    info = drug_info(adm.drug)
    if info is None:
        return default_purpose(adm.drug) if isinstance(adm.drug, str) else "therapeutic"
    if info.complex_biologic and bool(payer.get("complex_biologic_as_chemo", False)):
        return "chemo"
    return info.purpose


def is_separately_payable(info: DrugInfo, claim_type: str) -> bool:
    """837P: every drug; 837I: OPPS status indicator K/K1/G (SI N and others are packaged)."""
    if claim_type == "837P":
        return True
    return (info.opps_si or "") in SEPARATELY_PAYABLE_SI


def convert(value: Decimal, unit: str, to_unit: str) -> Decimal | None:
    """Convert an amount between dose units of the same kind; None when the kinds differ.

    >>> convert(Decimal("1.5"), "g", "mg"), convert(Decimal("250"), "mcg", "mg")
    (Decimal('1500.0'), Decimal('0.250'))
    >>> convert(Decimal("5"), "mL", "mg") is None
    True
    """
    if unit == to_unit:
        return value
    k1, k2 = _KIND.get(unit), _KIND.get(to_unit)
    if k1 is None or k1 != k2:
        return None
    if k1 == "mass":
        return _CTX.divide(_CTX.multiply(value, _MASS[unit]), _MASS[to_unit])
    return value  # units/units, mL/mL


def billing_units(amount: Decimal, unit: str, info: DrugInfo) -> int | None:
    """ceil(amount ÷ billing unit) after unit conversion; None when the unit cannot convert."""
    per_unit = info.billing_unit_value
    if per_unit is None or not info.codable_by_dose:
        return None
    conv = convert(amount, unit, info.billing_unit or "")
    if conv is None:
        return None
    q = _CTX.divide(conv, per_unit)
    return int(q.to_integral_value(rounding=ROUND_CEILING))


def order_modifiers(mods: Iterable[str]) -> list[str]:
    """Drug modifiers in billing order (:data:`MODIFIER_ORDER`; unknown ones keep their place last)."""
    ms = list(dict.fromkeys(mods))
    if len(ms) < 2:
        return ms
    return sorted(ms, key=lambda m: MODIFIER_ORDER.get(m, 99))


def ndc_quantity(
    unit_pref: str,
    amount: Decimal | None,
    amount_unit: str | None,
    billed_units: int,
    containers: Decimal | None = None,
) -> tuple[Decimal, str]:
    """NDC quantity and unit for a line (see module doc); quantity > 0, at most 3 decimals.

    ``UN``: ``containers`` (vials/syringes, when the encounter gives them) else the billed units.
    ``ML``/``ME``/``GR``/``F2``: the amount in that unit when it converts, else ``UN`` as above.
    """
    basis = NDC_UNIT_BASIS.get(unit_pref)
    if basis and amount is not None and amount_unit is not None:
        conv = convert(amount, amount_unit, basis)
        if conv is not None and conv > 0:
            q = conv.quantize(Decimal("0.001"), rounding=ROUND_CEILING, context=_CTX)
            return Decimal(_fmt(q)), unit_pref
    unit = "UN" if basis else unit_pref
    if containers is not None and containers > 0:
        return Decimal(_fmt(containers)), unit
    return Decimal(max(billed_units, 1)), unit


def _items(units: int, per_item: Decimal) -> Decimal:
    """Items (vials) holding ``units`` HCPCS units at ``per_item`` units each, 3 decimals rounded up.

    >>> _items(40, Decimal(40)), _items(12, Decimal(10)), _items(1, Decimal(3))
    (Decimal('1'), Decimal('1.2'), Decimal('0.334'))
    """
    q = _CTX.divide(Decimal(units), per_item).quantize(Decimal("0.001"), rounding=ROUND_CEILING, context=_CTX)
    return Decimal(_fmt(max(q, Decimal("0.001"))))


def _split_containers(total: int, dose: Decimal, waste: Decimal) -> tuple[Decimal, Decimal]:
    """Share ``total`` containers between the administered and the JW line by amount (3 decimals,
    each share > 0, the two adding up to ``total``).

    >>> _split_containers(4, Decimal(350), Decimal(50))
    (Decimal('3.500'), Decimal('0.500'))
    """
    t = Decimal(total)
    a = (t * dose / (dose + waste)).quantize(Decimal("0.001"))
    a = min(max(a, Decimal("0.001")), t - Decimal("0.001"))
    return a, t - a


@dataclass
class _Group:
    code: str
    adms: list[tuple[int, Administration]]


def _groups(enc: Encounter) -> list[_Group]:
    """Administrations grouped by HCPCS and date of service (the start's calendar day: units given
    on different dates are billed on their own dates), groups in order of their first administration."""
    by: dict[tuple[str, date, str | None], _Group] = {}
    for i, adm in enumerate(enc.administrations):
        code = adm.drug if adm.drug.isupper() else adm.drug.strip().upper()
        key = (code, adm.start.date(), adm.esa_indication)
        g = by.get(key)
        if g is None:
            by[key] = _Group(code, [(i, adm)])
        else:
            g.adms.append((i, adm))
    groups = list(by.values())
    for g in groups:
        if len(g.adms) > 1:
            g.adms.sort(key=lambda t: (t[1].start, t[0]))
    if len(groups) > 1:
        groups.sort(key=lambda g: (g.adms[0][1].start, g.adms[0][0]))
    return groups


@dataclass(frozen=True, slots=True)
class _Static:
    """What a drug line needs that depends only on config, payer, code and claim type."""

    cfg: Config
    payer: PayerProfile
    info: DrugInfo | None
    sep: bool
    program: str | None
    rev: str | None
    pay: str
    price: Decimal | None
    ndc_pref: str
    ndc_required: bool
    deleted: tuple[date, str] | None


_STATIC: dict[tuple[int, int, str, str], _Static] = {}


def program_340b_modifier(enc: Encounter, st: _Static) -> str | None:
    """The 340B modifier for a separately payable 837I drug: the encounter's own ``program_340b``
    ("JG"/"TB", or "none" for drugs not acquired under 340B) wins over the facility setting."""
    if enc.program_340b is None or not st.sep or enc.claim_type != "837I":
        return st.program
    return None if enc.program_340b == "none" else enc.program_340b


def _static(cfg: Config, payer: PayerProfile, code: str, claim_type: str) -> _Static:
    key = (id(cfg), id(payer), code, claim_type)
    st = _STATIC.get(key)
    if st is not None and st.cfg is cfg and st.payer is payer:
        return st
    st = _make_static(cfg, payer, code, claim_type, drug_info(code))
    if len(_STATIC) > 50_000:
        _STATIC.clear()
    _STATIC[key] = st
    return st


_STATIC_LOADED: dict[tuple[int, int, str, str, int], _Static] = {}


def _static_for(cfg: Config, payer: PayerProfile, code: str, claim_type: str, info: DrugInfo | None) -> _Static:
    """:func:`_static` for reference data from a loaded set (``info`` objects are shared per fact
    by :func:`_with_unit`, so the identity keys the cache; the entry keeps them alive)."""
    key = (id(cfg), id(payer), code, claim_type, id(info))
    st = _STATIC_LOADED.get(key)
    if st is not None and st.cfg is cfg and st.payer is payer and st.info is info:
        return st
    st = _make_static(cfg, payer, code, claim_type, info)
    if len(_STATIC_LOADED) > 50_000:
        _STATIC_LOADED.clear()
    _STATIC_LOADED[key] = st
    return st


def _make_static(cfg: Config, payer: PayerProfile, code: str, claim_type: str, info: DrugInfo | None) -> _Static:
    sep = is_separately_payable(info, claim_type) if info is not None else False
    program = cfg.facility.program_340b if claim_type == "837I" and sep else None
    rev: str | None = None
    if claim_type == "837I" and info is not None:
        if info.is_fluid:
            rev = cfg.revenue_codes.get("iv_solution", "0258")
        elif sep:
            rev = cfg.revenue_codes.get("drug", "0636")
        else:
            rev = cfg.revenue_codes.get("packaged_drug", cfg.revenue_codes.get("drug", "0636"))
    si = info.opps_si if info is not None else None
    pay = (
        f"separately payable ({'837P' if claim_type == '837P' else 'OPPS SI ' + (si or '')})"
        if sep
        else f"packaged (OPPS SI {si or 'none'})"
    )
    price = unit_price(cfg, code)
    return _Static(
        cfg,
        payer,
        info,
        sep,
        program,
        rev,
        pay,
        price if price is None or price > 0 else None,
        str(payer.get("ndc_unit", "UN") or "UN").upper(),
        bool(payer.get("ndc_required", False)),
        deleted_after(code),
    )


@lru_cache(maxsize=4096)
def _ndc11(value: str) -> str | None:
    try:
        return ndc_id.to_11(value)
    except InvalidIdentifier:
        return None


def drug_lines(
    enc: Encounter, cfg: Config, payer: PayerProfile, codesets: CodeSets = NO_CODESETS
) -> tuple[list[ServiceLine], list[Finding]]:
    """Drug service lines for the encounter's administrations, plus findings (held drugs).

    ``codesets``: the loaded CMS sets; each line's billing unit, NDC quantity and modifiers come
    from the sets in effect on its date of service (the bundled tables when none is loaded)."""
    lines: list[ServiceLine] = []
    findings: list[Finding] = []
    if not enc.administrations:
        return lines, findings
    claim_type = enc.claim_type
    for g in _groups(enc):
        st = _static(cfg, payer, g.code, claim_type)
        if codesets is not NO_CODESETS:
            info = drug_info_on(g.code, g.adms[0][1].start.date(), codesets)
            if info is not st.info:
                st = _static_for(cfg, payer, g.code, claim_type, info)
        ls, fs = _drug_group_lines(enc, cfg, payer, g, st, codesets)
        if ls and esa.is_esa(g.code):
            ls, fs = _esa_modifier(enc, payer, g, ls, fs)
        lines.extend(ls)
        findings.extend(fs)
    return lines, findings


def _esa_modifier(
    enc: Encounter, payer: PayerProfile, g: _Group, ls: list[ServiceLine], fs: list[Finding]
) -> tuple[list[ServiceLine], list[Finding]]:
    """EA/EB/EC on the lines of an ESA (:mod:`coding.drugs.esa`): the administrations'
    ``esa_indication``, else from the diagnoses when the payer requires it; when it cannot be
    told the lines are held with an ``error`` finding (the payer would return them)."""
    first_i, first = g.adms[0]
    given = first.esa_indication
    if given is not None:
        mod, why = given, "esa_indication of the administration"
    elif esa.requires_indication(payer):
        got, why, problem = esa.esa_indication(enc.diagnoses)
        if got is None:
            message = (
                f"{g.code}: the ESA needs modifier EA, EB or EC and {why}; the dialysis facility bills "
                "ESAs for ESRD-related anemia under the ESRD PPS; drug line held"
                if problem == "esa-esrd-related"
                else f"{g.code}: the ESA needs modifier EA, EB or EC and it cannot be told ({why}); "
                "give esa_indication on the administration; drug line held"
            )
            return [], [
                *fs,
                error(
                    problem or "esa-indication-unknown",
                    message,
                    encounter_id=enc.id,
                    administration_id=first.id,
                    field=f"administrations[{first_i}].esa_indication",
                ),
            ]
        mod = got
    else:
        return ls, fs
    for ln in ls:
        ln.modifiers = order_modifiers([mod, *ln.modifiers])
        ln.rationale += f"; ESA indication {mod} ({why})"
    return ls, fs


def _sum_in(
    adms: Sequence[tuple[int, Administration]], attr: str, to_unit: str, enc: Encounter
) -> tuple[Decimal, list[Finding]]:
    total = Decimal(0)
    bad: list[Finding] = []
    for i, a in adms:
        q: Quantity | None = getattr(a, attr)
        if q is None:
            continue
        c = q.value if q.unit == to_unit else convert(q.value, q.unit, to_unit)
        if c is None:
            bad.append(
                error(
                    "dose-unit-mismatch",
                    f"{a.drug}: {attr} is in {q.unit} but the HCPCS billing unit is {to_unit}; "
                    f"cannot convert, drug line held",
                    encounter_id=enc.id,
                    administration_id=a.id,
                    field=f"administrations[{i}].{attr}.unit",
                )
            )
        else:
            total = _CTX.add(total, c)
    return total, bad


def _ceil_div(a: Decimal, b: Decimal) -> int:
    return int(_CTX.divide(a, b).to_integral_value(rounding=ROUND_CEILING))


def _drug_group_lines(
    enc: Encounter,
    cfg: Config,
    payer: PayerProfile,
    g: _Group,
    st: _Static | None = None,
    codesets: CodeSets = NO_CODESETS,
) -> tuple[list[ServiceLine], list[Finding]]:
    code = g.code
    if st is None:
        st = _static(cfg, payer, code, enc.claim_type)
    first_i, first = g.adms[0]
    info = st.info

    def where() -> dict[str, object]:
        return {"encounter_id": enc.id, "administration_id": first.id}

    drug_field = f"administrations[{first_i}].drug"
    if info is None:
        return [], [
            error(
                "unknown-drug",
                f"{code} is not a drug code in the HCPCS tables; drug line held",
                field=drug_field,
                **where(),
            )
        ]
    if st.deleted is not None and first.start.date() > st.deleted[0]:
        gone = st.deleted
        return [], [
            error(
                "deleted-code",
                f"{code} was deleted after {gone[0].isoformat()}; bill {gone[1]} for this service "
                "date (its billing unit differs); drug line held",
                field=drug_field,
                **where(),
            )
        ]
    findings: list[Finding] = []
    sep = st.sep
    service_date = first.start.date()
    program = program_340b_modifier(enc, st)
    dated_notes: list[str] = []
    if program:
        dm = dated_modifier(program, service_date, codesets)
        if dm.replaced is not None:
            dated_notes.append(dm.note())
            program = dm.modifier
    default_container = info.container
    single = [(i, a) for i, a in g.adms if (a.container or default_container) == "single_dose"]
    waste_jwjz = sep and not info.is_fluid and bool(single)
    any_waste = False
    for i, a in g.adms:
        if a.wasted is not None and a.wasted.value > 0:
            any_waste = True
            c = a.container or default_container
            if c != "single_dose" or not waste_jwjz:
                why = (
                    "IV solutions do not take JW"
                    if info.is_fluid
                    else "JW applies only to single-dose containers"
                    if c != "single_dose"
                    else "the drug is not separately payable on this claim (packaged)"
                )
                findings.append(
                    info_finding(
                        "waste-not-billed",
                        f"{code}: documented waste not billed: {why}",
                        encounter_id=enc.id,
                        administration_id=a.id,
                        field=f"administrations[{i}].wasted",
                    )
                )

    # --- units
    status = info.parse_status
    if status in ("unparseable", "no_descriptor") or (info.billing_unit_value is None and status != "noc"):
        return [], findings + [
            error(
                "no-billing-unit",
                f"{code}: the HCPCS descriptor has no billing unit dripline can convert a dose to "
                f"({status}); drug line held for manual coding",
                field=drug_field,
                **where(),
            )
        ]
    jw_units = 0
    jw_ids: list[str] = []
    dose_total: Decimal | None = None
    waste_total = Decimal(0)
    bu = info.billing_unit or ""
    buv = info.billing_unit_value
    if status == "noc" or bu == "each":
        if waste_jwjz and any(a.wasted is not None and a.wasted.value > 0 for _, a in single):
            waste_jwjz = False
            findings.append(
                info_finding(
                    "waste-not-billed",
                    f"{code}: waste cannot be expressed in this code's billing unit; no JW line and no JZ",
                    field=f"administrations[{first_i}].wasted",
                    **where(),
                )
            )
    if status == "noc":
        units = 1
        calc = f"{code}: not otherwise classified drug, 1 unit (no dosage descriptor; {info.source})"
        findings.append(
            warning(
                "noc-drug",
                f"{code}: unclassified drug billed as 1 unit; payers require the drug name, "
                "dose and NDC in the line note (2400 NTE / SV101-7)",
                field=drug_field,
                **where(),
            )
        )
    elif bu == "each":
        units = len(g.adms)
        calc = f"{code}: billed per vial/dose ({info.source}), {units} administration(s) = {units} unit(s)"
    else:
        assert buv is not None
        dose_total, bad = _sum_in(g.adms, "dose", bu, enc)
        if waste_jwjz and any_waste:
            waste_total, badw = _sum_in(single, "wasted", bu, enc)
        else:
            badw = []
        if bad or badw:
            return [], findings + bad + badw
        units = _ceil_div(dose_total, buv)
        if units <= 0:
            return [], findings + [
                error(
                    "zero-dose",
                    f"{code}: total dose is not positive; drug line held",
                    field=f"administrations[{first_i}].dose.value",
                    **where(),
                )
            ]
        calc = (
            f"{code}: {info.unit_label} per unit ({info.source}); {_fmt(dose_total)} {bu} ÷ {_fmt(buv)} {bu} "
            f"= {units} unit{'s' if units != 1 else ''} (rounded up)"
        )
        if len(g.adms) > 1:
            calc += f"; {len(g.adms)} administrations summed on one line"
        if waste_total > 0:
            jw_units = _ceil_div(_CTX.add(dose_total, waste_total), buv) - units
            jw_ids = [a.id for _, a in single if a.wasted is not None and a.wasted.value > 0]

    # --- modifiers
    base_mods = [program] if program else []
    if waste_jwjz:
        if jw_units > 0:
            admin_mods = base_mods
            mod_why = (
                f"single-dose, {_fmt(waste_total)} {bu} wasted → separate JW line of "
                f"{jw_units} unit{'s' if jw_units != 1 else ''}; no JW/JZ on the administered line"
            )
        else:
            admin_mods = base_mods + ["JZ"]  # already in MODIFIER_ORDER (340B before JZ)
            mod_why = (
                "single-dose, waste covered by rounding up → JZ, no JW line"
                if waste_total > 0
                else "single-dose, no waste, separately payable → JZ"
            )
    else:
        admin_mods = base_mods
        if info.is_fluid:
            mod_why = "IV solution: no JW/JZ"
        elif not sep:
            mod_why = f"OPPS SI {info.opps_si or 'none'} (packaged) → no JW/JZ"
        elif not single:
            mod_why = "multi-dose container → no JW/JZ"
        else:
            mod_why = "waste documented but not expressible in the billing unit → no JW/JZ"
    if waste_jwjz and admin_mods[-1:] == ["JZ"]:
        dz = dated_modifier("JZ", service_date, codesets)
        if dz.replaced is not None:
            admin_mods = base_mods
            dated_notes.append(dz.note())
    jw_mod: str | None = "JW"
    if jw_units > 0:
        dw = dated_modifier("JW", service_date, codesets)
        if dw.replaced is not None:
            dated_notes.append(dw.note())
            jw_mod = dw.modifier
    if program:
        mod_why += f"; 340B ({program}) on a separately payable drug"
    for note in dated_notes:
        mod_why += f"; {note}"

    # --- NDC
    ndc11: str | None = None
    ndcs: list[str] = []
    for i, a in g.adms:
        if a.ndc:
            n = _ndc11(a.ndc)
            if n is None:
                findings.append(
                    warning(
                        "invalid-ndc",
                        f"{code}: NDC is malformed and was left off the line",
                        encounter_id=enc.id,
                        administration_id=a.id,
                        field=f"administrations[{i}].ndc",
                    )
                )
            elif n not in ndcs:
                ndcs.append(n)
    if ndcs:
        ndc11 = ndcs[0]
        if len(ndcs) > 1:
            findings.append(
                warning(
                    "multiple-ndc",
                    f"{code}: {len(ndcs)} different NDCs on one line; the first is reported in "
                    "Loop 2410, the others are not",
                    field=f"administrations[{first_i}].ndc",
                    **where(),
                )
            )
    elif st.ndc_required:
        findings.append(
            warning(
                "missing-ndc",
                f"{code}: payer requires an NDC on drug lines and none was given",
                field=f"administrations[{first_i}].ndc",
                **where(),
            )
        )

    # --- charges (chargemaster price per billing unit; unpriced -> held)
    if st.price is None:
        _, f_price = line_charge(cfg, code, units, field=drug_field, **where())
        return [], findings + ([f_price] if f_price is not None else [])
    charge = st.price * units
    ids = [a.id for _, a in g.adms]
    nq = nu = None
    cont_admin = cont_jw = None
    if ndc11:
        counts = [a.containers for _, a in g.adms]
        opened = [c for c in counts if c is not None and c > 0]
        if len(opened) == len(counts):
            n_cont = sum(opened)
            cont_admin = Decimal(n_cont)
            if jw_units > 0 and dose_total is not None:
                cont_admin, cont_jw = _split_containers(n_cont, dose_total, waste_total)
        per_item = None
        if cont_admin is None and codesets is not NO_CODESETS:
            xw = codesets.ndc_units(ndc11, code, service_date)
            if xw is not None and xw.units_per_item is not None and xw.units_per_item > 0:
                per_item = xw.units_per_item
                cont_admin = _items(units, per_item)
                if jw_units > 0:
                    cont_jw = _items(jw_units, per_item)
                mod_why += (
                    f"; NDC {ndc11}: {_fmt(per_item)} HCPCS unit{'s' if per_item != 1 else ''} per item "
                    f"({xw.source.label})"
                )
        nq, nu = ndc_quantity(st.ndc_pref, dose_total, bu if dose_total is not None else None, units, cont_admin)
    lines = [
        ServiceLine(
            code=code,
            units=units,
            service_date=service_date,
            charge=charge,
            rationale=f"{calc}; {st.pay}; {mod_why}",
            modifiers=list(admin_mods),
            administration_ids=ids,
            revenue_code=st.rev,
            ndc=ndc11,
            ndc_quantity=nq,
            ndc_unit=nu,
            kind="drug",
        )
    ]
    if jw_units > 0:
        jq = ju = None
        if ndc11:
            jq, ju = ndc_quantity(st.ndc_pref, waste_total, bu, jw_units, cont_jw)
        lines.append(
            ServiceLine(
                code=code,
                units=jw_units,
                service_date=service_date,
                charge=st.price * jw_units,
                rationale=(
                    f"{code}-JW: waste {_fmt(waste_total)} {bu}: ceil(({_fmt(dose_total or Decimal(0))} + "
                    f"{_fmt(waste_total)}) ÷ {_fmt(buv or Decimal(0))}) − {units} = {jw_units} "
                    f"unit{'s' if jw_units != 1 else ''} discarded from single-dose container(s)"
                    + (f"; 340B ({program})" if program else "")
                ),
                modifiers=base_mods + ([jw_mod] if jw_mod else []),
                administration_ids=jw_ids or ids,
                revenue_code=st.rev,
                ndc=ndc11,
                ndc_quantity=jq,
                ndc_unit=ju,
                kind="drug",
            )
        )
    return lines, findings
