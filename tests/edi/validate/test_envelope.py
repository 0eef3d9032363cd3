"""Envelope problems are findings (pyx12 logs some of them only: the adapter captures its logger)."""

from __future__ import annotations

import logging

import pytest

from coding.config import load_config
from edi.validate.pyx12 import validate_text
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from tests.edi.x837.factory import NOW, assign_lcns, hospital_set


@pytest.fixture(scope="module")
def good() -> str:
    coded = hospital_set()
    assign_lcns(coded)
    plans, _ = plan_interchanges(coded, load_config())
    return write_interchange(plans[0], load_config(), EnvelopeNumbers(101, 201, [1, 2], ["A", "B"]), NOW).decode()


@pytest.mark.parametrize(
    "mutate,segment",
    [
        (lambda t: t + "XYZ*1~\n", "XYZ"),  # after IEA: pyx12 only logs it
        (lambda t: t.replace("ST*837*0001", "REF*XX*1~\nST*837*0001", 1), None),  # outside any ST: logged only
        (lambda t: t.replace("IEA*1*000000101~\n", ""), "ISA"),
        (lambda t: t.replace("GE*2*201~\n", ""), "ISA"),
        (lambda t: t.replace("SE*43*0001~\n", "", 1), "SE"),
        (lambda t: t.replace("IEA*1*000000101", "IEA*1*000000102"), "ISA"),
        (lambda t: t.replace("GE*2*", "GE*3*"), "GS"),
        (lambda t: t.replace("SE*43*0001", "SE*44*0001"), "ST"),
        (lambda t: t.replace("IEA*1*000000101~\n", "") + t, "ISA"),
    ],
)
def test_envelope_error_is_a_finding(good, mutate, segment):
    findings = validate_text(mutate(good), "env.x12")
    assert any(f.severity == "error" and f.line for f in findings)
    assert segment in {f.segment for f in findings}


def test_pyx12_logger_is_restored_and_silent(good, caplog):
    logger = logging.getLogger("pyx12")
    before = (list(logger.handlers), logger.propagate)
    with caplog.at_level(logging.DEBUG):
        validate_text(good.replace("GE*2*", "GE*3*"))
    assert (list(logger.handlers), logger.propagate) == before
    assert not [r for r in caplog.records if r.name.startswith("pyx12")]


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from edi.x837.edits import run_edits  # noqa: E402
from edi.x837.read import read_837  # noqa: E402


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 12), st.binary(max_size=6)), min_size=1, max_size=4)
)
def test_random_byte_mutations_never_raise(good, cuts):
    data = bytearray(good.encode())
    for pos, length, repl in cuts:
        pos %= len(data)
        data[pos : pos + length] = repl
    text = bytes(data).decode("ascii", "replace")
    findings = validate_text(text, "mutated.x12")
    assert all(f.severity in ("error", "warning", "info") for f in findings)
    run_edits(read_837(bytes(data)).claims, "mutated.x12", strict=True)
