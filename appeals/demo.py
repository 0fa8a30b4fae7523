"""The demo's appeals: one in every state, and one decided by a demo follow-up 835.

``manage.py load_demo_appeals`` runs ``demo_appeals_load()`` after ``load_demo`` has ingested
the demo's files (``make demo`` / ``make run`` run both). Everything goes through the real
services: appeals are created and moved by ``appeals.services`` as the demo coder, and the
follow-up remittance is received and ingested like any file, so the appeal is decided by
``appeals.followups`` exactly as a payer's real answer would decide it.

What the demo sets on the demo payers (fictitious, from ``denials.demo.parties``): their kind
(the Medicare contractor is Medicare, the Medicaid plan Medicaid, the others commercial),
an appeals address (the payer's own address, "Attn: Appeals"), and, for Cedar Ridge Benefit
Administrators, a 30-day appeal window, so one demo appeal is overdue.

Then **history** (``demo_history_load``), so a manager's dashboard has months of appeals with
outcomes on first sign-in: about two thirds of the demo's remaining appealable denials remitted
in the ``HISTORY_MONTHS`` months up to the demo's latest remittance get an appeal (a claim's two
denied lines sometimes share one), started 3-20 days after the remittance, sent 1-10 days later
and, when that day is past, decided 20-60 days after sending: bundling denials whose edit a
modifier may bypass win more often (about 7 in 10, as the published 50-70% with supporting
documentation) than the rest (about 4 in 10); a few are withdrawn; the newest stay pending.
About half of the indicator-0, duplicate and timely-filing denials of those months are written
off, with the reason a coder would give. Every step goes through the services
(``appeals.services``; the worklist's write-off); sent on and decided on are the appeal
service's own fields. Only what the services stamp with the current time is then moved back to
the story's dates by a direct update, demo data only: the appeal's ``created_at`` (the day it
was started: the role appeals above get the same, 3 days after the remittance) and, for a
denial paid on appeal or written off, ``worked_at`` (the day its outcome was recorded). The
draws are seeded by the claim or denial (the same demo gives the same history).

Idempotent: each demo appeal is tagged in its notes (``Demo appeal (<role>)``); a role
already there is not created again, the history is made only while no history appeal exists, and
the follow-up file is built only while its appeal is still submitted (the same bytes again would
be refused as a duplicate anyway).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from appeals import services
from appeals import vocabulary as v
from appeals.models import Appeal
from denials import vocabulary as denial_words
from denials.models import ClaimPayment, Denial, Payer, RemittanceFile, ServiceLine
from denials.selectors import denials_visible_to

DEMO_ACTOR = "coder"
TAG = "Demo appeal ({role})"
#: The payer whose demo appeal window is short enough for one demo appeal to be overdue.
SHORT_WINDOW_PAYER = "CDRBA"
SHORT_WINDOW_DAYS = 30

#: The demo's appeals, in the order they are made: (role, what happens to it).
ROLES = (
    "answered",  # submitted, then decided by the demo follow-up 835
    "overdue",  # a draft past its due date (the short-window payer)
    "draft",
    "ready",
    "submitted",
    "overturned",
    "partially-paid",
    "upheld",  # decided upheld, then appealed at the next level (a draft)
    "withdrawn",
)


@dataclass(frozen=True)
class DemoReport:
    created: dict[str, int]
    payers_updated: int
    follow_up_file: str
    follow_up_decided: bool
    history: dict[str, int] | None = None

    def lines(self) -> list[str]:
        made = ", ".join(f"{role} (appeal {pk})" for role, pk in self.created.items()) or "none (already there)"
        said = [f"Demo appeals created: {made}", f"Demo payers given appeal details: {self.payers_updated}"]
        if self.history:
            counts = ", ".join(f"{n} {what}" for what, n in self.history.items() if what != "months")
            said.append(f"Demo appeal history: {counts}, over {self.history.get('months', 0)} months")
        elif self.history is not None:
            said.append("Demo appeal history: already there (or no denial left to appeal)")
        if self.follow_up_file:
            outcome = "decided the appeal" if self.follow_up_decided else "did not decide the appeal"
            said.append(f"Demo follow-up 835 {self.follow_up_file}: {outcome}")
        return said


def _tagged(role: str) -> Appeal | None:
    return Appeal.objects.filter(notes__startswith=TAG.format(role=role)).order_by("pk").first()


def demo_payers_update() -> int:
    """Give the demo payers (matched by their REF*2U id) their kind, appeals address and
    window. Only the demo's own payers are touched; returns how many changed."""
    from denials.demo.parties import DEMO_PAYERS

    changed = 0
    for party in DEMO_PAYERS:
        payer = Payer.objects.filter(payer_key=f"2U:{party.payer_id}").first()
        if payer is None:
            continue
        kind = v.PAYER_MEDICARE if party.is_medicare else v.PAYER_MEDICAID if party.is_medicaid else v.PAYER_COMMERCIAL
        wanted: dict[str, object] = {
            "kind": kind,
            "appeal_address": (
                f"{party.name}\nAttn: Appeals\n{party.address}\n{party.city}, {party.state} {party.postal_code}"
            ),
        }
        if party.payer_id == SHORT_WINDOW_PAYER:
            wanted["appeal_window_days"] = SHORT_WINDOW_DAYS
        if any(getattr(payer, field) != value for field, value in wanted.items()):
            Payer.objects.filter(pk=payer.pk).update(**wanted)
            changed += 1
    return changed


