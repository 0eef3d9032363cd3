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

import dataclasses
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from coding.codesets import NO_CODESETS, CodeFact, CodeSets, MueFact, MueSetting, PtpEdit, PtpSetting, SetSource
from coding.findings import Finding, Severity
from coding.model import CodedEncounter
from coding.modifiers import bypass_modifiers

__all__ = [
    "LineLike",
    "ScrubLine",
    "Scrubber",
    "is_level2",
    "scrub_coded",
    "scrub_encounter",
    "scrub_lines",
    "scrub_stream",
]

_Add = Callable[[str, str, int], None]

#: (PTP kind, MUE kind) of a claim: practitioner edits for 837P (True), hospital/facility for 837I.
#: ``field`` of a finding on line i (0-based): built once for the usual claim sizes.
_FIELDS = [f"lines[{i}]" for i in range(64)]

_Make = Callable[[Severity, str, str, str | None, None, str, str | None], Finding]

_FIRST = ("severity", "code", "message", "encounter_id", "administration_id", "field", "file")


def _finding_maker() -> _Make:
    """``Finding(severity, code, message, encounter_id, None, field, file)``, the other fields None,
    made by setting its slots directly: a frozen dataclass's ``__init__`` sets each of its twelve
    fields through ``object.__setattr__`` and costs twice as much, and a batch can make tens of
    thousands of findings. Falls back to the constructor if :class:`Finding` no longer has that shape."""
    fields = dataclasses.fields(Finding)
    names = tuple(f.name for f in fields)
    plain = (
        len(names) == 12
        and names[:7] == _FIRST
        and names == getattr(Finding, "__slots__", ())
        and all(f.default is None for f in fields[3:])
        and not hasattr(Finding, "__post_init__")
    )
    if not plain:
        return Finding
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11 = (getattr(Finding, n).__set__ for n in names)
    new = object.__new__

    def make(
        severity: Severity, code: str, message: str, encounter_id: str | None, adm: None, field: str, file: str | None
    ) -> Finding:
        f: Finding = new(Finding)
        s0(f, severity)
        s1(f, code)
        s2(f, message)
        s3(f, encounter_id)
        s4(f, adm)
        s5(f, field)
        s6(f, file)
        s7(f, None)
        s8(f, None)
        s9(f, None)
        s10(f, None)
        s11(f, None)
        return f

    return make


_finding = _finding_maker()

#: Marks a code not asked about yet in a :class:`_Day`'s answers.
_ASK: tuple[str | None, MueFact | None] = ("", None)

#: The most codes per date and setting whose pairs are all asked up front (one look-up per pair):
#: beyond, the pairs of each claim are asked as claims come.
_SETTLED_MAX = 64

#: A sets' optional bulk PTP query: the edits in force on the date of every pair of a first-column
#: code and a different second-column code, keyed (column 1, column 2) by the codes as given.
_PtpInForce = Callable[[PtpSetting, Iterable[str], Iterable[str], date], dict[tuple[str, str], PtpEdit]]

_KINDS = {True: ("ptp-practitioner", "mue-practitioner"), False: ("ptp-hospital", "mue-facility")}


class LineLike(Protocol):
    """What the edits read of a claim line: :class:`coding.model.ServiceLine` or :class:`ScrubLine`."""

    @property
    def code(self) -> str: ...

    @property
    def modifiers(self) -> Sequence[str]: ...

    @property
    def units(self) -> int: ...

    @property
    def service_date(self) -> date: ...


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


class _Day:
    """What the loaded sets answered for one claim type and date of service (filled as questions
    come): per code the validity problem and the MUE (None: neither); per modifier a terminated or
    future record; per code pair the PTP edit in force."""

    __slots__ = ("asked", "bundled", "codes", "hcpcs", "kinds", "mod", "mue", "ok_mods", "pairs", "ptp", "settled")

    def __init__(self, kinds: frozenset[str], ptp_kind: str, mue_kind: str) -> None:
        self.kinds = kinds
        self.hcpcs = "hcpcs" in kinds
        self.mue = mue_kind in kinds
        self.ptp = ptp_kind in kinds
        # per code: None when neither a validity problem nor an MUE can fire on the date
        self.codes: dict[str, tuple[str | None, MueFact | None] | None] = {}
        self.mod: dict[str, CodeFact | None] = {}
        self.ok_mods: set[str] = set()  # modifiers no loaded record ends or starts after the date
        self.asked: dict[str, set[str]] = {}  # column 1 -> column 2 codes asked about
        self.pairs: dict[str, dict[str, PtpEdit]] = {}  # column 1 -> column 2 -> edit in force
        # codes every pair of which (both orders) has been asked: a claim whose codes all lie in it
        # and none of which is a column 2 code of an edit in force (``bundled``) has no PTP conflict
        self.settled: set[str] = set()
        self.bundled: set[str] = set()  # column 2 codes of the edits in force found so far


