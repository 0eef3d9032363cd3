"""Property tests (hypothesis) for the coder: any valid encounter codes without exception, every
line has a rationale and units >= 1, add-on codes never appear without a primary, at most one
initial service per visit/site, deterministic output."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.admin.codes import ADD_ON_CODES, ADMIN_CODES, INITIAL_CODES
from coding.config import load_config
from coding.engine import code_encounter, code_encounters
from coding.model import Administration, Quantity, Service
from tests.coding.builders import enc

CFG = load_config()
BASE = datetime(2026, 3, 2, 7, 0)
DRUGS = [
    ("J1745", "mg"),
    ("J1956", "mg"),
    ("J0690", "mg"),
    ("J0133", "mg"),
    ("J9267", "mg"),
    ("J9045", "mg"),
    ("J2405", "mg"),
    ("J1100", "mg"),
    ("J1200", "mg"),
    ("J2506", "mg"),
    ("J0897", "mg"),
    ("J7030", "mL"),
    ("J1569", "g"),
    ("J9217", "mg"),
]
ROUTES = ["iv_infusion", "iv_infusion", "iv_infusion", "iv_push", "sc", "im", "intra_arterial", "on_body_injector"]


@st.composite
def administration(draw, i: int):
    drug, unit = draw(st.sampled_from(DRUGS))
    route = draw(st.sampled_from(ROUTES))
    start = BASE + timedelta(minutes=draw(st.integers(0, 20 * 60)))
    minutes = draw(st.integers(0, 600))
    has_end = draw(st.integers(0, 9)) > 0
    end = start + timedelta(minutes=minutes) if has_end else None
    vol = rate = None
    if not has_end and draw(st.booleans()):
        vol = Decimal(draw(st.integers(1, 2000)))
        rate = Decimal(draw(st.integers(1, 1000)))
    wasted = None
    if draw(st.integers(0, 4)) == 0:
        wasted = Quantity(Decimal(draw(st.integers(1, 100))), unit)
    return Administration(
        id=f"A{i}",
        drug=drug,
        route=route,
        start=start,
        end=end,
        dose=Quantity(Decimal(draw(st.integers(1, 1000))), unit),
        purpose=draw(st.sampled_from([None, None, None, "chemo", "therapeutic", "hydration"])),
        volume_ml=vol,
        rate_ml_per_hr=rate,
        wasted=wasted,
        container=draw(st.sampled_from([None, "single_dose", "multi_dose"])),
        access=draw(st.sampled_from(["A", "A", "B"])),
        separate_site_reason=draw(st.sampled_from([None, None, "incompatible"])),
        visit=draw(st.sampled_from(["1", "1", "1", "2"])),
    )


@st.composite
def encounter(draw):
    n = draw(st.integers(0, 7))
    admins = [draw(administration(i)) for i in range(n)]
    services = draw(
        st.lists(
            st.builds(
                Service,
                code=st.sampled_from(["99211", "99213", "99214", "G0463", "96523"]),
                separately_identifiable=st.booleans(),
            ),
            max_size=2,
        )
    )
    if not admins and not services:
        services = [Service(code="99213")]
    reason = draw(st.sampled_from([None, "A0", "A1", "A9"]))
    return enc(
        admins,
        setting=draw(st.sampled_from(["office", "infusion_center", "hospital_outpatient"])),
        payer=draw(st.sampled_from(["medicare", "commercial"])),
        services=services,
        reason_for_visit=reason,
    )


def _groups(e):
    """(visit, site-or-main) keys an administration can open an initial service for."""
    keys = set()
    for a in e.administrations:
        keys.add((a.visit, a.access if a.separate_site_reason else "*"))
    return keys


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encounter())
def test_any_valid_encounter_codes(e):
    coded = code_encounter(e, CFG)
    codes = {ln.code for ln in coded.lines}
    for ln in coded.lines:
        assert ln.rationale.strip(), ln
        assert isinstance(ln.units, int) and ln.units >= 1
        assert ln.charge > 0
        if e.claim_type == "837I":
            assert ln.revenue_code and len(ln.revenue_code) == 4
        else:
            assert ln.revenue_code is None
        if ln.code in ADD_ON_CODES:
            assert ADMIN_CODES[ln.code].primaries & codes, (ln.code, codes)
        if ln.kind == "admin":
            assert set(ln.administration_ids) <= {a.id for a in e.administrations}
    # at most one initial per visit/site; only the first visit's main group goes unmodified
    initial_units = sum(ln.units for ln in coded.lines if ln.code in INITIAL_CODES)
    assert initial_units <= len(_groups(e))
    assert sum(ln.units for ln in coded.lines if ln.code in INITIAL_CODES and not ln.modifiers) <= 1
    assert sum(ln.units for ln in coded.lines if ln.code == "96368") <= len({a.visit for a in e.administrations})
    if e.claim_type == "837P":
        assert "96376" not in codes
    if any(ln.kind == "admin" for ln in coded.lines):
        assert "99211" not in codes
    # a held administration is never silently dropped: it has a finding
    for f in coded.findings:
        assert f.code and f.message and f.encounter_id == e.id


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(encounter(), min_size=1, max_size=4))
def test_deterministic(encs):
    a = [c.to_dict() for c in code_encounters(encs, CFG)]
    b = [c.to_dict() for c in code_encounters(encs, CFG)]
    assert a == b


@settings(max_examples=200, deadline=None)
@given(
    minutes=st.integers(0, 24 * 60),
    start=st.integers(0, 23 * 60 + 59),
    purpose=st.sampled_from(["therapeutic", "chemo", "hydration"]),
    setting=st.sampled_from(["office", "hospital_outpatient"]),
)
def test_single_infusion_units_follow_the_time_rule(minutes, start, purpose, setting):
    """One IV administration of T minutes: push at <= 15, else initial + floor((T-60)/60) +
    (remainder > 30) additional hours (hydration: nothing at <= 30), dated on the day each hour
    begins; the units over all dates add up."""
    from coding.admin import timing as T

    drug = {"therapeutic": "J1956", "chemo": "J9267", "hydration": "J7030"}[purpose]
    s = BASE.replace(hour=0, minute=0) + timedelta(minutes=start)
    a = Administration(
        id="A1",
        drug=drug,
        route="iv_infusion",
        start=s,
        end=s + timedelta(minutes=minutes),
        dose=Quantity(Decimal(100 if drug != "J7030" else 1000), "mg" if drug != "J7030" else "mL"),
        purpose=purpose,
    )
    coded = code_encounter(enc([a], setting=setting), CFG)
    got: dict[str, int] = {}
    for ln in coded.lines:
        if ln.kind == "admin":
            got[ln.code] = got.get(ln.code, 0) + ln.units
            assert ln.service_date >= s.date()
    initial = {"therapeutic": "96365", "chemo": "96413", "hydration": "96360"}[purpose]
    addon = {"therapeutic": "96366", "chemo": "96415", "hydration": "96361"}[purpose]
    push = {"therapeutic": "96374", "chemo": "96409", "hydration": None}[purpose]
    if purpose == "hydration" and minutes <= 30:
        assert got == {}
    elif minutes <= 15:
        assert got == {push: 1}
    else:
        want = {initial: 1}
        if T.addon_hour_units(minutes):
            want[addon] = T.addon_hour_units(minutes)
        assert got == want
