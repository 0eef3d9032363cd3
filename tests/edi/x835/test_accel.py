"""The compiled 835 accelerator (``edi.x835._accel``) must read exactly what the pure-Python reader reads.

Every input here is read twice, ``accelerated=False`` (the pure driver, the reference) and
``accelerated=True`` (the compiled driver: the tokenizer's scan of regular runs, the inlined
segments and the bookkeeping of balanced claims), with ``keep_claims`` True and False, and
everything the caller can observe must be identical:

- each :class:`~edi.x835.model.Remittance` by ``repr`` (slots dataclasses: every field, claims,
  lines, adjustments, names, Decimal amounts with their exact representation, findings), both
  at the moment it is yielded and after the file was read to the end;
- the renderings of :mod:`edi.x835.report` (``remittance_json``, ``csv_rows``, ``summarize`` and
  the streamed ``write_json`` document);
- the file-level findings and each remittance's findings (``repr`` of the frozen dataclasses);
- whether the cyclic collector is enabled when control is back with the caller.

Inputs: every file of the public corpus (835s and all the others: any bytes must read without an
exception, and alike), a few hundred seeded byte/segment mutations of corpus 835s (the C code
must fall back to the handlers exactly where the input is irregular), hand-made texts aimed at
the inlined segments (CLP/CAS/SVC/DTM/REF/NM1/AMT/QTY/LQ) and at the envelope/tokenizer edges,
the bench generator (also across several 64 Ki chunks, in small chunks, under other decimal
contexts, and through ``reconcile.posting.remit``'s on_claim hook), and a hypothesis property over
random segment sequences.

When the extension is not built (``edi.x835.reader.ACCELERATOR_AVAILABLE`` False) there is nothing to
compare and these tests skip; the pure reader is covered by the other files of ``tests/edi/x835``.
"""

from __future__ import annotations

import decimal
import gc
import importlib
import importlib.util
import inspect
import io
import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.x835 import reader as x835
from edi.x835.report import csv_rows, remittance_json, summarize, write_json
from tests.conftest import CORPUS, REPO
from tests.edi.x835.test_cases import REVERSAL_PAIR, interchange, st_set
from tests.edi.x835.test_corpus import corpus_835_files

pytestmark = pytest.mark.slow  # equivalence on the corpus, mutated and generated files: minutes, not seconds

ACCEL = bool(getattr(x835, "ACCELERATOR_AVAILABLE", False))
needs_accel = pytest.mark.skipif(
    not ACCEL,
    reason="the compiled 835 accelerator (edi.x835._accel) is not available: nothing to compare "
    "(the pure-Python reader is tested by the other files of tests/edi/x835)",
)

# --------------------------------------------------------------------------- harness

Source = Any  # bytes | str | Path | a zero-argument callable returning a fresh binary stream


def _snapshot(source: Source, accelerated: bool, keep_claims: bool, filename: str | None = None) -> dict[str, Any]:
    """Everything a caller can observe of one read."""
    src = source() if callable(source) else source
    file_findings: list = []
    at_yield: list[str] = []
    gc_on: list[bool] = []
    rems = []
    for r in x835.read_835(src, filename, file_findings, keep_claims, accelerated=accelerated):
        at_yield.append(repr(r))
        gc_on.append(gc.isenabled())
        rems.append(r)
    gc_on.append(gc.isenabled())
    buf = io.StringIO()
    write_json(iter(rems), file_findings, buf)
    return {
        "remittances at yield": at_yield,
        "remittances": [repr(r) for r in rems],
        "file findings": [repr(f) for f in file_findings],
        "remittance findings": [[repr(f) for f in r.findings] for r in rems],
        "remittance_json": [json.dumps(remittance_json(r), sort_keys=True, ensure_ascii=False) for r in rems],
        "csv_rows": [repr(list(csv_rows(r))) for r in rems],
        "summarize": [repr(summarize(r)) for r in rems],
        "write_json": [buf.getvalue()],
        "gc enabled after yields": gc_on,
    }


def _first_difference(a: list, b: list) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            k = next((j for j, (p, q) in enumerate(zip(str(x), str(y))) if p != q), min(len(str(x)), len(str(y))))
            lo = max(0, k - 150)
            return (
                f"item {i} first differs at character {k}:\n  pure:        ...{str(x)[lo : k + 250]!s}\n"
                f"  accelerated: ...{str(y)[lo : k + 250]!s}"
            )
    return f"lengths differ: pure {len(a)}, accelerated {len(b)}"


def assert_same(source: Source, label: str = "", filename: str | None = None) -> dict[bool, Any]:
    """Pure and accelerated reads agree in everything, with and without claims kept (by keep_claims)."""
    out: dict[bool, Any] = {}
    for keep in (True, False):
        pure = _snapshot(source, False, keep, filename)
        fast = _snapshot(source, True, keep, filename)
        for key, want in pure.items():
            got = fast[key]
            if got != want:
                pytest.fail(f"{label or 'input'} (keep_claims={keep}): {key} differ\n{_first_difference(want, got)}")
        out[keep] = pure
    assert gc.isenabled()
    return out


# --------------------------------------------------------------------------- building 835 texts


def doc(
    bodies: list[list[str]] | list[str],
    e: str = "*",
    c: str = ":",
    r: str = "^",
    term: str = "~",
    after: str = "\n",
    bpr: str = "0",
    ctl: int = 1,
) -> str:
    """One interchange (ISA/GS/ST/BPR/TRN/N1 PR/N1 PE/LX ... SE/GE/IEA) of one or more sets.

    ``bodies`` are written with ``*`` and ``:`` and translated to the separators asked for
    (ISA11 = ``r``, ISA16 = ``c``); ``after`` follows every terminator.
    """
    if bodies and isinstance(bodies[0], str):
        bodies = [bodies]
    sets = [st_set(list(b), bpr, st=f"{k + 1:04d}") for k, b in enumerate(bodies)]
    segs = interchange(sets, ctl)
    out = []
    for s in segs:
        els = s.split("*")
        if els[0] == "ISA":
            els[11], els[16] = r, c
        else:
            els = [x.replace(":", c) for x in els]
        out.append(e.join(els))
    return "".join(s + term + after for s in out)


def claim(*segs: str, pcn: str = "ENC1") -> list[str]:
    return [f"CLP*{pcn}*1*100*80**12*PCN1*11*1", *segs]


