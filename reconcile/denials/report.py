"""The denial worklist as a self-contained HTML page: a chart of denials by category and payer
(inline SVG, no script, no network) and the worklist table, built with lxml.

Everything shown is escaped by lxml (no input can inject markup), and control characters in
payer data are shown as escapes (:func:`coding.display.visible`; lxml refuses them, and they
have no place in a page). Identifiers shown are our own
claim and line control numbers and the payer's codes: no patient names, birth dates or member ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from lxml.html import builder as E

from coding.display import visible
from reconcile.denials.worklist import ACTIONS, CATEGORIES

GENERATOR = "dripline"  # <meta name="generator">: marks a file as a dripline report (safe to overwrite)

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
CSS = """
body{font-family:system-ui,Arial,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} table{border-collapse:collapse;font-size:.85em;margin-top:1em}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left} td.num{text-align:right}
th{background:#eee} .summary{margin:.5em 0 1em} svg text{font-size:12px;fill:#222}
td:nth-child(2),td:nth-child(3),td:nth-child(4){white-space:nowrap}
"""
COLUMNS = (
    ("payer", "Payer"),
    ("patient_control_number", "Claim"),
    ("line_control_number", "Line"),
    ("code", "Code"),
    ("group", "Group"),
    ("carc", "CARC"),
    ("rarc", "RARC"),
    ("amount", "Amount at risk"),
    ("age_days", "Age (days)"),
    ("category", "Category"),
    ("action", "Action"),
)

BAR_H, GAP, LABEL_W, CHART_W, LEFT_PAD = 22, 8, 230, 440, 10


def chart_data(items: Sequence[dict[str, Any]]) -> tuple[list[str], list[str], dict[tuple[str, str], Decimal]]:
    """Categories (largest first), payers (largest first) and the amount per (category, payer)."""
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    by_cat: dict[str, Decimal] = defaultdict(Decimal)
    by_payer: dict[str, Decimal] = defaultdict(Decimal)
    for it in items:
        cat, payer, amt = (
            visible(it["category"] or ""),
            visible(it.get("payer") or "unknown payer"),
            Decimal(it["amount"]),
        )
        amounts[(cat, payer)] += amt
        by_cat[cat] += amt
        by_payer[payer] += amt
    cats = sorted(by_cat, key=lambda c: (-by_cat[c], c))
    payers = sorted(by_payer, key=lambda p: (-by_payer[p], p))
    return cats, payers, dict(amounts)


def _svg(tag: str, **attrs: Any) -> etree._Element:
    return etree.Element(tag, {k.rstrip("_").replace("__", "-"): str(v) for k, v in attrs.items()})


def chart_svg(items: Sequence[dict[str, Any]]) -> etree._Element:
    """Horizontal stacked bars: one bar per category, one colored segment per payer, plus a legend."""
    cats, payers, amounts = chart_data(items)
    colors = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(payers)}
    top = max((sum((amounts.get((c, p), Decimal(0)) for p in payers), Decimal(0)) for c in cats), default=Decimal(1))
    legend_h = 20 * len(payers) + 10
    height = max(1, len(cats)) * (BAR_H + GAP) + legend_h + 20
    width = LABEL_W + CHART_W + 120
    svg = _svg("svg", width=width, height=height, viewBox=f"0 0 {width} {height}", role="img", id="denial-chart")
    title = etree.SubElement(svg, "title")
    title.text = "Denials by category and payer (amount at risk)"
    if not cats:
        t = etree.SubElement(svg, "text", x="10", y="20")
        t.text = "No open denials"
        return svg
    for row, cat in enumerate(cats):
        y = 10 + row * (BAR_H + GAP)
        label = etree.SubElement(svg, "text", {"x": str(LABEL_W - 6), "y": str(y + BAR_H * 0.7), "text-anchor": "end"})
        label.text = CATEGORIES.get(cat, cat)
        x = Decimal(LABEL_W)
        total = Decimal(0)
        for payer in payers:
            amt = amounts.get((cat, payer))
            if not amt:
                continue
            w = max(Decimal(1), (amt / top * CHART_W).quantize(Decimal("0.1")))
            rect = etree.SubElement(
                svg,
                "rect",
                {
                    "class": "bar",
                    "x": str(x),
                    "y": str(y),
                    "width": str(w),
                    "height": str(BAR_H),
                    "fill": colors[payer],
                    "data-category": cat,
                    "data-payer": payer,
                    "data-amount": str(amt),
                },
            )
            tip = etree.SubElement(rect, "title")
            tip.text = f"{CATEGORIES.get(cat, cat)} / {payer}: {amt:.2f}"
            x += w
            total += amt
        val = etree.SubElement(svg, "text", x=str(x + 6), y=str(y + BAR_H * 0.7))
        val.text = f"{total:,.2f}"
    ly = 10 + len(cats) * (BAR_H + GAP) + 10
    for i, payer in enumerate(payers):
        y = ly + i * 20
        etree.SubElement(
            svg,
            "rect",
            {"class": "legend", "x": str(LABEL_W), "y": str(y), "width": "14", "height": "14", "fill": colors[payer]},
        )
        t = etree.SubElement(svg, "text", x=str(LABEL_W + 20), y=str(y + 12))
        t.text = payer
    return svg


def _cell(key: str, value: Any) -> etree._Element:
    if key == "category":
        value = CATEGORIES.get(value, value)
    elif key == "action":
        value = ACTIONS.get(value, value)
    text = "" if value is None else visible(str(value))
    return E.TD(text, E.CLASS("num")) if key in ("amount", "age_days") else E.TD(text)


UNDERPAYMENT_COLUMNS = (
    ("payer", "Payer"),
    ("patient_control_number", "Claim"),
    ("line_control_number", "Line"),
    ("code", "Code"),
    ("units", "Units"),
    ("expected_allowed", "Expected allowed"),
    ("allowed", "Allowed"),
    ("paid", "Paid"),
    ("variance", "Variance"),
    ("basis", "Basis"),
    ("cause", "Likely cause"),
)
_UNDER_NUM = frozenset({"units", "expected_allowed", "allowed", "paid", "variance"})


def variance_chart_svg(items: Sequence[dict[str, Any]]) -> etree._Element:
    """One horizontal bar per payer: the total variance of its underpaid lines, largest first."""
    by_payer: dict[str, Decimal] = defaultdict(Decimal)
    for it in items:
        by_payer[visible(it.get("payer") or "unknown payer")] += Decimal(it["variance"])
    payers = sorted(by_payer, key=lambda p: (-by_payer[p], p))
    top = max(by_payer.values(), default=Decimal(1)) or Decimal(1)
    height = max(1, len(payers)) * (BAR_H + GAP) + 20
    width = LABEL_W + CHART_W + 120
    svg = _svg("svg", width=width, height=height, viewBox=f"0 0 {width} {height}", role="img", id="variance-chart")
    title = etree.SubElement(svg, "title")
    title.text = "Underpayment variance by payer"
    if not payers:
        t = etree.SubElement(svg, "text", x="10", y="20")
        t.text = "No underpayments"
        return svg
    for row, payer in enumerate(payers):
        y = 10 + row * (BAR_H + GAP)
        label = etree.SubElement(svg, "text", {"x": str(LABEL_W - 6), "y": str(y + BAR_H * 0.7), "text-anchor": "end"})
        label.text = payer
        amt = by_payer[payer]
        w = max(Decimal(1), (amt / top * CHART_W).quantize(Decimal("0.1")))
        rect = etree.SubElement(
            svg,
            "rect",
            {
                "class": "bar",
                "x": str(LABEL_W),
                "y": str(y),
                "width": str(w),
                "height": str(BAR_H),
                "fill": PALETTE[row % len(PALETTE)],
                "data-payer": payer,
                "data-amount": str(amt),
            },
        )
        tip = etree.SubElement(rect, "title")
        tip.text = f"{payer}: {amt:.2f}"
        val = etree.SubElement(svg, "text", x=str(LABEL_W + w + 6), y=str(y + BAR_H * 0.7))
        val.text = f"{amt:,.2f}"
    return svg


def underpayment_section(items: Sequence[dict[str, Any]]) -> list[etree._Element]:
    """Heading, summary, variance chart and table of the underpaid lines (largest variance first)."""
    total = sum((Decimal(i["variance"]) for i in items), Decimal(0))
    rows = [
        E.TR(
            *[
                E.TD(visible(str(it.get(k) if it.get(k) is not None else "")), E.CLASS("num"))
                if k in _UNDER_NUM
                else E.TD(visible(str(it.get(k) if it.get(k) is not None else "")))
                for k, _ in UNDERPAYMENT_COLUMNS
            ]
        )
        for it in items
    ]
    return [
        E.H2("Underpayments"),
        E.P(f"{len(items)} underpaid lines, {total:,.2f} short of the expected allowed amount.", E.CLASS("summary")),
        E.H3("Variance by payer"),
        variance_chart_svg(items),
        E.TABLE(
            E.THEAD(E.TR(*[E.TH(label) for _, label in UNDERPAYMENT_COLUMNS])),
            E.TBODY(*rows),
            id="underpayments",
        ),
    ]


def denials_html(
    items: Sequence[dict[str, Any]],
    generated_at: datetime | None = None,
    underpayments: Sequence[dict[str, Any]] | None = None,
) -> bytes:
    """The whole page as UTF-8 bytes (``<!DOCTYPE html>``); with ``underpayments``, their section
    (kept apart from the denials: a chart of variance by payer and the underpaid lines) follows."""
    when = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    total = sum((Decimal(i["amount"]) for i in items), Decimal(0))
    head = E.HEAD(
        E.META(charset="utf-8"),
        E.META(name="generator", content=GENERATOR),
        E.TITLE("dripline denial worklist"),
        E.STYLE(CSS),
    )
    rows = [E.TR(*[_cell(k, it.get(k)) for k, _ in COLUMNS]) for it in items]
    table = E.TABLE(E.THEAD(E.TR(*[E.TH(label) for _, label in COLUMNS])), E.TBODY(*rows), id="worklist")
    body = E.BODY(
        E.H1("Denial worklist"),
        E.P(f"{len(items)} open denials, {total:,.2f} at risk; generated {when}.", E.CLASS("summary")),
        E.H2("Denials by category and payer"),
        chart_svg(items),
        E.H2("Worklist (largest amount at risk first, then oldest)"),
        table,
        *(underpayment_section(underpayments) if underpayments is not None else []),
    )
    page = E.HTML(head, body, lang="en")
    return etree.tostring(page, method="html", encoding="utf-8", doctype="<!DOCTYPE html>")
