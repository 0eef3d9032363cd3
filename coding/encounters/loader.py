"""Encounter input: read and validate the contract of ``docs/encounter-format.md``.

:func:`load_encounters` reads JSON (``{"encounters": [...]}``, a list, or one encounter object),
JSON Lines (one encounter per line) or a directory (every ``*.json`` / ``*.jsonl`` in it, sorted;
other files such as the TOML config are ignored). It validates EVERYTHING at once and returns
``(encounters, findings)``: every problem is an ``error`` finding naming the file, the encounter
id and the field (``administrations[1].end``); an encounter with any error is reported and not
returned for coding. Unknown extra fields are ignored. Extension (optional, beyond the contract):
``administrations[].containers``, the number of vials/syringes opened, used as the NDC quantity
in ``UN``. :class:`EncounterStream` (:func:`iter_encounters`) gives the same encounters and findings one at a
time: JSON Lines files are read line by line, never whole, so a large batch needs memory for one
encounter at a time. It never raises on bad data (junk, huge
numbers, unicode, non-objects); only programming errors would escape. Messages name the field,
never echo patient data.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from coding.codesets import NO_CODESETS, CodeSets
from coding.config import Config, Limits
from coding.drugs.lines import billing_units, convert, drug_info, drug_info_on
from coding.findings import Finding, error, info
from coding.identifiers import hcpcs, icd10cm, ndc, npi
from coding.model import (
    PURPOSES,
    QUANTITY_UNITS,
    ROUTES,
    SETTINGS,
    Address,
    Administration,
    Coverage,
    Encounter,
    NursingVisit,
    Patient,
    Quantity,
    Service,
    Therapy,
)

CONTAINERS = ("single_dose", "multi_dose")
SEXES = ("M", "F", "U")
FREQUENCIES = ("1", "7", "8")
THERAPY_CATEGORIES = (
    "anti_infective",
    "immunotherapy",
    "chemotherapy",
    "pain_management",
    "inotrope",
    "corticosteroid",
    "hydration",
    "other",
)
SCHEDULES = ("q24h", "q12h", "q8h", "q6h", "q4h", "q3h", "continuous", "other")
RELATIONSHIPS = (
    "self",
    "spouse",
    "child",
    "employee",
    "life_partner",
    "other",
    "unknown",
    "organ_donor",
    "cadaver_donor",
    "18",
    "01",
    "19",
    "20",
    "21",
    "39",
    "40",
    "53",
    "G8",
)
MAX_ID_LEN = 20  # CLM01 patient control number
MAX_AMOUNT = Decimal("1e9")  # no dose, volume or rate is larger; guards arithmetic on junk
MAX_UNITS = 99_999
_UNIT_ALIASES = {
    "ml": "mL",
    "cc": "mL",
    "unit": "units",
    "iu": "units",
    "units": "units",
    "mg": "mg",
    "g": "g",
    "mcg": "mcg",
}
_MOD = re.compile(r"^[A-Z0-9]{2}$")
_POS = re.compile(r"^[0-9]{2}$")
_ZIP = re.compile(r"^[0-9]{5}(?:-?[0-9]{4})?$")
_STATE = re.compile(r"^[A-Za-z]{2}$")
_CTRL = re.compile(r"[\x00-\x1f\x7f]")
# ids and labels: letters, digits and a few punctuation marks; nothing that is markup in a
# terminal or HTML (``[ ] < > &``) or a separator in X12 (``* ~ : ^ |``)
_ID = re.compile(r"^[^\W_][\w ./#-]*$")
# UTF-16 surrogates (a lone one cannot be written as UTF-8) and the noncharacters U+FFFE/U+FFFF
_UNENCODABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
ESA_INDICATIONS = ("EA", "EB", "EC")
EARLIEST_SERVICE_YEAR = 1900


@lru_cache(maxsize=4096)
def _drug_code(raw: str) -> tuple[str | None, str | None]:
    """(normalized code, None) for a known drug code, else (None, finding code)."""
    try:
        code = hcpcs.validate(raw)
    except hcpcs.InvalidIdentifier:
        return None, "invalid-hcpcs"
    return (code, None) if drug_info(code) is not None else (None, "unknown-drug")


@lru_cache(maxsize=8192)
def _icd(raw: str) -> str | None:
    return icd10cm.validate(raw) if icd10cm.is_valid(raw) else None


@lru_cache(maxsize=4096)
def _npi(raw: str) -> str | None:
    return npi.validate(raw) if npi.is_valid(raw) else None


class _Bad(Exception):
    """Internal: a value failed validation (already reported)."""


@dataclass
class _Ctx:
    """Collects findings for one encounter."""

    file: str | None
    line: int | None
    enc_id: str | None
    index: int = 0
    findings: list[Finding] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    codesets: CodeSets = NO_CODESETS

    def err(self, code: str, fld: str, message: str, adm: str | None = None) -> None:
        if self.enc_id is None:  # no usable id: name the record's position instead
            message = f"encounters[{self.index}]: {message}"
        self.findings.append(
            error(
                code,
                message,
                encounter_id=self.enc_id,
                administration_id=adm,
                field=fld,
                file=self.file,
                line=self.line,
            )
        )


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, Decimal, float)) and not isinstance(v, bool)


def _absent(ctx: _Ctx, obj: dict, key: str, path: str, required: bool, adm: str | None) -> bool:
    """True when ``key`` is missing or null; reports it when the field is required."""
    if key in obj and obj[key] is not None:
        return False
    if required:
        ctx.err("missing-field", path, f"{path} is required", adm)
    return True


def _dec(
    ctx: _Ctx,
    obj: dict,
    key: str,
    path: str,
    *,
    required: bool,
    positive: bool = True,
    allow_zero: bool = False,
    adm: str | None = None,
) -> Decimal | None:
    if _absent(ctx, obj, key, path, required, adm):
        return None
    v = obj[key]
    try:
        if isinstance(v, str) and v.strip():
            d = Decimal(v.strip())
        elif _is_num(v):
            d = Decimal(str(v)) if isinstance(v, float) else Decimal(v)
        else:
            raise InvalidOperation
        if not d.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        ctx.err("bad-number", path, f"{path} must be a number", adm)
        return None
    if d < 0 or (positive and not allow_zero and d == 0):
        ctx.err("bad-number", path, f"{path} must be {'zero or more' if allow_zero else 'greater than zero'}", adm)
        return None
    if d > MAX_AMOUNT:
        ctx.err("bad-number", path, f"{path} is implausibly large", adm)
        return None
    return d


def _str(
    ctx: _Ctx, obj: dict, key: str, path: str, *, required: bool, adm: str | None = None, max_len: int = 200
) -> str | None:
    if key not in obj or obj[key] is None or (isinstance(obj[key], str) and not obj[key].strip()):
        if required:
            ctx.err("missing-field", path, f"{path} is required", adm)
        return None
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        ctx.err("bad-value", path, f"{path} must be a string", adm)
        return None
    s = str(v).strip()
    if len(s) > max_len:
        ctx.err("bad-value", path, f"{path} is longer than {max_len} characters", adm)
        return None
    if _CTRL.search(s):
        ctx.err("bad-value", path, f"{path} contains control characters", adm)
        return None
    if _UNENCODABLE.search(s):
        ctx.err("bad-text", path, f"{path} contains characters that cannot be encoded (lone surrogates)", adm)
        return None
    return s


def _ident(
    ctx: _Ctx, obj: dict, key: str, path: str, *, required: bool, adm: str | None = None, max_len: int = 50
) -> str | None:
    """An id or label: :func:`_str` plus the :data:`_ID` character set (a finding otherwise)."""
    s = _str(ctx, obj, key, path, required=required, adm=adm, max_len=max_len)
    if s is not None and not _ID.match(s):
        ctx.err(
            "bad-id",
            path,
            f"{path} may hold only letters, digits, spaces and . _ / # - (starting with a letter or digit)",
            adm,
        )
        return None
    return s


def _enum(
    ctx: _Ctx,
    obj: dict,
    key: str,
    path: str,
    allowed: Sequence[str],
    *,
    required: bool,
    adm: str | None = None,
    default: str | None = None,
) -> str | None:
    if key not in obj or obj[key] is None:
        if required:
            ctx.err("missing-field", path, f"{path} is required", adm)
        return default
    v = obj[key]
    s = str(v) if isinstance(v, (str, int)) and not isinstance(v, bool) else None
    if s is None or s not in allowed:
        ctx.err("bad-value", path, f"{path} must be one of: {', '.join(allowed)}", adm)
        return default
    return s


def _bool(ctx: _Ctx, obj: dict, key: str, path: str, adm: str | None = None) -> bool | None:
    if key not in obj or obj[key] is None:
        return None
    if not isinstance(obj[key], bool):
        ctx.err("bad-value", path, f"{path} must be true or false", adm)
        return None
    return obj[key]


def _datetime(ctx: _Ctx, obj: dict, key: str, path: str, *, required: bool, adm: str | None = None) -> datetime | None:
    if _absent(ctx, obj, key, path, required, adm):
        return None
    v = obj[key]
    try:
        if not isinstance(v, str) or len(v.strip()) < 16 or len(v) > 40:
            raise ValueError  # a date alone is not a date-time
        d = datetime.fromisoformat(v.strip())
    except ValueError:
        ctx.err("bad-datetime", path, f"{path} must be a local date-time like 2026-03-02T10:00", adm)
        return None
    if d.tzinfo is not None:
        ctx.err("bad-datetime", path, f"{path} must be a local date-time without a time zone", adm)
        return None
    return d


def _date(ctx: _Ctx, obj: dict, key: str, path: str, *, required: bool, adm: str | None = None) -> date | None:
    if _absent(ctx, obj, key, path, required, adm):
        return None
    v = obj[key]
    try:
        if not isinstance(v, str) or len(v.strip()) != 10:
            raise ValueError
        return date.fromisoformat(v.strip())
    except ValueError:
        ctx.err("bad-date", path, f"{path} must be a date like 2026-03-02", adm)
        return None


def _obj(ctx: _Ctx, parent: dict, key: str, path: str, *, required: bool, adm: str | None = None) -> dict | None:
    if _absent(ctx, parent, key, path, required, adm):
        return None
    if not isinstance(parent[key], dict):
        ctx.err("bad-value", path, f"{path} must be an object", adm)
        return None
    return parent[key]


def _list(ctx: _Ctx, parent: dict, key: str, path: str, *, required: bool) -> list | None:
    if _absent(ctx, parent, key, path, required, None):
        return None
    if not isinstance(parent[key], list):
        ctx.err("bad-value", path, f"{path} must be a list", None)
        return None
    return parent[key]


def _quantity(
    ctx: _Ctx, parent: dict, key: str, path: str, *, required: bool, adm: str | None = None, allow_zero: bool = False
) -> Quantity | None:
    q = _obj(ctx, parent, key, path, required=required, adm=adm)
    if q is None:
        return None
    value = _dec(ctx, q, "value", f"{path}.value", required=True, allow_zero=allow_zero, adm=adm)
    unit_raw = q.get("unit")
    unit = None
    if unit_raw is None:
        ctx.err("missing-field", f"{path}.unit", f"{path}.unit is required", adm)
    elif isinstance(unit_raw, str) and (unit_raw in QUANTITY_UNITS or unit_raw.strip().lower() in _UNIT_ALIASES):
        unit = unit_raw if unit_raw in QUANTITY_UNITS else _UNIT_ALIASES[unit_raw.strip().lower()]
    else:
        ctx.err("bad-unit", f"{path}.unit", f"{path}.unit must be one of: {', '.join(QUANTITY_UNITS)}", adm)
    if value is None or unit is None:
        return None
    return Quantity(value, unit)


def _ndc(ctx: _Ctx, obj: dict, path: str, adm: str | None) -> str | None:
    raw = obj.get("ndc")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not ndc.is_valid(raw):
        reason = "must be 11 digits, or 10 digits in dashed 4-4-2, 5-3-2 or 5-4-1 segments"
        if isinstance(raw, str):
            try:
                ndc.validate(raw)
            except ndc.InvalidIdentifier as exc:
                reason = str(exc)
        ctx.err("invalid-ndc", path, f"{path} is not a valid NDC: {reason}", adm)
        return None
    return raw.strip()


def _drug(ctx: _Ctx, obj: dict, path: str, adm: str | None) -> str | None:
    raw = _str(ctx, obj, "drug", path, required=True, adm=adm, max_len=10)
    if raw is None:
        return None
    code, problem = _drug_code(raw)
    if problem == "invalid-hcpcs":
        ctx.err("invalid-hcpcs", path, f"{path} is not a HCPCS code (letter + 4 digits, e.g. J1745)", adm)
        return None
    if problem == "unknown-drug" and ctx.codesets is not NO_CODESETS:
        known = _loaded_drug(ctx, obj, raw, path, adm)
        if known is not None:
            return known
    if problem == "unknown-drug":
        ctx.err("unknown-drug", path, f"{path}: {hcpcs.compact(raw)} is not a drug code in the HCPCS J/Q tables", adm)
        return None
    return code


def _loaded_drug(ctx: _Ctx, obj: dict, raw: str, path: str, adm: str | None) -> str | None:
    """A drug code newer than the bundled table that a loaded set gives a billing unit for on the
    administration's date (its ``start``; a bad start is reported by its own check)."""
    try:
        code = hcpcs.validate(raw)
    except hcpcs.InvalidIdentifier:
        return None
    quiet = _Ctx(ctx.file, ctx.line, ctx.enc_id, ctx.index)
    start = _datetime(quiet, obj, "start", path, required=True, adm=adm)
    if start is None:
        return None
    return code if drug_info_on(code, start.date(), ctx.codesets) is not None else None


