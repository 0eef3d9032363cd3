"""Property tests: whatever a file says, the look-ups answer exactly that (against a plain model)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.codesets import LedgerCodeSets, load_path
from reconcile.codesets.formats import parse_text
from reconcile.ledger.store import connect, transaction
from tests.reconcile.codesets import synth

CODES = ["96365", "96366", "96413", "J9035", "0001T", "96372"]
DAY0 = date(2020, 1, 1)


def _ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


days = st.integers(min_value=0, max_value=2500).map(lambda n: DAY0 + timedelta(days=n))

ptp_row = st.tuples(
    st.sampled_from(CODES),
    st.sampled_from(CODES),
    days,
    st.one_of(st.none(), days),
    st.sampled_from("019"),
)


def _model(rows, c1: str, c2: str, on: date):
    """The documented rule: the row in force on ``on`` (deletion = last day), else the latest
    that took effect on or before ``on``; ties resolved by file order."""
    mine = sorted(
        ((eff, n, deleted, ind) for n, (a, b, eff, deleted, ind) in enumerate(rows) if (a, b) == (c1, c2)),
        key=lambda r: (r[0], r[1]),
    )
    in_force = [r for r in mine if r[0] <= on and (r[2] is None or on <= r[2]) and r[3] != "9"]
    if in_force:
        return in_force[-1]
    started = [r for r in mine if r[0] <= on]
    return started[-1] if started else None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(ptp_row, min_size=1, max_size=25),
    probes=st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from(CODES), days), min_size=1, max_size=15),
)
def test_ptp_lookup_matches_the_file(tmp_path_factory, ledger_target, rows, probes):
    tmp = tmp_path_factory.mktemp("ptp")
    data = synth.ptp_file([(a, b, _ymd(e), "*" if d is None else _ymd(d), i) for a, b, e, d, i in rows])
    conn = connect(ledger_target)  # one ledger for the test (a database per example costs too much)
    with transaction(conn):  # every example loads into a ledger holding no set
        conn.execute("DELETE FROM codeset_ptp")
        conn.execute("DELETE FROM codesets")
    (res,) = load_path(conn, synth.write(tmp / "ccipra-v322r0-f1.TXT", data), effective=DAY0)
    assert res.status == "loaded" and res.rows == len(rows)
    sets = LedgerCodeSets(conn)
    for c1, c2, on in probes:
        got = sets.ptp("practitioner", c1, c2, on)
        want = _model(rows, c1, c2, on)
        if want is None:
            assert got is None
        else:
            assert got is not None
            assert (got.effective, got.deleted, got.modifier_indicator) == (want[0], want[2], want[3])
    conn.close()


hcpcs_rec = st.builds(
    synth.Hcpcs,
    code=st.from_regex(r"[A-HJ-V][0-9]{4}", fullmatch=True),
    description=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=230).map(
        lambda s: " ".join(s.split()) or "x"
    ),
    added=days.map(_ymd),
    terminated=st.one_of(st.just(""), days.map(_ymd)),
    action=st.sampled_from("ABCDNPRST"),
)


@settings(max_examples=60, deadline=None)
@given(recs=st.lists(hcpcs_rec, min_size=1, max_size=20, unique_by=lambda r: r.code))
def test_hcpcs_records_round_trip(recs):
    rows, ctx = parse_text("hcpcs", synth.hcpcs_file(recs).decode("cp1252"))
    assert not [f for f in ctx.findings if f.is_error]
    by = {r[0]: r for r in rows}
    for rec in recs:
        _, is_mod, added, term, action, desc, _ = by[rec.code]
        assert is_mod == 0 and action == rec.action
        assert term == (f"{rec.terminated[:4]}-{rec.terminated[4:6]}-{rec.terminated[6:]}" if rec.terminated else None)
        if rec.action != "R":
            assert added == f"{rec.added[:4]}-{rec.added[4:6]}-{rec.added[6:]}"
        # continuation records: 80 characters a line, joined with a space (blanks at a cut collapse)
        assert desc.replace(" ", "") == rec.description.replace(" ", "")