def _candidates(actor: User) -> list[Denial]:
    """Denials the demo coder sees that an appeal can take: one per claim, on a service line,
    not a bundling write-off, not under an appeal yet, on a claim whose patient control
    number is unique in the demo (so the follow-up 835 answers that claim alone)."""
    unique_pcns = (
        ClaimPayment.objects.values("payer_id", "patient_control_number")
        .annotate(n=Count("pk"))
        .filter(n=1)
        .values("patient_control_number")
    )
    found = (
        denials_visible_to(user=actor)
        .filter(line__isnull=False, appeals__isnull=True, claim__patient_control_number__in=unique_pcns)
        .exclude(category=denial_words.BUNDLING_NOT_APPEALABLE)
        .exclude(claim__appeals__isnull=False)
        .filter(Q(claim__remittance__payment_date__isnull=False) | Q(claim__remittance__production_date__isnull=False))
        .select_related("claim__remittance", "claim__payer", "line")
        # The newest first: the dashboard's months are the recent ones, and the sample files
        # reach back to 2004.
        .order_by(F("claim__remittance__payment_date").desc(nulls_last=True), "pk")
    )
    per_claim: dict[int, Denial] = {}
    for denial in found:
        per_claim.setdefault(denial.claim_id, denial)
    return list(per_claim.values())


def _pick(pool: list[Denial], *, payer_id: str | None = None, before: dt.date | None = None) -> Denial | None:
    for denial in pool:
        if payer_id is not None and denial.claim.payer.payer_key != f"2U:{payer_id}":
            continue
        if (
            before is not None
            and denial.claim.remittance.remittance_date + dt.timedelta(days=SHORT_WINDOW_DAYS) >= before
        ):
            continue
        pool.remove(denial)
        return denial
    return None


def _oldest_past_window(pool: list[Denial], today: dt.date) -> Denial | None:
    """The oldest denial remitted over a year ago (any payer's window has passed): the overdue
    draft when the short-window payer's denials are all too recent (the pool is newest first)."""
    for denial in reversed(pool):
        if denial.claim.remittance.remittance_date + dt.timedelta(days=366) < today:
            pool.remove(denial)
            return denial
    return None


def _move(appeal: Appeal, actor: User, **changes: object) -> Appeal:
    return services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=actor, **changes)


def _dates(denial: Denial, today: dt.date) -> tuple[dt.date, dt.date]:
    """When the demo says the appeal was sent and decided: 10 and 31 days after the
    remittance, never after today."""
    remitted = denial.claim.remittance.remittance_date
    submitted = min(today, remitted + dt.timedelta(days=10))
    return submitted, min(today, submitted + dt.timedelta(days=21))


def _started(appeal: Appeal, day: dt.date) -> None:
    """Demo data only: the day the appeal was started (the service stamps "now"), so the
    dashboard's "month started" agrees with the dates sent and decided."""
    Appeal.objects.filter(pk=appeal.pk).update(created_at=_at_noon(day))


