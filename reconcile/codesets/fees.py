"""Dated fee-schedule look-ups over the loaded sets: ASP payment limits, PFS relative values,
GPCIs and OPPS Addendum B rates.

Each answer carries the :class:`~coding.codesets.SetSource` of the file it came from and the first
day of that file's period, so a caller can name the quarter it priced from and ask the previous
quarter (the day before that start) what it would have paid. A quarter's PFS set may hold both
CMS files: the non-QPP one (the conversion factor of a practice that is not a qualifying APM
participant) answers first, the QPP twin only for codes the other lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from coding.codesets import SetSource
from reconcile.codesets.lookup import LedgerCodeSets

__all__ = ["AspLimit", "FeeSchedules", "GpciFact", "OppsRate", "PfsFact"]


@dataclass(frozen=True)
class AspLimit:
    code: str
    payment_limit: Decimal  # dollars per HCPCS dosage unit (ASP + 6 %)
    source: SetSource
    start: date


@dataclass(frozen=True)
class PfsFact:
    code: str
    modifier: str
    status: str
    work: Decimal
    pe_nonfacility: Decimal | None
    pe_facility: Decimal | None
    mp: Decimal
    conversion_factor: Decimal
    source: SetSource
    start: date


@dataclass(frozen=True)
class GpciFact:
    mac: str
    locality: str
    work: Decimal
    pe: Decimal
    mp: Decimal
    source: SetSource
    start: date


@dataclass(frozen=True)
class OppsRate:
    code: str
    status_indicator: str
    apc: str
    payment_rate: Decimal | None
    source: SetSource
    start: date


def _dec(s: str | None) -> Decimal | None:
    return Decimal(s) if s is not None else None


class FeeSchedules:
    """Fee-schedule facts by date of service over a :class:`LedgerCodeSets`."""

    def __init__(self, sets: LedgerCodeSets) -> None:
        self.sets = sets
        conn = sets._conn
        self._conn = conn
        self._qpp = {r[0] for r in conn.execute("SELECT id FROM codesets WHERE kind = 'pfs-rvu' AND part = 'qpp'")}
        self._row = lru_cache(maxsize=8192)(self._row_uncached)

    def _row_uncached(self, sql: str, ids: tuple[int, ...], key: tuple[str, ...]) -> tuple[object, ...] | None:
        marks = ",".join("?" * len(ids))
        order = "CASE WHEN set_id IN ({}) THEN 1 ELSE 0 END, set_id DESC".format(
            ",".join(str(i) for i in sorted(self._qpp)) or "NULL"
        )
        r = self._conn.execute(sql.format(ids=marks, order=order), (*ids, *key)).fetchone()
        return tuple(r) if r else None

    def _ids(self, kind: str, on: date) -> tuple[tuple[int, ...], date] | None:
        ids = self.sets.sets_in_effect(kind, on)
        start = self.sets.period_start(kind, on)
        if not ids or start is None:
            return None
        return ids, start

    def previous_day(self, kind: str, on: date) -> date | None:
        """The last day of the period before the one in effect on ``on`` (None: none loaded)."""
        start = self.sets.period_start(kind, on)
        return date.fromordinal(start.toordinal() - 1) if start is not None else None

    def asp(self, code: str, on: date) -> AspLimit | None:
        """The ASP file's payment limit of ``code`` on ``on`` (None: no set, no row or ``N/A``)."""
        got = self._ids("asp", on)
        if got is None:
            return None
        ids, start = got
        c = code.strip().upper()
        r = self._row(
            "SELECT set_id, payment_limit FROM codeset_asp WHERE set_id IN ({ids}) AND code = ? ORDER BY {order} LIMIT 1",
            ids,
            (c,),
        )
        if r is None or r[1] is None:
            return None
        return AspLimit(c, Decimal(str(r[1])), self.sets.source(int(str(r[0]))), start)

    def pfs(self, code: str, modifier: str, on: date) -> PfsFact | None:
        """The PFS relative values of ``code`` with ``modifier`` ('' for the global row) on ``on``."""
        got = self._ids("pfs-rvu", on)
        if got is None:
            return None
        ids, start = got
        c, m = code.strip().upper(), modifier.strip().upper()
        r = self._row(
            "SELECT set_id, status, work_rvu, pe_nonfacility_rvu, pe_facility_rvu, mp_rvu, conversion_factor"
            " FROM codeset_pfs_rvu WHERE set_id IN ({ids}) AND code = ? AND modifier = ? ORDER BY {order} LIMIT 1",
            ids,
            (c, m),
        )
        if r is None:
            return None
        return PfsFact(
            c,
            m,
            str(r[1]),
            Decimal(str(r[2])),
            _dec(r[3] if r[3] is None else str(r[3])),
            _dec(r[4] if r[4] is None else str(r[4])),
            Decimal(str(r[5])),
            Decimal(str(r[6])),
            self.sets.source(int(str(r[0]))),
            start,
        )

    def gpci(self, mac: str, locality: str, on: date) -> GpciFact | None:
        got = self._ids("gpci", on)
        if got is None:
            return None
        ids, start = got
        r = self._row(
            "SELECT set_id, work_gpci, pe_gpci, mp_gpci FROM codeset_gpci WHERE set_id IN ({ids}) AND mac = ?"
            " AND locality = ? ORDER BY {order} LIMIT 1",
            ids,
            (mac.strip(), locality.strip().zfill(2)),
        )
        if r is None:
            return None
        return GpciFact(
            mac.strip(),
            locality.strip().zfill(2),
            Decimal(str(r[1])),
            Decimal(str(r[2])),
            Decimal(str(r[3])),
            self.sets.source(int(str(r[0]))),
            start,
        )

    def opps(self, code: str, on: date) -> OppsRate | None:
        got = self._ids("opps-b", on)
        if got is None:
            return None
        ids, start = got
        c = code.strip().upper()
        r = self._row(
            "SELECT set_id, status_indicator, apc, payment_rate FROM codeset_opps_b WHERE set_id IN ({ids})"
            " AND code = ? ORDER BY {order} LIMIT 1",
            ids,
            (c,),
        )
        if r is None:
            return None
        return OppsRate(
            c, str(r[1]), str(r[2]), _dec(None if r[3] is None else str(r[3])), self.sets.source(int(str(r[0]))), start
        )