def line(*segs: str, svc: str = "SVC*HC:96413*100*80**1") -> list[str]:
    return ["CLP*ENC1*1*100*80**12*PCN1*11*1", svc, *segs]


# Amount spellings Decimal() takes, refuses, or takes with another exponent; beyond the 1e15 cap.
WEIRD_AMOUNTS = [
    "",
    "garbage",
    "NaN",
    "nan",
    "-NaN",
    "sNaN",
    "NaN12",
    "Infinity",
    "-Infinity",
    "inf",
    "-inf",
    "1e20",
    "1E2",
    "1e-3",
    "1E+2",
    " 12 ",
    "12 ",
    " 12",
    "\t5",
    "1_000",
    "1__0",
    "_1",
    "-0",
    "+0",
    "-0.00",
    "+5",
    ".5",
    "5.",
    "-.5",
    "0.00",
    "00012.3400",
    "999999999999999",
    "999999999999999.99",
    "1000000000000000",
    "-999999999999999.99",
    "1e15",
    "-1e15",
    "1e14",
    "0e999",
    "1e-999",
    "1.2.3",
    "--5",
    "5-",
    "0x1F",
    "1,000",
    "\u0661\u0662",
    "\uff11\uff12",
    "12\u00a0",
    "\u00bd",
    "\u00b2",
    "12\u200b",
    "1 000",
    "e5",
    "1e",
    ".",
    "-",
    "+",
    "1.",
    "12345678901234567890123456789012345",
    "0.000000000000000000000000000001",
]

CAS_TRIPLETS = [
    ("45", "10", "1"),
    ("253", "2", ""),
    ("97", "3", "2"),
    ("16", "4", ""),
    ("4", "1", "1"),
    ("B7", "5", ""),
    ("A1", "6", "3"),
]


def _cas(k: int, group: str = "CO", qty: bool = True) -> str:
    parts = ["CAS", group]
    for reason, amount, q in CAS_TRIPLETS[:k]:
        parts += [reason, amount, q if qty else ""]
    while parts[-1] == "" and len(parts) > 4:
        parts.pop()
    return "*".join(parts)


