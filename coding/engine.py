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
from coding.codesets import NO_CODESETS, CodeSets
from coding.config import Config
from coding.drugs.lines import drug_lines
from coding.findings import Finding, error, warning
from coding.home.lines import home_lines
from coding.model import CodedEncounter, Encounter, ServiceLine
from coding.modifiers import dated_modifier
from coding.services import service_lines

HitHistory = Callable[[str], list[date]]

_CODED_SETTINGS = frozenset(("office", "infusion_center", "hospital_outpatient"))


def code_encounter(
    enc: Encounter, cfg: Config, *, hit_history: HitHistory | None = None, codesets: CodeSets = NO_CODESETS
) -> CodedEncounter:
    """Code one encounter; an unknown payer or setting gives an ``error`` finding and no lines.

    ``codesets``: the loaded CMS sets (:mod:`coding.codesets`); each line uses those in effect on
    its date of service, the bundled tables where none is loaded."""
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
        hl, hf = home_lines(enc, cfg, payer, hit_history, codesets)
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
        dl, df = drug_lines(enc, cfg, payer, codesets)
        lines.extend(dl)
        findings.extend(df)
    if codesets is not NO_CODESETS:
        findings.extend(_dated_modifiers(enc, lines, codesets))
    if not lines and not findings:
        findings.append(warning("no-lines", "encounter produced no billable lines", encounter_id=enc.id))
    return CodedEncounter(enc, lines, findings)


def _code_one(
    enc: Encounter, cfg: Config, hit_history: HitHistory | None, codesets: CodeSets = NO_CODESETS
) -> CodedEncounter:
    """One encounter of a batch: values beyond what date and number arithmetic can hold (a date
    past year 9999, an integer too large for a timedelta) make that encounter an error finding
    with no lines, and the rest of the batch is coded."""
    try:
        return code_encounter(enc, cfg, hit_history=hit_history, codesets=codesets)
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


def _dated_modifiers(enc: Encounter, lines: list[ServiceLine], codesets: CodeSets) -> list[Finding]:
    """Administration and service lines: a modifier the loaded HCPCS set ends before (or starts
    after) the line's date is replaced by its successor or left off, with a warning. Drug lines
    apply the same rule while they are coded."""
    out: list[Finding] = []
    for ln in lines:
        if ln.kind == "drug" or not ln.modifiers:
            continue
        kept: list[str] = []
        for m in ln.modifiers:
            dm = dated_modifier(m, ln.service_date, codesets)
            if dm.replaced is None:
                kept.append(m)
                continue
            if dm.modifier is not None:
                kept.append(dm.modifier)
            ln.rationale += f"; {dm.note()}"
            out.append(
                warning(
                    "modifier-not-effective",
                    f"{ln.code}: modifier {dm.note()}",
                    encounter_id=enc.id,
                    field="modifiers",
                )
            )
        ln.modifiers = kept
    return out


def code_encounters(
    encs: Iterable[Encounter],
    cfg: Config,
    *,
    hit_history: HitHistory | None = None,
    codesets: CodeSets = NO_CODESETS,
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
        return [_code_one(e, cfg, hit_history, codesets) for e in encs]
    finally:
        if was_enabled:
            gc.enable()


STREAM_CHUNK = 500  # encounters coded together (the collector is paused per chunk)


def code_stream(
    encs: Iterable[Encounter],
    cfg: Config,
    *,
    hit_history: HitHistory | None = None,
    chunk: int | None = None,
    codesets: CodeSets = NO_CODESETS,
) -> Iterator[CodedEncounter]:
    """Code encounters as they come, ``chunk`` at a time, in input order.

    Same results as :func:`code_encounters` (``chunk`` defaults to ``STREAM_CHUNK``); only one chunk of encounters and coded encounters
    is alive at a time (plus whatever the caller keeps), so a streamed input is coded in flat
    memory.
    """
    it = iter(encs)
    while batch := list(islice(it, chunk or STREAM_CHUNK)):
        yield from code_encounters(batch, cfg, hit_history=hit_history, codesets=codesets)
