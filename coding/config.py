"""The TOML configuration: submitter/receiver, billing provider, facility, payer profiles,
chargemaster and revenue codes.

A rule that differs by payer is a :class:`PayerProfile` setting, never an ``if payer == ...``.
The bundled default lives in ``fixtures/dripline.toml``; ``--config PATH`` replaces it.
Problems in the file raise :class:`ConfigError` carrying every message at once (the CLI
prints them and exits 2).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "dripline.toml"

# CL101 admission type (NUBC UB-04 form locator 14): 1 emergency, 2 urgent, 3 elective,
# 4 newborn, 5 trauma, 9 information not available. A scheduled outpatient infusion is elective.
ADMISSION_TYPE_CODES = ("1", "2", "3", "4", "5", "9")
DEFAULT_ADMISSION_TYPE = "3"
# Claims in one ST..SE set: the 837 guides recommend at most 5,000 (section 1.4 batch limits).
MAX_CLAIMS_PER_TRANSACTION = 5000
# Bytes per 837 file unless [interchange] max_file_bytes says otherwise (0: no limit). About
# 4,000 claims: a batch of any length is then written, validated and recorded a bounded file at
# a time (so in bounded memory), and stays under the upload limits clearinghouses commonly set.
DEFAULT_MAX_FILE_BYTES = 5_000_000


class ConfigError(Exception):
    """The configuration cannot be used; ``messages`` lists every problem."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Party:
    """Submitter (1000A) or receiver (1000B) and the interchange ids that go with it."""

    name: str
    id: str
    qualifier: str = "ZZ"
    contact_name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ProviderAddress:
    line1: str
    city: str
    state: str
    zip: str


@dataclass(frozen=True)
class BillingProvider:
    name: str
    npi: str
    ein: str
    taxonomy: str
    address: ProviderAddress
    rendering_npi: str
    rendering_first: str = ""
    rendering_last: str = ""


@dataclass(frozen=True)
class Facility:
    """Hospital outpatient (837I) settings."""

    program_340b: str | None = None  # "JG", "TB" or None
    facility_type: str = "13"  # first two digits of type of bill (013x hospital outpatient)
    attending_npi: str | None = None
    attending_first: str = ""
    attending_last: str = ""
    admission_type_code: str = DEFAULT_ADMISSION_TYPE  # CL101 unless the payer profile sets it
    # expected payment: the Medicare PFS locality (MAC number and locality of the GPCI file) and the
    # hospital's OPPS wage index (None: OPPS rates are not wage adjusted)
    medicare_carrier: str | None = None
    medicare_locality: str | None = None
    opps_wage_index: Decimal | None = None


@dataclass(frozen=True)
class PayerProfile:
    key: str
    name: str
    payer_id: str
    filing_indicator: str  # CLM filing indicator SBR09: MB, MA, CI, MC, BL, ...
    separate_site_modifier: str = "59"
    separate_encounter_modifier: str = "XE"
    complex_biologic_as_chemo: bool = False
    home_infusion_model: str = "per_diem"  # per_diem / medicare_hit
    ndc_unit: str = "UN"
    settings: dict[str, Any] = field(default_factory=dict)  # every other key, for later rules

    def get(self, key: str, default: Any = None) -> Any:
        """Any payer-profile setting by name (known fields first, then free keys)."""
        if hasattr(self, key) and key != "settings":
            return getattr(self, key)
        return self.settings.get(key, default)


DEFAULT_REVENUE_CODES: dict[str, str] = {
    "admin": "0260",
    "chemo_iv": "0335",
    "chemo_sc_im": "0331",
    "drug": "0636",
    "iv_solution": "0258",
    "packaged_drug": "0636",
    "evaluation": "0510",
    "observation": "0762",
}


@dataclass(frozen=True)
class Limits:
    """Plausibility ceilings of the encounter loader (``[limits]`` in the TOML config).

    ``max_units``: the most HCPCS billing units one administration's dose (or waste) may come to;
    ``max_dose``: a per-drug ceiling as ``(amount, unit)``, e.g. ``J1745 = "2000 mg"``, checked
    instead of ``max_units`` for that drug; ``max_days_ahead``: how far past today a service date
    may lie; ``max_infusion_hours``: the longest infusion a volume/rate may compute.
    """

    max_units: int = 10_000
    max_dose: dict[str, tuple[Decimal, str]] = field(default_factory=dict)
    max_days_ahead: int = 366
    max_infusion_hours: int = 168


