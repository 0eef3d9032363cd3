"""Round trip: the claims read back from a written 837 equal the claims that were written."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from coding.config import load_config
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from edi.x837.read import read_837
from tests.edi.x837.factory import NOW, assign_lcns, hospital_set, office_set

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from bench_837 import make_coded


def _roundtrip(coded):
    cfg = load_config()
    plans, _ = plan_interchanges(coded, cfg)
    out = {}
    for k, plan in enumerate(plans):
        n = len(plan.transactions)
        data = write_interchange(plan, cfg, EnvelopeNumbers(k + 1, k + 1, list(range(1, n + 1)), ["R"] * n), NOW)
        doc = read_837(data)
        assert doc.findings == []
        written = plan.claims
        assert [c.patient_control_number for c in doc.claims] == [c.patient_control_number for c in written]
        for cp, rc in zip(written, doc.claims):
            out[cp.patient_control_number] = (cp, rc)
    return out


def _expected_line(ln):
    return (
        ln.code,
        list(ln.modifiers),
        Decimal(ln.units),
        ln.charge.quantize(Decimal("0.01")),
        ln.revenue_code,
        ln.service_date,
        ln.line_control_number,
        ln.ndc,
        None if ln.ndc is None else (ln.ndc_quantity if ln.ndc_quantity is not None else Decimal(ln.units)),
        None if ln.ndc is None else (ln.ndc_unit or "UN"),
    )


def _read_line(r):
    return (
        r.code,
        r.modifiers,
        r.units,
        r.charge.quantize(Decimal("0.01")),
        r.revenue_code,
        r.service_date,
        r.line_control_number,
        r.ndc,
        r.ndc_quantity,
        r.ndc_unit,
    )


@pytest.mark.parametrize("factory", [office_set, hospital_set])
def test_hand_made_claims_round_trip(factory):
    coded = factory()
    assign_lcns(coded)
    for _pcn, (cp, rc) in _roundtrip(coded).items():
        enc = cp.coded.encounter
        assert rc.claim_type == cp.coded.claim_type
        assert rc.frequency == cp.frequency
        assert rc.payer_claim_number == cp.payer_claim_number
        assert rc.payer_id == load_config().payers[enc.payer].payer_id
        assert rc.charge == sum(ln.charge for ln in cp.lines)
        assert [code for _, code in rc.diagnoses] == list(enc.diagnoses)
        assert [_read_line(r) for r in rc.lines] == [_expected_line(ln) for ln in cp.lines]


def test_generated_batch_round_trips_both_claim_types():
    coded = make_coded(40, seed=5) + make_coded(20, seed=6, setting="hospital_outpatient")
    for i, ce in enumerate(coded[40:]):
        ce.encounter = type(ce.encounter)(
            **{**{f: getattr(ce.encounter, f) for f in ce.encounter.__dataclass_fields__}, "id": f"H{i:06d}"}
        )
        for ln in ce.lines:
            assert ln.line_control_number is not None
            ln.line_control_number = "H" + ln.line_control_number
    pairs = _roundtrip(coded)
    assert len(pairs) == 60
    for cp, rc in pairs.values():
        assert [_read_line(r) for r in rc.lines] == [_expected_line(ln) for ln in cp.lines]