def _patient(ctx: _Ctx, p: dict, path: str) -> Patient | None:
    pid = _str(ctx, p, "id", f"{path}.id", required=True, max_len=80)
    first = _str(ctx, p, "first", f"{path}.first", required=True, max_len=60)
    last = _str(ctx, p, "last", f"{path}.last", required=True, max_len=60)
    dob = _date(ctx, p, "dob", f"{path}.dob", required=True)
    sx = p.get("sex")
    sex = _enum(
        ctx, {"sex": sx.strip().upper() if isinstance(sx, str) else sx}, "sex", f"{path}.sex", SEXES, required=True
    )
    member = _str(ctx, p, "member_id", f"{path}.member_id", required=True, max_len=80)
    a = _obj(ctx, p, "address", f"{path}.address", required=True)
    addr = None
    if a is not None:
        l1 = _str(ctx, a, "line1", f"{path}.address.line1", required=True, max_len=55)
        l2 = _str(ctx, a, "line2", f"{path}.address.line2", required=False, max_len=55)
        city = _str(ctx, a, "city", f"{path}.address.city", required=True, max_len=30)
        state = _str(ctx, a, "state", f"{path}.address.state", required=True, max_len=2)
        zp = _str(ctx, a, "zip", f"{path}.address.zip", required=True, max_len=10)
        if state is not None and not _STATE.match(state):
            ctx.err("bad-value", f"{path}.address.state", f"{path}.address.state must be a 2-letter code")
            state = None
        if zp is not None and not _ZIP.match(zp):
            ctx.err("bad-value", f"{path}.address.zip", f"{path}.address.zip must be 5 or 9 digits")
            zp = None
        if l1 is not None and city is not None and state is not None and zp is not None:
            addr = Address(l1, city, state.upper(), zp.replace("-", ""), l2)
    if dob is not None and dob > date.today():
        ctx.err("bad-date", f"{path}.dob", f"{path}.dob is in the future")
        dob = None
    if pid is None or first is None or last is None or dob is None or sex is None or member is None or addr is None:
        return None
    return Patient(pid, first, last, dob, sex, member, addr)


