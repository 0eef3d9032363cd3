"""The ledger-backed :class:`coding.codesets.CodeSets`: dated lookups over the loaded sets.

For a date of service, each kind is answered by the set in effect on that date: the set with the
latest start on or before the date, unless the file stated an end that the date is past (then no
loaded set answers and the caller falls back to the bundled tables). Dates before the first set
of a kind are not answered either. Within one set, a later file of the same part replaces an
earlier one; PTP parts f1-f4 are searched together.

The set index is read once when the object is made (call :meth:`LedgerCodeSets.refresh` after
loading more); row look-ups are cached per set (LRU), so one claim's many date-of-service
questions cost one query per distinct code or pair.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from coding.codesets import (
    CodeFact,
    DosageFact,
    MueFact,
    MueSetting,
    NdcFact,
    PtpEdit,
    PtpSetting,
    SetSource,
)
from coding.identifiers import InvalidIdentifier
from coding.identifiers import ndc as ndc_id
from reconcile.codesets.formats.dosage import parse_descriptor_unit
from reconcile.ledger.db import Connection

__all__ = ["LedgerCodeSets", "open_codesets"]

CACHE_SIZE = 8192

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Period:
    start: date
    end: date | None  # stated end (inclusive), None: until the next period
    set_ids: tuple[int, ...]


def _d(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None


class LedgerCodeSets:
    """:class:`coding.codesets.CodeSets` over the code sets loaded into a ledger connection."""

    def __init__(self, conn: Connection, cache_size: int = CACHE_SIZE) -> None:
        self._conn = conn
        self._cache_size = cache_size
        self.refresh()

    def refresh(self) -> None:
        """Re-read the set index and drop the caches (after loading files)."""
        rows = self._conn.execute(
            "SELECT id, kind, part, effective_from, effective_to, label, source_file FROM codesets"
            " WHERE effective_from != '' ORDER BY kind, effective_from, id"
        ).fetchall()
        self._source: dict[int, SetSource] = {}
        grouped: dict[str, dict[str, dict[str, int]]] = {}  # kind -> start -> part -> newest id
        ends: dict[tuple[str, str], str | None] = {}
        for r in rows:
            set_id, kind, part, start, end, label, file = r[0], r[1], r[2], r[3], r[4], r[5], r[6]
            self._source[set_id] = SetSource(kind, label, file)
            grouped.setdefault(kind, {}).setdefault(start, {})[part] = set_id
            ends[(kind, start)] = end  # the newest file's stated end
        self._periods: dict[str, list[_Period]] = {}
        self._starts: dict[str, list[date]] = {}
        for kind, by_start in grouped.items():
            periods = [
                _Period(date.fromisoformat(start), _d(ends[(kind, start)]), tuple(sorted(parts.values())))
                for start, parts in sorted(by_start.items())
            ]
            self._periods[kind] = periods
            self._starts[kind] = [p.start for p in periods]
        self._effect_cache: dict[tuple[str, date], tuple[int, ...]] = {}
        n = self._cache_size
        self._hcpcs_row = lru_cache(maxsize=n)(self._hcpcs_row_uncached)
        self._asp_row = lru_cache(maxsize=n)(self._asp_row_uncached)
        self._ndc_row = lru_cache(maxsize=n)(self._ndc_row_uncached)
        self._ptp_rows = lru_cache(maxsize=n)(self._ptp_rows_uncached)
        self._mue_row = lru_cache(maxsize=n)(self._mue_row_uncached)

    # -- which set answers ---------------------------------------------------------------------

    def sets_in_effect(self, kind: str, on: date) -> tuple[int, ...]:
        """Ids of the files of ``kind`` in effect on ``on`` (empty: none)."""
        key = (kind, on)
        hit = self._effect_cache.get(key)
        if hit is None:
            hit = self._sets_in_effect(kind, on)
            if len(self._effect_cache) > 65_536:
                self._effect_cache.clear()
            self._effect_cache[key] = hit
        return hit

    def _sets_in_effect(self, kind: str, on: date) -> tuple[int, ...]:
        starts = self._starts.get(kind)
        if not starts:
            return ()
        i = bisect_right(starts, on) - 1
        if i < 0:
            return ()
        p = self._periods[kind][i]
        if p.end is not None and on > p.end:
            return ()
        return p.set_ids

    def period_start(self, kind: str, on: date) -> date | None:
        """First day of the period of ``kind`` in effect on ``on`` (None: no set answers)."""
        if not self.sets_in_effect(kind, on):
            return None
        return self._starts[kind][bisect_right(self._starts[kind], on) - 1]

    def source(self, set_id: int) -> SetSource:
        return self._source[set_id]

    def loaded_kinds(self, on: date) -> frozenset[str]:
        return frozenset(k for k in self._periods if self.sets_in_effect(k, on))

    # -- cached row queries (keyed by set ids, so every date in one period shares them) --------

    def _in(self, ids: tuple[object, ...]) -> str:
        return ",".join("?" * len(ids))

    def _hcpcs_row_uncached(self, ids: tuple[int, ...], is_mod: int, code: str) -> tuple[Any, ...] | None:
        r = self._conn.execute(
            f"SELECT set_id, added, terminated, description FROM codeset_hcpcs WHERE set_id IN ({self._in(ids)})"
            " AND is_modifier = ? AND code = ? ORDER BY set_id DESC LIMIT 1",
            (*ids, is_mod, code),
        ).fetchone()
        return tuple(r) if r else None

    def _asp_row_uncached(self, ids: tuple[int, ...], code: str) -> tuple[Any, ...] | None:
        r = self._conn.execute(
            f"SELECT set_id, dosage_text, quantity, unit, payment_limit FROM codeset_asp WHERE set_id IN ({self._in(ids)})"
            " AND code = ? ORDER BY set_id DESC LIMIT 1",
            (*ids, code),
        ).fetchone()
        return tuple(r) if r else None

    def _ndc_row_uncached(self, ids: tuple[int, ...], ndc: str, code: str) -> tuple[Any, ...] | None:
        r = self._conn.execute(
            f"SELECT set_id, units_per_item, units_per_package FROM codeset_asp_ndc WHERE set_id IN ({self._in(ids)})"
            " AND ndc = ? AND code = ? ORDER BY set_id DESC LIMIT 1",
            (*ids, ndc, code),
        ).fetchone()
        return tuple(r) if r else None

    def _ptp_rows_uncached(self, ids: tuple[int, ...], c1: str, c2: str) -> tuple[PtpEdit, ...]:
        rows = self._conn.execute(
            f"SELECT set_id, effective, deleted, indicator FROM codeset_ptp WHERE set_id IN ({self._in(ids)})"
            " AND column1 = ? AND column2 = ? ORDER BY effective, line",
            (*ids, c1, c2),
        ).fetchall()
        return tuple(PtpEdit(c1, c2, date.fromisoformat(r[1]), _d(r[2]), r[3], self._source[r[0]]) for r in rows)

    def _mue_row_uncached(self, ids: tuple[int, ...], code: str) -> tuple[Any, ...] | None:
        r = self._conn.execute(
            f"SELECT set_id, value, indicator FROM codeset_mue WHERE set_id IN ({self._in(ids)})"
            " AND code = ? ORDER BY set_id DESC LIMIT 1",
            (*ids, code),
        ).fetchone()
        return tuple(r) if r else None

    # -- the CodeSets protocol -----------------------------------------------------------------

    def _code_fact(self, code: str, on: date, is_mod: int) -> CodeFact | None:
        ids = self.sets_in_effect("hcpcs", on)
        if not ids:
            return None
        c = code.strip().upper()
        r = self._hcpcs_row(ids, is_mod, c)
        if r is None:
            return None
        return CodeFact(c, _d(r[1]), _d(r[2]), r[3], self._source[r[0]])

    def code(self, code: str, on: date) -> CodeFact | None:
        """The HCPCS Level II record of ``code`` in the set in effect on ``on`` (None: the set
        does not carry it, or no HCPCS set is in effect; numeric CPT codes are never carried)."""
        return self._code_fact(code, on, 0)

    def modifier(self, modifier: str, on: date) -> CodeFact | None:
        return self._code_fact(modifier, on, 1)

    def dosage(self, code: str, on: date) -> DosageFact | None:
        """ASP "HCPCS Code Dosage" when the ASP set in effect parses it, else the billing unit at
        the end of the HCPCS long descriptor ("..., 10 mg"); None when neither states one."""
        c = code.strip().upper()
        ids = self.sets_in_effect("asp", on)
        if ids:
            r = self._asp_row(ids, c)
            if r is not None and r[2] is not None:
                limit = Decimal(r[4]) if r[4] is not None else None
                return DosageFact(c, Decimal(r[2]), r[3], r[1], limit, self._source[r[0]])
        fact = self._code_fact(c, on, 0)
        if fact is not None:
            unit = parse_descriptor_unit(fact.description)
            if unit is not None:
                return DosageFact(c, unit[0], unit[1], unit[2], None, fact.source)
        return None

    def ndc_units(self, ndc: str, code: str, on: date) -> NdcFact | None:
        ids = self.sets_in_effect("asp-ndc", on)
        if not ids:
            return None
        try:
            digits = ndc_id.to_11(ndc)
        except InvalidIdentifier:
            return None
        c = code.strip().upper()
        r = self._ndc_row(ids, digits, c)
        if r is None:
            return None
        item = Decimal(r[1]) if r[1] is not None else None
        pkg = Decimal(r[2]) if r[2] is not None else None
        return NdcFact(digits, c, item, pkg, self._source[r[0]])

    def ptp(self, setting: PtpSetting, column1: str, column2: str, on: date) -> PtpEdit | None:
        """The edit of the pair in force on ``on``; when none is, the latest one that took effect
        on or before ``on`` (deleted or indicator 9: ``active_on`` is False); else None."""
        ids = self.sets_in_effect(f"ptp-{setting}", on)
        if not ids:
            return None
        edits = self._ptp_rows(ids, column1.strip().upper(), column2.strip().upper())
        if not edits:
            return None
        if len(edits) == 1:
            only = edits[0]
            return only if only.effective <= on else None
        in_force = [e for e in edits if e.active_on(on)]
        if in_force:
            return in_force[-1]
        started = [e for e in edits if e.effective <= on]
        return started[-1] if started else None

    def ptp_in_force(
        self, setting: PtpSetting, column1: Iterable[str], column2: Iterable[str], on: date
    ) -> dict[tuple[str, str], PtpEdit]:
        """The edits in force on ``on`` (``active_on``) of every pair of a ``column1`` code and a
        different ``column2`` code, in one query: per pair the one :meth:`ptp` answers when it is
        in force; pairs with no edit in force are absent. Keys use the codes as given."""
        ids = self.sets_in_effect(f"ptp-{setting}", on)
        if not ids:
            return {}
        ones: dict[str, list[str]] = {}
        twos: dict[str, list[str]] = {}
        for c in column1:
            ones.setdefault(c.strip().upper(), []).append(c)
        for c in column2:
            twos.setdefault(c.strip().upper(), []).append(c)
        if not ones or not twos:
            return {}
        a, b = tuple(ones), tuple(twos)
        rows = self._conn.execute(
            "SELECT set_id, column1, column2, effective, deleted, indicator FROM codeset_ptp"
            f" WHERE set_id IN ({self._in(ids)}) AND column1 IN ({self._in(a)}) AND column2 IN ({self._in(b)})"
            " ORDER BY effective, line",
            (*ids, *a, *b),
        ).fetchall()
        found: dict[tuple[str, str], PtpEdit] = {}
        for r in rows:  # in the order ptp() reads them: the last one in force wins
            e = PtpEdit(r[1], r[2], date.fromisoformat(r[3]), _d(r[4]), r[5], self._source[r[0]])
            if e.active_on(on):
                found[(r[1], r[2])] = e
        out: dict[tuple[str, str], PtpEdit] = {}
        for (n1, n2), e in found.items():
            for c1 in ones[n1]:
                for c2 in twos[n2]:
                    if c1 != c2:
                        out[(c1, c2)] = e
        return out

    def mue(self, setting: MueSetting, code: str, on: date) -> MueFact | None:
        ids = self.sets_in_effect(f"mue-{setting}", on)
        if not ids:
            return None
        c = code.strip().upper()
        r = self._mue_row(ids, c)
        if r is None:
            return None
        return MueFact(c, int(r[1]), r[2], self._source[r[0]])


def open_codesets(conn: Connection) -> LedgerCodeSets:
    """The loaded sets of a ledger connection as a :class:`coding.codesets.CodeSets`."""
    return LedgerCodeSets(conn)
