"""Synthetic, balanced X12 835 (005010X221A1) remittances for the demo data set and benchmarks.

Every payer, practice, physician, patient and identifier here is invented. A file is
deterministic for its seed, and every service line, claim and payment balances to the
cent (charge - paid = adjustments; BPR02 = paid - PLB), so the reader, the ingest and the
work queues can be exercised at volume without a single real remittance.

The claims follow the clinical scenarios billing teams meet: the NCCI pairs named in
DOMAIN.md section 5 billed together on one date (sometimes with a bypass modifier), routine
write-downs and patient shares on paid lines, and the usual denial reasons with the RARCs
payers send with them. ``NCCI_PAIRS`` lists the pairs so the demo NCCI data can match.

    python -m denials.demo.remittances --claims 5000 --seed 1 -o /tmp/x.835

Amounts are whole cents (``int``) inside this module: exact like ``Decimal`` and several
times faster, which matters when a benchmark file holds 20,000 claims. This package imports
nothing from Django (from ``ncci`` only the pure ``ncci.ptp``, for the bypass modifiers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import re
import sys
import zlib
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate
from pathlib import Path

from denials.demo.parties import (
    _FIRST_NAMES,
    _LAST_NAMES,
    DEMO_PAYERS,
    DEMO_PROVIDERS,
    RenderingProvider,
    SyntheticPayer,
    SyntheticProvider,
    _routing_number,
    npi_is_valid,
)
from denials.demo.scenarios import (
    _AUTH_CODES,
    _AUTH_SCENARIOS,
    _BYPASS_MODIFIERS,
    _CHARGES,
    _DENIAL_CUM_WEIGHTS,
    _DENIAL_KINDS,
    _EM_CODES,
    _FILLERS_BY_SPECIALTY,
    _GLOBAL_SCENARIOS,
    _LAB_CODES,
    _NECESSITY_CODES,
    _NEEDS_PAIR,
    _NONCOVERED_CODES,
    _OTHER_SIDE,
    _PAIR_SCENARIOS,
    _PAIR_SETS,
    _PAIRS_BY_SPECIALTY,
    _SCENARIOS_BY_SPECIALTY,
    _SIDE,
    _UNIVERSAL_FILLERS,
    _WHOLE_CLAIM_KINDS,
    NCCI_PAIRS,
    ROUTINE_ADJUSTMENTS,
    _Scenario,
    _Spec,
)

__all__ = [
    "DEMO_PAYERS",
    "DEMO_PROVIDERS",
    "NCCI_PAIRS",
    "ROUTINE_ADJUSTMENTS",
    "RenderingProvider",
    "SyntheticPayer",
    "SyntheticProvider",
    "generate_835",
    "generate_demo_files",
    "npi_is_valid",
]


_Adj = tuple[str, str, int, int | None]  # group code, CARC, cents, quantity


@dataclass(slots=True)
class _Line:
    code: str
    modifiers: list[str]
    units: int
    charge: int
    service_date: dt.date
    paid: int = 0
    allowed: int | None = None
    adjustments: list[_Adj] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    denied: bool = False


@dataclass(frozen=True, slots=True)
class _Person:
    last_name: str
    first_name: str
    middle_initial: str
    member_id: str


@dataclass(slots=True)
class _Claim:
    patient_control_number: str
    status: str
    payer_claim_number: str
    lines: list[_Line]
    charge: int
    patient: _Person
    insured: _Person | None
    rendering: RenderingProvider
    statement_from: dt.date
    statement_to: dt.date
    received: dt.date
    adjustments: list[_Adj] = field(default_factory=list)  # claim level
    moa_remarks: list[str] = field(default_factory=list)
    frequency: str = "1"

    @property
    def paid(self) -> int:
        # Claim-level adjustments come off what the lines paid; a claim sent without lines
        # starts from its charge.
        base = sum(line.paid for line in self.lines) if self.lines else self.charge
        return base - sum(a[2] for a in self.adjustments)

    @property
    def patient_responsibility(self) -> int:
        total = sum(a[2] for a in self.adjustments if a[0] == "PR")
        for line in self.lines:
            total += sum(a[2] for a in line.adjustments if a[0] == "PR")
        return total


@dataclass(slots=True)
class _Benefits:
    """What the patient still owes under the plan while a claim's lines are adjudicated."""

    deductible_left: int
    copay: int
    coinsurance: float


# -- the generator ------------------------------------------------------------------------


def _control_number(seed: int) -> int:
    # An affine map that is a bijection on 1..999,999,999 (48271 is prime and shares no
    # factor with 999,999,999), so different seeds always give different ISA13s.
    return (seed * 48271 + 1) % 999_999_999 + 1


def _trace_number(seed: int) -> str:
    # Bijective modulo 10**10 (the multiplier is odd and not a multiple of 5).
    return f"{(seed * 2654435761 + 104729) % 10**10:010d}"


def _weekday(day: dt.date) -> dt.date:
    """Payers pay on business days: a weekend date moves to the Friday before."""
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


def _default_payment_date(seed: int) -> dt.date:
    return _weekday(dt.date(2026, 9, 1) + dt.timedelta(days=(seed * 37) % 91))


def _money(cents: int) -> str:
    """X12 decimal: no trailing zeros after the point (100, 57.4, 0.05), minus sign first."""
    # Dividing whole cents by 100 is exact enough that two-place rounding gives the true
    # value, and it is several times faster than divmod and three branches.
    text = f"{cents / 100:.2f}"
    if text[-1] == "0":
        text = text[:-2] if text[-2] == "0" else text[:-1]
        if text[-1] == ".":
            text = text[:-1]
    return text