def _coverage(ctx: _Ctx, raw: dict, key: str, primary: str | None, cfg: Config) -> Coverage | None:
    """``secondary`` / ``tertiary``: ``{"payer", "member_id"}`` plus ``relationship`` and
    ``subscriber`` when the insured of that plan is not the patient (the subscriber's member id
    defaults to the coverage's)."""
    obj = _obj(ctx, raw, key, key, required=False)
    if obj is None:
        return None
    before = len(ctx.findings)
    payer = _str(ctx, obj, "payer", f"{key}.payer", required=True, max_len=60)
    if payer is not None and payer not in cfg.payers:
        ctx.err(
            "unknown-payer",
            f"{key}.payer",
            f"{key}.payer is not a payer profile in the config (known: {', '.join(sorted(cfg.payers))})",
        )
    elif payer is not None and payer == primary:
        ctx.err("bad-value", f"{key}.payer", f"{key}.payer is the primary payer again")
    member = _str(ctx, obj, "member_id", f"{key}.member_id", required=True, max_len=80)
    rel = _enum(ctx, obj, "relationship", f"{key}.relationship", RELATIONSHIPS, required=False, default="self")
    subscriber = None
    if rel not in (None, "self", "18") or obj.get("subscriber") is not None:
        sobj = _obj(ctx, obj, "subscriber", f"{key}.subscriber", required=rel not in (None, "self", "18"))
        if sobj is not None:
            sub = dict(sobj)
            if sub.get("member_id") in (None, "") and member is not None:
                sub["member_id"] = member
            subscriber = _patient(ctx, sub, f"{key}.subscriber")
    if len(ctx.findings) > before or payer is None or member is None:
        return None
    return Coverage(payer, member, rel or "self", subscriber)