@dataclass(frozen=True)
class Config:
    submitter: Party
    receiver: Party
    billing_provider: BillingProvider
    facility: Facility
    payers: dict[str, PayerProfile]
    chargemaster: dict[str, Decimal]  # code -> price per billed unit
    revenue_codes: dict[str, str]
    usage_indicator: str = "T"  # ISA15: T test / P production
    source_path: str | None = None
    providers: dict[str, tuple[str, str]] = field(default_factory=dict)  # NPI -> (last, first) for 2310 names
    limits: Limits = field(default_factory=Limits)
    # [interchange] batch limits: claims per ST set (a payer profile may lower or raise it) and
    # bytes per file (None: no limit, from max_file_bytes = 0); the writer starts a new set / interchange before either is passed
    max_claims_per_transaction: int = MAX_CLAIMS_PER_TRANSACTION
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES

    def claims_per_transaction(self, payer_key: str) -> int:
        """Most claims one ST set for this payer may hold (payer profile, else [interchange])."""
        payer = self.payers.get(payer_key)
        value = payer.get("max_claims_per_transaction") if payer is not None else None
        return int(value) if value is not None else self.max_claims_per_transaction

    def admission_type(self, payer_key: str) -> str:
        """CL101 for this payer's 837I claims: payer profile, else the facility's code."""
        payer = self.payers.get(payer_key)
        if payer is not None:
            for key in ("admission_type_code", "admission_type"):
                if payer.get(key) is not None:
                    return str(payer.get(key))
        return self.facility.admission_type_code

    def price(self, code: str) -> Decimal | None:
        """Price per billed unit from the chargemaster, or None when the code is not priced."""
        return self.chargemaster.get(code.upper())


def _req(tbl: dict[str, Any], key: str, where: str, errs: list[str]) -> Any:
    if key not in tbl or tbl[key] in (None, ""):
        errs.append(f"config: missing '{where}.{key}'")
        return ""
    return tbl[key]


def _party(tbl: dict[str, Any], where: str, errs: list[str]) -> Party:
    return Party(
        name=str(_req(tbl, "name", where, errs)),
        id=str(_req(tbl, "id", where, errs)),
        qualifier=str(tbl.get("qualifier", "ZZ")),
        contact_name=str(tbl.get("contact_name", "")),
        phone=str(tbl.get("phone", "")),
    )


# Defaults for a payer profile that leaves them out (SBR09 claim filing indicator codes).
DEFAULT_FILING: dict[str, str] = {"medicare": "MB", "medicaid": "MC", "commercial": "CI"}
MEDICARE_FILING = frozenset({"MB", "MA"})  # Medicare Part B / Part A: the home infusion HIT benefit