def _make(role: str, denial: Denial, actor: User, today: dt.date) -> Appeal:
    appeal = services.appeal_create(denials=[denial], actor=actor)
    if role not in ("draft", "overdue", "ready"):
        _started(appeal, min(today, denial.claim.remittance.remittance_date + dt.timedelta(days=3)))
    appeal = _move(appeal, actor, notes=f"{TAG.format(role=role)}: made by the demo loader.")
    if role in ("draft", "overdue"):
        return appeal
    appeal = _move(appeal, actor, status=v.STATUS_READY)
    if role == "ready":
        return appeal
    if role == "withdrawn":
        return _move(appeal, actor, status=v.STATUS_WITHDRAWN)
    submitted, decided = _dates(denial, today)
    method = {"answered": v.METHOD_CLEARINGHOUSE, "submitted": v.METHOD_PORTAL, "upheld": v.METHOD_MAIL}
    appeal = _move(appeal, actor, status=v.STATUS_SUBMITTED, submitted_on=submitted, method=method.get(role, "fax"))
    if role in ("submitted", "answered"):
        return appeal
    at_stake = services.appeal_amount_at_stake(appeal=appeal)
    outcome, amount = {
        "overturned": (v.OUTCOME_OVERTURNED, at_stake),
        "partially-paid": (v.OUTCOME_PARTIALLY_PAID, (at_stake / 2).quantize(Decimal("0.01"))),
        "upheld": (v.OUTCOME_UPHELD, Decimal("0")),
    }[role]
    appeal = _move(appeal, actor, status=v.STATUS_DECIDED, outcome=outcome, amount_recovered=amount, decided_on=decided)
    if role == "upheld":
        upper = services.appeal_next_level(appeal=appeal, actor=actor)
        _started(upper, min(today, decided + dt.timedelta(days=1)))
        _move(upper, actor, notes=f"{TAG.format(role='next-level')}: the upheld demo appeal, one level up.")
    return appeal


# --- The follow-up 835 -------------------------------------------------------------------------
def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def _payer_segments(payer: Payer) -> list[str]:
    kind, _, identifier = payer.payer_key.partition(":")
    if kind == "2U":
        return [f"N1*PR*{payer.name.upper()}", f"REF*2U*{identifier}"]
    if kind == "NAME":
        return [f"N1*PR*{payer.name.upper()}"]
    return [f"N1*PR*{payer.name.upper()}*{kind}*{identifier}"]


