"""Property tests: no name, address or id can corrupt the X12 structure."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.config import load_config
from coding.model import Address
from edi.validate.pyx12 import validate_text
from edi.x12.text import clean, is_safe
from edi.x837.model import EnvelopeNumbers, plan_interchanges, write_interchange
from edi.x837.read import read_837
from tests.edi.x837.factory import NOW, assign_lcns, encounter, line, patient

CFG = load_config()
NASTY = "~*:^|\\\n\r\t\x00\x07\x1d\x1e\x1f ÉéÜßøŁ李ÿ\u200b'-.,/&#@"
text = st.text(alphabet=st.sampled_from(NASTY) | st.characters(codec="utf-8"), min_size=0, max_size=70)
wordy = st.one_of(text, st.from_regex(r"[A-Za-z]{2,12}( [A-Za-z~*:^]{1,8}){0,3}", fullmatch=True))


@given(st.text())
def test_clean_output_is_always_safe(value):
    out = clean(value)
    assert is_safe(out)
    assert not any(ch in out for ch in "~*:^\n\r")
    assert out == out.strip() and "  " not in out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=wordy, last=wordy, line1=wordy, line2=st.none() | wordy, city=wordy, member=wordy, sub_last=st.none() | wordy
)
def test_random_names_and_addresses_never_break_the_file(first, last, line1, line2, city, member, sub_last):
    addr = Address(line1, city, "IL", "62704", line2)
    pat = patient(first=first, last=last, member_id=member, address=addr)
    kw: dict[str, Any] = {}
    if sub_last is not None:
        kw = {"relationship": "spouse", "subscriber": patient("S", "ANN", sub_last, member_id=member, address=addr)}
    ce = encounter(
        "FUZZ-1", patient=pat, lines=[line("96365", "350"), line("J1745", "31", 3, ndc="57894003001", qty="1")], **kw
    )
    assign_lcns([ce])
    plans, findings = plan_interchanges([ce], CFG)
    if not plans:  # left out: an error finding names the field, never the value
        errors = [f for f in findings if f.severity == "error"]
        assert errors and all(f.field for f in errors)
        return
    data = write_interchange(plans[0], CFG, EnvelopeNumbers(1, 1, [1], ["FZ"]), NOW)
    text_ = data.decode("ascii")
    assert validate_text(text_, "fuzz") == []
    claims = read_837(data).claims
    assert [c.patient_control_number for c in claims] == ["FUZZ-1"]
    assert len(claims[0].lines) == 2 and claims[0].lines[1].ndc == "57894003001"


def test_config_text_with_separators_cannot_break_the_file():
    from dataclasses import replace

    bp = CFG.billing_provider
    cfg = replace(
        CFG,
        submitter=replace(CFG.submitter, name="ACME*BILLING~INC", contact_name="JO:^ANN"),
        billing_provider=replace(bp, name="RIVERSIDE ~ INFUSION*", address=replace(bp.address, line1="1 MAIN*ST~")),
    )
    ce = encounter("CFG-1", lines=[line("96365", "350")])
    assign_lcns([ce])
    plans, _findings = plan_interchanges([ce], cfg)
    data = write_interchange(plans[0], cfg, EnvelopeNumbers(1, 1, [1], ["C"]), NOW).decode()
    assert validate_text(data) == []
    assert "NM1*85*2*RIVERSIDE INFUSION*****XX*" in data and "PER*IC*JO ANN*TE*" in data