def _administration(ctx: _Ctx, a: Any, i: int) -> Administration | None:
    path = f"administrations[{i}]"
    if not isinstance(a, dict):
        ctx.err("bad-value", path, f"{path} must be an object")
        return None
    n0 = len(ctx.findings)
    aid = _ident(ctx, a, "id", f"{path}.id", required=True, max_len=50)
    drug = _drug(ctx, a, f"{path}.drug", aid)
    route = _enum(ctx, a, "route", f"{path}.route", ROUTES, required=True, adm=aid)
    purpose = _enum(ctx, a, "purpose", f"{path}.purpose", PURPOSES, required=False, adm=aid)
    start = _datetime(ctx, a, "start", f"{path}.start", required=True, adm=aid)
    end = _datetime(ctx, a, "end", f"{path}.end", required=False, adm=aid)
    if start is not None and end is not None and end < start:
        ctx.err("end-before-start", f"{path}.end", f"{path}.end is before {path}.start", aid)
    vol = _dec(ctx, a, "volume_ml", f"{path}.volume_ml", required=False, adm=aid)
    rate = _dec(ctx, a, "rate_ml_per_hr", f"{path}.rate_ml_per_hr", required=False, adm=aid)
    if end is None and vol is not None and rate is not None and rate > 0:
        hours = vol / rate  # Decimal: no float overflow whatever the magnitudes
        if hours > ctx.limits.max_infusion_hours:
            ctx.err(
                "implausible-duration",
                f"{path}.rate_ml_per_hr",
                f"{path}: volume_ml / rate_ml_per_hr gives an infusion of more than "
                f"{ctx.limits.max_infusion_hours} hours",
                aid,
            )
    dose = _quantity(ctx, a, "dose", f"{path}.dose", required=True, adm=aid)
    wasted = _quantity(ctx, a, "wasted", f"{path}.wasted", required=False, adm=aid, allow_zero=True)
    container = _enum(ctx, a, "container", f"{path}.container", CONTAINERS, required=False, adm=aid)
    nd = _ndc(ctx, a, f"{path}.ndc", aid)
    containers = None
    if a.get("containers") is not None:
        c = a["containers"]
        if not (isinstance(c, int) and not isinstance(c, bool)) or not 1 <= c <= 9999:
            ctx.err("bad-number", f"{path}.containers", f"{path}.containers must be a whole number from 1 to 9999", aid)
        else:
            containers = c
    access = _str(ctx, a, "access", f"{path}.access", required=False, adm=aid, max_len=20) or "A"
    ssr = _str(ctx, a, "separate_site_reason", f"{path}.separate_site_reason", required=False, adm=aid, max_len=500)
    visit = _str(ctx, a, "visit", f"{path}.visit", required=False, adm=aid, max_len=20) or "1"
    bag = _ident(ctx, a, "bag", f"{path}.bag", required=False, adm=aid, max_len=30)
    esa = _enum(ctx, a, "esa_indication", f"{path}.esa_indication", ESA_INDICATIONS, required=False, adm=aid)
    if drug is not None:
        _check_dose(ctx, drug, dose, f"{path}.dose", aid)
        _check_dose(ctx, drug, wasted, f"{path}.wasted", aid)
    if len(ctx.findings) != n0 or aid is None or drug is None or route is None or start is None or dose is None:
        return None
    return Administration(
        id=aid,
        drug=drug,
        route=route,
        start=start,
        dose=dose,
        end=end,
        ndc=nd,
        purpose=purpose,
        volume_ml=vol,
        rate_ml_per_hr=rate,
        wasted=wasted,
        container=container,
        access=access,
        separate_site_reason=ssr,
        visit=visit,
        containers=containers,
        bag=bag,
        esa_indication=esa,
    )


def _service(ctx: _Ctx, s: Any, i: int) -> Service | None:
    path = f"services[{i}]"
    if not isinstance(s, dict):
        ctx.err("bad-value", path, f"{path} must be an object")
        return None
    n0 = len(ctx.findings)
    code = _str(ctx, s, "code", f"{path}.code", required=True, max_len=10)
    if code is not None and not hcpcs.is_valid(code):
        ctx.err("invalid-hcpcs", f"{path}.code", f"{path}.code is not a CPT/HCPCS code")
        code = None
    units = 1
    if s.get("units") is not None:
        u = s["units"]
        if not (isinstance(u, int) and not isinstance(u, bool)) or not 1 <= u <= MAX_UNITS:
            ctx.err("bad-number", f"{path}.units", f"{path}.units must be a whole number from 1 to {MAX_UNITS}")
        else:
            units = u
    mods: list[str] = []
    if s.get("modifiers") is not None:
        m = s["modifiers"]
        if not isinstance(m, list) or len(m) > 4:
            ctx.err("bad-value", f"{path}.modifiers", f"{path}.modifiers must be a list of at most 4 modifiers")
        else:
            for j, x in enumerate(m):
                if not isinstance(x, str) or not _MOD.match(x.strip().upper()):
                    ctx.err("bad-value", f"{path}.modifiers[{j}]", f"{path}.modifiers[{j}] must be 2 letters/digits")
                else:
                    mods.append(x.strip().upper())
    sep = _bool(ctx, s, "separately_identifiable", f"{path}.separately_identifiable")
    if len(ctx.findings) != n0 or code is None:
        return None
    return Service(code=hcpcs.validate(code), units=units, modifiers=tuple(mods), separately_identifiable=bool(sep))


def _therapy(ctx: _Ctx, t: Any, i: int) -> Therapy | None:
    path = f"therapies[{i}]"
    if not isinstance(t, dict):
        ctx.err("bad-value", path, f"{path} must be an object")
        return None
    n0 = len(ctx.findings)
    tid = _ident(ctx, t, "id", f"{path}.id", required=True, max_len=50)
    cat = _enum(ctx, t, "category", f"{path}.category", THERAPY_CATEGORIES, required=True)
    sched = _enum(ctx, t, "schedule", f"{path}.schedule", SCHEDULES, required=False, default="q24h")
    sd = _date(ctx, t, "start_date", f"{path}.start_date", required=True)
    ed = _date(ctx, t, "end_date", f"{path}.end_date", required=True)
    if sd is not None and ed is not None and ed < sd:
        ctx.err("end-before-start", f"{path}.end_date", f"{path}.end_date is before {path}.start_date")
    drug = _drug(ctx, t, f"{path}.drug", None)
    nd = _ndc(ctx, t, f"{path}.ndc", None)
    dose = _quantity(ctx, t, "dose", f"{path}.dose", required=True)
    if drug is not None:
        _check_dose(ctx, drug, dose, f"{path}.dose", None)
    dpd = None
    if t.get("doses_per_day") is not None:
        v = t["doses_per_day"]
        if not (isinstance(v, int) and not isinstance(v, bool)) or not 1 <= v <= 48:
            ctx.err("bad-number", f"{path}.doses_per_day", f"{path}.doses_per_day must be a whole number from 1 to 48")
        else:
            dpd = v
    pump = _bool(ctx, t, "pump", f"{path}.pump")
    if len(ctx.findings) != n0:
        return None
    # A required field that is missing or bad has added a finding above.
    assert tid is not None and cat is not None and sd is not None and ed is not None
    assert drug is not None and dose is not None
    return Therapy(
        id=tid,
        category=cat,
        start_date=sd,
        end_date=ed,
        drug=drug,
        dose=dose,
        schedule=sched or "q24h",
        ndc=nd,
        doses_per_day=dpd,
        pump=bool(pump),
    )