def _flag(value: Any, where: str, errs: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    errs.append(f"config: {where} switches must be true or false")
    return False


def _admission_type(value: Any, where: str, errs: list[str]) -> str:
    code = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if code not in ADMISSION_TYPE_CODES:
        errs.append(f"config: {where} must be one of {', '.join(ADMISSION_TYPE_CODES)} (CL101 admission type)")
        return DEFAULT_ADMISSION_TYPE
    return code


def _whole_number(value: Any, where: str, errs: list[str], minimum: int = 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        errs.append(f"config: {where} must be a whole number of at least {minimum}")
        return None
    return value


def _payer(key: str, tbl: dict[str, Any], errs: list[str]) -> PayerProfile:
    known = {
        "name",
        "payer_id",
        "filing_indicator",
        "separate_site_modifier",
        "separate_encounter_modifier",
        "complex_biologic_as_chemo",
        "home_infusion_model",
        "ndc_unit",
    }
    where = f"payers.{key}"
    filing = str(tbl.get("filing_indicator") or DEFAULT_FILING.get(key.lower(), "CI"))
    aliases = tbl.get("payer_id_aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        errs.append(f"config: {where}.payer_id_aliases must be a list of payer ids (strings)")
    if tbl.get("home_infusion_model") not in (None, "per_diem", "medicare_hit"):
        errs.append(f'config: {where}.home_infusion_model must be "per_diem" or "medicare_hit"')
    for name in ("admission_type_code", "admission_type"):
        if name in tbl:
            _admission_type(tbl[name], f"{where}.{name}", errs)
    _whole_number(tbl.get("max_claims_per_transaction"), f"{where}.max_claims_per_transaction", errs)
    return PayerProfile(
        key=key,
        name=str(tbl.get("name") or key.upper()),
        payer_id=str(tbl.get("payer_id") or key.upper()),
        filing_indicator=filing,
        separate_site_modifier=str(tbl.get("separate_site_modifier", "59")),
        separate_encounter_modifier=str(tbl.get("separate_encounter_modifier", "XE")),
        complex_biologic_as_chemo=_flag(tbl.get("complex_biologic_as_chemo", False), where, errs),
        home_infusion_model=str(
            tbl.get("home_infusion_model") or ("medicare_hit" if filing in MEDICARE_FILING else "per_diem")
        ),
        ndc_unit=str(tbl.get("ndc_unit", "UN")),
        settings={k: v for k, v in tbl.items() if k not in known},
    )


def _chargemaster(tbl: dict[str, Any], errs: list[str]) -> dict[str, Decimal]:
    prices: dict[str, Decimal] = {}
    for code, value in tbl.items():
        try:
            prices[code.upper()] = Decimal(str(value))
        except InvalidOperation:
            errs.append(f"config: chargemaster price for '{code}' is not a number")
    return prices


_DOSE_UNITS = {"mg": "mg", "g": "g", "mcg": "mcg", "units": "units", "unit": "units", "ml": "mL"}


def _positive_int(tbl: dict[str, Any], key: str, default: int, errs: list[str]) -> int:
    v = tbl.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        errs.append(f"config: limits.{key} must be a whole number greater than zero")
        return default
    return v


def _limits(tbl: Any, errs: list[str]) -> Limits:
    if not isinstance(tbl, dict):
        errs.append("config: [limits] must be a table")
        return Limits()
    max_dose: dict[str, tuple[Decimal, str]] = {}
    md = tbl.get("max_dose", {})
    if not isinstance(md, dict):
        errs.append('config: [limits.max_dose] must be a table of HCPCS = "amount unit"')
        md = {}
    for code, text in md.items():
        parts = str(text).split()
        try:
            amount = Decimal(parts[0]) if len(parts) == 2 else Decimal("NaN")
        except InvalidOperation:
            amount = Decimal("NaN")
        unit = _DOSE_UNITS.get(parts[1].lower()) if len(parts) == 2 else None
        if not amount.is_finite() or amount <= 0 or unit is None:
            errs.append(f'config: limits.max_dose.{code} must look like "2000 mg" (mg, g, mcg, units or mL)')
            continue
        max_dose[str(code).strip().upper()] = (amount, unit)
    return Limits(
        max_units=_positive_int(tbl, "max_units", Limits.max_units, errs),
        max_dose=max_dose,
        max_days_ahead=_positive_int(tbl, "max_days_ahead", Limits.max_days_ahead, errs),
        max_infusion_hours=_positive_int(tbl, "max_infusion_hours", Limits.max_infusion_hours, errs),
    )


def parse_config(data: dict[str, Any], source: str | None = None) -> Config:
    """Build a :class:`Config` from parsed TOML; every problem is collected."""
    errs: list[str] = []
    bp = data.get("billing_provider", {})
    addr = bp.get("address", {})
    billing = BillingProvider(
        name=str(_req(bp, "name", "billing_provider", errs)),
        npi=str(_req(bp, "npi", "billing_provider", errs)),
        ein=str(_req(bp, "ein", "billing_provider", errs)),
        taxonomy=str(_req(bp, "taxonomy", "billing_provider", errs)),
        address=ProviderAddress(
            line1=str(_req(addr, "line1", "billing_provider.address", errs)),
            city=str(_req(addr, "city", "billing_provider.address", errs)),
            state=str(_req(addr, "state", "billing_provider.address", errs)),
            zip=str(_req(addr, "zip", "billing_provider.address", errs)),
        ),
        rendering_npi=str(bp.get("rendering_npi", bp.get("npi", ""))),
        rendering_first=str(bp.get("rendering_first", "")),
        rendering_last=str(bp.get("rendering_last", "")),
    )
    fac = data.get("facility", {})
    p340 = fac.get("program_340b")
    if p340 not in (None, "", "JG", "TB"):
        errs.append('config: facility.program_340b must be "JG", "TB" or absent')
    wage: Decimal | None = None
    if fac.get("opps_wage_index") not in (None, ""):
        try:
            wage = Decimal(str(fac["opps_wage_index"]))
        except InvalidOperation:
            wage = None
        if wage is None or not wage.is_finite() or wage <= 0:
            errs.append('config: facility.opps_wage_index must be a positive number such as "0.9512"')
            wage = None
    carrier = str(fac.get("medicare_carrier") or "").strip() or None
    if carrier is not None and not (carrier.isdigit() and len(carrier) == 5):
        errs.append('config: facility.medicare_carrier must be the 5-digit MAC number of the GPCI file ("06102")')
    locality = str(fac.get("medicare_locality") or "").strip() or None
    if locality is not None and not (locality.isdigit() and len(locality) <= 2):
        errs.append('config: facility.medicare_locality must be the 2-digit locality number ("16")')
    facility = Facility(
        medicare_carrier=carrier,
        medicare_locality=locality.zfill(2) if locality else None,
        opps_wage_index=wage,
        program_340b=p340 or None,
        facility_type=str(fac.get("facility_type", "13")),
        attending_npi=fac.get("attending_npi"),
        attending_first=str(fac.get("attending_first", "")),
        attending_last=str(fac.get("attending_last", "")),
        admission_type_code=_admission_type(
            fac.get("admission_type_code", DEFAULT_ADMISSION_TYPE), "facility.admission_type_code", errs
        ),
    )
    ic = data.get("interchange", {})
    per_set = _whole_number(ic.get("max_claims_per_transaction"), "interchange.max_claims_per_transaction", errs)
    # the smallest possible interchange (envelope, one ST and one claim) is well over 1 kB
    raw_bytes = ic.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)
    max_bytes = None if raw_bytes == 0 else _whole_number(raw_bytes, "interchange.max_file_bytes", errs, minimum=4096)
    payers = {k: _payer(k, v, errs) for k, v in data.get("payers", {}).items()}
    if not payers:
        errs.append("config: no [payers.*] profile defined")
    rev = dict(DEFAULT_REVENUE_CODES)
    rev.update({k: str(v) for k, v in data.get("revenue_codes", {}).items()})
    cfg = Config(
        submitter=_party(data.get("submitter", {}), "submitter", errs),
        receiver=_party(data.get("receiver", {}), "receiver", errs),
        billing_provider=billing,
        facility=facility,
        payers=payers,
        chargemaster=_chargemaster(data.get("chargemaster", {}), errs),
        revenue_codes=rev,
        usage_indicator=str(ic.get("usage_indicator", "T")),
        source_path=source,
        providers={
            str(npi): (str(v.get("last", "")), str(v.get("first", "")))
            for npi, v in data.get("providers", {}).items()
            if isinstance(v, dict)
        },
        limits=_limits(data.get("limits", {}), errs),
        max_claims_per_transaction=per_set or MAX_CLAIMS_PER_TRANSACTION,
        max_file_bytes=max_bytes,
    )
    if errs:
        raise ConfigError(errs)
    return cfg


# Tables a user config replaces whole when it has them (a facility without program_340b must
# not inherit the bundled one's; a payer list is the user's own); every other table is merged
# key by key over the bundled default, so a config may give only what differs.
REPLACED_TABLES = frozenset({"payers", "facility"})


def merge_over_default(user: dict[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    """The user's config over the bundled default (see ``REPLACED_TABLES``).

    >>> merge_over_default({"chargemaster": {"J1745": 9}, "payers": {"x": {}}},
    ...                    {"chargemaster": {"96365": 1}, "payers": {"y": {}}, "facility": {"a": 1}})
    {'chargemaster': {'96365': 1, 'J1745': 9}, 'payers': {'x': {}}, 'facility': {'a': 1}}
    """
    merged: dict[str, Any] = {}
    for key in default.keys() | user.keys():
        d, u = default.get(key), user.get(key)
        if key not in user:
            merged[key] = d
        elif key in REPLACED_TABLES or not (isinstance(d, dict) and isinstance(u, dict)):
            merged[key] = u
        else:
            merged[key] = merge_over_default(u, d)
    order = list(default) + [k for k in user if k not in default]
    return {k: merged[k] for k in order}


def _read_toml(p: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"config file not found: {p}"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"config file {p} is not valid TOML: {exc}"]) from None
    except IsADirectoryError:
        raise ConfigError([f"config path {p} is a directory, not a TOML file"]) from None


def load_config(path: str | Path | None = None) -> Config:
    """Read the TOML config: the bundled default when ``path`` is None, else the given file
    merged over the bundled default (so a config may give only what differs)."""
    default = _read_toml(DEFAULT_CONFIG_PATH)
    if not path or Path(path).resolve() == DEFAULT_CONFIG_PATH:
        return parse_config(default, str(DEFAULT_CONFIG_PATH))
    p = Path(path)
    return parse_config(merge_over_default(_read_toml(p), default), str(p))