def hand_made_cases() -> dict[str, bytes]:
    cases: dict[str, str | bytes] = {}

    # CAS with 1..7 triplets, claim and line level, with and without quantities
    for k in range(1, 8):
        for qty in (True, False):
            cases[f"cas-claim-{k}-triplets-qty{qty}"] = doc(claim(_cas(k, qty=qty)))
            cases[f"cas-line-{k}-triplets-qty{qty}"] = doc(line(_cas(k, "PR", qty=qty), "DTM*472*20260105"))
    cases["cas-7-triplets-trailing-empties"] = doc(line(_cas(7) + "****"))
    # CAS shapes: missing amount, empty reason, empty group, bare CAS, too many elements
    for i, cas in enumerate(
        [
            "CAS",
            "CAS*CO",
            "CAS*CO*45",
            "CAS*CO*45*",
            "CAS*CO**10",
            "CAS**45*10",
            "CAS*CO*45*10*",
            "CAS*CO*45*10*1*",
            "CAS*CO*45*10*1*253",
            "CAS*CO*45*10*1*253*",
            "CAS*CO*45*10*1*253*2*",
            "CAS*CO*45*10**253*2*x",
            "CAS*CO*45*10*NaN",
            "CAS*CO*45*10*1e20",
        ]
    ):
        cases[f"cas-shape-{i}-claim"] = doc(claim(cas))
        cases[f"cas-shape-{i}-line"] = doc(line(cas))
    # weird amounts in CAS amounts and quantities, AMT/QTY, SVC02/03/05/07, CLP03/04/05, PLB, BPR02
    weird_bodies: dict[str, list[str]] = {}
    for j, w in enumerate(WEIRD_AMOUNTS):
        weird_bodies[f"amount-{j}"] = [
            f"CLP*ENC{j}*1*{w}*80*{w}*12*PCN1*11*1",
            f"CAS*CO*45*{w}",
            f"CAS*PR*1*5*{w}",
            f"CAS*OA*23*{w}*{w}*94*{w}",
            f"AMT*AU*{w}",
            f"QTY*CA*{w}",
            "NM1*QC*1*DOE*JANE****MI*X1",
            f"SVC*HC:96413*{w}*80**{w}",
            f"CAS*CO*45*{w}",
            f"CAS*CO*253*1*{w}",
            f"CAS*PR*2*{w}*1*3*{w}*{w}",
            f"AMT*B6*{w}",
            f"QTY*ZK*{w}",
            "REF*6R*L1",
            f"SVC*HC:96415*100*{w}**1",
            "CAS*CO*45*20",
            f"SVC*HC:96417*100*80**1*HC:96413*{w}",
            "CAS*CO*45*20",
            f"CLP*ENC{j}B*1*100*{w}**12*PCN2",
            f"PLB*1234567893*20261231*WO:PCN1*{w}*L6*{w}",
        ]
    for name, body in weird_bodies.items():
        cases[name] = doc(body)
    w_cases = {f"bpr-{j}": w for j, w in enumerate(WEIRD_AMOUNTS[:20])}
    for name, w in w_cases.items():
        cases[name] = doc(claim("CAS*CO*45*20"), bpr=w)
    # AMT/QTY shapes
    for i, seg in enumerate(["AMT", "AMT*AU", "AMT*AU*", "AMT*AU*10*x", "AMT**10", "QTY", "QTY*CA", "QTY*CA*2*x"]):
        cases[f"amt-qty-shape-{i}"] = doc([*claim(seg), "SVC*HC:96413*100*80**1", "CAS*CO*45*20", seg])

    # SVC shapes
    svcs = [
        "SVC*N4:00002775001:JW*300*200**10",
        "SVC*N4:00002775001*300*200",
        "SVC*HC:96413*100*80",
        "SVC*HC:96413*100*80*",
        "SVC*HC:96413*100*80*0260",
        "SVC*HC:96413*100*80*0260*2",
        "SVC*HC:96413*100*80**1*HC:96415",
        "SVC*HC:96413*100*80**1*HC:96415:59:XE*2",
        "SVC*HC:96413*100*80**1**2",
        "SVC*HC:96413*100*80**1*HC:96415*x",
        "SVC*HC:96413*100*80**1*HC>96415>59",
        "SVC*HC:96413*100*80**1*HC:96415*2*extra",
        "SVC*HC:96413*100",
        "SVC*HC:96413",
        "SVC",
        "SVC*HC>96413>59*100*80**1",
        "SVC*HC>96413>59*100*80**1*HC>96415",
        "SVC*HC^96413^59*100*80**1",
        "SVC*HC|96413*100*80**1",
        "SVC*HC-96413-59*100*80**1",
        "SVC*96413*100*80**1",
        "SVC*HC*100*80**1",
        "SVC*H*100*80**1",
        "SVC**100*80**1",
        "SVC*HC 96413*100*80**1",
        "SVC*HC\u00e996413*100*80**1",
        "SVC*HC\u4e2d1*100*80**1",
        "SVC*HC\u00b21*100*80**1",
        "SVC*HC\u00a096413*100*80**1",
        "SVC*HC_96413*100*80**1",
        "SVC*HC\U0001f600X*100*80**1",
        "SVC*HC\u00e9:96413*100*80**1",
        "SVC*HC:96413:A1:A2:A3:A4:DESCRIPTION*100*80**1",
        "SVC*HC:96413:A1:A2:A3:A4:DESC:EXTRA*100*80**1",
        "SVC*HC:96413::59::XE*100*80**1",
        "SVC*HC:96413:::::DESC*100*80**1",
        "SVC*HC:96413:*100*80**1",
        "SVC*:*100*80**1",
        "SVC*::::::::*100*80**1",
        "SVC*HC:96413:59*100*80*0260*1*HC:96413:XE*2",
        "SVC*NU:0260*100*80*0260*1",
        "SVC*HC:96413*1e20*80**1",
        "SVC*HC:96413*100*NaN**1",
        "SVC*HC:96413*100*80**1e20",
        "SVC*HC:96413*100*80**x",
        "SVC*HC:96413* 100 *80**1",
        "SVC*HC:96413*100*80**1*",
        "SVC*HC:96413*100*80**1**",
        "SVC*HC:96413*100*80**1*HC*2",
    ]
    for i, svc in enumerate(svcs):
        cases[f"svc-{i}"] = doc(line("CAS*CO*45*20", "DTM*472*20260105", "REF*6R*L1", "LQ*HE*N519", svc=svc))
    cases["svc-several-lines-mixed"] = doc(
        ["CLP*ENC1*1*500*400**12*PCN1", *[x for s in svcs[:20] for x in (s, "CAS*CO*45*1")]]
    )
    # SVC01 with another component separator than ISA16 (ISA16 '>' and the file uses ':' / '>' / '^')
    cases["svc-comp-gt-isa16"] = doc(line("CAS*CO*45*20"), c=">")
    cases["svc-colon-while-isa16-gt"] = doc(
        [*claim(), "SVC*HC:96413:59*100*80**1*HC:96415", "CAS*CO*45*20", "SVC*HC>96365*10*10**1"]
    ).replace("*:~", "*>~")
    # NM1 with 1..12 elements (claim level inline, line level to the handler)
    for n in range(1, 13):
        nm1 = "*".join(["NM1", "QC", "1", "DOE", "JANE", "Q", "MR", "JR", "MI", "X1", "XX", "Y"][:n])
        cases[f"nm1-{n}-elements"] = doc([*claim(nm1), "SVC*HC:96413*100*80**1", "CAS*CO*45*20", nm1])
    # DTM/REF/LQ with 1..4 elements in the header, claim and line
    for sid in ("DTM", "REF", "LQ"):
        for n in range(1, 5):
            seg = "*".join([sid, "472" if sid == "DTM" else "6R", "20260105", "D8", "X"][:n])
            cases[f"{sid.lower()}-{n}-elements"] = doc(
                [seg, *claim(seg), "SVC*HC:96413*100*80**1", "CAS*CO*45*20", seg, seg]
            )
    # CLP shapes
    clps = [
        "CLP",
        "CLP*",
        "CLP**1*100*80",
        "CLP*ENC1*1*100*80**12*PCN1",
        "CLP*ENC1*1*100*80**12*PCN1*11*1***1.5*0.5*Y",
        "CLP*ENC1*1*100*80**12*PCN1*11*1***1.5*0.5*Y*EXTRA",
        "CLP*ENC1*1*100*80**12*PCN1*11*1***1.5*0.5*Y*E1*E2",
        "CLP*ENC1*1*x*80",
        "CLP*ENC1*1*100*x*y",
        "CLP*ENC1*1*100",
        "CLP*ENC1",
        "CLP*ENC1*22*-100*-80**12*PCN1*11*1",
        "CLP*ENC1*1*100*80*NaN*12",
    ]
    for i, c in enumerate(clps):
        cases[f"clp-{i}"] = doc(
            [c, "CAS*CO*45*10", "NM1*QC*1*DOE", "SVC*HC:96413*100*80**1", "CAS*CO*45*10", "CLP*ENC2*1*10*10"]
        )
    # segments with very many elements (past any fixed-size element table), each hot segment
    for sid in (
        "CLP*ENC1*1*100*80",
        "CAS*CO*45*20",
        "SVC*HC:96413*100*80**1",
        "DTM*472*20260105",
        "REF*6R*L1",
        "NM1*QC*1*DOE",
        "AMT*B6*80",
        "QTY*ZK*1",
        "LQ*HE*N1",
    ):
        for extra in (40, 44, 45, 46, 47, 48, 60):
            seg = sid + "*X" * (extra - sid.count("*"))
            cases[f"many-elements-{sid[:3].lower()}-{extra}"] = doc([*line("CAS*CO*45*20"), seg, "CAS*CO*45*1"])
    # CLP in other loops than 2000 (before LX, in 1000A/1000B) and lower-case ids
    base = doc(line("CAS*CO*45*20"))
    cases["clp-in-1000a"] = base.replace("N3*1 MAIN ST~", "N3*1 MAIN ST~\nCLP*E0*1*5*5~\nCAS*CO*45*1~\nSVC*HC:1*5*5~")
    cases["clp-in-1000b"] = base.replace("REF*TJ*123456789~", "REF*TJ*123456789~\nCLP*E0*1*5*5~\nDTM*232*1~")
    cases["clp-in-header"] = base.replace("DTM*405*20260113~", "DTM*405*20260113~\nCLP*E0*1*5*5~\nNM1*QC~")
    cases["lower-case-ids"] = doc(line("cas*CO*45*20", "Dtm*472*1", "svc*HC:1*1*1", "CAS*CO*45*20"))
    # segments out of place
    cases["svc-before-any-clp"] = doc(
        [
            "SVC*HC:96413*100*80**1",
            "CAS*CO*45*20",
            "DTM*472*20260105",
            "REF*6R*X",
            "AMT*B6*80",
            "NM1*QC*1*DOE",
            *claim(),
        ]
    )
    cases["cas-in-header"] = doc(["CAS*CO*45*20", "NM1*QC*1*DOE", "AMT*AU*1", "QTY*CA*1", "LQ*HE*N1", *claim()])
    cases["cas-before-lx"] = doc(["CAS*CO*45*20"]).replace("LX*1~", "CAS*CO*45*1~\nLX*1~")
    cases["after-plb"] = doc(
        [
            *line("CAS*CO*45*20"),
            "PLB*1234567893*20261231*WO*5",
            "DTM*472*20260105",
            "CAS*CO*45*1",
            "REF*6R*X",
            "SVC*HC:96413*1*1",
            "NM1*QC*1",
            "AMT*B6*1",
            "CLP*ENC9*1*5*5",
            "SVC*HC:96413*5*5**1",
            "LX*2",
            "TS3*1",
        ]
    )
    cases["lx-between-claims"] = doc(
        [
            *line("CAS*CO*45*20"),
            "LX*2",
            "TS3*1234567893*11*20261231*1*100",
            "TS2*1",
            "CAS*CO*45*1",
            *line("CAS*CO*45*20"),
        ]
    )
    cases["unknown-segments-everywhere"] = doc(
        [
            "ZZZ*1",
            *claim("ZZZ*2"),
            "SVC*HC:96413*100*80**1",
            "ZZZ*3",
            "CAS*CO*45*20",
            "N3*X",
            "PER*CX*A",
            "MIA*1",
            "MOA*1",
            "RDM*A",
        ]
    )
    cases["moa-mia-per"] = doc(
        claim("MIA*0***12*MA01", "MOA***MA130*N130", "PER*CX*CLAIMS*TE*8005550000", "CAS*CO*45*20")
    )
    cases["reversal-pair"] = doc(REVERSAL_PAIR, bpr="20")
    # envelope irregularities
    base = doc(line("CAS*CO*45*20"))
    cases["missing-se"] = re.sub(r"SE\*\d+\*0001~\n", "", base)
    cases["missing-ge-iea"] = base.split("GE*")[0]
    cases["st-without-se-then-st"] = base.replace("SE*", "ST*835*0009~\nBPR*I*0*C~\nSE*", 1)
    cases["two-sets"] = doc([line("CAS*CO*45*20"), claim("CAS*CO*45*20")])
    cases["se-count-wrong"] = re.sub(r"SE\*\d+", "SE*999", base)
    cases["st-837-skipped"] = base.replace("ST*835", "ST*837")
    cases["gs-not-hp"] = base.replace("GS*HP", "GS*HC")
    cases["no-bpr"] = re.sub(r"BPR\*[^~]*~\n", "", base)

    # non-ASCII and invalid UTF-8 inside elements
    cases["non-ascii"] = doc(
        [
            "CLP*\u00c91*1*100*80**12*\u4e2d\u6587*11*1",
            "NM1*QC*1*D\u00c9J\u00c0*\u4e2d\u6587****MI*\U0001f600",
            "REF*6R*\u00e9\U0001f600",
            "DTM*472*2026\u00e9",
            "CAS*C\u00d6*45*20",
            "SVC*HC:9641\u00e9:\U0001f600*100*80**1",
            "REF*6R*\u4e2d",
            "LQ*HE*\U0001f600",
            "AMT*B6*\u00e9",
        ]
    )
    cases["invalid-utf8"] = doc(line("CAS*CO*45*20", "REF*6R*L@@1")).encode().replace(b"@@", b"\xff\xfe\xc3")
    cases["nul-bytes"] = doc(line("CAS*CO*45*20", "REF*6R*L\x001"))

    # separators and layouts
    body = [*line("CAS*CO*45*10", "CAS*PR*1*10", "DTM*472*20260105", "REF*6R*L1", "AMT*B6*80"), "NM1*QC*1*DOE"]
    cases["seps-pipe-gt-newline"] = doc(body, e="|", c=">", term="\n", after="")
    cases["seps-caret-bang"] = doc(body, e="^", c="!", r="{")
    cases["seps-caret-4010"] = doc(body, e="^", c=":", r="U")
    cases["seps-control-chars"] = doc(body, e="\x1d", c="\x1f", r="\x1e", term="\x1c", after="")
    cases["seps-quote-term"] = doc(body, term="'", after="\r\n")
    cases["seps-bang-term"] = doc(body, e="|", c="\\", term="!", after="")
    cases["seps-non-ascii-element"] = doc(body, e="\u00e9", c="\u20ac", term="~")
    cases["seps-cjk-element"] = doc(body, e="\u4e2d", c=">", term="\U0001f600")
    cases["seps-non-ascii-component"] = doc(body, c="\u00a7")
    cases["several-isas"] = (
        doc(body, ctl=1)
        + doc(body, e="|", c=">", term="\n", after="", ctl=2)
        + doc(body, e="^", c="!", r="{", ctl=3)
        + doc(body, e="*", c="^", r="!", ctl=4)
        + doc(body, ctl=5)
    )
    mixed = [
        "SVC*HC:96413:59*100*80**1",
        "CAS*CO*45*20",
        "SVC*HC>96413>59*100*80**1",
        "CAS*CO*45*20",
        "SVC*HC^96413^59*100*80**1",
    ]
    cases["several-isas-comp-changes-svc"] = (
        doc([*claim(), "@@"], c=":") + doc([*claim(), "@@"], c=">", ctl=2) + doc([*claim(), "@@"], c="^", r="!", ctl=3)
    ).replace("@@", "~\n".join(mixed))
    cases["no-line-breaks"] = doc(body, after="")
    cases["crlf"] = doc(body, after="\r\n")
    cases["cr-only"] = doc(body, after="\r")
    cases["newline-terminator-crlf"] = doc(body, term="\r\n", after="")
    cases["indented"] = doc(body, after="\n    ")
    wrapped = doc(body, after="")
    cases["wrapped-80"] = "\n".join(wrapped[i : i + 80] for i in range(0, len(wrapped), 80))
    cases["wrapped-7-crlf"] = "\r\n".join(wrapped[i : i + 7] for i in range(0, len(wrapped), 7))
    cases["bom"] = b"\xef\xbb\xbf" + doc(body).encode()
    cases["bom-crlf-indent"] = b"\xef\xbb\xbf  " + doc(body, after="\r\n  ").encode()
    cases["headerless"] = doc(body).split("\n", 2)[2]  # starts at ST
    cases["garbage-before-isa"] = "hello world\n" + doc(body)
    cases["garbage-between-isas"] = doc(body) + "junk junk\n" + doc(body, ctl=2)
    cases["empty"] = b""
    cases["whitespace"] = b" \r\n\t "
    cases["not-x12"] = b"%PDF-1.4 nothing to see"
    cases["isa-only"] = doc(body).split("\n")[0]
    cases["short-isa"] = doc(body).replace("*          *00*", "**00*", 1)
    # the tokenizer's regular runs (compiled scan) and what makes it decline: white space of every
    # kind between segments, "ISA" inside or across segments, line breaks inside segments, and
    # text of every string width (ASCII, Latin-1, BMP, astral)
    join_body = [*body, "REF*6R*XIS", "AMT*B6*1", "REF*6R*I", "S", "AMT*B6*2", "REF*F8*LISA", "DTM*472*ISA"]
    for wide in ("", "\u00e9", "\u20ac", "\U0001f600"):
        for j, after in enumerate(
            ["\n", "", "\r\n", "\r", "\n\n", "\x0b", "\x0c", "\x00", "\t", " \ufeff ", "\n  ", "\r\n\r\n"]
        ):
            wide_body = [*body[:2], f"REF*EA*{wide}", *body[2:]] if wide else body
            cases[f"layout-{j}-width{len(wide.encode())}"] = doc(wide_body, after=after)
            if j < 4:
                cases[f"layout-{j}-width{len(wide.encode())}-isa-joins"] = doc(
                    [*join_body[:2], f"REF*EA*{wide}", *join_body[2:]], after=after
                )
        cases[f"wrapped-width{len(wide.encode())}"] = doc([*body, f"REF*EA*{wide}"], after="").replace("*DOE", "*D\nOE")
    full = doc([*body, *claim("CAS*CO*45*20", pcn="ENC9")])
    for cut in (
        10,
        60,
        105,
        106,
        107,
        120,
        full.index("CLP"),
        full.index("CLP") + 5,
        full.index("SVC") + 9,
        full.index("CAS") + 6,
        full.index("ENC9") + 3,
        len(full) - 30,
        len(full) - 2,
        len(full) - 1,
    ):
        cases[f"truncated-at-{cut}"] = full[:cut]
    return {k: (v if isinstance(v, bytes) else v.encode("utf-8")) for k, v in cases.items()}


