"""Closing the loop: a later 835 decides a submitted appeal by itself (paid, partly paid,
denied again, reversed then paid), re-denials are attached to the appeal, and the daily
check marks overdue appeals and lists appeal windows about to close."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from appeals import followups, services
from appeals import vocabulary as v
from appeals.followups import LineKey, appeal_answer, line_answer, lines_match
from appeals.models import Appeal, AppealFollowUp
from appeals.selectors import next_level_suggestion
from appeals.tasks import DAILY_CHECK, appeals_daily_check
from denials.models import ACTIVE_STATUSES, AuditEvent, Denial, Payer, RemittanceFile

pytestmark = pytest.mark.django_db

ORIGINAL_DATE = "20261001"
SUBMITTED_ON = dt.date(2026, 10, 20)
FOLLOW_UP_DATE = "20261105"
DOS = "20260914"


# --- A small 835 builder: the demo's follow-up file is built the same way ---------------------------
@dataclass
class Line:
    code: str
    charge: str
    paid: str
    cas: list[tuple[str, str, str]] = field(default_factory=list)  # (group, CARC, amount)
    mods: tuple[str, ...] = ()
    allowed: str | None = None
    lcn: str = ""
    date: str = DOS


@dataclass
class Claim:
    pcn: str
    lines: list[Line]
    status: str = "1"
    icn: str = ""
    patient: str = "FOLLOWUP"
    cas: list[tuple[str, str, str]] = field(default_factory=list)  # claim-level adjustments
    charge: str = ""  # with no lines: the claim's charge
    paid: str = "0"  # with no lines: the claim's payment


def build_835(
    serial: int, claims: list[Claim], *, date: str, payer: tuple[str, str] = ("LAKESHORE HEALTH PLAN", "LAKE1")
) -> bytes:
    """One 5010 835 from claims and lines; amounts are text so a reversal can be negative."""
    segs: list[str] = []
    total = Decimal("0")
    for claim in claims:
        charge = sum((Decimal(ln.charge) for ln in claim.lines), Decimal(claim.charge or "0"))
        paid = sum((Decimal(ln.paid) for ln in claim.lines), Decimal(claim.paid))
        every_cas = [*claim.cas, *(c for ln in claim.lines for c in ln.cas)]
        patient = sum((Decimal(a) for g, _, a in every_cas if g == "PR"), Decimal("0"))
        total += paid
        segs += [
            f"CLP*{claim.pcn}*{claim.status}*{charge}*{paid}*{patient}*12*{claim.icn or claim.pcn + 'ICN' + str(serial)}",
            f"NM1*QC*1*{claim.patient}*JANE****MI*{claim.pcn}MEMBER",
            *(f"CAS*{g}*{r}*{a}" for g, r, a in claim.cas),
            f"DTM*232*{DOS}",
        ]
        for ln in claim.lines:
            svc = ":".join(["HC", ln.code, *ln.mods])
            segs += [f"SVC*{svc}*{ln.charge}*{ln.paid}**1", f"DTM*472*{ln.date}"]
            segs += [f"CAS*{g}*{r}*{a}" for g, r, a in ln.cas]
            if ln.lcn:
                segs.append(f"REF*6R*{ln.lcn}")
            if ln.allowed is not None:
                segs.append(f"AMT*B6*{ln.allowed}")
    if total > 0:
        bpr = f"BPR*I*{total}*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*{date}"
    elif total < 0:
        bpr = f"BPR*I*{-total}*D*NON************{date}"
    else:
        bpr = f"BPR*H*0*C*NON************{date}"
    body = [
        "ST*835*0001",
        bpr,
        f"TRN*1*FOLLOW{serial}*1234567890",
        f"N1*PR*{payer[0]}",
        f"REF*2U*{payer[1]}",
        "N1*PE*RIVERSIDE CLINIC*XX*1234567893",
        "LX*1",
        *segs,
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    isa = (
        f"ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *261105*1200*^*00501*{serial:09d}*0*P*:"
    )
    envelope = [
        isa,
        f"GS*HP*PAYER*CLINIC*{date}*1200*{serial}*X*005010X221A1",
        *body,
        f"GE*1*{serial}",
        f"IEA*1*{serial:09d}",
    ]
    return ("~".join(envelope) + "~").encode()


PAID_17000 = Line("17000", "100.00", "100.00", allowed="100.00")


def original(pcn: str = "PCN1", *, lines: list[Line] | None = None, serial: int = 7001) -> bytes:
    """The first answer: 17000 paid, 11102 denied CO-97 $100, 99213 denied CO-16 $100."""
    return build_835(
        serial,
        [
            Claim(
                pcn,
                lines
                or [
                    PAID_17000,
                    Line("11102", "100.00", "0", [("CO", "97", "100.00")]),
                    Line("99213", "100.00", "0", [("CO", "16", "100.00")]),
                ],
                icn=f"{pcn}ORIG",
            )
        ],
        date=ORIGINAL_DATE,
    )


@pytest.fixture
def received(ingest, team_queue):
    """Ingest an original remittance; returns its denials by procedure code."""

    def run(content: bytes, name: str = "original.835") -> dict[str, Denial]:
        file = ingest(content, name=name)
        assert file.status == RemittanceFile.Status.INGESTED, file.error
        denials = Denial.objects.filter(claim__remittance__file=file).select_related("line")
        return {d.line.procedure_code if d.line else "claim": d for d in denials}

    return run


def submitted(denials: list[Denial], actor) -> Appeal:
    appeal = services.appeal_create(denials=denials, actor=actor)
    appeal = services.appeal_update(appeal=appeal, expected_version=appeal.version, actor=actor, status="ready")
    return services.appeal_update(
        appeal=appeal,
        expected_version=appeal.version,
        actor=actor,
        status="submitted",
        method="portal",
        submitted_on=SUBMITTED_ON,
    )


def follow_up(ingest, serial: int, claims: list[Claim], *, date: str = FOLLOW_UP_DATE, **kw) -> RemittanceFile:
    file = ingest(build_835(serial, claims, date=date, **kw), name=f"follow-up-{serial}.835")
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    return file


# --- The rules on plain values ----------------------------------------------------------------------
BYPASS = {"XS", "XE", "XP", "XU", "59", "25"}


def _k(code: str, *mods: str, date: dt.date = dt.date(2026, 9, 14), lcn: str = "") -> LineKey:
    return LineKey(code, frozenset(mods), date, lcn)


def test_lines_match_on_code_date_and_modifiers_as_a_set_or_plus_one_bypass_modifier():
    assert lines_match(_k("11102", "LT", "59"), _k("11102", "59", "LT"), bypass_modifiers=BYPASS)
    assert lines_match(_k("11102"), _k("11102", "XS"), bypass_modifiers=BYPASS)  # the corrected line
    assert lines_match(_k("11102", "LT"), _k("11102", "LT", "XS"), bypass_modifiers=BYPASS)
    assert not lines_match(_k("11102"), _k("11102", "XS", "LT"), bypass_modifiers=BYPASS)  # two added
    assert not lines_match(_k("11102"), _k("11102", "26"), bypass_modifiers=BYPASS)  # not a bypass modifier
    assert not lines_match(_k("11102", "59"), _k("11102", "XS"), bypass_modifiers=BYPASS)  # swapped
    assert not lines_match(_k("11102", "59"), _k("11102"), bypass_modifiers=BYPASS)  # dropped
    assert not lines_match(_k("11102"), _k("11103"), bypass_modifiers=BYPASS)
    assert not lines_match(_k("11102"), _k("11102", date=dt.date(2026, 9, 15)), bypass_modifiers=BYPASS)


def test_the_line_control_number_decides_alone_when_both_lines_carry_one():
    assert lines_match(_k("11102", lcn="L2"), _k("11103", "LT", lcn="L2"), bypass_modifiers=BYPASS)
    assert not lines_match(_k("11102", lcn="L2"), _k("11102", lcn="L3"), bypass_modifiers=BYPASS)
    assert lines_match(_k("11102", lcn="L2"), _k("11102"), bypass_modifiers=BYPASS)  # one side only: codes


def test_line_answer_paid_at_allowed_counts_the_patients_share_and_partial_and_denied_again():
    d = Decimal
    common = {"at_stake": d("100")}
    assert (
        line_answer(
            denied_again=False, net=d("80"), paid_so_far=d("80"), allowed=d("80"), patient_share=d("0"), **common
        )
        == "paid"
    )
    assert (
        line_answer(
            denied_again=False, net=d("64"), paid_so_far=d("64"), allowed=d("80"), patient_share=d("16"), **common
        )
        == "paid"
    )
    assert (
        line_answer(
            denied_again=False, net=d("50"), paid_so_far=d("50"), allowed=d("80"), patient_share=d("0"), **common
        )
        == "partially-paid"
    )
    # No allowed amount: compared with the amount at stake.
    assert (
        line_answer(
            denied_again=False, net=d("100"), paid_so_far=d("100"), allowed=None, patient_share=d("0"), **common
        )
        == "paid"
    )
    assert (
        line_answer(denied_again=False, net=d("90"), paid_so_far=d("90"), allowed=None, patient_share=d("0"), **common)
        == "partially-paid"
    )
    assert (
        line_answer(denied_again=True, net=d("0"), paid_so_far=d("0"), allowed=None, patient_share=d("0"), **common)
        == "re-denied"
    )
    assert (
        line_answer(
            denied_again=True, net=d("30"), paid_so_far=d("30"), allowed=d("80"), patient_share=d("0"), **common
        )
        == "partially-paid"
    )
    assert (
        line_answer(
            denied_again=False, net=d("0"), paid_so_far=d("0"), allowed=d("0.01"), patient_share=d("0"), **common
        )
        == "re-denied"
    )


def test_appeal_answer_caps_the_amount_at_stake_and_an_upheld_appeal_recovers_nothing():
    d = Decimal
    assert appeal_answer(kinds=["paid", "paid"], net=d("250"), at_stake=d("200")) == ("overturned", d("200.00"))
    assert appeal_answer(kinds=["paid", "re-denied"], net=d("80"), at_stake=d("200")) == ("partially-paid", d("80.00"))
    assert appeal_answer(kinds=["re-denied"], net=d("-60"), at_stake=d("40")) == ("upheld", d("0"))
    assert appeal_answer(kinds=["partially-paid"], net=d("-5"), at_stake=d("40")) == ("partially-paid", d("0.00"))


# --- Deciding through ingest ------------------------------------------------------------------------
def test_paid_at_the_allowed_amount_overturns_the_appeal_and_the_denial_learns_it(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"]], coder)
    # The corrected line carries XS on the Column 2 code; the payer pays it at the allowed amount.
    follow_up(
        ingest,
        7101,
        [Claim("PCN1", [Line("11102", "100.00", "80.00", [("CO", "45", "20.00")], mods=("XS",), allowed="80.00")])],
    )

    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome, appeal.amount_recovered) == ("decided", "overturned", Decimal("80.00"))
    assert appeal.decided_on == dt.date(2026, 11, 5)  # the remittance's date, not today
    row = AppealFollowUp.objects.get(appeal=appeal)
    assert (row.kind, row.amount, row.denial_id, row.redenial_id) == (
        "paid",
        Decimal("80.00"),
        denials["11102"].pk,
        None,
    )
    assert row.line.procedure_code == "11102" and row.line.modifiers == ["XS"]
    denial = Denial.objects.get(pk=denials["11102"].pk)
    assert (denial.outcome, denial.recovered_amount, denial.status) == ("overturned", Decimal("80.00"), "resolved")
    # The other denial, never appealed, is untouched.
    assert Denial.objects.get(pk=denials["99213"].pk).outcome == ""
    assert next_level_suggestion(appeal=appeal) is None


def test_coinsurance_on_the_paid_line_still_counts_as_paid_at_the_allowed_amount(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"]], coder)
    follow_up(
        ingest,
        7102,
        [
            Claim(
                "PCN1",
                [Line("11102", "100.00", "64.00", [("CO", "45", "20.00"), ("PR", "2", "16.00")], allowed="80.00")],
            )
        ],
    )
    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.amount_recovered) == ("overturned", Decimal("64.00"))


def test_paid_less_than_allowed_is_partially_paid(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"]], coder)
    follow_up(
        ingest,
        7103,
        [
            Claim(
                "PCN1",
                [Line("11102", "100.00", "50.00", [("CO", "45", "20.00"), ("CO", "253", "30.00")], allowed="80.00")],
            )
        ],
    )
    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome, appeal.amount_recovered) == ("decided", "partially-paid", Decimal("50.00"))
    assert AppealFollowUp.objects.get(appeal=appeal).kind == "partially-paid"
    denial = Denial.objects.get(pk=denials["11102"].pk)
    assert (denial.outcome, denial.recovered_amount) == ("partially-paid", Decimal("50.00"))


def test_denied_again_upholds_the_appeal_attaches_the_redenial_and_suggests_the_next_level(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"]], coder)
    file = follow_up(ingest, 7104, [Claim("PCN1", [Line("11102", "100.00", "0", [("CO", "97", "100.00")])])])

    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome, appeal.amount_recovered) == ("decided", "upheld", Decimal("0.00"))
    redenial = Denial.objects.get(claim__remittance__file=file)
    assert redenial.triaged_at is not None  # triaged by ingest, then attached
    assert redenial.status == "appealed" and redenial.status not in ACTIVE_STATUSES
    row = AppealFollowUp.objects.get(appeal=appeal)
    assert (row.kind, row.redenial_id, row.denial_id) == ("re-denied", redenial.pk, denials["11102"].pk)
    attached = AuditEvent.objects.get(
        target_type=ContentType.objects.get_for_model(Denial),
        target_id=str(redenial.pk),
        action="denial.attached_to_appeal",
    )
    assert f"appeal {appeal.pk}" in attached.note
    # Not a fresh denial in the queue: the coder's queue holds the original (back to work), not the copy.
    queued = Denial.objects.filter(
        status__in=ACTIVE_STATUSES, claim__patient_control_number="PCN1", line__procedure_code="11102"
    )
    assert list(queued.values_list("pk", flat=True)) == [denials["11102"].pk]
    assert Denial.objects.get(pk=denials["11102"].pk).outcome == "upheld"
    suggestion = next_level_suggestion(appeal=appeal)
    assert suggestion is not None and suggestion.level == v.LEVEL_SECOND
    window = Payer.objects.get(payer_key="2U:LAKE1").appeal_window_days
    assert suggestion.due_date == dt.date(2026, 11, 5) + dt.timedelta(days=window)


def test_a_reversal_then_a_new_payment_in_one_file_overturns_with_the_net_amount(ingest, received, coder):
    # The original paid $60 of the line and denied $40 (CO-97): $40 at stake.
    denials = received(
        original(lines=[PAID_17000, Line("11102", "100.00", "60.00", [("CO", "97", "40.00")], allowed="100.00")])
    )
    appeal = submitted([denials["11102"]], coder)
    follow_up(
        ingest,
        7105,
        [
            Claim(
                "PCN1",
                [Line("17000", "-100.00", "-100.00"), Line("11102", "-100.00", "-60.00", [("CO", "97", "-40.00")])],
                status="22",
                icn="PCN1ORIG",
            ),
            Claim(
                "PCN1", [PAID_17000, Line("11102", "100.00", "100.00", allowed="100.00", mods=("59",))], icn="PCN1NEW"
            ),
        ],
    )
    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.amount_recovered) == ("overturned", Decimal("40.00"))
    rows = {r.kind: r.amount for r in AppealFollowUp.objects.filter(appeal=appeal)}
    assert rows == {"reversed": Decimal("-60.00"), "paid": Decimal("100.00")}
    assert Denial.objects.get(pk=denials["11102"].pk).recovered_amount == Decimal("40.00")


def test_a_reversal_in_one_file_and_the_new_payment_in_a_later_one(ingest, received, coder):
    denials = received(
        original(lines=[PAID_17000, Line("11102", "100.00", "60.00", [("CO", "97", "40.00")], allowed="100.00")])
    )
    appeal = submitted([denials["11102"]], coder)
    reversal = Claim(
        "PCN1",
        [Line("17000", "-100.00", "-100.00"), Line("11102", "-100.00", "-60.00", [("CO", "97", "-40.00")])],
        status="22",
        icn="PCN1ORIG",
    )
    follow_up(ingest, 7106, [reversal])
    appeal.refresh_from_db()
    assert appeal.status == "submitted"  # a reversal alone answers nothing
    assert list(AppealFollowUp.objects.filter(appeal=appeal).values_list("kind", "amount")) == [
        ("reversed", Decimal("-60.00"))
    ]

    follow_up(
        ingest,
        7107,
        [Claim("PCN1", [PAID_17000, Line("11102", "100.00", "100.00", allowed="100.00")], icn="PCN1NEW")],
        date="20261112",
    )
    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.amount_recovered, appeal.decided_on) == (
        "overturned",
        Decimal("40.00"),
        dt.date(2026, 11, 12),
    )


def test_an_overturned_zero_dollar_claim_sent_as_reversal_plus_new_claim(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"], denials["99213"]], coder)
    follow_up(
        ingest,
        7108,
        [
            Claim(
                "PCN1",
                [
                    Line("17000", "-100.00", "-100.00"),
                    Line("11102", "-100.00", "0", [("CO", "97", "-100.00")]),
                    Line("99213", "-100.00", "0", [("CO", "16", "-100.00")]),
                ],
                status="22",
                icn="PCN1ORIG",
            ),
            Claim(
                "PCN1",
                [
                    PAID_17000,
                    Line("11102", "100.00", "90.00", [("CO", "45", "10.00")], mods=("XS",), allowed="90.00"),
                    Line("99213", "100.00", "70.00", [("CO", "45", "30.00")], allowed="70.00"),
                ],
                icn="PCN1NEW",
            ),
        ],
    )
    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.amount_recovered) == ("overturned", Decimal("160.00"))
    shares = dict(
        Denial.objects.filter(pk__in=[denials["11102"].pk, denials["99213"].pk]).values_list(
            "line__procedure_code", "recovered_amount"
        )
    )
    assert sum(shares.values()) == Decimal("160.00")


def test_the_line_control_number_picks_the_line_when_two_lines_look_alike(ingest, received, coder):
    received(
        original(
            lines=[
                PAID_17000,
                Line("11102", "100.00", "0", [("CO", "97", "100.00")], lcn="LINE-2"),
                Line("11102", "100.00", "0", [("CO", "97", "100.00")], lcn="LINE-3", date="20260915"),
            ]
        )
    )
    denials_all = Denial.objects.filter(line__line_control_number__in=["LINE-2", "LINE-3"])
    third = denials_all.get(line__line_control_number="LINE-3")
    appeal = submitted([third], coder)
    # The payer re-sends both lines; only LINE-3 is paid. By codes alone the first line
    # would be taken (a different date here, and the number decides even so).
    follow_up(
        ingest,
        7109,
        [
            Claim(
                "PCN1",
                [
                    Line("11102", "100.00", "0", [("CO", "97", "100.00")], lcn="LINE-2", date="20260915"),
                    Line(
                        "11102",
                        "100.00",
                        "85.00",
                        [("CO", "45", "15.00")],
                        lcn="LINE-3",
                        date="20260916",
                        allowed="85.00",
                    ),
                ],
            )
        ],
    )
    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.amount_recovered) == ("overturned", Decimal("85.00"))
    assert AppealFollowUp.objects.get(appeal=appeal).line.line_control_number == "LINE-3"


def test_a_claim_level_denial_is_answered_by_the_later_claim_as_a_whole(ingest, received, coder):
    denials = received(
        build_835(
            7120,
            [Claim("PCN9", [], status="4", cas=[("CO", "50", "300.00")], charge="300.00", icn="PCN9ORIG")],
            date=ORIGINAL_DATE,
        )
    )
    appeal = submitted([denials["claim"]], coder)
    # Paid with the patient's coinsurance: the whole amount at stake is accounted for.
    follow_up(
        ingest, 7121, [Claim("PCN9", [], cas=[("PR", "2", "60.00")], charge="300.00", paid="240.00", icn="PCN9NEW")]
    )
    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.amount_recovered) == ("overturned", Decimal("240.00"))
    row = AppealFollowUp.objects.get(appeal=appeal)
    assert row.line_id is None and row.kind == "paid"
    # A NULL line is not unique in the database: running the file again still adds nothing.
    follow_up_file = RemittanceFile.objects.get(original_name="follow-up-7121.835")
    Appeal.objects.filter(pk=appeal.pk).update(status="submitted", outcome="", decided_on=None)
    assert followups.follow_ups_record(file_id=follow_up_file.pk)["rows"] == 0
    assert AppealFollowUp.objects.filter(appeal=appeal).count() == 1


def test_a_file_of_a_payer_without_submitted_appeals_costs_one_query(
    ingest, received, coder, django_assert_num_queries
):
    denials = received(original())
    services.appeal_create(denials=[denials["11102"]], actor=coder)  # a draft: not a candidate
    file = follow_up(ingest, 7122, [Claim("PCN1", [Line("11102", "100.00", "80.00", allowed="80.00")])])
    with django_assert_num_queries(1):
        assert followups.follow_ups_record(file_id=file.pk)["appeals"] == 0


def test_a_draft_appeal_is_not_decided_by_a_payment(ingest, received, coder):
    denials = received(original())
    draft = services.appeal_create(denials=[denials["11102"]], actor=coder)
    follow_up(
        ingest, 7110, [Claim("PCN1", [Line("11102", "100.00", "80.00", [("CO", "45", "20.00")], allowed="80.00")])]
    )
    draft.refresh_from_db()
    assert (draft.status, draft.outcome) == ("draft", "")
    assert not AppealFollowUp.objects.exists()


def test_claims_of_another_payer_or_patient_do_not_match(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"]], coder)
    paid = [Line("11102", "100.00", "80.00", [("CO", "45", "20.00")], allowed="80.00")]
    follow_up(ingest, 7111, [Claim("PCN1", paid)], payer=("OTHER HEALTH PLAN", "OTHER9"))
    follow_up(ingest, 7112, [Claim("PCN2", paid)])
    # A later line of the same claim that is a different service (26: the professional
    # component, not a bypass modifier) answers nothing either.
    follow_up(
        ingest,
        7113,
        [Claim("PCN1", [Line("11102", "100.00", "80.00", [("CO", "45", "20.00")], mods=("26",), allowed="80.00")])],
    )
    appeal.refresh_from_db()
    assert appeal.status == "submitted" and not AppealFollowUp.objects.exists()


def test_a_remittance_dated_before_the_submission_is_not_the_answer(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"]], coder)
    follow_up(ingest, 7114, [Claim("PCN1", [Line("11102", "100.00", "80.00", allowed="80.00")])], date="20261015")
    appeal.refresh_from_db()
    assert appeal.status == "submitted" and not AppealFollowUp.objects.exists()


def test_the_same_follow_up_file_twice_changes_nothing(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"], denials["99213"]], coder)
    # Only one line answered: rows recorded, the appeal waits for the other line.
    content = build_835(
        7115,
        [Claim("PCN1", [Line("11102", "100.00", "80.00", [("CO", "45", "20.00")], allowed="80.00")])],
        date=FOLLOW_UP_DATE,
    )
    file = ingest(content, name="once.835")
    appeal.refresh_from_db()
    assert appeal.status == "submitted"
    # Audit rows about appeals and denials (the duplicate file gets its own row, about the file).
    audit = AuditEvent.objects.exclude(target_type=ContentType.objects.get_for_model(RemittanceFile))
    before = (appeal.version, AppealFollowUp.objects.count(), audit.count())
    assert before[1] == 1

    again = ingest(content, name="twice.835")
    assert again.status == RemittanceFile.Status.DUPLICATE
    # Even the receiver run again on the same file (a retried attempt) writes nothing.
    assert followups.follow_ups_record(file_id=file.pk)["rows"] == 0
    appeal.refresh_from_db()
    assert (appeal.version, AppealFollowUp.objects.count(), audit.count()) == before

    # The remaining line denied again in a later file: decided with both answers.
    follow_up(ingest, 7116, [Claim("PCN1", [Line("99213", "100.00", "0", [("CO", "16", "100.00")])])])
    appeal.refresh_from_db()
    assert (appeal.outcome, appeal.amount_recovered) == ("partially-paid", Decimal("80.00"))
    decided = (appeal.version, AppealFollowUp.objects.count())
    assert followups.follow_ups_record(file_id=file.pk)["rows"] == 0
    appeal.refresh_from_db()
    assert (appeal.version, AppealFollowUp.objects.count()) == decided


def test_the_decision_is_audited_and_each_follow_up_recorded(ingest, received, coder):
    denials = received(original())
    appeal = submitted([denials["11102"]], coder)
    follow_up(
        ingest, 7117, [Claim("PCN1", [Line("11102", "100.00", "80.00", [("CO", "45", "20.00")], allowed="80.00")])]
    )
    actions = list(
        AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(Appeal), target_id=str(appeal.pk))
        .order_by("at", "id")
        .values_list("action", "actor_label")
    )
    assert ("appeal.follow_up", "835 follow-up") in actions
    assert actions[-1][0] == "appeal.decided"


# --- Many appeals answered by one file: batched, the same rules and audit rows -----------------------
def _many_submitted(ingest, coder, n: int, serial: int) -> list[Appeal]:
    """``n`` claims (PCN{serial}-{i}) each with 11102 denied CO-97 $100, each under a submitted appeal."""
    claims = [
        Claim(
            f"P{serial}-{i}", [PAID_17000, Line("11102", "100.00", "0", [("CO", "97", "100.00")])], icn=f"O{serial}{i}"
        )
        for i in range(n)
    ]
    file = ingest(build_835(serial, claims, date=ORIGINAL_DATE), name=f"original-{serial}.835")
    assert file.status == RemittanceFile.Status.INGESTED, file.error
    denials = Denial.objects.filter(claim__remittance__file=file, line__procedure_code="11102").order_by("pk")
    return [submitted([d], coder) for d in denials]


def _answers(serial: int, n: int) -> bytes:
    """Every other claim paid at the allowed amount, the rest denied again."""
    claims = [
        Claim(
            f"P{serial}-{i}",
            [Line("11102", "100.00", "80.00", [("CO", "45", "20.00")], allowed="80.00")]
            if i % 2 == 0
            else [Line("11102", "100.00", "0", [("CO", "97", "100.00")])],
            icn=f"N{serial}{i}",
        )
        for i in range(n)
    ]
    return build_835(serial + 50, claims, date=FOLLOW_UP_DATE)


def _queries_to_decide(ingest, coder, n: int, serial: int) -> int:
    """Ingest a file answering ``n`` submitted appeals with the appeals held back (ready), then
    run the receiver on it with them submitted: the receiver's own queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    appeals = _many_submitted(ingest, coder, n, serial)
    ids = [a.pk for a in appeals]
    Appeal.objects.filter(pk__in=ids).update(status="ready")
    file = follow_up_file = ingest(_answers(serial, n), name=f"answers-{serial}.835")
    assert follow_up_file.status == RemittanceFile.Status.INGESTED
    Appeal.objects.filter(pk__in=ids).update(status="submitted")
    with CaptureQueriesContext(connection) as captured:
        counts = followups.follow_ups_record(file_id=file.pk)
    assert counts == {"appeals": n, "rows": n, "decided": n, "attached": n // 2}
    decided = Appeal.objects.filter(pk__in=ids)
    assert sorted(decided.values_list("outcome", flat=True)) == sorted(
        ["overturned"] * ((n + 1) // 2) + ["upheld"] * (n // 2)
    )
    return len(captured.captured_queries)


def test_deciding_many_appeals_in_one_file_costs_the_same_queries_as_deciding_two(ingest, team_queue, coder):
    two = _queries_to_decide(ingest, coder, 2, 7300)
    eight = _queries_to_decide(ingest, coder, 8, 7400)
    assert eight == two


@pytest.mark.parametrize("n", [2, 9])
def test_a_file_answering_n_appeals_decides_them_in_a_bounded_number_of_queries(
    ingest, team_queue, coder, n, django_assert_max_num_queries
):
    appeals = _many_submitted(ingest, coder, n, 7500 + n)
    ids = [a.pk for a in appeals]
    Appeal.objects.filter(pk__in=ids).update(status="ready")
    file = ingest(_answers(7500 + n, n), name="answers.835")
    Appeal.objects.filter(pk__in=ids).update(status="submitted")
    # 34 on SQLite (savepoints included), for 2 appeals as for 9: none of it is per appeal.
    with django_assert_max_num_queries(36):
        assert followups.follow_ups_record(file_id=file.pk)["decided"] == n


def _audit_trail(appeal: Appeal) -> list[tuple]:
    """The appeal's and its denials' audit rows from its decision on, as (target, action, who,
    old, new, note), with ids and the claim's name left out (they differ between two appeals)."""
    appeal_type = ContentType.objects.get_for_model(Appeal)
    denial_type = ContentType.objects.get_for_model(Denial)
    denial_ids = [str(pk) for pk in appeal.denials.values_list("pk", flat=True)]
    events = AuditEvent.objects.filter(action__in=["appeal.decided", "denial.appeal_outcome"]).filter(
        Q(target_type=appeal_type, target_id=str(appeal.pk)) | Q(target_type=denial_type, target_id__in=denial_ids)
    )
    return sorted(
        (e.target_type_id, e.action, e.actor_id, e.actor_label, json.dumps(e.old), json.dumps(e.new), e.note)
        for e in events
    )


@pytest.mark.parametrize("outcome,amount", [("overturned", "100.00"), ("partially-paid", "35.50"), ("upheld", "0")])
def test_the_batched_decision_writes_what_appeal_update_writes(ingest, team_queue, coder, outcome, amount):
    one, other = _many_submitted(ingest, coder, 2, 7600)
    day = dt.date(2026, 11, 5)
    single = services.appeal_update(
        appeal=one,
        expected_version=one.version,
        actor=coder,
        status="decided",
        outcome=outcome,
        amount_recovered=Decimal(amount),
        decided_on=day,
    )
    [batched] = services.appeals_decide_many(
        decisions=[services.Decision(other, other.version, outcome, Decimal(amount), day)], actor=coder
    )
    assert isinstance(batched, Appeal)
    stored = Appeal.objects.get(pk=other.pk)
    for appeal in (single, batched, stored):
        assert (appeal.status, appeal.outcome, appeal.amount_recovered, appeal.decided_on, appeal.version) == (
            "decided",
            outcome,
            Decimal(amount),
            day,
            single.version,
        )
    a, b = Denial.objects.get(appeals=single), Denial.objects.get(appeals=other)
    assert (a.status, a.outcome, a.recovered_amount, a.version) == (b.status, b.outcome, b.recovered_amount, b.version)
    assert _audit_trail(single) == _audit_trail(stored) and len(_audit_trail(stored)) == 2


def test_a_batched_decision_at_a_stale_version_is_refused_and_the_others_are_written(ingest, team_queue, coder):
    stale, fresh = _many_submitted(ingest, coder, 2, 7700)
    services.appeal_update(appeal=stale, expected_version=stale.version, actor=coder, notes="called the payer")
    day = dt.date(2026, 11, 5)
    results = services.appeals_decide_many(
        decisions=[
            services.Decision(stale, stale.version, "overturned", Decimal("100.00"), day),
            services.Decision(fresh, fresh.version, "overturned", Decimal("100.00"), day),
            services.Decision(fresh, fresh.version, "upheld", Decimal("0"), day),  # the same appeal again: now stale
        ],
        actor=None,
    )
    assert isinstance(results[0], services.AppealConflict) and isinstance(results[2], services.AppealConflict)
    assert isinstance(results[1], Appeal) and results[1].version == fresh.version + 1
    stale_now = Appeal.objects.get(pk=stale.pk)
    assert (stale_now.status, stale_now.version) == ("submitted", stale.version + 1)  # only the note
    assert Denial.objects.get(appeals=stale).outcome == ""
    assert Appeal.objects.get(pk=fresh.pk).outcome == "overturned"
    # A rule still refuses: more than the amount at stake, named by field; nothing written.
    [refused] = services.appeals_decide_many(
        decisions=[services.Decision(stale_now, stale_now.version, "overturned", Decimal("100.01"), day)], actor=None
    )
    assert isinstance(refused, services.AppealRefused) and refused.field == "amount_recovered"
    assert Appeal.objects.get(pk=stale.pk).version == stale_now.version


# --- The daily check --------------------------------------------------------------------------------
def test_the_daily_check_is_registered_by_name():
    from config.celery import app

    assert DAILY_CHECK in app.tasks


def test_the_daily_check_marks_overdue_appeals_and_lists_windows_closing(received, coder, ingest):
    today = dt.date(2026, 12, 1)
    a = received(original("PCNA", serial=7201))
    b = received(original("PCNB", serial=7202), name="b.835")
    late = services.appeal_create(denials=[a["11102"]], actor=coder)
    on_time = services.appeal_create(denials=[b["11102"]], actor=coder)
    Appeal.objects.filter(pk=late.pk).update(due_date=dt.date(2026, 11, 20))
    Appeal.objects.filter(pk=on_time.pk).update(due_date=dt.date(2026, 12, 10))
    # Windows: one closing in 3 days without an appeal, one in 3 days under an appeal, one in 20 days.
    Denial.objects.filter(pk=a["99213"].pk).update(due_date=today + dt.timedelta(days=3))
    Denial.objects.filter(pk=b["11102"].pk).update(due_date=today + dt.timedelta(days=3))
    Denial.objects.filter(pk=b["99213"].pk).update(due_date=today + dt.timedelta(days=20))
    Denial.objects.filter(pk=a["11102"].pk).update(due_date=today - dt.timedelta(days=1))

    result = appeals_daily_check.delay(today=today.isoformat()).get()

    assert result["newly_overdue"] == 1 and result["overdue"] == 1
    assert result["closing_denial_ids"] == [a["99213"].pk] and result["windows_closing"] == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.overdue_since == dt.date(2026, 11, 21) and on_time.overdue_since is None
    assert late.version == 1  # the stamp is the check's, not a change a coder would conflict with
    events = AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(Appeal), action="appeal.overdue")
    assert list(events.values_list("target_id", flat=True)) == [str(late.pk)]

    # Run again: nothing new. Then the due date moves: the stamp is cleared.
    assert appeals_daily_check(today=today.isoformat())["newly_overdue"] == 0
    assert events.count() == 1
    Appeal.objects.filter(pk=late.pk).update(due_date=dt.date(2026, 12, 15))
    again = appeals_daily_check(today=today.isoformat())
    late.refresh_from_db()
    assert again["cleared"] == 1 and late.overdue_since is None and again["overdue"] == 0