class Scrubber:
    """The edits, with the loaded sets' answers remembered per date of service and setting: a batch
    of claims asks the same few questions (the infusion codes, a few dates) over and over, and the
    loaded sets may be a database."""

    __slots__ = ("_bulk", "_bypass", "_days", "_last", "_level2", "codesets")

    def __init__(self, codesets: CodeSets) -> None:
        self.codesets = codesets
        # optional bulk PTP query of the sets (the ledger's: one statement instead of one per pair)
        self._bulk: _PtpInForce | None = getattr(codesets, "ptp_in_force", None)
        self._bypass = bypass_modifiers()
        self._level2: dict[str, bool] = {}
        self._days: dict[tuple[str, date], _Day] = {}  # (claim type, date)
        self._last: tuple[str, date, _Day] | None = None  # the last one asked: batches run by date

    def _day(self, claim_type: str, on: date) -> _Day:
        last = self._last
        if last is not None and last[1] == on and last[0] == claim_type:
            return last[2]
        key = (claim_type, on)
        day = self._days.get(key)
        if day is None:
            if len(self._days) > 2_000:
                self._days.clear()
            ptp_kind, mue_kind = _KINDS[claim_type == "837P"]
            day = self._days[key] = _Day(self.codesets.loaded_kinds(on), ptp_kind, mue_kind)
        self._last = (claim_type, on, day)
        return day

    def _code(
        self, code: str, on: date, day: _Day, mue_setting: MueSetting
    ) -> tuple[str | None, MueFact | None] | None:
        problem = None
        if day.hcpcs and is_level2(code):
            cf = self.codesets.code(code, on)
            if cf is None:
                problem = f"{code} is not in the HCPCS set in effect on {on.isoformat()}"
            elif not cf.effective_on(on):
                problem = _validity(code, "code", cf.added, cf.terminated, on, cf.source)
        mue = self.codesets.mue(mue_setting, code, on) if day.mue else None
        got = day.codes[code] = (problem, mue) if problem is not None or mue is not None else None
        return got

    def encounter(self, coded: CodedEncounter) -> list[Finding]:
        """The edits over one coded encounter's lines (its claim type picks the edit settings)."""
        if self.codesets is NO_CODESETS or not coded.lines:
            return []
        enc = coded.encounter
        return self.lines(coded.lines, enc.claim_type, encounter_id=enc.id)

    def lines(
        self,
        lines: Sequence[LineLike],
        claim_type: str,
        *,
        encounter_id: str | None = None,
        file: str | None = None,
    ) -> list[Finding]:
        """The edits over one claim's lines (``claim_type`` 837P or 837I); ``field`` names
        ``lines[i]`` (0-based, in claim order). ``file`` is the claim file when scrubbing one read back."""
        if self.codesets is NO_CODESETS or not lines:
            return []
        out: list[Finding] = []

        def add(code: str, message: str, i: int) -> None:
            # Finding built positionally (see _finding_maker), as error() would: (severity, code, message, encounter_id,
            # administration_id, field, file)
            out.append(
                _finding("error", code, message, encounter_id, None, _FIELDS[i] if i < 64 else f"lines[{i}]", file)
            )

        first = lines[0].service_date
        one: dict[str, list[int]] = {}
        by_date: dict[date, dict[str, list[int]]] = {first: one}
        modified: list[int] = []  # lines with modifiers
        for i, ln in enumerate(lines):
            if ln.service_date != first:  # lines on several dates: group by date
                by_date = {}
                for j, lj in enumerate(lines):
                    by_date.setdefault(lj.service_date, {}).setdefault(lj.code, []).append(j)
                break
            got = one.get(ln.code)
            if got is None:
                one[ln.code] = [i]
            else:
                got.append(i)
            if ln.modifiers:
                modified.append(i)
        several = len(by_date) > 1
        practitioner = claim_type == "837P"
        ptp_setting: PtpSetting = "practitioner" if practitioner else "hospital"
        mue_setting: MueSetting = "practitioner" if practitioner else "facility"
        for on, by_code in by_date.items():
            day = self._day(claim_type, on)
            if not day.kinds:
                continue
            codes = day.codes
            for code, members in by_code.items():
                known = codes.get(code, _ASK)
                if known is None:  # nothing can fire for the code on this date
                    continue
                if known is _ASK:
                    known = self._code(code, on, day, mue_setting)
                    if known is None:
                        continue
                problem, mue = known
                if problem is not None:  # most findings of a batch: built here, as add() would
                    for i in members:
                        out.append(
                            _finding(
                                "error",
                                "code-not-effective",
                                problem,
                                encounter_id,
                                None,
                                _FIELDS[i] if i < 64 else f"lines[{i}]",
                                file,
                            )
                        )
                if mue is not None:
                    if mue.indicator == "1" or len(members) == 1:
                        for i in members:
                            if lines[i].units > mue.value:
                                add("mue-exceeded", _mue_message(code, [lines[i].units], mue, mue_setting, on), i)
                    else:
                        units = [lines[i].units for i in members]
                        if sum(units) > mue.value:
                            add("mue-exceeded", _mue_message(code, units, mue, mue_setting, on), members[-1])
            if day.hcpcs:
                ok = day.ok_mods
                for i in (j for m in by_code.values() for j in m) if several else modified:
                    mods = lines[i].modifiers
                    if mods and not ok.issuperset(mods):
                        self._modifiers(lines[i].code, mods, on, day, add, i)
            if day.ptp and len(by_code) > 1:
                settled = day.settled
                if not settled.issuperset(by_code):
                    self._settle(by_code.keys(), ptp_setting, on, day)
                if not settled.issuperset(by_code) or not day.bundled.isdisjoint(by_code):
                    self._pairs(lines, by_code, ptp_setting, on, day, add)
        return out

    def _modifiers(self, code: str, mods: Sequence[str], on: date, day: _Day, add: _Add, i: int) -> None:
        known = day.mod
        for m in mods:
            try:
                mf = known[m]
            except KeyError:
                mf = self.codesets.modifier(m, on)
                mf = known[m] = mf if mf is not None and not mf.effective_on(on) else None
                if mf is None:
                    day.ok_mods.add(m)
            if mf is not None:
                add(
                    "code-not-effective",
                    _validity(f"{code}-{m}", "modifier", mf.added, mf.terminated, on, mf.source),
                    i,
                )

    def _settle(self, codes: Iterable[str], setting: PtpSetting, on: date, day: _Day) -> None:
        """Ask every pair among the settled codes and ``codes`` not asked yet, and settle them,
        while the settled codes stay few (beyond, pairs are asked claim by claim as they come)."""
        settled = day.settled
        new = [c for c in codes if c not in settled]
        if len(settled) + len(new) > _SETTLED_MAX:
            return
        everything = list(settled) + new
        bulk = self._bulk
        if bulk is not None and new:
            self._settle_bulk(bulk, setting, settled, new, everything, on, day)
        else:
            for c1 in everything:
                self._ask_missing(setting, c1, everything, on, day)
        settled.update(new)

    def _settle_bulk(
        self,
        bulk: _PtpInForce,
        setting: PtpSetting,
        settled: set[str],
        new: list[str],
        everything: list[str],
        on: date,
        day: _Day,
    ) -> None:
        """:meth:`_settle` with the pairs not asked yet answered by the sets' bulk query: those with
        a new code in either column (the settled codes' pairs among themselves are all asked)."""
        found = bulk(setting, new, everything, on)
        if settled:
            found.update(bulk(setting, settled, new, on))
        for c1 in everything:
            asked = day.asked.get(c1)
            if asked is None:
                asked = day.asked[c1] = {c1}
                day.pairs[c1] = {}
            edits = day.pairs[c1]
            for c2 in everything:
                if c2 not in asked:
                    e = found.get((c1, c2))
                    if e is not None:
                        edits[c2] = e
                        day.bundled.add(c2)
            asked.update(everything)

    def _ask_missing(self, setting: PtpSetting, c1: str, codes: Iterable[str], on: date, day: _Day) -> None:
        asked = day.asked.get(c1)
        if asked is None:
            asked = day.asked[c1] = {c1}
            day.pairs[c1] = {}
        if not asked.issuperset(codes):  # pairs not asked yet on this date
            edits = day.pairs[c1]
            for c2 in codes:
                if c2 not in asked:
                    e = self.codesets.ptp(setting, c1, c2, on)
                    if e is not None and e.active_on(on):
                        edits[c2] = e
                        day.bundled.add(c2)
            asked.update(codes)

    def _pairs(
        self,
        lines: Sequence[LineLike],
        by_code: dict[str, list[int]],
        setting: PtpSetting,
        on: date,
        day: _Day,
        add: _Add,
    ) -> None:
        edits_by = day.pairs
        bypass = self._bypass
        codes = by_code.keys()
        for c1 in by_code:
            self._ask_missing(setting, c1, codes, on, day)
            edits = edits_by[c1]
            if not edits or edits.keys().isdisjoint(codes):
                continue
            for c2 in by_code:  # claim order: findings come out the same every run
                e = edits.get(c2)
                if e is None:
                    continue
                for k in by_code[c2]:  # each column 2 line that some column 1 line bundles
                    if e.modifier_indicator == "1":
                        if bypass.intersection(lines[k].modifiers):
                            continue
                        if all(bypass.intersection(lines[i].modifiers) for i in by_code[c1]):
                            continue
                    add("ptp-conflict", _ptp_message(e, on), k)


