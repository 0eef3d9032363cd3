"""The coder: encounters -> coded encounters (claim lines + findings).

``code_encounter(enc, cfg)`` looks up the payer profile, codes

1. drug-administration lines (:mod:`coding.admin.codes`), in clinical order,
2. other services (:mod:`coding.services`: E/M with 25, 99211 dropped, ...),
3. drug lines (:func:`coding.drugs.lines.drug_lines`: units, JW/JZ, 340B, NDC),

and for ``setting == "home"`` the home-infusion lines of :mod:`coding.home.lines` instead. Output is deterministic: the same input
gives the same lines in the same order. Problems are findings; only bugs raise.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from itertools import islice

from coding.admin.codes import admin_lines
from coding.config import Config
from coding.drugs.lines import drug_lines
from coding.findings import Finding, error, warning
from coding.home.lines import home_lines
from coding.model import CodedEncounter, Encounter, ServiceLine
from coding.services import service_lines

HitHistory = Callable[[str], list[date]]

_CODED_SETTINGS = frozenset(("office", "infusion_center", "hospital_outpatient"))


def code_encounter(enc: Encounter, cfg: Config, *, hit_history: HitHistory | None = None) -> CodedEncounter:
    """Code one encounter; an unknown payer or setting gives an ``error`` finding and no lines."""
    payer = cfg.payers.get(enc.payer)
    if payer is None:
        return CodedEncounter(
            enc,
            [],
            [error("unknown-payer", "payer is not a payer profile in the config", encounter_id=enc.id, field="payer")],
        )
    lines: list[ServiceLine] = []
    findings: list[Finding] = []
    if enc.setting == "home":
        hl, hf = home_lines(enc, cfg, payer, hit_history)
        lines.extend(hl)
        findings.extend(hf)
        return CodedEncounter(enc, lines, findings)
    if enc.setting not in _CODED_SETTINGS:
        return CodedEncounter(
            enc,
            [],
            [
                error(
                    "unknown-setting",
                    "setting is not office, infusion_center, home or hospital_outpatient",
                    encounter_id=enc.id,
                    field="setting",
                )
            ],
        )
    lines, findings = admin_lines(enc, cfg, payer)
    if enc.services:
        sl, sf = service_lines(enc, cfg, payer, lines)
        lines.extend(sl)
        findings.extend(sf)
    if enc.administrations:
        dl, df = drug_lines(enc, cfg, payer)
        lines.extend(dl)
        findings.extend(df)
    if not lines and not findings:
        findings.append(warning("no-lines", "encounter produced no billable lines", encounter_id=enc.id))
    return CodedEncounter(enc, lines, findings)


def _code_one(enc: Encounter, cfg: Config, hit_history: HitHistory | None) -> CodedEncounter:
    """One encounter of a batch: values beyond what date and number arithmetic can hold (a date
    past year 9999, an integer too large for a timedelta) make that encounter an error finding
    with no lines, and the rest of the batch is coded."""
    try:
        return code_encounter(enc, cfg, hit_history=hit_history)
    except (ArithmeticError, ValueError, RecursionError):
        return CodedEncounter(
            enc,
            [],
            [
                error(
                    "uncodable-encounter",
                    "a date or amount of this encounter is beyond what can be computed; not coded",
                    encounter_id=enc.id,
                )
            ],
        )


def code_encounters(
    encs: Iterable[Encounter], cfg: Config, *, hit_history: HitHistory | None = None
) -> list[CodedEncounter]:
    """Code many encounters (in input order).

    The cyclic garbage collector is paused for the batch: coding creates many small objects but
    no reference cycles, so collections during the batch only cost time (about a fifth of it);
    reference counting still frees everything, and the previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        return [_code_one(e, cfg, hit_history) for e in encs]
    finally:
        if was_enabled:
            gc.enable()


STREAM_CHUNK = 500  # encounters coded together (the collector is paused per chunk)


def code_stream(
    encs: Iterable[Encounter], cfg: Config, *, hit_history: HitHistory | None = None, chunk: int | None = None
) -> Iterator[CodedEncounter]:
    """Code encounters as they come, ``chunk`` at a time, in input order.

    Same results as :func:`code_encounters` (``chunk`` defaults to ``STREAM_CHUNK``); only one chunk of encounters and coded encounters
    is alive at a time (plus whatever the caller keeps), so a streamed input is coded in flat
    memory.
    """
    it = iter(encs)
    while batch := list(islice(it, chunk or STREAM_CHUNK)):
        yield from code_encounters(batch, cfg, hit_history=hit_history)