def _d8(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


class _Generator:
    """Builds one file: claims first (amounts as cents), then the segments in one pass."""

    def __init__(
        self,
        *,
        seed: int,
        payer: SyntheticPayer,
        provider: SyntheticProvider,
        payment_date: dt.date,
        denial_rate: float,
        lines_per_claim: tuple[int, int],
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.payer = payer
        self.provider = provider
        self.payment_date = payment_date
        self.denial_rate = denial_rate
        self.lines_per_claim = lines_per_claim
        self.claim_serial = 0
        self.julian = f"{payment_date.year % 100:02d}{payment_date.timetuple().tm_yday:03d}"
        self.fee_schedule = self._fee_schedule()
        self.specialties = [specialty for specialty, _ in provider.specialty_weights]
        self.specialty_cum = list(accumulate(weight for _, weight in provider.specialty_weights))
        self.roster: dict[str, list[RenderingProvider]] = {}
        for doctor in provider.rendering:
            self.roster.setdefault(doctor.specialty, []).append(doctor)
        self.patients: list[tuple[_Person, _Person | None]] = []

    # -- reference data for this file ---------------------------------------------------

    def _fee_schedule(self) -> dict[str, int]:
        """Allowed cents per unit for each code: stable per payer, as a real fee schedule is."""
        low, high = self.payer.allowed_ratio
        schedule: dict[str, int] = {}
        for code, charge in _CHARGES.items():
            # crc32, not hash(): hash() of a str changes between interpreter runs.
            fraction = zlib.crc32(f"{self.payer.payer_id}:{code}".encode()) / 0xFFFFFFFF
            schedule[code] = max(1, int(charge * (low + (high - low) * fraction)))
        return schedule

    def _member_id(self) -> str:
        rng = self.rng
        if self.payer.is_medicare:
            # Shaped like an MBI, but position 2 is one of S, L, O, I, B, Z, letters CMS never
            # puts in an MBI, so no generated id can belong to a real beneficiary.
            letters = "ACDEFGHJKMNPQRTUVWXY"
            alnum = letters + "0123456789"
            return "".join(
                (
                    str(rng.randint(1, 9)),
                    rng.choice("SLOIBZ"),
                    rng.choice(alnum),
                    str(rng.randint(0, 9)),
                    rng.choice(letters),
                    rng.choice(alnum),
                    str(rng.randint(0, 9)),
                    rng.choice(letters),
                    rng.choice(letters),
                    f"{rng.randrange(100):02d}",
                )
            )
        return f"{self.payer.member_id_prefix}{rng.randrange(10**9):09d}"

    def _patient(self) -> tuple[_Person, _Person | None]:
        """A patient, sometimes a returning one, and the subscriber when it is a dependent."""
        rng = self.rng
        if self.patients and rng.random() < 0.3:
            return self.patients[rng.randrange(len(self.patients))]
        last = rng.choice(_LAST_NAMES)
        first = rng.choice(_FIRST_NAMES)
        middle = rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.6 else ""
        member_id = self._member_id()
        insured: _Person | None = None
        # Medicare beneficiaries are their own subscribers; commercial and Medicaid
        # dependents are reported under the subscriber (NM1*IL).
        if not self.payer.is_medicare and rng.random() < 0.3:
            insured = _Person(last, rng.choice(_FIRST_NAMES), "", member_id)
            member_id = member_id + "02"
        entry = (_Person(last, first, middle, member_id), insured)
        self.patients.append(entry)
        return entry

    def _new_benefits(self) -> _Benefits:
        rng = self.rng
        payer = self.payer
        if payer.is_medicare:
            deductible = rng.randint(2000, 25700) if rng.random() < 0.12 else 0
            return _Benefits(deductible, 0, 0.20)
        if payer.is_medicaid:
            return _Benefits(0, rng.choice((100, 200, 300, 400)) if rng.random() < 0.3 else 0, 0.0)
        deductible = rng.randint(5000, 150000) if rng.random() < 0.22 else 0
        copay = rng.choice((2000, 2500, 3000, 4000, 5000)) if rng.random() < 0.6 else 0
        coinsurance = rng.choice((0.0, 0.1, 0.2, 0.2, 0.3))
        return _Benefits(deductible, copay, coinsurance)

    # -- claim numbers ------------------------------------------------------------------

    def _patient_control_number(self, serial: int) -> str:
        # The seed leads and a separator follows it, so numbers never collide across seeds.
        return f"{self.seed:04d}-{serial:06d}"

    def _payer_claim_number(self, serial: int, kind: str = "0") -> str:
        # Shaped like a payer ICN (year, julian day, batch, sequence); the full seed and the
        # serial make it unique, and kind 9 marks the earlier claim a reversal points to.
        return f"{self.julian}{self.seed:05d}{kind}{serial:06d}"

    # -- building claims ------------------------------------------------------------------

    def claims(self, count: int) -> list[_Claim]:
        rng = self.rng
        out: list[_Claim] = []
        # Reversal pairs need room, and need a file big enough that the rest of the payment
        # outweighs them.
        pair_rate = 0.012 if count >= 10 and self.denial_rate < 1.0 else 0.0
        while len(out) < count:
            if pair_rate and count - len(out) >= 2 and rng.random() < pair_rate:
                out.extend(self._reversal_pair())
                continue
            kind = self._denial_kind() if rng.random() < self.denial_rate else None
            out.append(self._claim(kind))
        return out

    def _denial_kind(self) -> str:
        return _DENIAL_KINDS[bisect_right(_DENIAL_CUM_WEIGHTS, self.rng.random() * _DENIAL_CUM_WEIGHTS[-1])]

    def _pick_specialty(self) -> str:
        return self.specialties[bisect_right(self.specialty_cum, self.rng.random() * self.specialty_cum[-1])]

    def _scenario(self, kind: str | None) -> _Scenario:
        rng = self.rng
        high = self.lines_per_claim[1]
        if kind in _NEEDS_PAIR:
            return rng.choice(_PAIR_SCENARIOS)
        if kind == "global_period":
            return rng.choice(_GLOBAL_SCENARIOS)
        if kind == "authorization":
            return rng.choice(_AUTH_SCENARIOS if high >= 2 else [x for x in _AUTH_SCENARIOS if x.pair is None])
        specialty = self._pick_specialty()
        # Clean claims also carry NCCI pairs, then with a bypass the payer honours.
        pairs = _PAIRS_BY_SPECIALTY[specialty]
        if pairs and high >= 2 and rng.random() < 0.18:
            return rng.choice(pairs)
        return rng.choice(_SCENARIOS_BY_SPECIALTY[specialty])

    def _lines(self, scenario: _Scenario, wanted: int, first_date: dt.date, latest: dt.date) -> list[_Line]:
        rng = self.rng
        side = rng.choice(("RT", "LT"))
        other = "LT" if side == "RT" else "RT"

        def make(spec: _Spec, day: dt.date) -> _Line:
            modifiers = [side if m == _SIDE else other if m == _OTHER_SIDE else m for m in spec.modifiers]
            units = rng.randint(*spec.units) if spec.units[1] > 1 else 1
            return _Line(spec.code, modifiers, units, _CHARGES[spec.code] * units, day)

        specs = list(scenario.core)
        if scenario.pair is not None:
            wanted = max(wanted, 2)
        extras = list(scenario.extras)
        rng.shuffle(extras)
        if scenario.repeat_visits:
            return self._visits(scenario, make, extras, wanted, first_date, latest)
        specs.extend(extras)
        if len(specs) < wanted:
            codes = {spec.code for spec in specs}
            fillers = [
                spec
                for spec in _FILLERS_BY_SPECIALTY[scenario.specialty]
                if spec.code not in codes and not any(frozenset((spec.code, code)) in _PAIR_SETS for code in codes)
            ]
            rng.shuffle(fillers)
            specs.extend(fillers)
            if len(specs) < wanted:
                # Still short (very wide bounds): tests any practice may run and bill.
                codes |= {spec.code for spec in fillers}
                specs.extend(
                    spec
                    for spec in _UNIVERSAL_FILLERS
                    if spec.code not in codes and not any(frozenset((spec.code, code)) in _PAIR_SETS for code in codes)
                )
        return [make(spec, first_date) for spec in specs[:wanted]]

    def _visits(
        self,
        scenario: _Scenario,
        make: Callable[[_Spec, dt.date], _Line],
        extras: list[_Spec],
        wanted: int,
        first_date: dt.date,
        latest: dt.date,
    ) -> list[_Line]:
        """A series of visits: the core plus a couple of extras on the first, then the same
        treatment again (the revisit codes instead of the core when the core is an evaluation)."""
        rng = self.rng
        added = extras[: rng.randint(0, 2)]
        template = list(scenario.core) + added
        revisit = list(scenario.revisit or scenario.core) + added
        # Start early enough that every visit fits before the claim is sent.
        day = min(first_date, latest - dt.timedelta(days=2 * (wanted - 1)))
        lines: list[_Line] = []
        while True:
            for spec in template:
                if len(lines) < wanted:
                    lines.append(make(spec, day))
            if len(lines) >= wanted:
                return lines
            template = revisit
            visits_left = -(-(wanted - len(lines)) // len(template))
            room = (latest - day).days // visits_left
            day += dt.timedelta(days=max(1, min(rng.randint(2, 7), room)))

    def _claim(
        self,
        kind: str | None,
        *,
        keep_lines: bool = False,
        age_days: int = 0,
        benefits: _Benefits | None = None,
        allow_secondary: bool = True,
    ) -> _Claim:
        """One claim; ``age_days`` moves its dates back (a payment being reversed is older)."""
        rng = self.rng
        self.claim_serial += 1
        serial = self.claim_serial
        low, high = self.lines_per_claim
        if kind in _NEEDS_PAIR and high < 2:
            kind = "coding"  # a one-line claim cannot hold a pair
        scenario = self._scenario(kind)
        if kind == "timely_filing":
            # Denied for timely filing: the service is months old when the claim arrives.
            first_date = self.payment_date - dt.timedelta(days=rng.randint(120, 240))
        else:
            first_date = self.payment_date - dt.timedelta(days=rng.randint(14, 56))
        first_date -= dt.timedelta(days=age_days)
        # Visits end in time for the claim to be received before the payment.
        latest = self.payment_date - dt.timedelta(days=5 + age_days)
        lines = self._lines(scenario, rng.randint(low, high), first_date, latest)
        patient, insured = self._patient()
        doctors = self.roster.get(scenario.specialty) or list(self.provider.rendering)
        last_date = max(line.service_date for line in lines)
        if kind == "timely_filing":
            received = min(
                last_date + dt.timedelta(days=rng.randint(95, 110)), self.payment_date - dt.timedelta(days=3)
            )
        else:
            received = min(
                last_date + dt.timedelta(days=rng.randint(2, 10)), self.payment_date - dt.timedelta(days=3 + age_days)
            )
        claim = _Claim(
            patient_control_number=self._patient_control_number(serial),
            status="1",
            payer_claim_number=self._payer_claim_number(serial),
            lines=lines,
            charge=sum(line.charge for line in lines),
            patient=patient,
            insured=insured,
            rendering=rng.choice(doctors),
            statement_from=min(line.service_date for line in lines),
            statement_to=last_date,
            received=received,
        )
        if benefits is None:
            benefits = self._new_benefits()
        secondary = allow_secondary and kind is None and rng.random() < 0.06
        column2 = self._set_pair_modifiers(scenario, lines, kind)
        if kind is None:
            for line in lines:
                self._adjudicate_paid(line, benefits, secondary=secondary)
            claim.status = "2" if secondary else "1"
        elif kind in _WHOLE_CLAIM_KINDS:
            self._deny_whole_claim(claim, kind, keep_lines=keep_lines)
        else:
            self._deny_lines(claim, kind, column2, benefits)
        if self.payer.is_medicare and claim.status in ("1", "4"):
            denied = claim.adjustments or any(line.denied for line in claim.lines)
            if denied and "MA130" not in claim.moa_remarks:
                claim.moa_remarks.append("MA01")  # the appeal-rights alert on Medicare denials
            elif not denied and rng.random() < 0.12:
                claim.status = "19"  # processed as primary, crossed over to the supplement
                claim.moa_remarks.append("MA18")
        return claim

    def _set_pair_modifiers(self, scenario: _Scenario, lines: list[_Line], kind: str | None) -> _Line | None:
        """Decide the column 2 line's modifiers; return that line if the pair is on the claim."""
        if scenario.pair is None or len(lines) < 2:
            return None
        column2 = lines[1]
        # A denied pair carries a bypass modifier now and then (the appealable case); a
        # paid one always does, since the payer honoured it.
        with_bypass = kind not in _NEEDS_PAIR or self.rng.random() < 0.3
        if with_bypass:
            bypass = self.rng.choice(scenario.bypass)
            if bypass == (_OTHER_SIDE,):
                side = column2.modifiers[0] if column2.modifiers else "RT"
                column2.modifiers = ["LT" if side == "RT" else "RT"]
            else:
                column2.modifiers = column2.modifiers + list(bypass)
        return column2

    # -- adjudication -------------------------------------------------------------------

    def _allowed(self, line: _Line, fee_increase: float = 1.0) -> int:
        return min(line.charge, int(self.fee_schedule[line.code] * line.units * fee_increase))

    def _adjudicate_paid(
        self,
        line: _Line,
        benefits: _Benefits,
        *,
        secondary: bool = False,
        reduction: _Adj | None = None,
        fee_increase: float = 1.0,
    ) -> None:
        """A paid line: write-down, patient shares, sequestration; optional partial denial."""
        rng = self.rng
        payer = self.payer
        allowed = self._allowed(line, fee_increase)
        adjustments: list[_Adj] = []
        if reduction is None:
            adjustments.append(("CO", "45", line.charge - allowed, None))
        else:
            group, reason, amount, quantity = reduction
            if quantity is not None:
                # Denied units come off at their full charge; the other units are
                # adjudicated as usual.
                denied_charge = _CHARGES[line.code] * quantity
                allowed = min(line.charge - denied_charge, self.fee_schedule[line.code] * (line.units - quantity))
                adjustments.append(("CO", "45", line.charge - denied_charge - allowed, None))
                adjustments.append((group, reason, denied_charge, quantity))
            else:
                # Part of the allowance is taken away before the patient's shares.
                amount = min(amount, allowed)
                adjustments.append(("CO", "45", line.charge - allowed, None))
                adjustments.append((group, reason, amount, None))
                allowed -= amount
        rest = allowed
        if secondary:
            # The primary paid most of the allowance (OA-23); this payer picks up the rest,
            # sometimes leaving the patient a share.
            prior = int(allowed * rng.uniform(0.70, 0.85) + 0.5)
            adjustments.append(("OA", "23", prior, None))
            rest -= prior
            if rest > 0 and rng.random() < 0.3:
                share = int(rest * rng.uniform(0.2, 0.6) + 0.5)
                adjustments.append(("PR", "2", share, None))
                rest -= share
        else:
            is_lab = line.code in _LAB_CODES
            if benefits.deductible_left and rest and not (payer.is_medicare and is_lab):
                deductible = min(benefits.deductible_left, rest)
                benefits.deductible_left -= deductible
                adjustments.append(("PR", "1", deductible, None))
                rest -= deductible
            if benefits.copay and line.code in _EM_CODES and rest:
                copay = min(benefits.copay, rest)
                benefits.copay = 0  # one copay per visit
                adjustments.append(("PR", "3", copay, None))
                rest -= copay
            elif benefits.coinsurance and rest and not (payer.is_medicare and is_lab):
                coinsurance = int(rest * benefits.coinsurance + 0.5)
                if coinsurance:
                    adjustments.append(("PR", "2", coinsurance, None))
                    rest -= coinsurance
            if payer.is_medicare and rest:
                # Sequestration: 2% off what Medicare itself pays (after the patient's shares).
                sequestration = int(rest * 0.02 + 0.5)
                if sequestration:
                    adjustments.append(("CO", "253", sequestration, None))
                    rest -= sequestration
        line.adjustments = _nonzero(adjustments)
        line.allowed = allowed
        line.paid = rest

    def _deny_line(
        self, line: _Line, group: str, reason: str, remarks: Sequence[str], *, after_fee_schedule: bool = False
    ) -> None:
        """A line paid nothing. Some payers write down to the fee schedule first."""
        line.denied = True
        line.paid = 0
        line.allowed = None
        line.remarks = list(remarks)
        if after_fee_schedule:
            allowed = self._allowed(line)
            adjustments: list[_Adj] = []
            if line.charge > allowed:
                adjustments.append(("CO", "45", line.charge - allowed, None))
            adjustments.append((group, reason, allowed, None))
            line.adjustments = _nonzero(adjustments)
        else:
            line.adjustments = [(group, reason, line.charge, None)]

    def _deny_lines(self, claim: _Claim, kind: str, column2: _Line | None, benefits: _Benefits) -> None:
        rng = self.rng
        lines = claim.lines
        target: _Line | None = None
        partial: _Adj | None = None
        remarks: list[str] = []
        group, reason = "CO", ""
        after_fee = False
        medicare = self.payer.is_medicare
        if kind in _NEEDS_PAIR and column2 is not None:
            target = column2
            after_fee = rng.random() < 0.3
            if kind == "bundling":
                roll = rng.random()
                group = "CO" if roll < 0.86 else ("PR" if roll < 0.94 else "OA")
                reason = "97"
                remarks = [rng.choice(("M15", "M15", "N381"))]
            else:
                reason = "236"
                remarks = ["N20"] if rng.random() < 0.5 else []
        elif kind == "global_period":
            target = lines[0]
            reason, remarks = "97", ["M144"]
        elif kind == "bundling_partial":
            target = self._pick(lines, lambda line: line.code not in _EM_CODES)
            partial = ("CO", "97", 0, None)
            remarks = ["N381"]
        elif kind == "info_line":
            target = rng.choice(lines)
            reason, remarks = "16", [rng.choice(("N290", "MA130"))]
        elif kind == "necessity":
            target = self._pick(lines, lambda line: line.code in _NECESSITY_CODES)
            reason = "50"
            remarks = [rng.choice(("N115", "N386"))] if medicare else ([] if rng.random() < 0.5 else ["N130"])
        elif kind == "necessity_partial":
            target = self._pick(lines, lambda line: line.units >= 2)
            # Some of the units denied; a single-unit line loses part of its allowance.
            denied_units = rng.randint(1, target.units - 1) if target.units >= 2 else None
            partial = ("CO", "50", 0, denied_units)
            remarks = ["N362"] if rng.random() < 0.5 else []
        elif kind == "duplicate_line":
            target = rng.choice(lines)
            reason, remarks = "18", ["N111"] if rng.random() < 0.5 else []
        elif kind == "authorization":
            target = self._pick(lines, lambda line: line.code in _AUTH_CODES)
            if rng.random() < 0.6:
                reason, remarks = "197", ["N54"] if rng.random() < 0.3 else []
            else:
                reason, remarks = "15", ["M62"]
        elif kind == "coding":
            target = rng.choice(lines)
            if rng.random() < 0.5:
                reason = "4"
                # The line as billed lacks a required modifier (or carries a wrong one).
                target.modifiers = [] if target.modifiers else ["52"]
                remarks = [rng.choice(("N657", "N657", "N519"))]
            else:
                reason = "11"
                remarks = [rng.choice(("N657", "M76"))]
        elif kind == "noncovered":
            code, modifiers = rng.choice(_NONCOVERED_CODES)
            target = _Line(code, list(modifiers), 1, _CHARGES[code], lines[0].service_date)
            if len(lines) >= self.lines_per_claim[1]:
                # No room for another line: it takes the last one's place.
                if lines[-1] is column2:
                    column2 = None
                lines[-1] = target
            else:
                lines.append(target)
            claim.charge = sum(line.charge for line in lines)
            roll = rng.random()
            if roll < 0.45:
                reason, remarks = "96", ["N130"] if not medicare else ["N425"]
            elif roll < 0.75:
                reason = "204"
            else:
                group, reason = "PR", "204"
        elif kind == "plan_procedures":
            target = rng.choice(lines)
            reason = "95"
        if target is None:  # a pair kind whose pair did not fit: deny for coding instead
            target = rng.choice(lines)
            reason, remarks = "4", ["N657"]
        for line in lines:
            if line is target:
                if partial is not None:
                    group_p, reason_p, _, quantity = partial
                    amount = int(self._allowed(line) * rng.uniform(0.25, 0.5) + 0.5)
                    self._adjudicate_paid(line, benefits, reduction=(group_p, reason_p, amount, quantity))
                    line.remarks = remarks
                else:
                    self._deny_line(line, group, reason, remarks, after_fee_schedule=after_fee)
            else:
                self._adjudicate_paid(line, benefits)
        if claim.paid == 0 and all(line.denied for line in lines):
            claim.status = "4"

    def _pick(self, lines: list[_Line], wanted: Callable[[_Line], bool]) -> _Line:
        matching = [line for line in lines if wanted(line)]
        return self.rng.choice(matching or lines)

    def _deny_whole_claim(self, claim: _Claim, kind: str, *, keep_lines: bool) -> None:
        rng = self.rng
        group, remarks = "CO", []
        if kind == "timely_filing":
            reason = "29"
        elif kind == "eligibility":
            if rng.random() < 0.55:
                reason, remarks = "27", ["N30"]
            else:
                reason = "31"
        elif kind == "coordination":
            reason, remarks = "22", [rng.choice(("N479", "MA04"))]
        elif kind == "duplicate_claim":
            reason = "18"
            group = "OA" if rng.random() < 0.3 else "CO"
            remarks = ["N111"]
        else:  # info_claim: unprocessable, send a new claim
            reason, remarks = "16", ["N290"]
            claim.moa_remarks.append("MA130")
        claim.status = "4"
        if not keep_lines and rng.random() < 0.3:
            # Some payers deny the whole claim at claim level and send no service lines.
            claim.adjustments = [(group, reason, claim.charge, None)]
            claim.lines = []
            if remarks and not claim.moa_remarks:
                claim.moa_remarks.extend(remarks)
            return
        for line in claim.lines:
            self._deny_line(line, group, reason, remarks)

    # -- reversals ----------------------------------------------------------------------

    def _reversal_pair(self) -> list[_Claim]:
        """A reversal (CLP02 22) of an earlier payment, then the corrected payment.

        The earlier claim is not in this file: only the reversal points to it (its payer
        claim number), as payers send it. The correction pays at least as much as the
        original did, either after an appeal or corrected claim lifted a denial, or after a
        fee schedule update.
        """
        rng = self.rng
        # With no denials wanted, the reversal is a fee schedule update, never a lifted denial.
        lifted_denial = self.denial_rate > 0 and rng.random() < 0.6
        kind = rng.choice(("bundling", "info_line", "necessity")) if lifted_denial else None
        benefits = self._new_benefits()
        original = self._claim(
            kind, keep_lines=True, age_days=rng.randint(20, 45), benefits=replace(benefits), allow_secondary=False
        )
        reversal = _negated(original)
        reversal.status = "22"
        reversal.payer_claim_number = self._payer_claim_number(self.claim_serial, kind="9")
        corrected = _Claim(
            patient_control_number=original.patient_control_number,
            status="2" if original.status == "2" else "1",
            payer_claim_number=original.payer_claim_number,
            lines=[
                replace(
                    line, modifiers=list(line.modifiers), adjustments=list(line.adjustments), remarks=list(line.remarks)
                )
                for line in original.lines
            ],
            charge=original.charge,
            patient=original.patient,
            insured=original.insured,
            rendering=original.rendering,
            statement_from=original.statement_from,
            statement_to=original.statement_to,
            received=original.received,
            frequency="7" if lifted_denial else "1",
        )
        if lifted_denial:
            # The practice sent a corrected claim (frequency 7), received after the denial.
            corrected.received = self.payment_date - dt.timedelta(days=rng.randint(5, 12))
            plain = _Benefits(0, 0, self._new_benefits().coinsurance)
            for line in corrected.lines:
                reasons = {a[1] for a in line.adjustments if (a[0], a[1]) not in ROUTINE_ADJUSTMENTS}
                if reasons:
                    if reasons & {"97", "236"} and not set(line.modifiers) & _BYPASS_MODIFIERS:
                        # The corrected line carries the modifier that unbundles it.
                        line.modifiers = [*line.modifiers, "25" if line.code in _EM_CODES else "XS"]
                    line.remarks = []
                    line.denied = False
                    self._adjudicate_paid(line, plain)
        else:
            # A fee schedule update: the same lines adjudicated again at a higher allowance,
            # with the patient's benefits as they stood the first time.
            increase = 1 + rng.uniform(0.01, 0.04)
            again = replace(benefits)
            for line in corrected.lines:
                self._adjudicate_paid(line, again, fee_increase=increase)
        return [reversal, corrected]

    # -- the file -----------------------------------------------------------------------

    def provider_adjustments(self, claims: list[_Claim]) -> list[tuple[str, str, int]]:
        """PLB items: prompt-pay interest (L6) and overpayment recoveries (WO)."""
        rng = self.rng
        items: list[tuple[str, str, int]] = []
        paid_claims = [c for c in claims if c.status in ("1", "2", "19") and c.paid > 0]
        total = sum(c.paid for c in claims)
        if paid_claims and rng.random() < 0.4:
            for _ in range(rng.randint(1, 3)):
                late = rng.choice(paid_claims)
                # Interest paid to the provider lowers the PLB total (negative amount).
                items.append(("L6", late.payer_claim_number, -rng.randint(25, 1800)))
            if rng.random() < 0.25:
                # An interest amount taken back after an earlier overpayment of interest.
                items.append(("L6", rng.choice(paid_claims).payer_claim_number, rng.randint(10, 400)))
        if total > 20000 and rng.random() < 0.25:
            recovery = min(rng.randint(2500, 40000), total // 4)
            items.append(("WO", self._payer_claim_number(rng.randrange(10**6), kind="8"), recovery))
        return items

    def render(self, claims: list[_Claim], interchange_control_number: int) -> bytes:
        payer = self.payer
        provider = self.provider
        rng = self.rng
        plb = self.provider_adjustments(claims)
        claims_paid = sum(c.paid for c in claims)
        payment = claims_paid - sum(amount for _, _, amount in plb)
        if payment < 0:
            # Recoveries never push a payment below zero: the payer would carry them forward.
            plb = [item for item in plb if item[2] < 0]
            payment = claims_paid - sum(amount for _, _, amount in plb)
        produced = self.payment_date - dt.timedelta(days=rng.randint(1, 3))
        time = f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}"
        icn = f"{interchange_control_number:09d}"
        group_number = str(interchange_control_number)
        st02 = f"{interchange_control_number % 10000:04d}"
        trace = _trace_number(self.seed)
        sender = payer.payer_id
        receiver = provider.tin

        out: list[str] = [
            f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*"
            f"{produced:%y%m%d}*{time}*^*00501*{icn}*0*P*:",
            f"GS*HP*{sender}*{receiver}*{_d8(produced)}*{time}*{group_number}*X*005010X221A1",
        ]
        start = len(out)
        out.append(f"ST*835*{st02}*005010X221A1")
        paid_date = _d8(self.payment_date)
        if payment == 0:
            out.append(f"BPR*H*0*C*NON************{paid_date}")
        elif payment < 0:
            # Reversals outweigh the payments (only in tiny files): the payee owes the payer.
            out.append(f"BPR*I*{_money(-payment)}*D*NON************{paid_date}")
        elif payer.payment_method == "CHK":
            out.append(f"BPR*I*{_money(payment)}*C*CHK************{paid_date}")
        else:
            payer_routing = _routing_number("5" + f"{zlib.crc32(payer.payer_id.encode()) % 10**7:07d}")
            payee_routing = _routing_number("5" + f"{zlib.crc32(provider.tin.encode()) % 10**7:07d}")
            payer_account = f"{zlib.crc32(payer.name.encode()) % 10**10:010d}"
            payee_account = f"{zlib.crc32(provider.name.encode()) % 10**9:09d}"
            out.append(
                f"BPR*I*{_money(payment)}*C*ACH*CCP*01*{payer_routing}*DA*{payer_account}*1{payer.tin}"
                f"**01*{payee_routing}*DA*{payee_account}*{paid_date}"
            )
        out.append(f"TRN*1*{trace}*1{payer.tin}")
        out.append(f"DTM*405*{_d8(produced)}")
        out.append(f"N1*PR*{payer.name.upper()}")
        out.append(f"N3*{payer.address.upper()}")
        out.append(f"N4*{payer.city.upper()}*{payer.state}*{payer.postal_code}")
        out.append(f"REF*2U*{payer.payer_id}")
        out.append(f"PER*CX*PROVIDER SERVICES*TE*{payer.phone}")
        out.append(f"PER*BL*EDI SUPPORT*TE*{payer.phone}*EM*{payer.email.upper()}")
        out.append(f"N1*PE*{provider.name.upper()}*XX*{provider.npi}")
        out.append(f"N3*{provider.address.upper()}")
        out.append(f"N4*{provider.city.upper()}*{provider.state}*{provider.postal_code}")
        out.append(f"REF*TJ*{provider.tin}")
        if claims:
            out.append("LX*1")
        filing = payer.filing_indicator
        append = out.append
        dates: dict[dt.date, str] = {}  # a file has few distinct dates; format each once

        def d8(day: dt.date) -> str:
            text = dates.get(day)
            if text is None:
                text = dates[day] = _d8(day)
            return text

        for claim in claims:
            append(
                f"CLP*{claim.patient_control_number}*{claim.status}*{_money(claim.charge)}*"
                f"{_money(claim.paid)}*{_money(claim.patient_responsibility)}*{filing}*"
                f"{claim.payer_claim_number}*11*{claim.frequency}"
            )
            if claim.adjustments:
                out.extend(_cas_segments(claim.adjustments))
            patient = claim.patient
            append(
                f"NM1*QC*1*{patient.last_name}*{patient.first_name}*{patient.middle_initial}***MI*{patient.member_id}"
            )
            if claim.insured is not None:
                insured = claim.insured
                append(f"NM1*IL*1*{insured.last_name}*{insured.first_name}****MI*{insured.member_id}")
            doctor = claim.rendering
            append(f"NM1*82*1*{doctor.last_name}*{doctor.first_name}****XX*{doctor.npi}")
            if claim.moa_remarks:
                append("MOA***" + "*".join(claim.moa_remarks[:5]))
            append(f"DTM*232*{d8(claim.statement_from)}")
            append(f"DTM*233*{d8(claim.statement_to)}")
            append(f"DTM*050*{d8(claim.received)}")
            pcn = claim.patient_control_number
            for number, line in enumerate(claim.lines, start=1):
                composite = ":".join(["HC", line.code, *line.modifiers])
                append(f"SVC*{composite}*{_money(line.charge)}*{_money(line.paid)}**{line.units}")
                append(f"DTM*472*{d8(line.service_date)}")
                if line.adjustments:
                    out.extend(_cas_segments(line.adjustments))
                append(f"REF*6R*{pcn}-{number}")
                if line.allowed is not None:
                    append(f"AMT*B6*{_money(line.allowed)}")
                for remark in line.remarks:
                    append(f"LQ*HE*{remark}")
        fiscal_year_end = f"{self.payment_date.year}1231"
        for index in range(0, len(plb), 6):
            pairs = "*".join(
                f"{reason}:{reference}*{_money(amount)}" for reason, reference, amount in plb[index : index + 6]
            )
            append(f"PLB*{provider.npi}*{fiscal_year_end}*{pairs}")
        append(f"SE*{len(out) - start + 1}*{st02}")
        append(f"GE*1*{group_number}")
        append(f"IEA*1*{icn}")
        return ("~\n".join(out) + "~\n").encode("ascii")


def _nonzero(adjustments: list[_Adj]) -> list[_Adj]:
    """Drop zero amounts: a CAS triple for 0.00 says nothing and clutters the work queue."""
    return [a for a in adjustments if a[2]]


def _negated(claim: _Claim) -> _Claim:
    lines = [
        replace(
            line,
            modifiers=list(line.modifiers),
            charge=-line.charge,
            paid=-line.paid,
            allowed=None if line.allowed is None else -line.allowed,
            adjustments=[(g, r, -a, q) for g, r, a, q in line.adjustments],
            remarks=list(line.remarks),
        )
        for line in claim.lines
    ]
    return replace(
        claim,
        lines=lines,
        charge=-claim.charge,
        adjustments=[(g, r, -a, q) for g, r, a, q in claim.adjustments],
        moa_remarks=list(claim.moa_remarks),
    )


def _cas_segments(adjustments: list[_Adj]) -> list[str]:
    """One CAS per group code (in order of first use), six reason triples at most each."""
    if len(adjustments) == 1:  # the common case, kept cheap for big files
        group, reason, amount, quantity = adjustments[0]
        tail = "" if quantity is None else f"*{quantity}"
        return [f"CAS*{group}*{reason}*{_money(amount)}{tail}"]
    by_group: dict[str, list[_Adj]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment[0], []).append(adjustment)
    segments: list[str] = []
    for group, items in by_group.items():
        for index in range(0, len(items), 6):
            elements = ["CAS", group]
            for _, reason, amount, quantity in items[index : index + 6]:
                elements += [reason, _money(amount), "" if quantity is None else str(quantity)]
            while elements[-1] == "":
                elements.pop()
            segments.append("*".join(elements))
    return segments


# -- public API ---------------------------------------------------------------------------


def generate_835(
    *,
    claims: int,
    seed: int = 0,
    payer: SyntheticPayer | None = None,
    payment_date: dt.date | None = None,
    interchange_control_number: int | None = None,
    denial_rate: float = 0.25,
    lines_per_claim: tuple[int, int] = (1, 7),
    provider: SyntheticProvider | None = None,
) -> bytes:
    """One synthetic 835 file (ISA/GS/ST..SE/GE/IEA) holding exactly ``claims`` claims.

    Same arguments, same bytes. ``denial_rate`` is the share of claims with at least one
    denial (reversals aside); ``lines_per_claim`` bounds the lines billed per claim, except
    that an NCCI pair needs two and a claim denied at claim level may be sent without lines.
    Without a payer, provider or payment date, the seed picks them.
    """
    if claims < 0:
        raise ValueError("claims must be zero or more")
    if not 0.0 <= denial_rate <= 1.0:
        raise ValueError("denial_rate must be between 0 and 1")
    low, high = lines_per_claim
    if low < 1 or high < low:
        raise ValueError("lines_per_claim must be (low, high) with 1 <= low <= high")
    if interchange_control_number is not None and not 0 < interchange_control_number <= 999_999_999:
        raise ValueError("interchange_control_number must be 1..999999999 (nine digits)")
    generator = _Generator(
        seed=seed,
        payer=payer or DEMO_PAYERS[seed % len(DEMO_PAYERS)],
        provider=provider or DEMO_PROVIDERS[seed % len(DEMO_PROVIDERS)],
        payment_date=payment_date or _default_payment_date(seed),
        denial_rate=denial_rate,
        lines_per_claim=(low, high),
    )
    # Every claim object lives until the file is written, so the cyclic garbage collector
    # would rescan a growing heap again and again (half the time for 20,000 claims) while
    # finding nothing to free; reference counting still frees everything as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        built = generator.claims(claims)
        return generator.render(built, interchange_control_number or _control_number(seed))
    finally:
        if collecting:
            gc.enable()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def generate_demo_files(*, count: int = 12, claims_per_file: int = 40, seed: int = 2026) -> list[tuple[str, bytes]]:
    """The demo data set: ``count`` remittances paid Dec 2025-Nov 2026, every demo payer covered.

    File i is paid by payer i (round robin) to practice i, on a business day spread evenly
    over the twelve months (so the managers' dashboard has a year of history); services fall
    2 to 8 weeks before each payment.
    """
    if count < 0:
        raise ValueError("count must be zero or more")
    rng = random.Random(seed)
    start = dt.date(2025, 12, 1)
    span = (dt.date(2026, 11, 30) - start).days
    files: list[tuple[str, bytes]] = []
    for index in range(count):
        payer = DEMO_PAYERS[index % len(DEMO_PAYERS)]
        provider = DEMO_PROVIDERS[index % len(DEMO_PROVIDERS)]
        offset = int((index + rng.uniform(0.1, 0.9)) * span / max(count, 1))
        day = start + dt.timedelta(days=min(offset, span))
        day = _weekday(day)
        if day < start:  # 1 Dec 2025 is a Monday, but keep the rule general
            day = start + dt.timedelta(days=(7 - start.weekday()) % 7)
        file_seed = seed * 1000 + index
        data = generate_835(
            claims=claims_per_file,
            seed=file_seed,
            payer=payer,
            provider=provider,
            payment_date=day,
        )
        name = f"{_slug(payer.name)}_{_d8(day)}_{_control_number(file_seed):09d}.835"
        files.append((name, data))
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m denials.demo.remittances",
        description="Write a synthetic, balanced X12 835 remittance (or the demo data set).",
    )
    parser.add_argument("--claims", type=int, default=100, help="number of claims (CLP loops)")
    parser.add_argument("--seed", type=int, help="same seed, same bytes (default 0; 2026 for --demo-dir)")
    parser.add_argument("--denial-rate", type=float, default=0.25, help="share of claims with a denial")
    parser.add_argument(
        "--payer",
        choices=[_slug(p.name) for p in DEMO_PAYERS],
        help="one of the demo payers (default: chosen by the seed)",
    )
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--demo-dir", type=Path, help="write the demo data set into this directory instead")
    args = parser.parse_args(argv)
    if args.demo_dir is not None:
        args.demo_dir.mkdir(parents=True, exist_ok=True)
        for name, data in generate_demo_files(seed=2026 if args.seed is None else args.seed):
            (args.demo_dir / name).write_bytes(data)
            print(args.demo_dir / name)
        return 0
    payer = next((p for p in DEMO_PAYERS if _slug(p.name) == args.payer), None)
    seed = 0 if args.seed is None else args.seed
    data = generate_835(claims=args.claims, seed=seed, payer=payer, denial_rate=args.denial_rate)
    if args.output is None:
        sys.stdout.buffer.write(data)
    else:
        args.output.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
