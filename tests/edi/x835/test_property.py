"""Property tests: generated balanced 835s read back exactly; mutated corpus files never raise."""

from __future__ import annotations

import importlib.util
import random
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.x835.model import BALANCING_CODES
from edi.x835.reader import read_835_with_findings
from tests.conftest import CORPUS

_spec = importlib.util.spec_from_file_location("gen835", Path(__file__).resolve().parents[3] / "bench" / "gen835.py")
assert _spec is not None and _spec.loader is not None
gen835 = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("gen835", gen835)
_spec.loader.exec_module(gen835)


def _doc(sets, e: str, c: str, term: str) -> bytes:
    segs = gen835.render_interchange(sets, 7, e, c, "^" if "^" not in (e, c) else "!")
    return term.join(segs).encode() + term.encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 25),
    n_sets=st.integers(1, 3),
    layout=st.sampled_from([("*", ":", "~\n"), ("*", ">", "~"), ("|", "^", "\n"), ("^", "}", "~\r\n")]),
)
def test_generated_835_reads_back_to_the_same_amounts(seed: int, n: int, n_sets: int, layout) -> None:
    rng = random.Random(seed)
    sets = [gen835.random_set(rng, k * 100 + 1, n, k) for k in range(n_sets)]
    e, c, term = layout
    rems, findings = read_835_with_findings(_doc(sets, e, c, term))
    assert [f for f in findings if f.severity == "error"] == []
    assert not [f for f in findings if f.code in BALANCING_CODES]
    assert len(rems) == n_sets
    for s, r in zip(sets, rems):
        assert r.payment.amount == s.payment
        assert r.payer.name == s.payer and r.payment.trace == s.trace
        assert len(r.claims) == len(s.claims)
        for g, c_ in zip(s.claims, r.claims):
            assert (c_.patient_control_number, c_.status, c_.charge, c_.paid) == (g.pcn, g.status, g.charge, g.paid)
            assert c_.payer_claim_number == g.payer_claim_number
            assert [(a.group, a.reason, a.amount) for a in c_.adjustments] == sorted_by_group(g.adjustments)
            assert len(c_.lines) == len(g.lines)
            for gl, rl in zip(g.lines, c_.lines):
                assert (rl.qualifier, rl.code, rl.modifiers) == (gl.qualifier, gl.code, gl.modifiers)
                assert (rl.charge, rl.paid, rl.units) == (gl.charge, gl.paid, gl.units)
                assert rl.line_control_number == gl.control
                assert sorted((a.group, a.reason, a.amount) for a in rl.adjustments) == sorted(gl.adjustments)
                assert rl.original_code == gl.original_code
        assert [(a.reason, a.reference, a.amount) for a in r.provider_adjustments] == [
            (p.reason, p.reference, p.amount) for p in s.plbs
        ]
        assert r.total_paid - r.plb_total == s.payment


def sorted_by_group(adjs):
    """The generator writes one CAS per group in first-seen group order."""
    order: dict[str, list] = {}
    for g, r, a in adjs:
        order.setdefault(g, []).append((g, r, a))
    return [x for items in order.values() for x in items]


def test_generated_file_unbalanced_claim_is_found() -> None:
    rng = random.Random(3)
    s = gen835.random_set(rng, 1, 5, 0)
    s.claims[2].paid += Decimal("0.01")
    _rems, findings = read_835_with_findings(_doc([s], "*", ":", "~"))
    codes = [f.code for f in findings]
    assert codes.count("claim-out-of-balance") == 1 and codes.count("transaction-out-of-balance") == 0
    assert [f.encounter_id for f in findings if f.code == "claim-out-of-balance"] == [s.claims[2].pcn]


def _corpus_blobs() -> list[bytes]:
    root = CORPUS
    files = sorted((root / "835").glob("*"))[:12] if (root / "835").is_dir() else []
    blobs = [p.read_bytes()[:6000] for p in files]
    rng = random.Random(1)
    sets = [gen835.random_set(rng, 1, 4, 0)]
    blobs.append(_doc(sets, "*", ":", "~\n"))
    return blobs


BLOBS = _corpus_blobs()


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_mutations_never_raise(data) -> None:
    blob = bytearray(data.draw(st.sampled_from(BLOBS)))
    for _ in range(data.draw(st.integers(1, 8))):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        pos = data.draw(st.integers(0, max(0, len(blob) - 1)))
        if kind == "flip" and blob:
            blob[pos] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            blob[pos:pos] = data.draw(
                st.sampled_from(
                    [
                        b"~",
                        b"*",
                        b":",
                        b"\n",
                        b"ISA",
                        b"SE*",
                        b"CLP*",
                        b"SVC*",
                        b"CAS*CO*",
                        b"PLB*",
                        b"\xff\xfe",
                        b"NaN",
                        b"-",
                    ]
                )
            )
        elif kind == "delete":
            del blob[pos : pos + data.draw(st.integers(1, 40))]
        elif kind == "cut":
            del blob[pos:]
    rems, _findings = read_835_with_findings(bytes(blob))
    for r in rems:
        assert r.claim_count >= len(r.claims)
        for f in r.findings:
            assert f.code and f.severity in ("error", "warning", "info")
