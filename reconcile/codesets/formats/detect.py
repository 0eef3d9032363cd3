"""Which kind of CMS file a member is, and the quarter its name states."""

from __future__ import annotations

import re
from datetime import date

from reconcile.codesets.formats import asp, asp_ndc, gpci, hcpcs, mue, opps_b, pfs_rvu, ptp

__all__ = ["KINDS", "detect_kind", "quarter_from_name", "setting_from_name"]

KINDS: tuple[str, ...] = (
    "hcpcs",
    "asp",
    "asp-ndc",
    "ptp-practitioner",
    "ptp-hospital",
    "mue-practitioner",
    "mue-facility",
    "pfs-rvu",
    "gpci",
    "opps-b",
)


def setting_from_name(name: str) -> str | None:
    """PTP/MUE setting the file name states (``ccipra``/``ccioph``, practitioner/hospital/facility)."""
    n = name.lower()
    if "ccipra" in n or "practitioner" in n:
        return "practitioner"
    if "ccioph" in n or "hospital" in n or "facility" in n or "outpatient" in n:
        return "hospital"
    return None


def detect_kind(head: list[str], name: str) -> tuple[str | None, str]:
    """``(kind, why)`` from the first lines of a member (and its name for the PTP/MUE setting).

    ``kind`` is None when the content is no known layout; ``why`` says what was missing.
    """
    if hcpcs.looks_like(head):
        return "hcpcs", "fixed-width HCPCS records"
    if asp.looks_like(head):
        return "asp", "ASP pricing header"
    if asp_ndc.looks_like(head):
        return "asp-ndc", "ASP NDC-HCPCS crosswalk header"
    if pfs_rvu.looks_like(head):
        return "pfs-rvu", "PFS relative value header"
    if gpci.looks_like(head):
        return "gpci", "GPCI (Addendum E) header"
    if opps_b.looks_like(head):
        return "opps-b", "OPPS Addendum B header"
    if mue.looks_like(head):
        text = " ".join(" ".join(ln.split()) for ln in head).lower()
        setting: str | None = None
        if "practitioner services mue values" in text:
            setting = "practitioner"
        elif "hospital services mue values" in text or "facility mue values" in text:
            setting = "facility"
        else:
            setting = {"practitioner": "practitioner", "hospital": "facility"}.get(setting_from_name(name) or "")
        if setting is None:
            return None, "an MUE table whose setting is not stated: give --kind mue-practitioner or mue-facility"
        return f"mue-{setting}", "MUE header"
    if ptp.looks_like(head):
        ptp_setting = setting_from_name(name)
        if ptp_setting is None:
            return None, "a PTP file whose name states no setting: give --kind ptp-practitioner or ptp-hospital"
        return f"ptp-{ptp_setting}", "NCCI PTP header"
    return None, "not a known CMS layout (HCPCS, ASP, ASP NDC crosswalk, NCCI PTP, MUE, PFS RVU, GPCI, OPPS B)"


_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        1,
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))


def quarter_from_name(name: str, kind: str) -> date | None:
    """The first day of the period a CMS file name states, or None.

    >>> quarter_from_name("medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip", "ptp-practitioner")
    datetime.date(2026, 7, 1)
    >>> quarter_from_name("ccioph-v321r0-f2.TXT", "ptp-hospital")
    datetime.date(2026, 4, 1)
    >>> quarter_from_name("MCR_MUE_PractitionerServices_Eff_10-01-2026.csv", "mue-practitioner")
    datetime.date(2026, 10, 1)
    >>> quarter_from_name("HCPC2026_APR_ANWEB_v2.txt", "hcpcs"), quarter_from_name("july-2026-alpha-numeric-hcpcs-file.zip", "hcpcs")
    (datetime.date(2026, 4, 1), datetime.date(2026, 7, 1))
    """
    n = name.lower()
    m = re.search(r"eff[_-]?(\d{2})[-_](\d{2})[-_](\d{4})", n)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        except ValueError:
            pass
    m = re.search(r"(?<!\d)(20\d{2})[-_ ]?q([1-4])(?![0-9])", n)
    if m:
        return date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    if kind.startswith("ptp"):
        m = re.search(r"v(\d{2})(\d)r\d", n)
        if m and int(m.group(2)) <= 3:
            return date(1994 + int(m.group(1)), 3 * int(m.group(2)) + 1, 1)
    m = re.search(rf"(?<![a-z])({_MONTH_RE})[-_ ]?(20\d{{2}})(?!\d)", n) or None
    if m:
        return date(int(m.group(2)), _MONTHS[m.group(1)], 1)
    m = re.search(rf"(?<!\d)(20\d{{2}})[-_ ]?({_MONTH_RE})(?![a-z])", n)
    if m:
        return date(int(m.group(1)), _MONTHS[m.group(2)], 1)
    if kind in ("pfs-rvu", "gpci"):  # the RVU release zip: rvu26a (January) .. rvu26d (October)
        m = re.search(r"rvu(\d{2})([a-d])", n)
        if m:
            return date(2000 + int(m.group(1)), {"a": 1, "b": 4, "c": 7, "d": 10}[m.group(2)], 1)
    if kind == "hcpcs":
        m = re.search(r"hcpc(20\d{2})", n)
        if m:
            return date(int(m.group(1)), 1, 1)
    return None