def _mue_message(code: str, units: list[int], mue: MueFact, setting: str, on: date) -> str:
    if mue.indicator == "1":
        return (
            f"{code}: {units[0]} units on one line exceed the {setting} MUE of {mue.value} "
            f"(line edit, indicator 1; {_where(mue.source)})"
        )
    kind = "policy" if mue.indicator == "2" else "clinical"
    return (
        f"{code}: {sum(units)} units on {on.isoformat()} across {len(units)} line(s) exceed the {setting} MUE "
        f"of {mue.value} (date of service edit: {kind}, indicator {mue.indicator}; {_where(mue.source)})"
    )


def scrub_lines(
    lines: Sequence[LineLike],
    claim_type: str,
    codesets: CodeSets,
    *,
    encounter_id: str | None = None,
    file: str | None = None,
) -> list[Finding]:
    """The edits over one claim's lines (see :meth:`Scrubber.lines`)."""
    return Scrubber(codesets).lines(lines, claim_type, encounter_id=encounter_id, file=file)


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


def scrub_encounter(coded: CodedEncounter, codesets: CodeSets) -> list[Finding]:
    """The edits over one coded encounter's lines (see :meth:`Scrubber.encounter`)."""
    return Scrubber(codesets).encounter(coded)


def scrub_stream(coded: Iterable[CodedEncounter], codesets: CodeSets) -> Iterator[CodedEncounter]:
    """Each coded encounter of a stream with the scrubber's findings appended, as it comes."""
    if codesets is NO_CODESETS:
        yield from coded
        return
    scrubber = Scrubber(codesets)
    for ce in coded:
        fs = scrubber.encounter(ce)
        if fs:
            ce.findings.extend(fs)
        yield ce


def scrub_coded(coded: Iterable[CodedEncounter], codesets: CodeSets) -> int:
    """Scrub each coded encounter and append its findings to it; returns the number of findings.

    The cyclic garbage collector is paused for the batch, as :func:`coding.engine.code_encounters`
    does: the scrubber makes small objects but no cycles, and collections over the coded batch
    would cost more than the edits themselves.
    """
    if codesets is NO_CODESETS:
        return 0
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    scrubber = Scrubber(codesets)
    n = 0
    try:
        for ce in coded:
            fs = scrubber.encounter(ce)
            if fs:
                ce.findings.extend(fs)
                n += len(fs)
    finally:
        if was_enabled:
            gc.enable()
    return n
