"""The denial report in a real headless Chromium: the SVG chart is in the rendered DOM and paints."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lhtml

from reconcile.denials.report import PALETTE, chart_data, denials_html
from tests import debian


@pytest.fixture(scope="session")
def chromium() -> str:
    return debian.chromium()


def _run(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, timeout=120)


ITEMS: list[dict[str, Any]] = [
    {
        "payer": "ACME HEALTH PLAN",
        "patient_control_number": "ENC-1",
        "line_control_number": "12",
        "code": "J1745",
        "group": "CO",
        "carc": "16",
        "rarc": "M119",
        "amount": "1200.00",
        "category": "missing_information",
        "action": "corrected_claim",
        "age_days": 12,
    },
    {
        "payer": "MEDICARE PART B",
        "patient_control_number": "ENC-2",
        "line_control_number": "20",
        "code": "J9312",
        "group": "CO",
        "carc": "4",
        "rarc": None,
        "amount": "900.00",
        "category": "coding_modifier",
        "action": "corrected_claim",
        "age_days": 3,
    },
    {
        "payer": "ACME HEALTH PLAN",
        "patient_control_number": "ENC-3",
        "line_control_number": "31",
        "code": "96413",
        "group": "CO",
        "carc": "4",
        "rarc": None,
        "amount": "480.00",
        "category": "coding_modifier",
        "action": "corrected_claim",
        "age_days": 3,
    },
    {
        "payer": "ACME <script>alert(1)</script>",
        "patient_control_number": "ENC-4",
        "line_control_number": None,
        "code": None,
        "group": "CO",
        "carc": "ZZ9",
        "rarc": None,
        "amount": "45.00",
        "category": "other",
        "action": "appeal",
        "age_days": 1,
    },
]


def _nodes(doc: Any, query: str) -> list[Any]:
    """The nodes an XPath query selects (lxml types an XPath result as any XPath value)."""
    found = doc.xpath(query)
    assert isinstance(found, list)
    return found


def test_chart_data_groups_by_category_and_payer():
    cats, payers, amounts = chart_data(ITEMS)
    assert cats == ["coding_modifier", "missing_information", "other"]
    assert payers[0] == "ACME HEALTH PLAN"
    assert str(amounts[("coding_modifier", "ACME HEALTH PLAN")]) == "480.00"


def test_markup_is_escaped_and_self_contained():
    page = denials_html(ITEMS).decode()
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page  # no network
    doc = lhtml.fromstring(page)
    assert len(_nodes(doc, "//table[@id='worklist']/tbody/tr")) == 4
    assert len(_nodes(doc, "//svg//rect[@class='bar']")) == 4


def _png_pixels(data: bytes) -> tuple[int, int, int, bytes]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG: (width, height, channels, raw pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            ch = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * ch
    out = bytearray()
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        ftype, row = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = row[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if ftype == 1:
                row[x] = (row[x] + a) & 255
            elif ftype == 2:
                row[x] = (row[x] + b) & 255
            elif ftype == 3:
                row[x] = (row[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += row
        prev = row
    return width, height, ch, bytes(out)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(chromium, tmp_path):
    report = tmp_path / "denials.html"
    report.write_bytes(denials_html(ITEMS))
    url = report.resolve().as_uri()
    dom = _run(chromium, tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    doc = lhtml.fromstring(dom.stdout.decode())
    bars = _nodes(doc, "//svg[@id='denial-chart']//rect[@class='bar']")
    assert len(bars) == 4
    assert {b.get("data-payer") for b in bars} >= {"ACME HEALTH PLAN", "MEDICARE PART B"}
    assert not doc.xpath("//script")  # the escaped payer name stayed text
    shot = tmp_path / "shot.png"
    res = _run(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1100,700", "--hide-scrollbars", url)
    assert shot.is_file(), res.stderr.decode(errors="replace")[-2000:]
    _width, _height, ch, px = _png_pixels(shot.read_bytes())
    colors = {px[i : i + 3] for i in range(0, len(px), ch * 7)}  # sample every 7th pixel
    assert len(colors) > 5, "screenshot is blank"
    first_payer = bytes(int(PALETTE[0][k : k + 2], 16) for k in (1, 3, 5))
    second_payer = bytes(int(PALETTE[1][k : k + 2], 16) for k in (1, 3, 5))
    painted = {px[i : i + 3] for i in range(0, len(px), ch)}
    assert first_payer in painted and second_payer in painted, "chart bars were not painted"