HAND_MADE = hand_made_cases()

# --------------------------------------------------------------------------- bench generator

_spec = importlib.util.spec_from_file_location("gen835", REPO / "bench" / "gen835.py")
assert _spec is not None and _spec.loader is not None
if "gen835" in sys.modules:
    gen835 = sys.modules["gen835"]
else:
    gen835 = importlib.util.module_from_spec(_spec)
    sys.modules["gen835"] = gen835
    _spec.loader.exec_module(gen835)


def _generated(n_claims: int, seed: int, e: str = "*", c: str = ":", term: str = "~\n", per_set: int = 1000) -> bytes:
    sets = list(gen835.generate_sets(n_claims, seed, per_set))
    segs = gen835.render_interchange(sets, 7, e, c, "^" if "^" not in (e, c) else "!")
    return (term.join(segs) + term).encode()


# --------------------------------------------------------------------------- corpus


def _all_corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and "LICENSES" not in p.relative_to(CORPUS).parts)


ALL_FILES = _all_corpus_files()
FILES_835 = corpus_835_files(CORPUS) if CORPUS.is_dir() else []


def _rel(p: Path) -> str:
    return str(p.relative_to(CORPUS))


# --------------------------------------------------------------------------- mutations

N_MUTANTS = 400
_SEPARATOR_INSERTS = [
    b"*",
    b":",
    b"~",
    b"^",
    b"\n",
    b"\r",
    b"\r\n",
    b"-",
    b".",
    b">",
    b"|",
    b" ",
    b"0",
    b"1",
    b"5",
    b"9",
    b"A",
    b"e",
    b"E",
    b"Z",
    b"x",
    b"~\n",
    b"**",
    b"::",
    b"\xc3\xa9",
    b"\xe4\xb8\xad",
    b"\xff",
]
_TOKEN_INSERTS = [
    b"ISA",
    b"SE*",
    b"ST*835*",
    b"CLP*",
    b"SVC*",
    b"CAS*CO*",
    b"CAS*PR*1*",
    b"PLB*",
    b"DTM*472*",
    b"REF*6R*",
    b"NM1*QC*",
    b"AMT*B6*",
    b"QTY*",
    b"LQ*HE*",
    b"LX*",
    b"GS*",
    b"IEA*",
    b"NaN",
    b"1e20",
    b"Infinity",
    b"\xef\xbb\xbf",
]
_HOT = re.compile(rb"CAS|SVC|CLP|DTM|REF|NM1|AMT|QTY|LQ|PLB|ISA|SE\*|ST\*|LX|MOA|MIA")