def _check_bags(ctx: _Ctx, adms: list[tuple[int, Administration]]) -> None:
    """Administrations with one ``bag`` label were mixed in one bag or syringe: they must share
    route, start, end, visit and access site (a ``bag-mismatch`` error names the first that does not)."""
    first: dict[str, Administration] = {}
    for i, a in adms:
        if a.bag is None:
            continue
        f = first.setdefault(a.bag, a)
        if f is a:
            continue
        for attr in ("route", "start", "end", "visit", "access"):
            if getattr(a, attr) != getattr(f, attr):
                ctx.err(
                    "bag-mismatch",
                    f"administrations[{i}].{attr}",
                    f"administrations[{i}].{attr} differs from the other administration mixed in the same bag",
                    a.id,
                )
                break


def _check_dose(ctx: _Ctx, drug: str, q: Quantity | None, path: str, adm: str | None) -> None:
    """A dose or waste beyond the drug's configured ``limits.max_dose``, or (without one) beyond
    ``limits.max_units`` HCPCS billing units, is an ``implausible-dose`` error."""
    if q is None:
        return
    lim = ctx.limits
    ceiling = lim.max_dose.get(drug)
    if ceiling is not None:
        conv = convert(q.value, q.unit, ceiling[1])
        if conv is not None and conv > ceiling[0]:
            ctx.err(
                "implausible-dose",
                path,
                f"{path} is more than the configured largest dose of {drug} (limits.max_dose)",
                adm,
            )
        return
    inf = drug_info(drug)
    units = billing_units(q.value, q.unit, inf) if inf is not None else None
    if units is not None and units > lim.max_units:
        ctx.err(
            "implausible-dose",
            path,
            f"{path} comes to more than {lim.max_units} billing units of {drug} (limits.max_units)",
            adm,
        )


def _check_dates(
    ctx: _Ctx,
    patient: Patient | None,
    adms: list[Administration],
    therapies: list[Therapy],
    visits: list[NursingVisit],
) -> None:
    """Service dates: not before :data:`EARLIEST_SERVICE_YEAR`, not more than
    ``limits.max_days_ahead`` days after today, not before the patient's date of birth."""
    dated: list[tuple[str, date, str | None]] = []
    for i, a in enumerate(adms):
        dated.append((f"administrations[{i}].start", a.start.date(), a.id))
        if a.end is not None:
            dated.append((f"administrations[{i}].end", a.end.date(), a.id))
    for i, t in enumerate(therapies):
        dated.append((f"therapies[{i}].start_date", t.start_date, None))
        dated.append((f"therapies[{i}].end_date", t.end_date, None))
    for i, v in enumerate(visits):
        dated.append((f"nursing_visits[{i}].start", v.start.date(), None))
        dated.append((f"nursing_visits[{i}].end", v.end.date(), None))
    today = date.today()
    ahead = ctx.limits.max_days_ahead
    latest = date.max if (date.max - today).days <= ahead else today + timedelta(days=ahead)
    dob_reported = False
    for path, d, adm in dated:
        if d.year < EARLIEST_SERVICE_YEAR:
            ctx.err("implausible-date", path, f"{path} is before {EARLIEST_SERVICE_YEAR}", adm)
        elif d > latest:
            ctx.err("implausible-date", path, f"{path} is more than {ahead} days in the future", adm)
        elif patient is not None and d < patient.dob and not dob_reported:
            ctx.err("dob-after-service", "patient.dob", f"patient.dob is after the service date {path}", adm)
            dob_reported = True


MAX_DEPTH = 16  # the contract nests 4 levels deep (encounter > administrations > [i] > dose)


