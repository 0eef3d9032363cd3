"""Drug-administration codes (CPT 96360-96417) for one encounter.

Rules (fact base §1-§3; payer switches in ``docs/coding-rules.md``):

* Each administration is classified by route and time (``coding.admin.timing``): an IV infusion of
  15 minutes or less is a push; one without a stop time gets it from volume/rate or is HELD
  with an ``error`` finding ``missing-stop-time`` (never silently downgraded).
* Administrations are grouped by ``visit`` and, within a visit, by access site when the site
  carries a ``separate_site_reason``; each group has ONE initial service.
* The initial service is the administration named by ``reason_for_visit`` on professional
  claims (837P), else the highest in the facility hierarchy (``data/hierarchy.csv``); longer
  and then earlier services win ties. Everything after the initial is sequential, concurrent
  or add-on whatever its family; injections keep their standalone codes.
* Add-on codes are only emitted with one of their primary codes in the same group
  (``data/admin_codes.csv``: ``primaries``/``fallback``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any

from coding.admin import timing as T
from coding.config import Config, PayerProfile
from coding.drugs import lines as _drugs  # default purpose, complex-biologic switch, hormonal flag
from coding.findings import Finding, error, info, warning
from coding.model import Administration, Encounter, ServiceLine
from coding.pricing import line_charge as _line_charge

DATA = Path(__file__).resolve().parent.parent / "data"


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class AdminCode:
    code: str
    family: str
    role: str
    primaries: frozenset[str]
    fallback: str | None
    time_rule: str
    revenue_key: str
    opps_si: str
    summary: str

    @property
    def is_add_on(self) -> bool:
        return self.role in ("add-on", "sequential", "concurrent")


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        rows = [ln for ln in fh if not ln.startswith("#")]
    return list(csv.DictReader(rows))


def load_admin_codes() -> dict[str, AdminCode]:
    """``data/admin_codes.csv`` as a code -> :class:`AdminCode` table."""
    out: dict[str, AdminCode] = {}
    for r in _read_csv("admin_codes.csv"):
        out[r["code"]] = AdminCode(
            code=r["code"],
            family=r["family"],
            role=r["role"],
            primaries=frozenset(r["primaries"].split()),
            fallback=r["fallback"] or None,
            time_rule=r["time_rule"],
            revenue_key=r["revenue_key"],
            opps_si=r["opps_si"],
            summary=r["summary"],
        )
    return out


@dataclass(frozen=True, slots=True)
class Rank:
    rank: int
    purpose: str
    mode: str
    can_be_initial: bool
    initial_code: str | None
    label: str


def load_hierarchy() -> dict[tuple[str, str], Rank]:
    """``data/hierarchy.csv`` as a (purpose, mode) -> :class:`Rank` table."""
    out: dict[tuple[str, str], Rank] = {}
    for r in _read_csv("hierarchy.csv"):
        out[(r["purpose"], r["mode"])] = Rank(
            rank=int(r["rank"]),
            purpose=r["purpose"],
            mode=r["mode"],
            can_be_initial=r["can_be_initial"] == "Y",
            initial_code=r["initial_code"] or None,
            label=r["label"],
        )
    return out


ADMIN_CODES: dict[str, AdminCode] = load_admin_codes()
HIERARCHY: dict[tuple[str, str], Rank] = load_hierarchy()
ADD_ON_CODES: frozenset[str] = frozenset(c for c, a in ADMIN_CODES.items() if a.is_add_on)
INITIAL_CODES: frozenset[str] = frozenset(c for c, a in ADMIN_CODES.items() if a.role == "initial")

# initial codes come from hierarchy.csv; the codes that follow them (add-on hour, sequential)
_INFUSION_INITIAL = {p: r.initial_code for (p, m), r in HIERARCHY.items() if m == "infusion" and r.initial_code}
_INFUSION_ADDON = {"96413": "96415", "96365": "96366", "96360": "96361", "96417": "96415", "96367": "96366"}
_PUSH_INITIAL = {p: r.initial_code for (p, m), r in HIERARCHY.items() if m == "push" and r.initial_code}
_PUSH_SEQUENTIAL = {"chemo": "96411", "therapeutic": "96375", "hydration": "96375"}
_INFUSION_SEQUENTIAL = {"chemo": "96417", "therapeutic": "96367"}


def is_add_on(code: str) -> bool:
    """True for add-on / sequential / concurrent administration codes (need a primary)."""
    return code in ADD_ON_CODES


def primaries_of(code: str) -> frozenset[str]:
    a = ADMIN_CODES.get(code)
    return a.primaries if a else frozenset()


# --------------------------------------------------------------------------- payer rules


@dataclass(frozen=True, slots=True)
class AdminRules:
    """Payer-profile switches used here, resolved once per profile (defaults = CPT/CMS)."""

    push_max: int = T.PUSH_MAX_MINUTES
    addon_over: int = T.ADDON_OVER_MINUTES
    hydration_min: int = T.HYDRATION_MIN_MINUTES
    concurrent_min_overlap: int = T.CONCURRENT_MIN_OVERLAP
    missing_stop_time_as_push: bool = False
    hierarchy_restarts_daily: bool = False
    units_on_start_date: bool = False
    separate_site_modifier: str = "59"
    separate_encounter_modifier: str = "XE"
    short_hydration_as_push: bool = False
    sequential_hydration_modifier: str = ""
    add_separate_short_infusions: bool = False
    same_dose_window: int = T.SAME_DOSE_WINDOW_MINUTES


_RULES_CACHE: dict[int, tuple[PayerProfile, AdminRules]] = {}


def _as_bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on")
    return bool(v)


def admin_rules(payer: PayerProfile) -> AdminRules:
    """The administration rules of a payer profile (cached per profile object)."""
    hit = _RULES_CACHE.get(id(payer))
    if hit is not None and hit[0] is payer:
        return hit[1]
    g = payer.get
    rules = AdminRules(
        push_max=int(g("push_max_minutes", T.PUSH_MAX_MINUTES)),
        addon_over=int(g("additional_hour_over_minutes", T.ADDON_OVER_MINUTES)),
        hydration_min=int(g("hydration_min_minutes", T.HYDRATION_MIN_MINUTES)),
        concurrent_min_overlap=int(g("concurrent_min_overlap_minutes", T.CONCURRENT_MIN_OVERLAP)),
        missing_stop_time_as_push=_as_bool(g("missing_stop_time_as_push", False)),
        hierarchy_restarts_daily=_as_bool(g("hierarchy_restarts_daily", False)),
        units_on_start_date=str(g("units_date_rule", "line_date")) == "start_date",
        separate_site_modifier=str(g("separate_site_modifier", "59") or ""),
        separate_encounter_modifier=str(g("separate_encounter_modifier", "XE") or ""),
        short_hydration_as_push=_as_bool(g("short_hydration_as_push", False)),
        sequential_hydration_modifier=str(g("sequential_hydration_modifier", "") or ""),
        add_separate_short_infusions=_as_bool(g("add_separate_short_infusions", False)),
        same_dose_window=int(g("same_dose_window_minutes", T.SAME_DOSE_WINDOW_MINUTES)),
    )
    _RULES_CACHE[id(payer)] = (payer, rules)
    return rules


# --------------------------------------------------------------------------- drugs


def resolve_purpose(adm: Administration, payer: PayerProfile) -> str:
    """chemo / therapeutic / hydration: the administration's own, else the drug table's default
    (``coding.drugs.lines.resolve_purpose``, which applies ``complex_biologic_as_chemo``)."""
    if adm.purpose:
        return adm.purpose
    key = (adm.drug, bool(payer.complex_biologic_as_chemo))
    p = _PURPOSE_CACHE.get(key)
    if p is None:
        p = _drugs.resolve_purpose(adm, payer) or "therapeutic"
        if len(_PURPOSE_CACHE) < 100_000:
            _PURPOSE_CACHE[key] = p
    return p


# (drug, complex_biologic_as_chemo) -> default purpose; the drug module's result depends only on
# the drug and that payer switch, so it is computed once per pair.
_PURPOSE_CACHE: dict[tuple[str, bool], str] = {}


_HORMONAL_CACHE: dict[str, bool] = {}


def is_hormonal(drug: str) -> bool:
    """Hormonal antineoplastic (96402 rather than 96401), from the drug table."""
    v = _HORMONAL_CACHE.get(drug)
    if v is None:
        inf = _drugs.drug_info(drug)
        v = inf is not None and inf.hormonal_antineoplastic
        _HORMONAL_CACHE[drug] = v
    return v


_PRICE_CACHE: dict[int, tuple[Config, dict[str, Decimal]]] = {}


def _price_table(cfg: Config) -> tuple[Config, dict[str, Decimal]]:
    hit = _PRICE_CACHE.get(id(cfg))
    if hit is None or hit[0] is not cfg:
        hit = (cfg, {})
        _PRICE_CACHE[id(cfg)] = hit
    return hit


_NAMES: dict[str, str] | None = None
_NAME_PREFIX = re.compile(r"^(?:injection|infusion|inj\.?)\s*,?\s*", re.I)


def drug_name(code: str) -> str:
    """Generic drug name for rationales, from the HCPCS Level II long descriptor in
    ``data/hcpcs_drugs.csv`` (public-domain CMS text): "Injection, levofloxacin, 250 mg" ->
    "levofloxacin"; "" when the table has no descriptor for the code."""
    global _NAMES
    if _NAMES is None:
        names: dict[str, str] = {}
        try:
            for r in _read_csv("hcpcs_drugs.csv"):
                d = (r.get("descriptor") or "").strip()
                if d:
                    names[r["code"]] = _NAME_PREFIX.sub("", d).split(",")[0].strip().lower()
        except (OSError, KeyError):  # pragma: no cover - table shipped with the package
            pass
        _NAMES = names
    return _NAMES.get(code, "")


def charge(cfg: Config, code: str, units: int, **where: Any) -> tuple[Decimal, Finding | None]:
    """Line charge via the pricing module (``(Decimal, Finding | None)``).

    ``line_charge`` is price per unit x units, so a successful unit price is remembered per
    config object and code (the config is immutable); unpriced codes always go through it.
    """
    hit = _price_table(cfg)
    unit = hit[1].get(code)
    if unit is not None:
        return unit * units, None
    amount, f = _line_charge(cfg, code, 1, **where)
    if f is not None:
        return amount, f
    hit[1][code] = amount
    return amount * units, None


# --------------------------------------------------------------------------- classification

_EPOCH = datetime(2000, 1, 1)  # integer minutes are counted from this midnight
_HM = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]  # "HH:MM" by minute of the day


class Svc:
    """One administration service (same-drug infusions of a group are merged)."""

    __slots__ = (
        "_tt",
        "a",
        "adm_ids",
        "b",
        "bag",
        "computed",
        "drug",
        "end",
        "intervals",
        "minutes",
        "mode",
        "negmin",
        "order",
        "purpose",
        "rank",
        "site",
        "site_reason",
        "start",
        "visit",
    )

    def __init__(
        self,
        adm_ids: list[str],
        drug: str,
        purpose: str,
        mode: str,
        start: datetime,
        end: datetime | None,
        minutes: int,
        computed: bool,
        order: int,
        visit: str,
        site: str,
        site_reason: bool,
        rank: int,
    ) -> None:
        self.adm_ids = adm_ids
        self.drug = drug
        self.purpose = purpose
        self.mode = mode  # infusion / push / injection / intra_arterial / obi
        self.start = start
        self.end = end
        self.minutes = minutes
        self.negmin = -minutes  # for the initial-service ordering (longer first)
        self.computed = computed  # end computed from volume/rate
        self.order = order
        self.visit = visit
        self.site = site
        self.site_reason = site_reason
        self.rank = rank
        d = start - _EPOCH
        self.a = a = d.days * 1440 + d.seconds // 60  # minutes since _EPOCH (a midnight)
        self.b = a + minutes
        self.intervals: list[tuple[int, int]] = [(a, a + minutes)] if mode == "infusion" and end is not None else []
        self._tt: str | None = None
        self.bag: str | None = None  # label of the bag or syringe its administrations were mixed in

    @property
    def timing(self) -> T.Timing:
        return T.Timing(self.start, self.end, self.minutes, self.computed)

    def tt(self) -> str:
        """Time text for rationales (cached; same text as :meth:`coding.admin.timing.Timing.text`)."""
        t = self._tt
        if t is None:
            st, en = self.start, self.end
            if self.computed:
                t = self.timing.text()
            elif en is None:
                t = _HM[st.hour * 60 + st.minute]
            elif self.a // 1440 == self.b // 1440:  # same day
                t = f"{_HM[st.hour * 60 + st.minute]}-{_HM[en.hour * 60 + en.minute]} = {self.minutes} min"
            else:
                t = self.timing.text()
            self._tt = t
        return t

    def label(self) -> str:
        """``J1956 levofloxacin (A1)``: code, generic name when known, administration ids."""
        ids = self.adm_ids
        idt = ids[0] if len(ids) == 1 else "+".join(ids)
        if self.bag is not None and len(ids) > 1:
            idt += f" mixed in bag {self.bag}"
        name = drug_name(self.drug)
        return f"{self.drug} {name} ({idt})" if name else f"{self.drug} ({idt})"


_ROUTE_MODE = {
    "iv_push": "push",
    "sc": "injection",
    "im": "injection",
    "intra_arterial": "intra_arterial",
    "on_body_injector": "obi",
}
# hierarchy rank by (purpose, mode); the injection-like modes share the injection rank
_RANK: dict[tuple[str, str], int] = {}
for (_p, _m), _r in HIERARCHY.items():
    _RANK[(_p, _m)] = _r.rank
    if _m == "injection":
        _RANK[(_p, "intra_arterial")] = _RANK[(_p, "obi")] = _r.rank


_INITIAL_RANKS: frozenset[int] = frozenset(r.rank for r in HIERARCHY.values() if r.can_be_initial)
_by_start = attrgetter("a", "order")
# hierarchy rank, then the longer service, then the earlier start, then input order
_INITIAL_ORDER = attrgetter("rank", "negmin", "a", "order")


def classify(enc: Encounter, payer: PayerProfile, rules: AdminRules, findings: list[Finding]) -> list[Svc]:
    """Resolve purpose, time and mode of every administration; held ones give findings.

    Administrations with the same ``bag`` label were mixed in one bag or syringe: they are one
    service (the first one's time and route; the purpose and drug of the highest-ranked member),
    whose ``adm_ids`` name them all. The loader checks that they share route, times and site."""
    out: list[Svc] = []
    bags: dict[str, Svc] = {}  # bag label -> the one service of the administrations mixed in it
    eid = enc.id
    push_max = rules.push_max
    pcache = _PURPOSE_CACHE
    cb = bool(payer.complex_biologic_as_chemo)
    for i, adm in enumerate(enc.administrations):
        purpose = adm.purpose or pcache.get((adm.drug, cb)) or resolve_purpose(adm, payer)
        start = adm.start
        end = adm.end
        computed = False
        route = adm.route
        if route == "iv_infusion":
            if end is None:
                end = T.end_from_volume_rate(start, adm.volume_ml, adm.rate_ml_per_hr)
                computed = end is not None
            if end is None:
                if rules.missing_stop_time_as_push:
                    findings.append(
                        warning(
                            "missing-stop-time-push",
                            "IV infusion has no stop time and no volume/rate; coded as a push "
                            "(payer setting missing_stop_time_as_push)",
                            encounter_id=eid,
                            administration_id=adm.id,
                            field="end",
                        )
                    )
                    mode = "push"
                    minutes = 0
                else:
                    findings.append(
                        error(
                            "missing-stop-time",
                            "IV infusion has no stop time and no documented volume and rate to "
                            "compute it; administration held for documentation review",
                            encounter_id=eid,
                            administration_id=adm.id,
                            field="end",
                        )
                    )
                    continue
            else:
                d = end - start
                minutes = d.days * 1440 + d.seconds // 60  # whole minutes, floor
                if minutes < 0:
                    findings.append(
                        error(
                            "end-before-start",
                            "stop time is before start time; administration held",
                            encounter_id=eid,
                            administration_id=adm.id,
                            field="end",
                        )
                    )
                    continue
                mode = "push" if minutes <= push_max else "infusion"
                if mode == "push" and purpose == "hydration" and rules.short_hydration_as_push:
                    purpose = "therapeutic"  # [PAYER] §2.3: a short hydration paid as a push
                    findings.append(
                        info(
                            "short-hydration-as-push",
                            f"hydration of {minutes} min coded as an IV push (payer setting short_hydration_as_push)",
                            encounter_id=eid,
                            administration_id=adm.id,
                        )
                    )
        elif route in _ROUTE_MODE:
            mode = _ROUTE_MODE[route]
            if end is not None and end >= start:
                d = end - start
                minutes = d.days * 1440 + d.seconds // 60
            else:
                end, minutes = None, 0
        else:
            findings.append(
                error(
                    "unknown-route",
                    "route is not one of the supported administration routes; held",
                    encounter_id=eid,
                    administration_id=adm.id,
                    field="route",
                )
            )
            continue
        rank = _RANK.get((purpose, mode), 99)
        if adm.bag is not None:
            mixed = bags.get(adm.bag)
            if mixed is not None:  # mixed in one bag or syringe: one administration for the CPT code
                mixed.adm_ids.append(adm.id)
                mixed.site_reason = mixed.site_reason or bool(adm.separate_site_reason)
                if rank < mixed.rank:  # the bag is coded as its highest-ranked drug (chemo > ...)
                    mixed.rank, mixed.purpose, mixed.drug = rank, purpose, adm.drug
                continue
        svc = Svc(
            [adm.id],
            adm.drug,
            purpose,
            mode,
            start,
            end,
            minutes,
            computed,
            i,
            adm.visit or "1",
            adm.access or "A",
            bool(adm.separate_site_reason),
            rank,
        )
        if adm.bag is not None:
            bags[adm.bag] = svc
            svc.bag = adm.bag
        out.append(svc)
    return out


# --------------------------------------------------------------------------- grouping


def group_services(
    svcs: list[Svc], rules: AdminRules, reason_for_visit: str | None = None
) -> list[tuple[str, list[Svc]]]:
    """Split into (modifier-kind, services) groups: one initial service per group.

    Visits in order of their first start; within a visit, the access sites without a
    ``separate_site_reason`` form the main group together with the site of the best service
    (``reason_for_visit`` on 837P, else the hierarchy), each other site with a reason a group of
    its own (kind ``site``); later visits are kind ``visit``. With ``hierarchy_restarts_daily`` a new
    calendar day starts a new group (kind ``day``).
    """
    if not svcs:
        return []
    if not rules.hierarchy_restarts_daily:
        v0 = svcs[0].visit
        for s in svcs:
            if s.visit != v0 or s.site_reason:
                break
        else:
            return [("main", svcs)]
    visits: dict[str, list[Svc]] = {}
    for s in svcs:
        visits.setdefault(s.visit, []).append(s)
    vorder = sorted(visits, key=lambda v: (min(s.start for s in visits[v]), v))
    groups: list[tuple[str, list[Svc]]] = []
    for vi, v in enumerate(vorder):
        members = visits[v]
        sites: dict[str, list[Svc]] = {}
        for s in members:
            sites.setdefault(s.site, []).append(s)
        reasoned = {k for k, ss in sites.items() if any(x.site_reason for x in ss)}
        if reasoned:  # the site of the best service is the main one, whichever carries the reason
            best = None
            if reason_for_visit:
                best = next((x for x in members if reason_for_visit in x.adm_ids), None)
            if best is None:
                best = min(members, key=_INITIAL_ORDER)
            reasoned.discard(best.site)
        main = [s for s in members if s.site not in reasoned]
        vkind = "visit" if vi > 0 else "main"
        sub: list[tuple[str, list[Svc]]] = [(vkind, main)] if main else []
        for k in sorted(reasoned, key=lambda k: (min(s.start for s in sites[k]), k)):
            sub.append(("site", sites[k]))
        if rules.hierarchy_restarts_daily:
            split: list[tuple[str, list[Svc]]] = []
            for kind, ss in sub:
                days: dict[date, list[Svc]] = {}
                for s in ss:
                    days.setdefault(s.start.date(), []).append(s)
                for di, d in enumerate(sorted(days)):
                    split.append((kind if di == 0 else (kind if kind != "main" else "day"), days[d]))
            sub = split
        groups.extend(sub)
    return groups


def _reportable(s: Svc, rules: AdminRules) -> bool:
    """Whether an infusion alone reaches a reportable time (hydration: ``hydration_min``)."""
    return s.purpose != "hydration" or s.minutes >= rules.hydration_min


def _touches(prev: Svc, s: Svc) -> bool:
    """Whether ``s`` overlaps or meets (no gap) one of the intervals of ``prev``."""
    return any(a <= s.b and s.a <= b for a, b in prev.intervals)


def merge_same_drug_infusions(svcs: list[Svc], rules: AdminRules | None = None) -> list[Svc]:
    """Infusions of the same drug (and purpose) in one group are one service: times add (§2.2).

    Two infusions that do not touch (a gap between them) are not added together when neither
    reaches a reportable time alone and adding them is what would first make them reportable
    (two 20-minute hydrations an hour apart are not one 40-minute hydration); the payer key
    ``add_separate_short_infusions`` allows it.
    """
    if len(svcs) < 2:
        return svcs
    inf = [s.drug for s in svcs if s.mode == "infusion"]
    if len(inf) < 2 or len(inf) == len(set(inf)):  # common case: nothing to merge
        return svcs
    out: list[Svc] = []
    seen: dict[tuple[str, str], Svc] = {}
    for s in svcs:
        if s.mode != "infusion":
            out.append(s)
            continue
        key = (s.drug, s.purpose)
        prev = seen.get(key)
        if prev is None:
            seen[key] = s
            out.append(s)
            continue
        if (
            rules is not None
            and not rules.add_separate_short_infusions
            and not _reportable(prev, rules)
            and not _reportable(s, rules)
            and not _touches(prev, s)
        ):
            out.append(s)  # kept apart; a later piece may still join the first one
            continue
        prev.adm_ids.extend(s.adm_ids)
        prev.intervals.append((s.a, s.b))
        prev.a = min(prev.a, s.a)
        prev.b = max(prev.b, s.b)
        prev.start = min(prev.start, s.start)
        prev.end = max(prev.end, s.end)  # type: ignore[type-var]
        prev.minutes = T.union_len(prev.intervals)
        prev.negmin = -prev.minutes
        prev.computed = prev.computed or s.computed
        prev._tt = None
    return out


# --------------------------------------------------------------------------- sequencing

# A code decision before aggregation into claim lines:
# (code, units, service date, administration ids, rationale, modifiers)
Raw = tuple


def _at(eid: str, s: Svc) -> dict[str, str]:
    """Finding position of a service: encounter and (first) administration id."""
    return {"encounter_id": eid, "administration_id": s.adm_ids[0]}


def _interval_text(s: Svc, minutes: int | None = None) -> str:
    if minutes is None or minutes == s.minutes:
        return s.tt()
    return f"{s.tt()}, {minutes} min not overlapping other infusions"


def _hourly(
    raws: list[Raw],
    code: str,
    s: Svc,
    counted_minutes: int,
    first_minute: int,
    units: int,
    gi: int,
    why: str,
    rules: AdminRules,
    mods: tuple[str, ...] = (),
) -> None:
    """Emit ``units`` of an hourly code, dated per the line-date rule (one Raw per date)."""
    if units <= 0:
        return
    st = s.start
    a = s.a
    if rules.units_on_start_date or (a + first_minute + 60 * (units - 1)) // 1440 == a // 1440:
        raws.append((code, units, st.date(), s.adm_ids, why, mods))  # common case: one date
        return
    dates = T.unit_dates(st, first_minute, units, True)
    per: dict[date, int] = {}
    for d in dates:
        per[d] = per.get(d, 0) + 1
    for d, n in per.items():
        raws.append((code, n, d, s.adm_ids, why, mods))


def allowed_code(code: str, initial_code: str | None) -> str | None:
    """``code`` when ``initial_code`` is one of its primaries (or it needs none), else the first
    code of its fallback chain that qualifies; None when nothing does (the line is held)."""
    seen = 0
    while code and seen < 4:
        a = ADMIN_CODES[code]
        if not a.primaries or (initial_code is not None and initial_code in a.primaries):
            return code
        code = a.fallback or ""
        seen += 1
    return None


# precomputed: initial code -> {wanted code -> code to use (or absent: held)}
_ALLOWED: dict[str | None, dict[str, str]] = {
    ini: {c: got for c in ADMIN_CODES if (got := allowed_code(c, ini)) is not None} for ini in [None, *INITIAL_CODES]
}
_NONE_ALLOWED = _ALLOWED[None]


def _reason_texts() -> dict[tuple[str, str, bool], str]:
    out: dict[tuple[str, str, bool], str] = {}
    for (p, m), hr in HIERARCHY.items():
        out[(p, m, True)] = f"initial {hr.label} (office: reason for visit)"
        out[(p, m, False)] = f"initial {hr.label} (hierarchy: {hr.label})"
    return out


_REASON_TEXT = _reason_texts()


def _initial_reason(s: Svc, enc: Encounter, by_reason: bool) -> str:
    """Why the service is the initial one (precomputed texts per hierarchy entry)."""
    t = _REASON_TEXT.get((s.purpose, s.mode, by_reason))
    if t is None:
        label = f"{s.purpose} {s.mode}"
        t = f"initial {label} ({'office: reason for visit' if by_reason else 'hierarchy: ' + label})"
    return t


def sequence_group(
    gi: int,
    kind: str,
    svcs: list[Svc],
    enc: Encounter,
    rules: AdminRules,
    findings: list[Finding],
    concurrent_visits: set[str] | None = None,
) -> list[Raw]:
    """Codes for one visit/site group: one initial, then sequential/concurrent/add-on."""
    eid = enc.id
    raws: list[Raw] = []
    if len(svcs) > 1:
        svcs = merge_same_drug_infusions(svcs, rules)
    professional = enc.setting != "hospital_outpatient"  # 837P

    hmin = rules.hydration_min
    candidates = [s for s in svcs if s.rank in _INITIAL_RANKS and (s.purpose != "hydration" or s.minutes >= hmin)]
    initial: Svc | None = None
    by_reason = False
    if candidates:
        if professional and enc.reason_for_visit:
            for s in candidates:
                if enc.reason_for_visit in s.adm_ids:
                    initial, by_reason = s, True
                    break
        if initial is None:
            initial = candidates[0] if len(candidates) == 1 else min(candidates, key=_INITIAL_ORDER)

    initial_code: str | None = None
    drug_intervals: list[tuple[int, int]] = []  # epoch minutes
    hyd_intervals: list[tuple[int, int]] = []
    last_push: dict[str, int] = {}  # drug -> epoch minute its previous push/infusion ended
    if concurrent_visits is None:
        concurrent_visits = set()

    if initial is not None:
        why0 = _initial_reason(initial, enc, by_reason)
        mods: tuple[str, ...] = ()
        if kind in ("site", "visit"):  # a new calendar day ("day") is dated apart: no modifier
            mod = rules.separate_site_modifier if kind == "site" else rules.separate_encounter_modifier
            if mod:
                mods = (mod,)
                why0 += (
                    f"; second initial service: separate "
                    f"{'access site' if kind == 'site' else 'encounter'} (modifier {mod})"
                )
        if initial.mode == "infusion":
            initial_code = _INFUSION_INITIAL[initial.purpose]
            ilab = f"{initial.label()} {initial.tt()}"
            raws.append(
                (initial_code, 1, initial.start.date(), initial.adm_ids, f"{initial_code}: {ilab}, {why0}", mods)
            )
            n = T.addon_hour_units(initial.minutes, rules.addon_over)
            if n:
                add = _INFUSION_ADDON[initial_code]
                _hourly(
                    raws,
                    add,
                    initial,
                    initial.minutes,
                    60,
                    n,
                    gi,
                    f"{add}: {ilab}, {n} additional hour(s) beyond the first (each full hour, "
                    f"or more than {rules.addon_over} min past the last one)",
                    rules,
                )
            (hyd_intervals if initial.purpose == "hydration" else drug_intervals).extend(initial.intervals)
            last_push[initial.drug] = initial.b
        else:
            initial_code = _PUSH_INITIAL[initial.purpose]
            raws.append(
                (
                    initial_code,
                    1,
                    initial.start.date(),
                    initial.adm_ids,
                    f"{initial_code}: {initial.label()} {initial.tt()} (push: {rules.push_max} min or less), {why0}",
                    mods,
                )
            )
            last_push[initial.drug] = initial.b

    allowed_for = _ALLOWED.get(initial_code, _NONE_ALLOWED)
    standalone_seen: dict[tuple[str, str], int] = {}  # (drug, code) -> start of the injection (epoch min)
    rest = sorted([s for s in svcs if s is not initial], key=_by_start)
    code: str | None  # each branch below sets it; a code the payer does not allow is None
    for s in rest:
        lab = s.label()
        if s.mode in ("injection", "intra_arterial", "obi"):
            if s.mode == "obi":
                code = "96377"
                what = "on-body injector application"
            elif s.mode == "intra_arterial":
                if s.purpose == "chemo":
                    findings.append(
                        warning(
                            "not-supported",
                            "intra-arterial chemotherapy administration is not "
                            "coded by dripline; administration left for manual coding",
                            field="route",
                            **_at(eid, s),
                        )
                    )
                    continue
                code, what = "96373", "intra-arterial injection"
            elif s.purpose == "chemo":
                hormonal = is_hormonal(s.drug)
                code = "96402" if hormonal else "96401"
                what = "SC/IM hormonal antineoplastic" if hormonal else "SC/IM non-hormonal chemo/complex agent"
            elif s.purpose == "hydration":
                findings.append(
                    warning(
                        "not-supported",
                        "hydration fluid given SC/IM is not a reportable "
                        "administration here; administration left for manual coding",
                        field="route",
                        **_at(eid, s),
                    )
                )
                continue
            else:
                code, what = "96372", "SC/IM therapeutic injection"
            seen_at = standalone_seen.get((s.drug, code))
            if seen_at is not None and s.a - seen_at <= rules.same_dose_window:
                findings.append(
                    info(
                        "same-drug-injection",
                        f"another {code} for the same drug {s.a - seen_at} min after the previous one is "
                        f"part of the same dose (several syringes or vials given together, within "
                        f"{rules.same_dose_window} min): not reported again",
                        **_at(eid, s),
                    )
                )
                continue
            standalone_seen[(s.drug, code)] = s.a
            again = (
                ""
                if seen_at is None
                else f"; a separate injection of the same drug {s.a - seen_at} min after the previous one, "
                "billed again (more than the same-dose window)"
            )
            raws.append(
                (
                    code,
                    1,
                    s.start.date(),
                    s.adm_ids,
                    f"{code}: {lab} at {T.hm(s.start)}, {what} (own code; not part of the initial/sequential "
                    f"sequence){again}",
                    (),
                )
            )
            continue

        if s.mode == "push":
            if s.purpose == "hydration":
                findings.append(
                    info(
                        "hydration-not-reported",
                        f"hydration of {s.minutes} min is {rules.hydration_min - 1} min or less and is not reported",
                        **_at(eid, s),
                    )
                )
                continue
            prev = last_push.get(s.drug)
            if prev is not None:
                gap = s.a - prev
                if professional:
                    findings.append(
                        info(
                            "same-drug-push-not-reported",
                            "repeat IV push of the same drug has no code on a professional claim "
                            "(96376 is facility-only); drug units are still billed",
                            **_at(eid, s),
                        )
                    )
                elif gap > 30 and allowed_for.get("96376"):
                    raws.append(
                        (
                            "96376",
                            1,
                            s.start.date(),
                            s.adm_ids,
                            f"96376: {lab} at {T.hm(s.start)}, same drug pushed again "
                            f"{gap} min after its previous push (more than 30 min, facility)",
                            (),
                        )
                    )
                else:
                    findings.append(
                        info(
                            "same-drug-push-not-reported",
                            f"repeat IV push of the same drug {gap} min after the previous one is not "
                            + (
                                "reported (30 min or less)"
                                if gap <= 30
                                else "reported (96376 has no primary service here)"
                            ),
                            **_at(eid, s),
                        )
                    )
                last_push[s.drug] = s.b
                continue
            last_push[s.drug] = s.b
            want = _PUSH_SEQUENTIAL.get(s.purpose)
            if initial is None or want is None:  # defensive: every drug push can be initial
                findings.append(
                    warning(
                        "not-supported",
                        f"push with purpose '{s.purpose}' could not be sequenced; left for manual coding",
                        **_at(eid, s),
                    )
                )
                continue
            code = allowed_for.get(want)
            if code is None:
                findings.append(
                    error(
                        "add-on-without-primary",
                        f"{want} has no primary service in this encounter; held",
                        **_at(eid, s),
                    )
                )
                continue
            note = "" if code == want else f" ({want} needs a chemo initial service; {code} used)"
            raws.append(
                (
                    code,
                    1,
                    s.start.date(),
                    s.adm_ids,
                    f"{code}: {lab} {s.tt()}, IV push of a new drug after the initial service{note}",
                    (),
                )
            )
            continue

        # infusions after the initial
        end = s.end
        assert end is not None
        if s.purpose == "hydration":
            blocking = [
                iv for x in svcs if x.mode == "infusion" and x.purpose != "hydration" for iv in x.intervals
            ] + hyd_intervals
            remaining = sum(T.uncovered_len(a, b, blocking) for a, b in s.intervals)
            hyd_intervals.extend(s.intervals)
            if initial is None:
                findings.append(
                    info(
                        "hydration-not-reported",
                        f"hydration of {s.minutes} min is {rules.hydration_min - 1} min or less and is not reported",
                        **_at(eid, s),
                    )
                )
                continue
            n = T.hourly_units(remaining, rules.addon_over)
            if n <= 0:
                why = (
                    "runs concurrently with another infusion"
                    if remaining < s.minutes
                    else f"{remaining} min is {rules.addon_over} min or less"
                )
                findings.append(
                    info(
                        "hydration-not-reported",
                        f"hydration after the initial service not reported: {why}",
                        **_at(eid, s),
                    )
                )
                continue
            code = allowed_for.get("96361")
            if code is None:
                findings.append(
                    error(
                        "add-on-without-primary", "96361 has no primary service in this encounter; held", **_at(eid, s)
                    )
                )
                continue
            hmod = rules.sequential_hydration_modifier
            _hourly(
                raws,
                code,
                s,
                remaining,
                0,
                n,
                gi,
                f"{code}: {lab} {_interval_text(s, remaining)}, hydration after a different "
                f"initial service: {n} unit(s) (each full hour, or more than {rules.addon_over} "
                f"min)" + (f"; payer requires modifier {hmod} on sequential hydration" if hmod else ""),
                rules,
                (hmod,) if hmod else (),
            )
            continue

        want = _INFUSION_SEQUENTIAL.get(s.purpose)
        if initial is None or want is None:  # defensive: every drug infusion can be initial
            findings.append(
                warning(
                    "not-supported",
                    f"infusion with purpose '{s.purpose}' could not be sequenced; left for manual coding",
                    **_at(eid, s),
                )
            )
            continue
        ivs = s.intervals
        if not drug_intervals:
            remaining = s.minutes
        elif len(ivs) == 1:
            remaining = T.uncovered_len(ivs[0][0], ivs[0][1], drug_intervals)
        else:
            remaining = sum(T.uncovered_len(a, b, drug_intervals) for a, b in ivs)
        overlap = s.minutes - remaining
        drug_intervals.extend(s.intervals)
        last_push[s.drug] = s.b
        if remaining > rules.push_max:
            code = allowed_for.get(want)
            if code is None:
                findings.append(
                    error(
                        "add-on-without-primary",
                        f"{want} has no primary service in this encounter; held",
                        **_at(eid, s),
                    )
                )
                continue
            note = "" if code == want else f" ({want} needs a chemo initial infusion; {code} used)"
            itext = _interval_text(s, remaining)
            raws.append(
                (
                    code,
                    1,
                    s.start.date(),
                    s.adm_ids,
                    f"{code}: {lab} {itext}, sequential infusion of a new drug after the initial service{note}",
                    (),
                )
            )
            n = T.addon_hour_units(remaining, rules.addon_over)
            if n:
                add = _INFUSION_ADDON[code]
                _hourly(
                    raws,
                    add,
                    s,
                    remaining,
                    60,
                    n,
                    gi,
                    f"{add}: {lab} {itext}, {n} additional hour(s) of the sequential infusion",
                    rules,
                )
        elif overlap >= rules.concurrent_min_overlap:
            if s.visit in concurrent_visits:
                findings.append(
                    info(
                        "concurrent-once",
                        "a further concurrent infusion is not reported (96368 once per encounter)",
                        **_at(eid, s),
                    )
                )
                continue
            code = allowed_for.get("96368")
            if code is None:
                findings.append(
                    error(
                        "add-on-without-primary", "96368 has no primary service in this encounter; held", **_at(eid, s)
                    )
                )
                continue
            if code == "96368":
                concurrent_visits.add(s.visit)
            what = (
                "concurrent infusion, once per encounter"
                if code == "96368"
                else "infusion concurrent with a service that 96368 cannot follow; coded as sequential"
            )
            raws.append(
                (
                    code,
                    1,
                    s.start.date(),
                    s.adm_ids,
                    f"{code}: {lab} {s.tt()}, overlapping other infusions {overlap} min, {what}",
                    (),
                )
            )
        else:
            want = _PUSH_SEQUENTIAL[s.purpose]
            code = allowed_for.get(want)
            if code is None:
                findings.append(
                    error(
                        "add-on-without-primary",
                        f"{want} has no primary service in this encounter; held",
                        **_at(eid, s),
                    )
                )
                continue
            raws.append(
                (
                    code,
                    1,
                    s.start.date(),
                    s.adm_ids,
                    f"{code}: {lab} {_interval_text(s, remaining)}, only {remaining} min not "
                    f"overlapping (not more than {rules.push_max}) and overlap below the "
                    f"concurrent minimum: counts as a push of a new drug",
                    (),
                )
            )
    return raws


# --------------------------------------------------------------------------- lines


def admin_lines(enc: Encounter, cfg: Config, payer: PayerProfile) -> tuple[list[ServiceLine], list[Finding]]:
    """Administration lines (clinical order: per group the initial and its add-on hours first,
    then the rest by start time; same code/date/modifiers aggregated) and findings."""
    findings: list[Finding] = []
    if not enc.administrations:
        return [], findings
    rules = admin_rules(payer)
    svcs = classify(enc, payer, rules, findings)
    professional = enc.setting != "hospital_outpatient"
    rfv = enc.reason_for_visit if professional else None
    if rfv and rfv not in [a.id for a in enc.administrations]:
        findings.append(
            warning(
                "unknown-reason-for-visit",
                "reason_for_visit names no administration of this encounter; initial service chosen by the hierarchy",
                encounter_id=enc.id,
                field="reason_for_visit",
            )
        )
    raws: list[Raw] = []
    if len({x.site for x in svcs}) > 1:
        for v in sorted({x.visit for x in svcs}):
            sites = {x.site for x in svcs if x.visit == v}
            plain = sorted(k for k in sites if not any(x.site_reason for x in svcs if x.visit == v and x.site == k))
            if len(sites) > 1 and len(plain) > 1:
                first = next(x for x in svcs if x.visit == v and x.site == plain[1])
                findings.append(
                    info(
                        "second-site-without-reason",
                        "administrations at more than one access site without separate_site_reason "
                        "share one initial service (a second initial needs a documented reason)",
                        encounter_id=enc.id,
                        administration_id=first.adm_ids[0],
                        field="separate_site_reason",
                    )
                )
    concurrent_visits: set[str] = set()  # 96368 once per encounter (visit)
    for gi, (kind, members) in enumerate(group_services(svcs, rules, rfv)):
        raws.extend(sequence_group(gi, kind, members, enc, rules, findings, concurrent_visits))
    return build_lines(enc, cfg, raws, findings), findings


def build_lines(enc: Encounter, cfg: Config, raws: list[Raw], findings: list[Finding]) -> list[ServiceLine]:
    """Aggregate decisions into priced claim lines (same code, date and modifiers: one line).

    A line the chargemaster cannot price is held (``unpriced-code`` finding); an add-on whose
    primaries are then all held is held too (``add-on-without-primary``).
    """
    inst = enc.claim_type == "837I"
    rev = cfg.revenue_codes
    agg: dict[tuple, ServiceLine] = {}
    lines: list[ServiceLine] = []
    for code, units, day, ids_in, why, mods in raws:
        key = (code, day, mods)
        ln = agg.get(key)
        if ln is None:
            ln = ServiceLine(
                code,
                units,
                day,
                Decimal(0),  # priced below, once the units of every day are summed
                why,
                list(mods) if mods else [],
                list(ids_in),
                None,
                None,
                None,
                None,
                "admin",
            )
            if inst:
                ln.revenue_code = rev.get(ADMIN_CODES[code].revenue_key) or rev.get("admin", "0260")
            agg[key] = ln
            lines.append(ln)
        else:
            ln.units += units
            ids = ln.administration_ids
            for a in ids_in:
                if a not in ids:
                    ids.append(a)
            if why not in ln.rationale:
                ln.rationale += "; " + why
    held: set[int] = set()  # id() of the lines whose charge is held
    known = _price_table(cfg)[1]
    for ln in lines:
        unit = known.get(ln.code)
        if unit is not None:
            ln.charge = unit if ln.units == 1 else unit * ln.units
            continue
        amount, f = charge(cfg, ln.code, ln.units, encounter_id=enc.id, administration_id=ln.administration_ids[0])
        if f is not None:
            findings.append(f)
            held.add(id(ln))
        else:
            ln.charge = amount
    if not held:
        return lines
    kept = [ln for ln in lines if id(ln) not in held]
    while True:  # hold add-ons left without any primary (repeat: chains such as 96417 -> 96415)
        codes = {ln.code for ln in kept}
        orphans = [ln for ln in kept if ln.code in ADD_ON_CODES and not (ADMIN_CODES[ln.code].primaries & codes)]
        if not orphans:
            return kept
        for ln in orphans:
            findings.append(
                error(
                    "add-on-without-primary",
                    f"{ln.code} held because its primary service line was held",
                    encounter_id=enc.id,
                    administration_id=ln.administration_ids[0],
                )
            )
        kept = [ln for ln in kept if ln not in orphans]