def _bases() -> list[tuple[str, bytes]]:
    out = [(f"corpus:{p.name}", p.read_bytes()) for p in FILES_835]
    out.append(("gen:40", _generated(40, 11, per_set=15)))
    out.append(("gen:12|>", _generated(12, 12, "|", ">", "\n")))
    for name in (
        "reversal-pair",
        "amount-5",
        "svc-7",
        "several-isas",
        "seps-control-chars",
        "cas-line-7-triplets-qtyTrue",
    ):
        out.append((f"hand:{name}", HAND_MADE[name]))
    return out


BASES = _bases()
_HOT_CACHE: dict[int, list[int]] = {}


def _terminator(blob: bytes) -> bytes:
    t = blob.lstrip(b"\xef\xbb\xbf \t\r\n")
    if t.startswith(b"ISA") and len(t) > 4:
        parts = t.split(t[3:4], 16)
        if len(parts) == 17 and len(parts[16]) > 1:
            return parts[16][1:2]
    return b"~"


def _elem(blob: bytes) -> bytes:
    t = blob.lstrip(b"\xef\xbb\xbf \t\r\n")
    return t[3:4] if t.startswith(b"ISA") and len(t) > 4 else b"*"


def mutate(k: int) -> tuple[str, bytes, list[str]]:
    """Variant ``k``: a base with 1..6 seeded edits (byte, separator, segment and amount level)."""
    rng = random.Random(f"x835-accel-{k}")
    bi = rng.randrange(len(BASES))
    name, base = BASES[bi]
    blob = bytearray(base)
    hot = _HOT_CACHE.get(bi)
    if hot is None:
        hot = _HOT_CACHE[bi] = [m.start() for m in _HOT.finditer(base)]
    done: list[str] = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(
            [
                "flip",
                "flip",
                "delete",
                "insert-sep",
                "insert-sep",
                "insert-token",
                "cut",
                "dup-segment",
                "move-segment",
                "amount",
                "amount",
                "drop-segment",
            ]
        )
        if not blob:
            kind = "insert-token"
        if hot and rng.random() < 0.7:  # mostly near the segments the C loop handles inline
            pos = min(len(blob), hot[rng.randrange(len(hot))] + rng.randint(0, 40))
        else:
            pos = rng.randint(0, len(blob))
        pos = min(pos, max(0, len(blob) - 1)) if kind == "flip" else pos
        if kind == "flip" and blob:
            blob[pos] = rng.randrange(256)
        elif kind == "delete":
            del blob[pos : pos + rng.randint(1, 40)]
        elif kind == "insert-sep":
            blob[pos:pos] = rng.choice(_SEPARATOR_INSERTS)
        elif kind == "insert-token":
            blob[pos:pos] = rng.choice(_TOKEN_INSERTS)
        elif kind == "cut":
            del blob[pos:]
        elif kind in ("dup-segment", "move-segment", "drop-segment", "amount"):
            term = _terminator(bytes(blob))
            segs = bytes(blob).split(term)
            if len(segs) < 2:
                continue
            i = rng.randrange(len(segs))
            if kind == "dup-segment":
                segs.insert(rng.choice([i + 1, rng.randrange(len(segs))]), segs[i])
            elif kind == "move-segment":
                s = segs.pop(i)
                segs.insert(rng.randrange(len(segs) + 1), s)
            elif kind == "drop-segment":
                del segs[i]
            else:  # an element of a CAS/SVC/CLP/AMT/QTY/PLB/BPR becomes an odd amount
                e = _elem(bytes(blob))
                cands = [
                    j
                    for j, s in enumerate(segs)
                    if s.strip()[:3] in (b"CAS", b"SVC", b"CLP", b"AMT", b"QTY", b"PLB", b"BPR")
                ]
                if not cands:
                    continue
                i = rng.choice(cands)
                els = segs[i].split(e)
                j = rng.randrange(1, max(2, len(els) + 1))
                w = rng.choice(WEIRD_AMOUNTS).encode()
                if j < len(els):
                    els[j] = w
                else:
                    els.append(w)
                segs[i] = e.join(els)
            blob = bytearray(term.join(segs))
        done.append(f"{kind}@{pos}")
    return name, bytes(blob), done


