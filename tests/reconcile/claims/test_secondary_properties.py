"""Property: whatever a primary payer says about a claim, the secondary claim built from it is valid
(pyx12 and our edits) and carries the primary's adjudication to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.config import load_config
from reconcile.claims.secondary import build_secondary
from reconcile.posting.records import Adj, RLine
from tests.reconcile.claims.test_secondary import (
    ROOT,
    _build,
    _claim,
    _lines,
    _post,
    _segments,
    _status,
    _with_secondary,
)
from tests.reconcile.ledger.targets import another_ledger

D = Decimal
CENT = D("0.01")
pytestmark = pytest.mark.slow
CFG = load_config(ROOT / "fixtures" / "dripline.toml")

# per line: (kind, allowed share in %, deductible, coinsurance share in %, extra OA/PI reason, quantity on PR)
_line_policy = st.tuples(
    st.sampled_from(["paid", "paid", "paid", "denied", "all_patient"]),
    st.integers(min_value=10, max_value=100),
    st.sampled_from([D(0), D("0.01"), D("50"), D("257")]),
    st.integers(min_value=0, max_value=50),
    st.sampled_from([None, ("OA", "23"), ("PI", "94"), ("CO", "253")]),
    st.booleans(),
)


def _adjudicate(ln: Any, policy: tuple) -> RLine:
    kind, allowed_pct, deductible, coins_pct, extra, qty = policy
    charge = D(ln["charge"])
    adjs: list[Adj] = []
    if kind == "denied":
        adjs, paid = [Adj("CO", "50", charge)], D(0)
    else:
        allowed = (charge * allowed_pct / 100).quantize(CENT)
        if allowed != charge:
            adjs.append(Adj("CO", "45", charge - allowed))
        rest = allowed
        if extra and rest > 1:
            cut = (rest / 10).quantize(CENT)
            adjs.append(Adj(extra[0], extra[1], cut))
            rest -= cut
        ded = min(deductible, rest)
        if ded:
            adjs.append(Adj("PR", "1", ded, D(1) if qty else None))
            rest -= ded
        if kind == "all_patient":
            if rest:
                adjs.append(Adj("PR", "2", rest))
            paid = D(0)
        else:
            coins = (rest * coins_pct / 100).quantize(CENT)
            if coins:
                adjs.append(Adj("PR", "2", coins))
            paid = rest - coins
    return RLine(
        code=ln["code"],
        charge=charge,
        paid=paid,
        modifiers=tuple(m for m in ln["modifiers"].split(":") if m),
        units=D(ln["units"]),
        revenue_code=ln["revenue_code"],
        service_date=ln["service_date"],
        line_control_number=ln["line_control_number"],
        adjustments=adjs,
    )


def _cas_of(segs: list[list[str]], at: int) -> list[Adj]:
    out: list[Adj] = []
    j = at + 1
    while segs[j][0] == "CAS":
        els = segs[j]
        for k in range(2, len(els), 3):
            if els[k]:
                q = els[k + 2] if k + 2 < len(els) and els[k + 2] else None
                out.append(Adj(els[1], els[k], D(els[k + 1]), None if q is None else D(q)))
        j += 1
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    eid=st.sampled_from(["ENC-001", "ENC-003", "ENC-004", "ENC-006", "ENC-010"]),
    policies=st.lists(_line_policy, min_size=1, max_size=8),
    status=st.sampled_from(["1", "19"]),
)
def test_any_primary_adjudication_gives_a_valid_exact_secondary(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    ledger_target: str,
    eid: str,
    policies: list[tuple],
    status: str,
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    cfg = CFG
    conn = _build(tmp, another_ledger(request, ledger_target), cfg, [_with_secondary(eid, "PROP-1")])
    lines = _lines(conn, "PROP-1", "medicare")
    rls = [_adjudicate(ln, policies[i % len(policies)]) for i, ln in enumerate(lines)]
    _post(conn, cfg, tmp, "mcr", "00952", "MEDICARE PART B", [_claim("PROP-1", status, rls)])
    owed = sum((a.amount for rl in rls for a in rl.adjustments if a.group == "PR"), D(0))
    if owed == 0:
        assert _status(conn, "PROP-1", "medicare") != "ready_for_secondary"
        return
    assert _status(conn, "PROP-1", "medicare") == "ready_for_secondary"
    res = build_secondary(cfg, conn, tmp / "sec")
    assert [f.status for f in res.files] == ["recorded"], [f.to_dict() for f in res.findings if f.is_error]
    segs = _segments(res.files[0].path)
    forwarded = [rl for rl in rls if rl.paid or any(a.group == "PR" and a.amount for a in rl.adjustments)]
    svd_at = [i for i, s in enumerate(segs) if s[0] == "SVD"]
    assert len(svd_at) == len(forwarded)
    for at, rl in zip(svd_at, forwarded):
        assert D(segs[at][2]) == rl.paid and segs[at][3].split(":")[1] == rl.code
        assert _cas_of(segs, at) == [
            a for g in dict.fromkeys(a.group for a in rl.adjustments) for a in rl.adjustments if a.group == g
        ]
    amt_d = next(s for s in segs if s[0] == "AMT" and s[1] == "D")
    assert D(amt_d[2]) == sum((rl.paid for rl in forwarded), D(0))
