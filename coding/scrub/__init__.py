"""The scrubber: NCCI and code-set edits over coded claim lines, before a claim goes out.

A separate stage after the coder (``dripline code``, ``claims build`` before writing,
``dripline validate`` on 837s): it reads lines (code, modifiers, units, date of service) and the
loaded CMS sets (:class:`coding.codesets.CodeSets`) and reports what a payer's edits would deny.
It knows no file formats and changes no line. Every finding is an ``error`` naming the edit, the
codes and the set (label and file) that holds it:

* ``code-not-effective``: a HCPCS Level II code or modifier that the loaded HCPCS set ends before
  the date of service (deleted) or starts after it (not yet effective), or that a HCPCS set in
  effect on the date does not list. Only when a HCPCS set is loaded for the date; CPT codes (five
  digits, or four digits and a letter) are never judged by the HCPCS file, which does not hold them.
* ``ptp-conflict``: two lines of the claim on the same date that an NCCI procedure-to-procedure
  edit in force on that date bundles (practitioner edits for 837P, hospital edits for 837I), when
  its modifier indicator is ``0``, or ``1`` and neither line carries an NCCI-associated modifier
  (``coding/data/ncci_bypass_modifiers.csv``). Indicator ``9`` and deleted edits never fire. An
  edit is in force from its effective date through its deletion date (the last day, inclusive).
* ``mue-exceeded``: units above the medically unlikely edit (practitioner MUE for 837P, facility
  for 837I): per line for adjudication indicator ``1``; per date of service across all lines of the
  code for ``2`` and ``3``.

Nothing loaded (:data:`coding.codesets.NO_CODESETS`): no findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from coding.codesets import NO_CODESETS, CodeSets, PtpEdit, SetSource
from coding.findings import Finding, error
from coding.model import CodedEncounter, ServiceLine
from coding.modifiers import bypass_modifiers

__all__ = ["ScrubLine", "is_level2", "scrub_coded", "scrub_encounter", "scrub_lines", "scrub_stream"]


@dataclass(frozen=True, slots=True)
class ScrubLine:
    """What the edits read of a claim line (from the coder or from an 837 read back)."""

    code: str
    modifiers: tuple[str, ...]
    units: int
    service_date: date


def is_level2(code: str) -> bool:
    """HCPCS Level II: a letter A–V and four digits (CPT: five digits, or four digits and a letter).

    >>> is_level2("J1745"), is_level2("96365"), is_level2("0001F"), is_level2("G0463")
    (True, False, False, True)
    """
    return len(code) == 5 and "A" <= code[0] <= "V" and code[1:].isdigit()


def _where(src: SetSource) -> str:
    return f"{src.label}, {src.file}" if src.file else src.label


def _claim_settings(claim_type: str) -> tuple[str, str]:
    return ("practitioner", "practitioner") if claim_type == "837P" else ("hospital", "facility")


def scrub_lines(
    lines: Sequence[ScrubLine],
    claim_type: str,
    codesets: CodeSets,
    *,
    encounter_id: str | None = None,
    file: str | None = None,
) -> list[Finding]:
    """The edits over one claim's lines (``claim_type`` 837P or 837I); ``field`` names ``lines[i]``
    (0-based, in claim order). ``file`` is the claim file when scrubbing one read back."""
    if codesets is NO_CODESETS or not lines:
        return []
    ptp_setting, mue_setting = _claim_settings(claim_type)
    ptp_kind = "ptp-" + ptp_setting
    mue_kind = "mue-" + mue_setting
    out: list[Finding] = []

    def add(code: str, message: str, i: int) -> None:
        out.append(error(code, message, encounter_id=encounter_id, field=f"lines[{i}]", file=file))

    by_date: dict[date, list[int]] = {}
    for i, ln in enumerate(lines):
        by_date.setdefault(ln.service_date, []).append(i)
    bypass = bypass_modifiers()
    for on, idx in by_date.items():
        kinds = codesets.loaded_kinds(on)
        if not kinds:
            continue
        day = on.isoformat()
        if "hcpcs" in kinds:
            for i in idx:
                ln = lines[i]
                if is_level2(ln.code):
                    cf = codesets.code(ln.code, on)
                    if cf is None:
                        add("code-not-effective", f"{ln.code} is not in the HCPCS set in effect on {day}", i)
                    elif not cf.effective_on(on):
                        add("code-not-effective", _validity(ln.code, "code", cf.added, cf.terminated, on, cf.source), i)
                for m in ln.modifiers:
                    mf = codesets.modifier(m, on)
                    if mf is not None and not mf.effective_on(on):
                        add(
                            "code-not-effective",
                            _validity(f"{ln.code}-{m}", "modifier", mf.added, mf.terminated, on, mf.source),
                            i,
                        )
        if ptp_kind in kinds and len(idx) > 1:
            for a_pos, i in enumerate(idx):
                a = lines[i]
                for j in idx[a_pos + 1 :]:
                    b = lines[j]
                    if a.code == b.code:
                        continue
                    for c1, c2, k in ((a, b, j), (b, a, i)):
                        e = codesets.ptp(ptp_setting, c1.code, c2.code, on)  # type: ignore[arg-type]
                        if e is None or not e.active_on(on):
                            continue
                        if e.modifier_indicator == "1" and (
                            bypass.intersection(c1.modifiers) or bypass.intersection(c2.modifiers)
                        ):
                            continue
                        add("ptp-conflict", _ptp_message(e, on), k)
        if mue_kind in kinds:
            totals: dict[str, list[int]] = {}
            for i in idx:
                totals.setdefault(lines[i].code, []).append(i)
            for code, members in totals.items():
                mue = codesets.mue(mue_setting, code, on)  # type: ignore[arg-type]
                if mue is None:
                    continue
                src = _where(mue.source)
                if mue.indicator == "1":
                    for i in members:
                        if lines[i].units > mue.value:
                            add(
                                "mue-exceeded",
                                f"{code}: {lines[i].units} units on one line exceed the {mue_setting} MUE of "
                                f"{mue.value} (line edit, indicator 1; {src})",
                                i,
                            )
                else:
                    total = sum(lines[i].units for i in members)
                    if total > mue.value:
                        kind = "policy" if mue.indicator == "2" else "clinical"
                        add(
                            "mue-exceeded",
                            f"{code}: {total} units on {day} across {len(members)} line(s) exceed the "
                            f"{mue_setting} MUE of {mue.value} (date of service edit: {kind}, indicator "
                            f"{mue.indicator}; {src})",
                            members[-1],
                        )
    return out


def _validity(what: str, noun: str, added: date | None, terminated: date | None, on: date, src: SetSource) -> str:
    if terminated is not None and on > terminated:
        why = f"deleted: last day {terminated.isoformat()}"
    elif added is not None:
        why = f"not yet effective: first day {added.isoformat()}"
    else:
        why = "not effective"
    return f"{what}: {noun} {why}, date of service {on.isoformat()} ({_where(src)})"


def _ptp_message(e: PtpEdit, on: date) -> str:
    why = (
        "modifier indicator 0: no modifier bypasses it"
        if e.modifier_indicator == "0"
        else "modifier indicator 1 and neither line carries an NCCI-associated modifier (59, XE, XS, XP, XU, ...)"
    )
    deleted = e.deleted.isoformat() if e.deleted else "active"
    return (
        f"{e.column2} is bundled into {e.column1} on {on.isoformat()} (NCCI PTP edit {e.column1}/{e.column2}, "
        f"effective {e.effective.isoformat()}, deletion {deleted}; {why}; {_where(e.source)})"
    )


def _scrub_line(ln: ServiceLine) -> ScrubLine:
    return ScrubLine(ln.code, tuple(ln.modifiers), int(ln.units), ln.service_date)


def scrub_encounter(coded: CodedEncounter, codesets: CodeSets) -> list[Finding]:
    """The edits over one coded encounter's lines (its claim type picks the edit settings)."""
    if codesets is NO_CODESETS:
        return []
    return scrub_lines([_scrub_line(ln) for ln in coded.lines], coded.claim_type, codesets, encounter_id=coded.id)


def scrub_stream(coded: Iterable[CodedEncounter], codesets: CodeSets) -> Iterator[CodedEncounter]:
    """Each coded encounter of a stream with the scrubber's findings appended, as it comes."""
    if codesets is NO_CODESETS:
        yield from coded
        return
    for ce in coded:
        fs = scrub_encounter(ce, codesets)
        if fs:
            ce.findings.extend(fs)
        yield ce


def scrub_coded(coded: Iterable[CodedEncounter], codesets: CodeSets) -> int:
    """Scrub each coded encounter and append its findings to it; returns the number of findings."""
    if codesets is NO_CODESETS:
        return 0
    n = 0
    for ce in coded:
        fs = scrub_encounter(ce, codesets)
        if fs:
            ce.findings.extend(fs)
            n += len(fs)
    return n