def remittance_835(
    *, answers: Sequence[tuple[ClaimPayment, Sequence[tuple[ServiceLine, Decimal]]]], payment_date: dt.date, trace: str
) -> bytes:
    """One 835 paying again lines of stored claims of one payer and payee: for each claim,
    its lines with their new allowed amount, paid in full (``paid = allowed``). Each line
    keeps the stored procedure code, modifiers, units, date of service and line control
    number; the claim keeps its patient control number, patient and filing indicator. The
    payer's new claim number is ``trace`` plus the claim's position."""
    first = answers[0][0]
    payee = first.remittance.payee
    claims: list[str] = []
    total = Decimal("0")
    for index, (claim, lines) in enumerate(answers, start=1):
        if (claim.payer_id, claim.remittance.payee_id) != (first.payer_id, first.remittance.payee_id):
            raise ValueError(f"Claim {claim.patient_control_number} is another payer's or payee's: one 835 each.")
        segments: list[str] = []
        charge = paid = Decimal("0")
        for line, allowed in lines:
            mods = [m for m in (line.modifier1, line.modifier2, line.modifier3, line.modifier4) if m]
            code = ":".join([line.qualifier or "HC", line.original_procedure_code or line.procedure_code, *mods])
            units = f"{line.units.normalize():f}" if line.units else "1"
            segments.append(f"SVC*{code}*{_money(line.charge)}*{_money(allowed)}**{units}")
            service_date = line.service_date or claim.statement_from
            if service_date is not None:
                segments.append(f"DTM*472*{service_date:%Y%m%d}")
            if line.charge > allowed:
                segments.append(f"CAS*CO*45*{_money(line.charge - allowed)}")
            if line.line_control_number:
                segments.append(f"REF*6R*{line.line_control_number}")
            segments.append(f"AMT*B6*{_money(allowed)}")
            charge += line.charge
            paid += allowed
        member = claim.patient_member_id or claim.insured_member_id
        patient = f"NM1*QC*1*{claim.patient_last_name or 'UNKNOWN'}*{claim.patient_first_name}"
        claims += [
            f"CLP*{claim.patient_control_number}*1*{_money(charge)}*{_money(paid)}*0*"
            f"{claim.filing_indicator or '12'}*{trace}{index:05d}",
            patient + (f"****MI*{member}" if member else ""),
            *([f"DTM*232*{claim.statement_from:%Y%m%d}"] if claim.statement_from else []),
            *segments,
        ]
        total += paid
    serial = int(hashlib.sha256(trace.encode()).hexdigest()[:8], 16) % 900_000_000 + 1
    day = f"{payment_date:%Y%m%d}"
    body = [
        "ST*835*0001",
        f"BPR*I*{_money(total)}*C*ACH*CCP*01*011000015*DA*0001*1000000001**01*011000028*DA*0002*{day}",
        f"TRN*1*{trace}*1000000001",
        f"DTM*405*{day}",
        *_payer_segments(first.payer),
        f"N1*PE*{payee.name.upper()}*XX*{payee.npi}" if payee.npi else f"N1*PE*{payee.name.upper()}",
        *([f"REF*TJ*{payee.tin}"] if payee.tin else []),
        "LX*1",
        *claims,
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    stamp = f"{payment_date:%y%m%d}"
    envelope = [
        f"ISA*00*          *00*          *ZZ*{'DEMOPAYER':<15}*ZZ*{'DEMOCLINIC':<15}*{stamp}*1200*^*00501*"
        f"{serial:09d}*0*P*:",
        f"GS*HP*DEMOPAYER*DEMOCLINIC*{day}*1200*{serial}*X*005010X221A1",
        *body,
        f"GE*1*{serial}",
        f"IEA*1*{serial:09d}",
    ]
    return ("~".join(envelope) + "~").encode()


def follow_up_835(*, appeal: Appeal, payment_date: dt.date) -> bytes:
    """A payer's answer to ``appeal``: a new payment of each appealed line at the allowed
    amount (the line's earlier payment plus the amount denied), for the same payer, patient
    control number, procedure code, modifiers and date of service (and line control number
    when the line has one), as ``appeals.followups`` matches it. Built from the stored
    claim; only the payer's new claim number and the trace number are new."""
    denials = list(appeal.denials.select_related("line").order_by("line__sequence", "pk"))
    lines = [(d.line, d.line.paid + d.amount) for d in denials if d.line is not None]
    claim = ClaimPayment.objects.select_related("payer", "remittance__payee").get(pk=appeal.claim_id)
    return remittance_835(answers=[(claim, lines)], payment_date=payment_date, trace=f"APPEAL{appeal.pk:06d}")


def _follow_up(appeal: Appeal, today: dt.date) -> tuple[str, bool]:
    """Receive and ingest the follow-up 835 through the real pipeline; (file name, decided)."""
    from denials.services import remittance_file_receive
    from denials.services.receiving import remittance_file_ingest_here

    payment_date = min(today, (appeal.submitted_on or today) + dt.timedelta(days=14))
    content = follow_up_835(appeal=appeal, payment_date=payment_date)
    name = f"demo-follow-up-appeal-{appeal.pk}.835"
    file = remittance_file_receive(name=name, content=content, source=RemittanceFile.Source.COMMAND, queue=False)
    if file.status == RemittanceFile.Status.RECEIVED:
        file = remittance_file_ingest_here(file_id=file.pk, task_id=f"demo-{uuid.uuid4()}")
    if file.status != RemittanceFile.Status.INGESTED:
        raise RuntimeError(f"The demo follow-up 835 {name} was not ingested: {file.error or file.status}")
    appeal.refresh_from_db()
    return name, appeal.status == v.STATUS_DECIDED


def demo_appeals_load(*, today: dt.date | None = None) -> DemoReport:
    """Make the demo's appeals (see the module docstring); run after ``load_demo``."""
    today = today or timezone.localdate()
    actor = get_user_model().objects.filter(username=DEMO_ACTOR).first()
    if actor is None:
        raise RuntimeError("The demo coder does not exist: run `manage.py load_demo` first.")
    payers = demo_payers_update()
    pool = _candidates(actor)
    created: dict[str, int] = {}
    for role in ROLES:
        if _tagged(role) is not None:
            continue
        if role == "overdue":
            denial = _pick(pool, payer_id=SHORT_WINDOW_PAYER, before=today) or _oldest_past_window(pool, today)
        elif role == "answered":
            # Not the short-window payer, whose denials the overdue appeal needs.
            denial = next((d for d in pool if d.claim.payer.payer_key != f"2U:{SHORT_WINDOW_PAYER}"), None)
            if denial is not None:
                pool.remove(denial)
        else:
            denial = _pick(pool)
        if denial is None:
            continue  # the demo data has no denial left for this role: said by its absence in the report
        created[role] = _make(role, denial, actor, today).pk
    answered = _tagged("answered")
    name, decided = "", False
    if answered is not None and answered.status == v.STATUS_SUBMITTED:
        name, decided = _follow_up(answered, today)
    history = demo_history_load(actor=actor, today=today)
    return DemoReport(
        created=created, payers_updated=payers, follow_up_file=name, follow_up_decided=decided, history=history
    )


# --- History: months of appeals with outcomes, for the managers' dashboard -------------------------
HISTORY_TAG = "history"
HISTORY_MONTHS = 12
#: Share of the appealable denials the history appeals (seeded draw per claim).
HISTORY_SHARE = 0.7
#: Categories a team would not appeal: a contract, eligibility or another payer's turn is fixed
#: upstream, a duplicate is not a denial of payment, an indicator-0 edit cannot be bypassed.
NOT_APPEALED = frozenset(
    {
        denial_words.BUNDLING_NOT_APPEALABLE,
        "contractual",
        "eligibility",
        "coordination-of-benefits",
        "duplicate",
    }
)
#: (overturned, partially paid, upheld) weights; the remainder of 1 is withdrawn.
MODIFIER_CASE_ODDS = (0.58, 0.12, 0.27)
OTHER_ODDS = (0.30, 0.12, 0.54)


def _history_candidates(actor: User, today: dt.date) -> dict[int, list[Denial]]:
    """The demo coder's denials on a line, remitted in the last ``HISTORY_MONTHS`` months, in a
    category a team appeals, on a claim no appeal touches yet: by claim, in remittance order."""
    found = (
        denials_visible_to(user=actor)
        .filter(line__isnull=False, appeals__isnull=True, claim__appeals__isnull=True)
        .exclude(category__in=NOT_APPEALED)
        .select_related("claim__remittance", "line")
        .order_by("claim__remittance__payment_date", "claim_id", "-amount", "pk")
    )
    dated = [(d, d.claim.remittance.remittance_date) for d in found]
    latest = max((day for _d, day in dated if day is not None and day <= today), default=None)
    if latest is None:
        return {}
    # The demo's months, wherever the calendar is: the last HISTORY_MONTHS up to its latest remittance.
    since = latest - dt.timedelta(days=HISTORY_MONTHS * 366 // 12)
    by_claim: dict[int, list[Denial]] = {}
    for denial, remitted in dated:
        if remitted is not None and since <= remitted <= today:
            by_claim.setdefault(denial.claim_id, []).append(denial)
    return by_claim


def _history_outcome(rng: random.Random, denials: list[Denial]) -> str:
    modifier_case = any(
        d.category in (denial_words.BUNDLING_MODIFIER_MAY_APPLY, denial_words.BUNDLING_APPEALABLE) for d in denials
    )
    won, partial, upheld = MODIFIER_CASE_ODDS if modifier_case else OTHER_ODDS
    draw = rng.random()
    if draw < won:
        return v.OUTCOME_OVERTURNED
    if draw < won + partial:
        return v.OUTCOME_PARTIALLY_PAID
    if draw < won + partial + upheld:
        return v.OUTCOME_UPHELD
    return v.OUTCOME_WITHDRAWN


def _at_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


@transaction.atomic  # one commit for the lot: quick on SQLite, and all or nothing
def demo_history_load(*, actor: User, today: dt.date) -> dict[str, int]:
    """Months of demo appeals with outcomes (see the module docstring); {} when already there."""
    if _tagged(HISTORY_TAG) is not None:
        return {}
    counts = {"appeals": 0, "won": 0, "partly won": 0, "lost": 0, "pending": 0, "withdrawn": 0}
    months: set[str] = set()
    for claim_id, denials in _history_candidates(actor, today).items():
        rng = random.Random(f"overturn-demo-history-{claim_id}")
        if rng.random() >= HISTORY_SHARE:
            continue
        covered = denials[:2] if len(denials) > 1 and rng.random() < 0.5 else denials[:1]
        remitted = covered[0].claim.remittance.remittance_date
        started = remitted + dt.timedelta(days=rng.randint(3, 20))
        if started > today:
            continue
        sent = min(today, started + dt.timedelta(days=rng.randint(1, 10)))
        decided = sent + dt.timedelta(days=rng.randint(20, 60))
        outcome = _history_outcome(rng, covered)
        appeal = services.appeal_create(denials=covered, actor=actor)
        appeal = _move(appeal, actor, notes=f"{TAG.format(role=HISTORY_TAG)}: made by the demo loader.")
        appeal = _move(appeal, actor, status=v.STATUS_READY)
        if outcome == v.OUTCOME_WITHDRAWN:
            appeal = _move(appeal, actor, status=v.STATUS_WITHDRAWN)
            counts["withdrawn"] += 1
        else:
            method = rng.choice((v.METHOD_PORTAL, v.METHOD_FAX, v.METHOD_MAIL, v.METHOD_CLEARINGHOUSE))
            appeal = _move(appeal, actor, status=v.STATUS_SUBMITTED, submitted_on=sent, method=method)
            if decided > today:
                counts["pending"] += 1
            else:
                at_stake = services.appeal_amount_at_stake(appeal=appeal)
                amount = {
                    v.OUTCOME_OVERTURNED: at_stake,
                    v.OUTCOME_PARTIALLY_PAID: (at_stake * Decimal(rng.choice(("0.4", "0.5", "0.6")))).quantize(
                        Decimal("0.01")
                    ),
                    v.OUTCOME_UPHELD: Decimal("0"),
                }[outcome]
                appeal = _move(
                    appeal, actor, status=v.STATUS_DECIDED, outcome=outcome, amount_recovered=amount, decided_on=decided
                )
                counts[{v.OUTCOME_OVERTURNED: "won", v.OUTCOME_PARTIALLY_PAID: "partly won"}.get(outcome, "lost")] += 1
                if outcome != v.OUTCOME_UPHELD:
                    # Demo data only: the outcome was recorded the day the payer decided.
                    Denial.objects.filter(pk__in=[d.pk for d in covered]).update(worked_at=_at_noon(decided))
        # Demo data only: the day the appeal was started (the service stamps "now").
        Appeal.objects.filter(pk=appeal.pk).update(created_at=_at_noon(started))
        counts["appeals"] += 1
        months.add(f"{started:%Y-%m}")
    counts["written off"] = _history_write_offs(actor=actor, today=today)
    if counts["appeals"]:
        counts["months"] = len(months)
    return counts if counts["appeals"] else {}


#: What the demo coder writes off, and why (as a coder would write it).
WRITE_OFFS = {
    denial_words.BUNDLING_NOT_APPEALABLE: "NCCI edit, modifier indicator 0: not separately payable",
    "duplicate": "Duplicate of a claim already paid",
    "timely-filing": "Timely filing limit passed",
}


def _history_write_offs(*, actor: User, today: dt.date) -> int:
    """About half of the demo's indicator-0, duplicate and timely-filing denials of the history's
    months, written off through the worklist's service; ``worked_at`` then moved to 5-30 days
    after the remittance (demo data only)."""
    from denials.services import denials_bulk_write_off

    found = (
        denials_visible_to(user=actor)
        .filter(category__in=list(WRITE_OFFS), appeals__isnull=True)
        .select_related("claim__remittance")
        .order_by("pk")
    )
    dated = [(d, d.claim.remittance.remittance_date) for d in found]
    latest = max((day for _d, day in dated if day is not None and day <= today), default=None)
    if latest is None:
        return 0
    since = latest - dt.timedelta(days=HISTORY_MONTHS * 366 // 12)
    done = 0
    for denial, remitted in dated:
        rng = random.Random(f"overturn-demo-write-off-{denial.pk}")
        if remitted is None or not since <= remitted <= today or rng.random() >= 0.5:
            continue
        if denials_bulk_write_off(denial_ids=[denial.pk], reason=WRITE_OFFS[denial.category], actor=actor):
            day = min(today, remitted + dt.timedelta(days=rng.randint(5, 30)))
            Denial.objects.filter(pk=denial.pk).update(worked_at=_at_noon(day))
            done += 1
    return done