def nesting_depth(obj: Any, limit: int = MAX_DEPTH) -> int:
    """Depth of nested lists/objects, counted without recursion and stopping past ``limit``.

    >>> nesting_depth({"a": [1, {"b": []}]}), nesting_depth([[[[]]]], limit=2)
    (4, 3)
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if not isinstance(o, (dict, list)):
            continue
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return deepest


def validate_encounter(
    raw: Any,
    cfg: Config,
    *,
    file: str | None = None,
    line: int | None = None,
    index: int = 0,
    codesets: CodeSets = NO_CODESETS,
) -> tuple[Encounter | None, list[Finding]]:
    """Validate one encounter object; ``(Encounter, [])`` or ``(None, findings)``.

    ``codesets``: loaded CMS sets; a drug code the bundled table lacks is accepted when a set in
    effect on the administration's date gives it a billing unit."""
    if not isinstance(raw, dict):
        ctx = _Ctx(file, line, None, index)
        ctx.err("bad-value", f"encounters[{index}]", "an encounter must be a JSON object")
        return None, ctx.findings
    if nesting_depth(raw) > MAX_DEPTH:  # unknown fields are ignored, but not kept this deep
        ctx = _Ctx(file, line, None, index)
        ctx.err("too-deep", f"encounters[{index}]", f"the encounter nests lists/objects more than {MAX_DEPTH} deep")
        return None, ctx.findings
    ctx = _Ctx(file, line, None, index, limits=cfg.limits, codesets=codesets)
    eid = _ident(ctx, raw, "id", "id", required=True, max_len=MAX_ID_LEN)
    ctx.enc_id = eid
    setting = _enum(ctx, raw, "setting", "setting", SETTINGS, required=True)
    pos = None
    if raw.get("place_of_service") is not None:
        p = raw["place_of_service"]
        p = str(p).zfill(2) if isinstance(p, int) and not isinstance(p, bool) else p
        if not isinstance(p, str) or not _POS.match(p.strip()):
            ctx.err("bad-value", "place_of_service", "place_of_service must be a 2-digit code")
        else:
            pos = p.strip()
    payer = _str(ctx, raw, "payer", "payer", required=True, max_len=60)
    if payer is not None and payer not in cfg.payers:
        ctx.err(
            "unknown-payer",
            "payer",
            f"payer is not a payer profile in the config (known: {', '.join(sorted(cfg.payers))})",
        )
        payer = None
    pobj = _obj(ctx, raw, "patient", "patient", required=True)
    patient = _patient(ctx, pobj, "patient") if pobj is not None else None
    relationship = _enum(ctx, raw, "relationship", "relationship", RELATIONSHIPS, required=False, default="self")
    subscriber = None
    if relationship not in (None, "self", "18"):
        sobj = _obj(ctx, raw, "subscriber", "subscriber", required=True)
        subscriber = _patient(ctx, sobj, "subscriber") if sobj is not None else None
    elif raw.get("subscriber") is not None:
        sobj = _obj(ctx, raw, "subscriber", "subscriber", required=False)
        subscriber = _patient(ctx, sobj, "subscriber") if sobj is not None else None
    secondary = _coverage(ctx, raw, "secondary", payer, cfg)
    tertiary = _coverage(ctx, raw, "tertiary", payer, cfg)
    if raw.get("tertiary") is not None and raw.get("secondary") is None:
        ctx.err("missing-field", "secondary", "tertiary is given without a secondary payer")
    if secondary is not None and tertiary is not None and secondary.payer == tertiary.payer:
        ctx.err("bad-value", "tertiary.payer", "tertiary.payer is the secondary payer again")
    diags: list[str] = []
    dl = _list(ctx, raw, "diagnoses", "diagnoses", required=True)
    if dl is not None:
        if not dl:
            ctx.err("missing-field", "diagnoses", "diagnoses must list at least one ICD-10-CM code")
        if len(dl) > 12:
            ctx.err("bad-value", "diagnoses", "diagnoses lists more than 12 codes (837 HI limit)")
        for j, d in enumerate(dl[:12]):
            norm = _icd(d) if isinstance(d, str) and len(d) <= 12 else None
            if norm is None:
                ctx.err("invalid-icd10", f"diagnoses[{j}]", f"diagnoses[{j}] is not an ICD-10-CM code (e.g. K50.90)")
            elif norm in diags:
                ctx.err(
                    "duplicate-diagnosis",
                    f"diagnoses[{j}]",
                    f"diagnoses[{j}] repeats diagnoses[{diags.index(norm)}] (each code once on a claim)",
                )
            else:
                diags.append(norm)
    rnpi = None
    if raw.get("rendering_npi") not in (None, ""):
        r = raw["rendering_npi"]
        r = str(r) if isinstance(r, int) and not isinstance(r, bool) else r
        rnpi = _npi(r) if isinstance(r, str) and len(r) <= 20 else None
        if rnpi is None:
            ctx.err("invalid-npi", "rendering_npi", "rendering_npi is not a valid NPI (10 digits, Luhn check)")
    is_home = setting == "home"
    adms: list[Administration] = []
    al = _list(ctx, raw, "administrations", "administrations", required=not is_home)
    seen_adm: set[str] = set()
    adm_index: list[int] = []  # position in the input of each entry of adms
    for i, a in enumerate(al or []):
        adm = _administration(ctx, a, i)
        if adm is not None:
            if adm.id in seen_adm:
                ctx.err(
                    "duplicate-id",
                    f"administrations[{i}].id",
                    f"administrations[{i}].id repeats an earlier administration id",
                    adm.id,
                )
            else:
                seen_adm.add(adm.id)
                adms.append(adm)
                adm_index.append(i)
    _check_bags(ctx, list(zip(adm_index, adms, strict=True)))
    services: list[Service] = []
    for i, s in enumerate(_list(ctx, raw, "services", "services", required=False) or []):
        sv = _service(ctx, s, i)
        if sv is not None:
            services.append(sv)
    rfv = _str(ctx, raw, "reason_for_visit", "reason_for_visit", required=False, max_len=50)
    if (
        rfv is not None
        and al is not None
        and rfv
        not in {str(a.get("id")).strip() for a in al if isinstance(a, dict) and isinstance(a.get("id"), (str, int))}
    ):
        ctx.err(
            "bad-reference", "reason_for_visit", "reason_for_visit does not name an administration id of this encounter"
        )
    freq = raw.get("frequency", "1")
    freq = str(freq) if isinstance(freq, int) and not isinstance(freq, bool) else freq
    if freq not in FREQUENCIES:
        ctx.err("bad-value", "frequency", "frequency must be 1 (original), 7 (replacement) or 8 (void)")
        freq = "1"
    pcn = _str(ctx, raw, "payer_claim_number", "payer_claim_number", required=freq in ("7", "8"), max_len=50)
    therapies: list[Therapy] = []
    tl = _list(ctx, raw, "therapies", "therapies", required=is_home)
    if is_home and tl is not None and not tl:
        ctx.err("missing-field", "therapies", "therapies must list at least one therapy for a home encounter")
    seen_t: set[str] = set()
    for i, t in enumerate(tl or []):
        th = _therapy(ctx, t, i)
        if th is not None:
            if th.id in seen_t:
                ctx.err("duplicate-id", f"therapies[{i}].id", f"therapies[{i}].id repeats an earlier therapy id")
            seen_t.add(th.id)
            therapies.append(th)
    visits: list[NursingVisit] = []
    for i, v in enumerate(_list(ctx, raw, "nursing_visits", "nursing_visits", required=False) or []):
        path = f"nursing_visits[{i}]"
        if not isinstance(v, dict):
            ctx.err("bad-value", path, f"{path} must be an object")
            continue
        vs = _datetime(ctx, v, "start", f"{path}.start", required=True)
        ve = _datetime(ctx, v, "end", f"{path}.end", required=True)
        if vs is not None and ve is not None:
            if ve < vs:
                ctx.err("end-before-start", f"{path}.end", f"{path}.end is before {path}.start")
            else:
                visits.append(NursingVisit(vs, ve))
    fhv = _bool(ctx, raw, "first_hit_visit", "first_hit_visit")
    p340 = _enum(ctx, raw, "program_340b", "program_340b", ("JG", "TB", "none"), required=False)
    if al is not None and not al and not services and not is_home:
        ctx.err(
            "missing-field", "administrations", "administrations is empty and there are no services: nothing to code"
        )
    _check_dates(ctx, patient, adms, therapies, visits)
    if ctx.findings:
        return None, ctx.findings
    # A required field that is missing or bad has added a finding above.
    assert eid is not None and setting is not None and payer is not None and patient is not None
    enc = Encounter(
        id=eid,
        setting=setting,
        payer=payer,
        patient=patient,
        diagnoses=tuple(diags),
        administrations=tuple(adms),
        services=tuple(services),
        place_of_service=pos,
        rendering_npi=rnpi,
        reason_for_visit=rfv,
        relationship=relationship or "self",
        subscriber=subscriber,
        frequency=freq,
        payer_claim_number=pcn,
        therapies=tuple(therapies),
        nursing_visits=tuple(visits),
        first_hit_visit=fhv,
        program_340b=p340,
        secondary=secondary,
        tertiary=tertiary,
        raw=raw,
    )
    return enc, []


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


