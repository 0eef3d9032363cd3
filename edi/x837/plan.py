"""Batching: coded encounters -> interchange plans (claim type, ST per payer, claim parts).

Rules:

- one interchange per claim type, 837P and 837I never mixed; one ST set per payer, in the
  order payers first appear;
- an encounter is left out, with a finding, when its coding has error findings, when it has
  no billable line, when its payer is not in the config, when it has no diagnosis, or when a name/address/id has nothing usable
  left after text normalization (see :mod:`edi.x12.text`);
- an ST set holds at most ``max_claims_per_transaction`` claims (config ``[interchange]`` or the
  payer profile; 5,000 by default, the guides' recommendation): a payer's next claim opens a new
  set, placed after the sets already open;
- with ``[interchange] max_file_bytes``, an interchange is cut into several before a file would
  pass that size (bounds from :class:`edi.x837.write.SizeBounds`: the file is cut where the
  next claim would not fit, whatever its payer); a claim too large for any file goes alone in
  its own, with a warning;
- an 837P claim with more than 50 lines (the 2400 loop limit) is split into parts of at most
  50 lines. Patient control number of a part: ``<encounter id cut to 20 - len(suffix)>`` +
  ``-<part>`` (``ENC9-1``, ``ENC9-2``); an unsplit claim keeps the encounter id.
- a CLM01 names one claim (encounter and part) in the batch and in the ledger (through a
  :class:`PcnRegistry`). A part whose ``<id>-<part>`` is an encounter id of the batch, is taken
  by another claim of the batch or names another claim in the ledger is renumbered
  ``<id cut>-<hash>-<part>`` (a warning), and when that is taken too the encounter is held (an
  error). An unsplit claim whose encounter id names another claim in the ledger is held. A part
  the ledger already knows (a resend, replacement or void) keeps the CLM01 it was sent with.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from coding.config import Config
from coding.findings import Finding, error, info, warning
from coding.identifiers import ndc
from coding.model import CodedEncounter, Encounter, Patient
from edi.x12.text import MAX_LEN, clean, digits, fit, ident
from edi.x837.model import (
    MAX_LINES_837I,
    MAX_LINES_837P,
    MAX_PCN_LENGTH,
    ClaimPlan,
    InterchangePlan,
    TransactionPlan,
)

FREQUENCIES = ("1", "7", "8")
NDC_UNITS = ("F2", "GR", "ME", "ML", "UN")  # CTP05-01 code values in both 837 guides
PCN_OK = re.compile(rf"[A-Za-z0-9\-./]{{1,{MAX_PCN_LENGTH}}}")  # CLM01 as given (case kept for matching)


@lru_cache(maxsize=4096)
def ndc11(value: str) -> str | None:
    """The 11-digit NDC for LIN03 (dashed 10-digit label forms are converted), or None.

    >>> ndc11("0574-4072-05"), ndc11("57894003001"), ndc11("5789400300")
    ('00574407205', '57894003001', None)
    """
    return ndc.to_11(value) if ndc.is_valid(value) else None


def patient_is_subscriber(enc: Encounter) -> bool:
    """True when the patient is the insured (relationship self/18, or no subscriber given)."""
    return enc.subscriber is None or enc.relationship in ("self", "18")


def part_pcn(encounter_id: str, part: int) -> str:
    """Patient control number of part ``part`` (1-based) of a split claim.

    >>> part_pcn("ENC-0001", 2)
    'ENC-0001-2'
    >>> part_pcn("A" * 20, 12)
    'AAAAAAAAAAAAAAAAA-12'
    """
    suffix = f"-{part}"
    return encounter_id[: MAX_PCN_LENGTH - len(suffix)] + suffix


def part_pcn_candidates(encounter_id: str, part: int) -> list[str]:
    """CLM01s tried, in order, for part ``part`` of a split claim: ``<id>-<n>``, then ``<id>-<hash>-<n>``.

    The hash (5 hex digits of the encounter id's SHA-256) tells apart long ids cut to the same
    prefix, and a part from an encounter whose id is ``<id>-<n>``.

    >>> part_pcn_candidates("ENC-0001", 2)
    ['ENC-0001-2', 'ENC-0001-A764E-2']
    """
    digest = hashlib.sha256(encounter_id.encode("utf-8")).hexdigest()[:5].upper()
    suffix = f"-{digest}-{part}"
    return [part_pcn(encounter_id, part), encounter_id[: MAX_PCN_LENGTH - len(suffix)] + suffix]


class PcnRegistry(Protocol):
    """What the ledger says about patient control numbers already recorded."""

    def owner(self, pcn: str) -> tuple[str, int] | None:
        """(encounter id, part) of the claim this CLM01 names, or None when it names none."""
        ...

    def recorded(self, encounter_id: str, part: int) -> str | None:
        """The CLM01 already recorded for this encounter and part, or None."""
        ...


def claim_pcns(
    encounter_id: str,
    parts: int,
    batch_ids: set[str],
    used: dict[str, tuple[str, int]],
    registry: PcnRegistry | None,
) -> tuple[list[str], list[Finding]]:
    """The CLM01 of each claim of one encounter (``parts`` 1: unsplit), or none with an error finding.

    ``used`` maps the CLM01s given so far in this batch to their (encounter, part); the caller
    adds the returned ones when it keeps the encounter.
    """

    def owner(pcn: str) -> tuple[str, int] | None:
        return used.get(pcn) or (registry.owner(pcn) if registry is not None else None)

    if parts == 1:
        other = owner(encounter_id)
        if other is not None and other != (encounter_id, 0):
            what = f"part {other[1]} of another encounter" if other[1] else "another encounter"
            return [], [
                error(
                    "pcn-in-use",
                    f"CLM01 {encounter_id} already names the claim of {what}; claim not written (give the "
                    "encounter another id)",
                    encounter_id=encounter_id,
                    field="id",
                )
            ]
        return [encounter_id], []
    out: list[str] = []
    notes: list[Finding] = []
    for n in range(1, parts + 1):
        known = registry.recorded(encounter_id, n) if registry is not None else None
        candidates = [known] if known else part_pcn_candidates(encounter_id, n)
        chosen = next(
            (
                c
                for c in candidates
                if (c == known or c not in batch_ids) and c not in out and owner(c) in (None, (encounter_id, n))
            ),
            None,
        )
        if chosen is None:
            return [], [
                error(
                    "pcn-collision",
                    f"part {n} of the split claim has no patient control number of its own "
                    f"({', '.join(candidates)} already name other claims); claim not written",
                    encounter_id=encounter_id,
                    field="id",
                )
            ]
        if chosen != candidates[0]:
            notes.append(
                warning(
                    "pcn-renumbered",
                    f"part {n} is sent as CLM01 {chosen}: {candidates[0]} already names another claim",
                    encounter_id=encounter_id,
                    field="id",
                )
            )
        out.append(chosen)
    return out, notes


def split_lines(lines: list, limit: int) -> list[list]:
    """Consecutive chunks of at most ``limit`` lines (order kept)."""
    return [lines[i : i + limit] for i in range(0, len(lines), limit)] or [[]]


def _person_findings(p: Patient, role: str, enc_id: str) -> list[Finding]:
    """Text-safety findings for one person (patient or subscriber)."""
    out: list[Finding] = []
    for fld, raw, kind in (
        ("last", p.last, "last"),
        ("first", p.first, "first"),
        ("address.line1", p.address.line1, "address"),
        ("address.line2", p.address.line2, "address"),
        ("address.city", p.address.city, "city"),
    ):
        if raw is None or (fld == "address.line2" and not raw.strip()):
            continue
        value = clean(raw)
        where = f"{role}.{fld}"
        if not value or (kind == "city" and len(value) < 2):
            if fld in ("first", "address.line2"):
                out.append(
                    warning(
                        "text-dropped",
                        f"{where} has no usable characters and is left out",
                        encounter_id=enc_id,
                        field=where,
                    )
                )
            else:
                why = (
                    "is shorter than the 2 characters X12 requires for a city (N401)"
                    if value
                    else "has no usable characters for X12"
                )
                out.append(error("unusable-text", f"{where} {why}", encounter_id=enc_id, field=where))
            continue
        if value != raw:
            out.append(
                info(
                    "text-normalized",
                    f"{where} was normalized for X12 (case, accents, separators)",
                    encounter_id=enc_id,
                    field=where,
                )
            )
        if fit(value, MAX_LEN[kind])[1]:
            out.append(
                warning(
                    "text-truncated",
                    f"{where} is longer than {MAX_LEN[kind]} characters and was cut",
                    encounter_id=enc_id,
                    field=where,
                )
            )
    state = clean(p.address.state)
    if len(state) != 2 or not state.isalpha():
        out.append(
            error(
                "bad-state",
                f"{role}.address.state must be a 2-letter code",
                encounter_id=enc_id,
                field=f"{role}.address.state",
            )
        )
    if len(digits(p.address.zip)) not in (5, 9):
        out.append(
            error(
                "bad-zip",
                f"{role}.address.zip must have 5 or 9 digits",
                encounter_id=enc_id,
                field=f"{role}.address.zip",
            )
        )
    return out


def encounter_findings(coded: CodedEncounter, cfg: Config) -> list[Finding]:
    """Why (if at all) this encounter cannot be written as a claim: error findings block it."""
    enc = coded.encounter
    out = _claim_findings(coded, cfg)
    subscriber = None if patient_is_subscriber(enc) else enc.subscriber
    insured, role = (enc.patient, "patient") if subscriber is None else (subscriber, "subscriber")
    member_id = ident(insured.member_id)
    if len(member_id) < 2:
        out.append(
            error(
                "unusable-text",
                f"{role}.member_id has no usable characters for X12",
                encounter_id=enc.id,
                field=f"{role}.member_id",
            )
        )
    elif fit(member_id, MAX_LEN["id"])[0] != insured.member_id:
        # the payer matches the member by this id: a changed id is worth a look before sending
        out.append(
            warning(
                "member-id-rewritten",
                f"{role}.member_id was changed to fit X12 (NM109: upper case, letters, digits and & ' ( ) , - . / "
                f"only, at most {MAX_LEN['id']} characters); the claim carries a different id than the encounter",
                encounter_id=enc.id,
                field=f"{role}.member_id",
            )
        )
    out += _person_findings(enc.patient, "patient", enc.id)
    if subscriber is not None:
        out += _person_findings(subscriber, "subscriber", enc.id)
    return out + _claim_warnings(coded, cfg) + _line_findings(coded)


def _claim_findings(coded: CodedEncounter, cfg: Config) -> list[Finding]:
    """Claim-level reasons to hold the encounter (coding errors, payer, diagnoses, CLM01)."""
    enc = coded.encounter
    out: list[Finding] = []
    if any(f.severity == "error" for f in coded.findings):
        out.append(error("claim-held", "encounter has coding errors; claim not written", encounter_id=enc.id))
    if not coded.lines:
        out.append(
            error("no-billable-lines", "coding produced no billable line; claim not written", encounter_id=enc.id)
        )
    if enc.payer not in cfg.payers:
        out.append(error("unknown-payer", "payer is not a profile in the config", encounter_id=enc.id, field="payer"))
    if not enc.diagnoses:
        out.append(error("no-diagnosis", "claim needs at least one diagnosis", encounter_id=enc.id, field="diagnoses"))
    if enc.frequency not in FREQUENCIES:
        out.append(error("bad-frequency", "frequency must be 1, 7 or 8", encounter_id=enc.id, field="frequency"))
    elif enc.frequency in ("7", "8") and not ident(enc.payer_claim_number):
        # kept: the ledger fills ClaimPlan.payer_claim_number before writing (claims build /
        # claims correct); a file written without it fails the REF*F8 edit.
        out.append(
            warning(
                "payer-claim-number-from-ledger",
                "frequency 7/8 claim has no payer_claim_number; REF*F8 must come from the ledger",
                encounter_id=enc.id,
                field="payer_claim_number",
            )
        )
    if not PCN_OK.fullmatch(enc.id or ""):
        out.append(
            error(
                "bad-patient-control-number",
                f"encounter id must be 1-{MAX_PCN_LENGTH} letters, digits, '-', '.' or '/' (it is CLM01)",
                encounter_id=enc.id,
                field="id",
            )
        )
    return out


def _line_findings(coded: CodedEncounter) -> list[Finding]:
    """Line-level problems: NDC form, unit and quantity; 837I revenue code."""
    eid = coded.encounter.id
    out: list[Finding] = []
    for ln in coded.lines:
        if ln.ndc is not None and ndc11(ln.ndc) is None:
            out.append(
                error(
                    "bad-ndc",
                    f"line {ln.code}: NDC is not a valid 11-digit (or dashed 10-digit) NDC",
                    encounter_id=eid,
                    field="ndc",
                )
            )
        if ln.ndc is not None and ln.ndc_unit and ln.ndc_unit.upper() not in NDC_UNITS:
            out.append(
                warning(
                    "ndc-unit-defaulted",
                    f"line {ln.code}: NDC unit is not F2/GR/ME/ML/UN; sent as UN",
                    encounter_id=eid,
                    field="ndc_unit",
                )
            )
        if ln.ndc is not None and ln.ndc_quantity is not None and ln.ndc_quantity <= 0:
            out.append(
                error(
                    "bad-ndc-quantity",
                    f"line {ln.code}: NDC quantity must be greater than zero",
                    encounter_id=eid,
                    field="ndc_quantity",
                )
            )
        if coded.claim_type == "837I" and not ln.revenue_code:
            out.append(
                error(
                    "missing-revenue-code",
                    f"837I line {ln.code} has no revenue code",
                    encounter_id=eid,
                    field="revenue_code",
                )
            )
    return out


def _claim_warnings(coded: CodedEncounter, cfg: Config) -> list[Finding]:
    """What the writer has to cut or guess (the claim is still written)."""
    enc = coded.encounter
    out: list[Finding] = []
    limit = 12 if coded.claim_type == "837P" else 25
    if len(enc.diagnoses) > limit:
        out.append(
            warning(
                "diagnoses-truncated",
                f"only the first {limit} diagnoses fit on a {coded.claim_type} claim",
                encounter_id=enc.id,
                field="diagnoses",
            )
        )
    if any(len(ln.modifiers) > 4 for ln in coded.lines):
        out.append(
            warning(
                "too-many-modifiers",
                "a line has more than 4 modifiers; only the first 4 are sent",
                encounter_id=enc.id,
                field="modifiers",
            )
        )
    bp, fac = cfg.billing_provider, cfg.facility
    npi = digits(enc.rendering_npi)
    if (
        npi
        and npi not in cfg.providers
        and npi not in (digits(bp.rendering_npi), digits(fac.attending_npi or ""), digits(bp.npi))
    ):
        out.append(
            warning(
                "provider-name-unknown",
                "rendering/attending NPI is not in the config; its name is sent as UNKNOWN",
                encounter_id=enc.id,
                field="rendering_npi",
            )
        )
    return out


def config_findings(cfg: Config) -> list[Finding]:
    """Config values the envelope needs (errors stop the whole batch)."""
    out: list[Finding] = []
    bp = cfg.billing_provider
    for where, value in (
        ("submitter.name", cfg.submitter.name),
        ("submitter.id", cfg.submitter.id),
        ("receiver.name", cfg.receiver.name),
        ("receiver.id", cfg.receiver.id),
        ("billing_provider.name", bp.name),
        ("billing_provider.address.line1", bp.address.line1),
        ("billing_provider.address.city", bp.address.city),
    ):
        if not clean(value):
            out.append(error("unusable-text", f"config {where} has no usable characters", field=f"config.{where}"))
    if len(cfg.submitter.id) > 15 or len(cfg.receiver.id) > 15:
        out.append(
            error(
                "bad-interchange-id",
                "submitter/receiver id must be at most 15 characters (ISA06/ISA08)",
                field="config.submitter.id",
            )
        )
    if len(digits(cfg.submitter.phone)) < 10:
        out.append(
            error(
                "missing-contact", "config submitter.phone needs 10 digits (1000A PER)", field="config.submitter.phone"
            )
        )
    if len(digits(bp.address.zip)) != 9:
        out.append(
            error(
                "bad-zip",
                "billing provider ZIP must have 9 digits (2010AA N403)",
                field="config.billing_provider.address.zip",
            )
        )
    if len(digits(bp.npi)) != 10 or len(digits(bp.ein)) != 9:
        out.append(
            error(
                "bad-provider-id",
                "billing provider needs a 10-digit NPI and a 9-digit EIN",
                field="config.billing_provider",
            )
        )
    return out


@dataclass
class _Open:
    """The interchange of one claim type being filled: its open ST set per payer and its size."""

    plan: InterchangePlan
    sets: dict[str, TransactionPlan] = field(default_factory=dict)
    next_hl: dict[str, int] = field(default_factory=dict)
    size: int = 0


class Planner:
    """Coded encounters in, interchange plans out, one encounter at a time.

    :meth:`add` returns the interchanges an encounter completed (the file size limit reached),
    :meth:`finish` the ones still open (837P first); ``findings`` says what was left out and why.
    Only the open interchanges are held, so a batch of any length is planned in the memory of
    one file per claim type (with ``max_file_bytes``). ``registry`` answers for the CLM01s
    already in the ledger; ``batch_ids`` are the encounter ids of the whole batch (a part's
    CLM01 must not take one of them).
    """

    def __init__(self, cfg: Config, registry: PcnRegistry | None = None, batch_ids: Iterable[str] = ()) -> None:
        self.cfg = cfg
        self.registry = registry
        self.batch_ids = set(batch_ids)
        self.findings: list[Finding] = config_findings(cfg)
        self.blocked = bool(self.findings)  # config errors stop the whole batch
        self._used: dict[str, tuple[str, int]] = {}
        self._open: dict[str, _Open] = {}
        self._bounds: dict[str, Any] = {}
        self.planned = 0  # claims planned so far

    def add(self, ce: CodedEncounter) -> list[InterchangePlan]:
        """Plan one coded encounter; the interchanges it completed (usually none)."""
        if self.blocked:
            return []
        problems = encounter_findings(ce, self.cfg)
        self.findings += problems
        if any(f.severity == "error" for f in problems):
            return []
        ctype = ce.claim_type
        limit = MAX_LINES_837P if ctype == "837P" else MAX_LINES_837I
        chunks = split_lines(list(ce.lines), limit)
        enc = ce.encounter
        self.batch_ids.add(enc.id)
        pcns, notes = claim_pcns(enc.id, len(chunks), self.batch_ids, self._used, self.registry)
        self.findings += notes
        if not pcns:
            return []
        for n, pcn_ in enumerate(pcns, 1 if len(pcns) > 1 else 0):
            self._used[pcn_] = (enc.id, n)
        if len(chunks) > 1:
            self.findings.append(
                warning(
                    "claim-split",
                    f"{len(ce.lines)} lines exceed the {limit}-line limit; claim split into {len(chunks)} claims",
                    encounter_id=enc.id,
                )
            )
        done: list[InterchangePlan] = []
        parts = len(chunks)
        for n, chunk in enumerate(chunks, 1):
            cp = ClaimPlan(
                patient_control_number=pcns[n - 1],
                coded=ce,
                lines=chunk,
                frequency=enc.frequency,
                payer_claim_number=ident(enc.payer_claim_number) or None,
                part=0 if parts == 1 else n,
                parts=0 if parts == 1 else parts,
            )
            done += self._place(ctype, enc.payer, cp)
        return done

    def finish(self) -> list[InterchangePlan]:
        """The interchanges still open, 837P first; the planner is empty afterwards."""
        out = [self._open.pop(t).plan for t in ("837P", "837I") if t in self._open]
        return [p for p in out if p.transactions]

    def _place(self, ctype: str, payer: str, cp: ClaimPlan) -> list[InterchangePlan]:
        done: list[InterchangePlan] = []
        ic = self._open.get(ctype) or self._new(ctype)
        tp = ic.sets.get(payer)
        new_set = tp is None or len(tp.claims) >= self.cfg.claims_per_transaction(payer)
        max_bytes = self.cfg.max_file_bytes
        if max_bytes is not None:
            bounds = self._bounds[ctype]
            cost = bounds.claim(cp, 2 if new_set else ic.next_hl[payer]) + (bounds.set_header if new_set else 0)
            if ic.size + cost > max_bytes and ic.plan.transactions:
                done.append(ic.plan)  # full: the claim starts the next interchange
                ic, new_set = self._new(ctype), True
                cost = bounds.claim(cp, 2) + bounds.set_header
            if not ic.plan.transactions and ic.size + cost > max_bytes:
                self.findings.append(
                    warning(
                        "file-size-exceeded",
                        f"claim {cp.patient_control_number} alone is larger than max_file_bytes "
                        f"({max_bytes}); it is written in a file of its own",
                        encounter_id=cp.coded.encounter.id,
                    )
                )
            ic.size += cost
        if new_set or tp is None:
            # a payer's first claim, or its set is full: a new ST set, after the open ones
            tp = ic.sets[payer] = TransactionPlan(payer)
            ic.plan.transactions.append(tp)
            ic.next_hl[payer] = 2
        tp.claims.append(cp)
        self.planned += 1
        ic.next_hl[payer] += 1 if patient_is_subscriber(cp.coded.encounter) else 2
        return done

    def _new(self, ctype: str) -> _Open:
        ic = self._open[ctype] = _Open(InterchangePlan(ctype))  # type: ignore[arg-type]
        if self.cfg.max_file_bytes is not None:
            if ctype not in self._bounds:
                from edi.x837.write import SizeBounds  # the writer knows how long each piece is

                self._bounds[ctype] = SizeBounds(self.cfg, ctype)
            ic.size = self._bounds[ctype].envelope
        return ic


def plan_interchanges(
    coded: Sequence[CodedEncounter],
    cfg: Config,
    registry: PcnRegistry | None = None,
    batch_ids: Sequence[str] = (),
) -> tuple[list[InterchangePlan], list[Finding]]:
    """Group coded encounters into interchanges/transactions/claims; findings say what was left out.

    ``registry`` answers for the CLM01s already in the ledger; ``batch_ids`` are encounter ids
    of the batch beyond ``coded`` (left out earlier) that a part's CLM01 must not take either.
    """
    planner = Planner(cfg, registry, [*(ce.encounter.id for ce in coded), *batch_ids])
    plans: list[InterchangePlan] = []
    for ce in coded:
        plans += planner.add(ce)
    return plans + planner.finish(), planner.findings