# =========================================================================== tests


@needs_accel
def test_contract() -> None:
    """The extension imports, the default is on, and the environment switch turns it off."""
    importlib.import_module("edi.x835._accel")
    assert isinstance(x835.ACCELERATED, bool)
    switch = os.environ.get("DRIPLINE_PURE_PYTHON")
    if switch is None:
        assert x835.ACCELERATED is True
    elif switch == "1":
        assert x835.ACCELERATED is False
    assert "accelerated" in inspect.signature(x835.read_835).parameters
    code = "from edi.x835 import reader as x835; print(x835.ACCELERATED)"
    env = {**os.environ, "DRIPLINE_PURE_PYTHON": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"
    env.pop("DRIPLINE_PURE_PYTHON")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    assert out.stdout.strip() == "True"


@needs_accel
def test_argument_and_default_choose_the_driver(monkeypatch) -> None:
    """``accelerated=True/False`` chooses the driver; ``accelerated=None`` is :data:`ACCELERATED`."""
    data = HAND_MADE["several-isas"]
    want = [repr(r) for r in x835.read_835(data, accelerated=False)]
    runs: list[str] = []
    real = x835._run_compiled

    def counted(st: x835.ReaderState, accel: Any) -> Any:
        runs.append("compiled")
        return real(st, accel)

    monkeypatch.setattr(x835, "_run_compiled", counted)
    for flag in (True, False):
        assert [repr(x) for x in x835.read_835(data, accelerated=flag)] == want
    assert runs == ["compiled"]
    for default in (True, False):
        monkeypatch.setattr(x835, "ACCELERATED", default)
        runs.clear()
        assert [repr(r) for r in x835.read_835(data)] == want
        assert runs == (["compiled"] if default else [])
    assert [repr(r) for r in x835.read_835(data, accelerated=None)] == want


def test_accelerated_true_without_the_extension_runs_python(monkeypatch) -> None:
    """Without the extension ``accelerated=True`` is the pure reader (runs where the C code is not built)."""
    # where the extension is built, pretend it is not
    monkeypatch.setattr(x835, "ACCELERATOR_AVAILABLE", False)
    data = HAND_MADE["reversal-pair"]
    assert [repr(r) for r in x835.read_835(data, accelerated=True)] == [
        repr(r) for r in x835.read_835(data, accelerated=False)
    ]


# ---- 1. the public corpus, every file


@needs_accel
@pytest.mark.parametrize("path", ALL_FILES, ids=[_rel(p) for p in ALL_FILES])
def test_corpus_file(path: Path) -> None:
    data = path.read_bytes()
    assert_same(data, _rel(path))
    assert_same(path, _rel(path) + " (as a Path)")


@needs_accel
def test_corpus_is_there(corpus_dir: Path) -> None:
    assert len(ALL_FILES) >= 100 and len(FILES_835) >= 20


@needs_accel
def test_corpus_835_as_streams_and_text(corpus_dir: Path) -> None:
    """Other source kinds (binary stream, str text, bytes with a filename) go through the same loop."""
    for p in FILES_835[:10]:
        data = p.read_bytes()
        assert_same(lambda: io.BytesIO(data), f"{p.name} as a stream")
        assert_same(data.decode("utf-8", "replace"), f"{p.name} as text")
        assert_same(data, f"{p.name} with a filename", filename="some/name.835")


# ---- 2. seeded mutations of corpus 835s (and generated/hand-made files)


@needs_accel
@pytest.mark.parametrize("k", range(N_MUTANTS))
def test_mutated(k: int) -> None:
    name, blob, edits = mutate(k)
    assert_same(blob, f"mutant {k} of {name} ({', '.join(edits)})")


# ---- 3. hand-made texts


@needs_accel
@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_hand_made(name: str) -> None:
    assert_same(HAND_MADE[name], name)


@needs_accel
@pytest.mark.parametrize("chunk", [1, 7, 113, 4096])
def test_small_tokenizer_chunks(monkeypatch, chunk: int) -> None:
    """Batches of a few segments: state carried across batch boundaries (open claim/line, separators)."""
    real = x835.X12Tokenizer
    monkeypatch.setattr(x835, "X12Tokenizer", lambda s, f=None, n=None: real(s, f, n, chunk_chars=chunk))
    names = [
        "several-isas",
        "several-isas-comp-changes-svc",
        "wrapped-7-crlf",
        "bom-crlf-indent",
        "cas-line-7-triplets-qtyTrue",
        "svc-several-lines-mixed",
        "amount-20",
        "truncated-at-120",
        "layout-3-width0-isa-joins",
        "layout-10-width2",
        "layout-9-width3",
        "layout-4-width4",
        "wrapped-width4",
        "layout-1-width4-isa-joins",
    ]
    for name in names:
        assert_same(HAND_MADE[name], f"{name} in chunks of {chunk}")
    if chunk >= 113:
        assert_same(_generated(60, 5, per_set=25), f"generated in chunks of {chunk}")


@needs_accel
def test_large_file_of_mixed_layouts_and_widths() -> None:
    """Several 64 Ki character chunks: interchanges with other separators and terminators, non-ASCII
    text appearing only in later chunks, "ISA" inside element values; as bytes and as a stream."""
    parts = [
        _generated(250, 21, term="~\n", per_set=100).decode(),
        _generated(80, 22, "|", ">", "\n", per_set=40).decode().replace("DOE", "D\u00d6E"),
        _generated(80, 23, "*", ":", "~", per_set=40).decode().replace("JANE", "\u4e2d"),
        _generated(60, 24, "^", "}", "~\r\n", per_set=30).decode().replace("DOE", "\U0001f600"),
        _generated(60, 25, "*", ":", "~\n", per_set=30).decode().replace("X00000000", "ISA00"),
    ]
    data = "\r\n".join(parts).encode()
    assert len(data) > 3 * 65536  # several chunks
    assert_same(data, "mixed layouts")
    assert_same(lambda: io.BytesIO(data), "mixed layouts as a stream")
    cut = data[: len(data) * 2 // 3]
    assert_same(cut, "mixed layouts, truncated")


@needs_accel
@pytest.mark.parametrize("prec,trap", [(28, False), (4, True), (4, False)], ids=["lax", "prec4", "prec4-lax"])
def test_other_decimal_contexts(prec: int, trap: bool) -> None:
    """Both drivers build and add amounts in the caller's decimal context (precision, traps)."""
    names = [
        "amount-3",
        "amount-5",
        "amount-9",
        "amount-16",
        "amount-28",
        "amount-33",
        "cas-line-6-triplets-qtyTrue",
        "svc-several-lines-mixed",
        "reversal-pair",
        "several-isas",
    ]
    generated = _generated(40, 9, per_set=15)
    with decimal.localcontext() as ctx:
        ctx.prec = prec
        ctx.traps[decimal.InvalidOperation] = trap
        for name in names:
            assert_same(HAND_MADE[name], f"{name} with prec={prec} traps[InvalidOperation]={trap}")
        assert_same(generated, f"generated with prec={prec}")


# ---- 4. the bench generator and random segment sequences


@needs_accel
def test_bench_generator_300_claims(tmp_path: Path) -> None:
    path = tmp_path / "bench300.835"
    totals = gen835.write_file(path, 300, seed=835, per_set=120)
    out = assert_same(path, "bench 300 claims")
    assert len(out[True]["remittances"]) == totals["sets"]
    assert_same(_generated(300, 7), "generated 300 claims, one set, no file")


@needs_accel
@pytest.mark.parametrize(
    "layout",
    [("*", ":", "~"), ("|", ">", "\n"), ("^", "}", "~\r\n"), ("*", ">", "~")],
    ids=["star-colon", "pipe-gt-nl", "caret-brace-crlf", "star-gt"],
)
def test_generated_layouts(layout) -> None:
    e, c, term = layout
    assert_same(_generated(50, 3, e, c, term, per_set=20), f"generated {layout!r}")


@needs_accel
def test_stream_835_hook_hands_out_the_same_batches(monkeypatch, tmp_path: Path) -> None:
    """reconcile.posting.remit takes claims out through the on_claim hook: both drivers call it alike."""
    from reconcile.posting import remit as remit_adapter

    monkeypatch.setattr(remit_adapter, "BATCH", 7)
    path = tmp_path / "b.835"
    gen835.write_file(path, 120, seed=3, per_set=50)
    paths = [path, *FILES_835[:6]]
    for p in paths:
        seen: dict[bool, list[str]] = {}
        for flag in (False, True):
            monkeypatch.setattr(x835, "ACCELERATED", flag)
            findings: list = []
            log: list[str] = []

            def on_claims(rem, batch, log=log) -> None:
                log.append(repr([rem.control_number, batch]))

            for r in remit_adapter.stream_835(p, findings, on_claims):
                log.append(repr(r))
            log.append(repr(findings))
            seen[flag] = log
        assert seen[True] == seen[False], f"{p.name}: {_first_difference(seen[False], seen[True])}"


@needs_accel
def test_partial_iteration_and_close_restore_the_collector() -> None:
    """Closing the generator after the first remittance leaves gc as it was and yields the same first set."""
    data = HAND_MADE["several-isas"]
    first = {}
    for flag in (False, True):
        it = x835.read_835(data, accelerated=flag)
        assert isinstance(it, Generator)
        first[flag] = repr(next(it))
        assert gc.isenabled()
        it.close()
        assert gc.isenabled()
    assert first[True] == first[False]
    gc.disable()
    try:
        for flag in (False, True):
            list(x835.read_835(data, accelerated=flag))
            assert not gc.isenabled()
    finally:
        gc.enable()


_VALUES = [
    "",
    "1",
    "0",
    "-5",
    "100",
    "80",
    "20",
    "10.5",
    ".5",
    "5.",
    "-0",
    "+5",
    "1e20",
    "NaN",
    "Infinity",
    " 12 ",
    "1_000",
    "x",
    "CO",
    "PR",
    "OA",
    "45",
    "253",
    "HC",
    "N4",
    "6R",
    "472",
    "20260105",
    "QC",
    "B6",
    "HE",
    "N519",
    "\u00e9",
    "\u4e2d",
    "\U0001f600",
    "\u00b2",
    "\u0661",
    "ENC1",
]
_SIDS = [
    "CLP",
    "CLP",
    "CAS",
    "CAS",
    "CAS",
    "SVC",
    "SVC",
    "SVC",
    "DTM",
    "DTM",
    "REF",
    "REF",
    "AMT",
    "QTY",
    "NM1",
    "NM1",
    "LQ",
    "MOA",
    "MIA",
    "PLB",
    "LX",
    "TS3",
    "N1",
    "N3",
    "PER",
    "BPR",
    "TRN",
    "ZZZ",
    "SE",
    "ST",
    "CUR",
    "RDM",
]
_LAYOUTS = [
    ("*", ":", "~", "\n"),
    ("*", ":", "~", ""),
    ("|", ">", "\n", ""),
    ("^", "!", "~", "\r\n"),
    ("*", ">", "~", ""),
]


_AMOUNT = st.one_of(
    st.builds(lambda n, k: str(n) if k == 0 else f"{n / 10**k:.{k}f}", st.integers(-(10**7), 10**7), st.integers(0, 2)),
    st.sampled_from(WEIRD_AMOUNTS),
)
_COMPONENT = st.lists(
    st.sampled_from(["HC", "N4", "NU", "96413", "J9035", "0260", "59", "", "XE", "DESC", "\u00e9"]),
    min_size=1,
    max_size=8,
)


@st.composite
def _segment(draw, e: str, c: str) -> str:
    """One segment: of the regular shape of its id (what the compiled loop builds itself) or any shape."""
    sid = draw(st.sampled_from(_SIDS))
    amount = _AMOUNT
    if draw(st.booleans()):  # the usual shape, with random amounts and lengths
        comp = draw(st.sampled_from([c, c, c, ">", ":", "-"]))
        code = lambda: comp.join(draw(_COMPONENT))  # noqa: E731
        if sid == "CLP":
            els = [
                draw(st.sampled_from(["ENC1", "ENC2", ""])),
                draw(st.sampled_from(["1", "4", "22", ""])),
                draw(amount),
                draw(amount),
                draw(st.sampled_from(["", "0", "10"])),
                "12",
                "PCN",
                "11",
                "1",
                "",
                "",
                "",
                draw(st.sampled_from(["", "1.5"])),
                draw(st.sampled_from(["", "0.5", "x"])),
                "Y",
            ]
            els = els[: draw(st.integers(2, 16))]
        elif sid == "CAS":
            els = [draw(st.sampled_from(["CO", "PR", "OA", ""]))]
            for _ in range(draw(st.integers(1, 7))):
                els += [
                    draw(st.sampled_from(["45", "253", "1", "2", ""])),
                    draw(amount),
                    draw(st.sampled_from(["", "", "1", "2.5", "x"])),
                ]
            while len(els) > 3 and els[-1] == "" and draw(st.booleans()):
                els.pop()
        elif sid == "SVC":
            els = [
                code(),
                draw(amount),
                draw(amount),
                draw(st.sampled_from(["", "0260"])),
                draw(st.sampled_from(["", "1", "2.5", "x"])),
            ]
            if draw(st.booleans()):
                els += [code(), draw(st.sampled_from(["", "1", "x"]))][: draw(st.integers(1, 2))]
            els = els[: draw(st.integers(1, len(els)))]
        elif sid == "PLB":
            els = ["1234567893", "20261231"]
            for _ in range(draw(st.integers(1, 7))):
                els += [
                    comp.join(draw(st.lists(st.sampled_from(["WO", "FB", "L6", "PCN1", ""]), min_size=1, max_size=2))),
                    draw(amount),
                ]
        elif sid in ("AMT", "QTY"):
            els = [draw(st.sampled_from(["AU", "B6", "CA", "ZK"])), draw(amount)]
        elif sid == "NM1":
            els = ["QC", "1", "DOE", "JANE", "Q", "", "", "MI", "X1", "EXTRA", "MORE"][: draw(st.integers(0, 11))]
        else:
            els = [draw(st.sampled_from(_VALUES)) for _ in range(draw(st.integers(0, 3)))]
    else:  # any shape: random element values (separators inside them included now and then)
        els = [
            draw(
                st.one_of(
                    st.sampled_from(_VALUES),
                    _AMOUNT,
                    st.text("0123456789.-+eE :\u00e9", max_size=6),
                    st.sampled_from([c, e + "X", "~", "*", "\n", ":" + "96413", ">59"]),
                )
            )
            for _ in range(draw(st.integers(0, 12)))
        ]
    return e.join([sid, *els])


@needs_accel
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_segment_sequences(data) -> None:
    e, c, term, after = data.draw(st.sampled_from(_LAYOUTS))
    segs = data.draw(st.lists(_segment(e, c), min_size=0, max_size=40))
    n_sets = data.draw(st.integers(1, 2))
    cut = data.draw(st.sampled_from([None, None, None, 1, 2, 3]))
    if data.draw(st.booleans()):  # a set with a claim open, then the random segments
        segs = ["CLP*ENC0*1*100*80**12*P0".replace("*", e), *segs]
    text = doc([["@@"] for _ in range(n_sets)], e, c, "!" if "^" in (e, c) else "^", term, after)
    body_text = (term + after).join(segs)
    text = text.replace("@@", body_text) if segs else text.replace("@@" + term + after, "")
    if cut is not None:
        text = text[: len(text) * cut // 4]
    assert_same(text.encode("utf-8"), f"random sequence {segs!r} layout {(e, c, term)!r}")