# Python refuses to turn more than 4300 digits into an int (a guard against quadratic parsing);
# a longer integer is read as a Decimal, so that its field, not the whole file, gets the finding.
_MAX_INT_DIGITS = 4000


def _parse_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _MAX_INT_DIGITS else Decimal(text)


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_int=_parse_int, parse_constant=_reject_constant)


def _read_file(path: Path, in_dir: bool) -> tuple[list[tuple[Any, int | None, int]], list[Finding]]:
    """Records (object, line or None, index) from one file, plus file-level findings."""
    fname = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [error("unreadable-file", f"cannot read the file ({exc.strerror or 'I/O error'})", file=fname)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _read_lines_not_utf8(data, fname)
    if not text.strip():
        return [], [error("empty-file", "file has no encounters", file=fname)]
    whole_err: str | None = None
    whole_line: int | None = None
    try:
        doc = _loads(text)
    except (ValueError, RecursionError) as exc:
        doc = None
        whole_err = str(getattr(exc, "msg", "")) or "invalid JSON"
        whole_line = getattr(exc, "lineno", None)
    if whole_err is None:
        if isinstance(doc, dict) and "encounters" in doc:
            if not isinstance(doc["encounters"], list):
                return [], [error("bad-value", '"encounters" must be a list', file=fname, field="encounters")]
            return [(e, None, i) for i, e in enumerate(doc["encounters"])], []
        if isinstance(doc, list):
            return [(e, None, i) for i, e in enumerate(doc)], []
        if isinstance(doc, dict) and "id" in doc:
            return [(doc, 1 if "\n" not in text.strip() else None, 0)], []
        if in_dir:
            return [], [info("skipped-file", 'not an encounter file (no "encounters" list); skipped', file=fname)]
        return [], [error("bad-value", 'expected {"encounters": [...]} or JSON Lines of encounters', file=fname)]
    # JSON Lines
    lines = text.splitlines()
    nonblank = [ln for ln in lines if ln.strip()]
    first_ok = False
    if len(nonblank) > 1:
        try:
            _loads(nonblank[0])
            first_ok = True
        except (ValueError, RecursionError):
            first_ok = False
    if not first_ok:  # one JSON document that does not parse
        return [], [error("invalid-json", f"not valid JSON: {whole_err}", file=fname, line=whole_line)]
    out: list[tuple[Any, int | None, int]] = []
    finds: list[Finding] = []
    for n, ln in enumerate(lines, start=1):
        if not ln.strip():
            continue
        try:
            obj = _loads(ln)
            if isinstance(obj, dict) and isinstance(obj.get("encounters"), list) and "id" not in obj:
                out.extend((e, n, len(out) + k) for k, e in enumerate(obj["encounters"]))
            else:
                out.append((obj, n, len(out)))
        except (ValueError, RecursionError) as exc:
            finds.append(
                error(
                    "invalid-json", f"line is not valid JSON: {getattr(exc, 'msg', 'invalid JSON')}", file=fname, line=n
                )
            )
    return out, finds


def _read_lines_not_utf8(data: bytes, fname: str) -> tuple[list[tuple[Any, int | None, int]], list[Finding]]:
    """A file that is not UTF-8 as a whole: as JSON Lines, each line that is UTF-8 is read and each
    that is not is a ``bad-encoding`` finding of its own (one bad record does not take the file's
    good ones down); a single-document file is one ``bad-encoding`` finding."""
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[0].startswith(b"\xef\xbb\xbf"):
        raw_lines[0] = raw_lines[0][3:]
    if sum(1 for ln in raw_lines if ln.strip()) < 2:
        return [], [error("bad-encoding", "file is not UTF-8 text", file=fname)]
    out: list[tuple[Any, int | None, int]] = []
    finds: list[Finding] = []
    for n, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            ln = raw.decode("utf-8")
        except UnicodeDecodeError:
            finds.append(error("bad-encoding", "line is not UTF-8 text", file=fname, line=n))
            continue
        try:
            obj = _loads(ln)
        except (ValueError, RecursionError) as exc:
            msg = getattr(exc, "msg", "invalid JSON")
            finds.append(error("invalid-json", f"line is not valid JSON: {msg}", file=fname, line=n))
            continue
        out.append((obj, n, len(out)))
    if not out and len(finds) > 1:  # no line read: not JSON Lines at all
        return [], [error("bad-encoding", "file is not UTF-8 text", file=fname)]
    return out, finds


def _expand(paths: Sequence[Path]) -> tuple[list[tuple[Path, bool]], list[Finding]]:
    files: list[tuple[Path, bool]] = []
    finds: list[Finding] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            members = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in (".json", ".jsonl"))
            if not members:
                finds.append(error("no-input", "directory has no *.json or *.jsonl files", file=str(p)))
            files.extend((q, True) for q in members)
        elif p.is_file():
            files.append((p, False))
        else:
            finds.append(error("file-not-found", "input file not found", file=str(p)))
    return files, finds


def _first_lines(path: Path) -> tuple[bool, list[bytes]] | None:
    """Whether ``path`` is JSON Lines, and the raw lines read to decide (None: not UTF-8).

    A file is JSON Lines when its first non-blank line is a JSON value on its own and another
    non-blank line follows. That is exactly when the whole text is not one JSON document (a
    complete value followed by more than whitespace never parses), so the choice agrees with
    reading the whole file first. Only the lines up to the second non-blank one are read.
    """
    head: list[bytes] = []
    first: str | None = None
    with path.open("rb") as fh:
        for raw in fh:
            head.append(raw)
            try:
                pieces = raw.decode("utf-8-sig" if len(head) == 1 else "utf-8").splitlines()
            except UnicodeDecodeError:
                return None
            for piece in pieces:
                if not piece.strip():
                    continue
                if first is not None:
                    return True, head
                first = piece
                try:
                    _loads(piece)
                except (ValueError, RecursionError):
                    return False, head
    return False, head


def _stream_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line of a JSON Lines file, read as it goes.

    Line numbers and line breaks are those of ``str.splitlines`` on the whole text (as the
    whole-file reader counts them). Raises UnicodeDecodeError at the first bad byte.
    """
    n = 0
    with path.open("rb") as fh:
        for k, raw in enumerate(fh):
            for piece in raw.decode("utf-8-sig" if k == 0 else "utf-8").splitlines():
                n += 1
                yield n, piece


def _jsonl_records(path: Path) -> Iterator[tuple[Any, int | None, int] | Finding]:
    """Records of a JSON Lines file, or a finding for a line that is not JSON, in file order."""
    fname = str(path)
    count = 0
    for n, ln in _stream_lines(path):
        if not ln.strip():
            continue
        try:
            obj = _loads(ln)
        except (ValueError, RecursionError) as exc:
            yield error(
                "invalid-json", f"line is not valid JSON: {getattr(exc, 'msg', 'invalid JSON')}", file=fname, line=n
            )
            continue
        if isinstance(obj, dict) and isinstance(obj.get("encounters"), list) and "id" not in obj:
            for e in obj["encounters"]:
                yield (e, n, count)
                count += 1
        else:
            yield (obj, n, count)
            count += 1


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8, read in blocks (a file that does not is read
    whole by :func:`_read_file`, which takes its good lines and reports each bad one)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _file_records(path: Path, in_dir: bool) -> Iterator[tuple[Any, int | None, int] | Finding]:
    """Records of one file, JSON Lines streamed, one JSON document read whole (as before)."""
    try:
        probe = _first_lines(path)
    except OSError:
        probe = (False, [])  # the whole-file reader reports it
    if probe is not None and probe[0] and _is_utf8(path):
        yield from _jsonl_records(path)
        return
    records, fs = _read_file(path, in_dir)
    yield from fs
    yield from records


class EncounterStream:
    """Validated encounters of ``paths``, read one at a time (JSON Lines never held whole).

    Iterate it for the encounters (input order); ``findings`` grows file by file and is complete
    once the iteration ends. The rules are those of :func:`load_encounters`: an encounter with
    an error is reported and not yielded, a repeated id is an error, a file that turns out not
    to be UTF-8 is one ``bad-encoding`` error with nothing else reported for it. Callers that
    must not act on a batch with errors read it twice: once to collect the findings, then, when
    there is no error, again to use the encounters. Memory: the ids seen (for repeats), never
    the encounters.
    """

    def __init__(self, paths: Sequence[Path], cfg: Config, codesets: CodeSets = NO_CODESETS) -> None:
        self.paths = [Path(p) for p in paths]
        self.cfg = cfg
        self.codesets = codesets
        self.findings: list[Finding] = []
        self.count = 0  # encounters yielded
        self.needs_hit_history = False  # a home encounter without first_hit_visit was seen
        self.file = ""  # the file the last encounter came from
        self.unreadable: set[str] = set()  # files found not UTF-8 (or unreadable) after yielding from them

    def __iter__(self) -> Iterator[Encounter]:
        files, self.findings = _expand(self.paths)
        self.count = 0
        self.needs_hit_history = False
        self.unreadable = set()
        seen: dict[str, str] = {}
        for path, in_dir in files:
            fname = self.file = str(path)
            # a file's own findings (lines that are not JSON) come before its encounters' ones,
            # as when the file is read whole; both are added when the file is done
            file_fs: list[Finding] = []
            record_fs: list[Finding] = []
            added: list[str] = []
            try:
                for rec in _file_records(path, in_dir):
                    if isinstance(rec, Finding):
                        file_fs.append(rec)
                        continue
                    enc = self._one(rec, fname, seen, added, record_fs)
                    if enc is not None:
                        self.count += 1
                        if enc.setting == "home" and enc.first_hit_visit is None:
                            self.needs_hit_history = True
                        yield enc
            except (UnicodeDecodeError, OSError) as exc:
                # a bad byte (or a read error) past the lines read so far: the file counts as
                # unreadable, as if read whole; what was yielded from it must not be used
                for eid in added:
                    seen.pop(eid, None)
                self.unreadable.add(fname)
                if isinstance(exc, UnicodeDecodeError):
                    file_fs = [error("bad-encoding", "file is not UTF-8 text", file=fname)]
                else:
                    why = exc.strerror or "I/O error"
                    file_fs = [error("unreadable-file", f"cannot read the file ({why})", file=fname)]
                record_fs = []
            self.findings += file_fs
            self.findings += record_fs

    def _one(
        self,
        rec: tuple[Any, int | None, int],
        fname: str,
        seen: dict[str, str],
        added: list[str],
        findings: list[Finding],
    ) -> Encounter | None:
        obj, line, idx = rec
        try:
            enc, efs = validate_encounter(obj, self.cfg, file=fname, line=line, index=idx, codesets=self.codesets)
        except RecursionError:
            enc, efs = None, [error("bad-value", "encounter is nested too deeply", file=fname, line=line)]
        findings.extend(efs)
        if enc is None:
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                key = obj["id"].strip()
                if key not in seen:
                    seen[key] = fname
                    added.append(key)
            return None
        if enc.id in seen:
            findings.append(
                error(
                    "duplicate-id",
                    "encounter id repeats an earlier encounter",
                    encounter_id=enc.id,
                    field="id",
                    file=fname,
                    line=line,
                )
            )
            return None
        seen[enc.id] = fname
        added.append(enc.id)
        return enc


def iter_encounters(paths: Sequence[Path], cfg: Config, codesets: CodeSets = NO_CODESETS) -> EncounterStream:
    """An :class:`EncounterStream` over ``paths`` (iterate it; read its ``findings`` after);
    ``codesets``: :func:`validate_encounter`."""
    return EncounterStream(paths, cfg, codesets)


def load_encounters(
    paths: Sequence[Path], cfg: Config, codesets: CodeSets = NO_CODESETS
) -> tuple[list[Encounter], list[Finding]]:
    """Read and validate every encounter in ``paths``; see the module docstring (``codesets``:
    :func:`validate_encounter`)."""
    stream = EncounterStream(paths, cfg, codesets)
    pairs = [(stream.file, enc) for enc in stream]
    return [enc for fname, enc in pairs if fname not in stream.unreadable], stream.findings
