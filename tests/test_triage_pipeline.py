"""Triage through the real pipeline: 835 fragments + PTP rows in the database -> denials.

One case per row of shared/DOMAIN.md §6, each category, and the group-code cases.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from denials.models import AuditEvent, Denial, QueueRule, WorkQueue
from ncci.models import PtpEdit

pytestmark = pytest.mark.django_db

_counter = itertools.count(1)


def remit(
    lines: list[tuple[str, str, str, str, str]],
    *,
    claim_status: str = "1",
    dos: str = "20260914",
    claim_cas: str = "",
    pay_date: str = "20261001",
) -> bytes:
    """One claim; each line is (code, modifiers 'XS:59', charge, paid, CAS 'CO*97*100' or '', RARC or '')."""
    n = next(_counter)
    charge = sum(Decimal(line[2]) for line in lines)
    paid = sum(Decimal(line[3]) for line in lines)
    segs = [
        "ST*835*0001",
        f"BPR*I*{paid}*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*{pay_date}",
        f"TRN*1*TRACE{n}*1234567890",
        "N1*PR*LAKESHORE HEALTH PLAN",
        "REF*2U*LAKE1",
        "N1*PE*RIVERSIDE CLINIC*XX*1234567893",
        "LX*1",
        f"CLP*PCN{n}*{claim_status}*{charge}*{paid}**12*ICN{n}",
        "NM1*QC*1*DOE*JANE****MI*M123",
        f"DTM*232*{dos}",
    ]
    if claim_cas:
        segs.append(f"CAS*{claim_cas}")
    for code, mods, line_charge, line_paid, cas, *rest in lines:
        composite = ":".join(["HC", code, *[m for m in mods.split(":") if m]])
        segs += [f"SVC*{composite}*{line_charge}*{line_paid}**1", f"DTM*472*{dos}"]
        if cas:
            segs.append(f"CAS*{cas}")
        if rest and rest[0]:
            segs.append(f"LQ*HE*{rest[0]}")
    segs.append(f"SE*{len(segs) + 1}*0001")
    isa = f"ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *261001*1200*^*00501*{n:09d}*0*P*:"
    return (
        "~".join([isa, f"GS*HP*PAYER*CLINIC*20261001*1200*{n}*X*005010X221A1", *segs, f"GE*1*{n}", f"IEA*1*{n:09d}"])
        + "~"
    ).encode()


def edit(col1: str, col2: str, indicator: str, effective="2020-01-01", deletion=None) -> PtpEdit:
    return PtpEdit.objects.create(
        setting="practitioner",
        column1=col1,
        column2=col2,
        modifier_indicator=indicator,
        effective_date=dt.date.fromisoformat(effective),
        deletion_date=dt.date.fromisoformat(deletion) if deletion else None,
        rationale="Standards of medical/surgical practice",
        quarter="2026Q3",
    )


@pytest.fixture
def triage_setup(db, adjustment_rules, code_lists):
    from denials.services import category_rules_load_defaults

    category_rules_load_defaults()


def _denial(ingest, content: bytes) -> Denial:
    file = ingest(content)
    assert file.status == "ingested", file.error
    return Denial.objects.get(claim__remittance__file=file)


BUNDLING_ROWS = [
    # id, PTP edit (col1, col2, indicator, deletion), denied line modifiers, expected category, expected action
    ("ind1-no-modifier", ("17000", "11102", "1", None), "", "bundling-modifier-may-apply", "corrected-claim"),
    ("ind1-with-XS", ("17000", "11102", "1", None), "XS", "bundling-appealable", "appeal"),
    ("ind1-with-59", ("17000", "11102", "1", None), "59", "bundling-appealable", "appeal"),
    ("ind0", ("64483", "77003", "0", None), "", "bundling-not-appealable", "write-off"),
    ("ind0-even-with-modifier", ("64483", "77003", "0", None), "59", "bundling-not-appealable", "write-off"),
    ("deleted-before-dos", ("93306", "93308", "1", "2025-12-31"), "", "bundling-edit-not-in-force", "appeal"),
    ("indicator-9", ("17000", "11102", "9", None), "", "bundling-edit-not-in-force", "appeal"),
]


@pytest.mark.parametrize("case", BUNDLING_ROWS, ids=[r[0] for r in BUNDLING_ROWS])
def test_bundling_denial_is_split_by_the_ncci_edit_in_force(triage_setup, ingest, case):
    _, (col1, col2, indicator, deletion), mods, category, action = case
    ptp = edit(col1, col2, indicator, deletion=deletion)
    denial = _denial(
        ingest, remit([(col1, "", "200", "150", "CO*45*50"), (col2, mods, "100", "0", "CO*97*100", "M15")])
    )
    assert denial.category == category
    assert denial.action == action
    assert (denial.ncci_column1, denial.ncci_column2, denial.ncci_modifier_indicator) == (col1, col2, indicator)
    assert denial.ptp_edit_id == ptp.pk
    assert denial.pair_line.procedure_code == col1
    assert denial.ncci_quarter == "2026Q3"
    assert denial.explanation  # plain words, never empty


def test_bundling_denial_without_a_ptp_pair_goes_to_review(triage_setup, ingest):
    denial = _denial(
        ingest, remit([("27447", "", "2000", "1500", "CO*45*500"), ("99213", "", "100", "0", "CO*97*100")])
    )
    assert denial.category == "bundling-no-ptp-pair"
    assert denial.action == "review"
    assert denial.ncci_column1 == ""


def test_edit_deleted_on_the_date_of_service_still_applies(triage_setup, ingest):
    # Deletion dates are the last day an edit applies (CMS quarters end on them).
    edit("93306", "93308", "1", deletion="2026-09-14")
    denial = _denial(ingest, remit([("93306", "", "500", "400", "CO*45*100"), ("93308", "", "200", "0", "CO*97*200")]))
    assert denial.category == "bundling-modifier-may-apply"


def test_edit_effective_after_the_date_of_service_does_not_apply(triage_setup, ingest):
    edit("93306", "93308", "1", effective="2026-10-01")
    denial = _denial(ingest, remit([("93306", "", "500", "400", "CO*45*100"), ("93308", "", "200", "0", "CO*97*200")]))
    assert denial.category == "bundling-no-ptp-pair"


def test_carc_236_is_bundling_too(triage_setup, ingest):
    edit("29881", "29877", "1")
    denial = _denial(
        ingest, remit([("29881", "RT", "3000", "2000", "CO*45*1000"), ("29877", "", "800", "0", "CO*236*800")])
    )
    assert denial.category == "bundling-modifier-may-apply"


@pytest.mark.parametrize(
    ("group", "expected_action"),
    [("CO", "write-off"), ("PR", "bill-patient"), ("OA", "review")],
    ids=["CO-97", "PR-97", "OA-97"],
)
def test_group_code_changes_who_pays_on_an_indicator_0_bundle(triage_setup, ingest, group, expected_action):
    edit("64483", "77003", "0")
    denial = _denial(
        ingest, remit([("64483", "", "900", "700", "CO*45*200"), ("77003", "", "150", "0", f"{group}*97*150")])
    )
    assert denial.category == "bundling-not-appealable"
    assert denial.action == expected_action
    assert denial.action != "appeal"


def test_pr_97_with_indicator_1_is_not_appealed_directly(triage_setup, ingest):
    edit("17000", "11102", "1")
    denial = _denial(ingest, remit([("17000", "", "200", "150", "CO*45*50"), ("11102", "XS", "100", "0", "PR*97*100")]))
    assert denial.action != "appeal"


CATEGORY_ROWS = [
    ("CO*16*100", "N290", "missing-information", "send-documentation"),
    ("CO*50*100", "", "medical-necessity", "appeal"),
    ("CO*18*100", "", "duplicate", None),
    ("CO*29*100", "", "timely-filing", None),
    ("CO*22*100", "", "coordination-of-benefits", "check-cob"),
    ("CO*197*100", "", "authorization", "verify-authorization"),
    ("CO*27*100", "", "eligibility", "verify-eligibility"),
    ("CO*96*100", "", "non-covered", None),
    ("CO*95*100", "", "plan-procedures", None),
    ("CO*4*100", "", "coding", None),
    ("CO*16*100", "N657", "coding", None),  # N657: fix the code, not a documentation problem
    ("PR*204*100", "", "non-covered", "bill-patient"),
]


@pytest.mark.parametrize(
    ("cas", "rarc", "category", "action"),
    CATEGORY_ROWS,
    ids=[f"{r[0].split('*')[0]}-{r[0].split('*')[1]}{'-' + r[1] if r[1] else ''}" for r in CATEGORY_ROWS],
)
def test_each_category_is_reached_from_its_codes(triage_setup, ingest, cas, rarc, category, action):
    denial = _denial(ingest, remit([("99214", "", "100", "0", cas, rarc)]))
    assert denial.category == category
    if action:
        assert denial.action == action


def test_patient_responsibility_and_other_categories(triage_setup, ingest):
    from denials.models import AdjustmentRule

    AdjustmentRule.objects.filter(group_code="PR", carc="3").update(kind="denial")  # make copay a denial
    denial = _denial(ingest, remit([("99214", "", "100", "0", "PR*3*100")]))
    assert denial.category == "patient-responsibility" and denial.action == "bill-patient"
    other = _denial(ingest, remit([("99214", "", "100", "0", "CO*ZZ9*100")]))
    assert other.category == "other" and other.action == "review"


def test_most_specific_admin_rule_wins_over_the_defaults(triage_setup, ingest):
    from denials.models import CategoryRule, Payer

    first = _denial(ingest, remit([("99214", "", "100", "0", "CO*50*100")]))
    assert first.category == "medical-necessity"
    CategoryRule.objects.create(category="authorization", carc="50", payer=Payer.objects.get(), priority=100)
    second = _denial(ingest, remit([("99214", "", "100", "0", "CO*50*100")]))
    assert second.category == "authorization"


def test_denial_lands_in_exactly_one_queue_by_category_then_payer(triage_setup, ingest, team, other_team):
    from denials.models import Payer

    bundling = WorkQueue.objects.create(name="Bundling", team=team)
    general = WorkQueue.objects.create(name="General", team=team)
    special = WorkQueue.objects.create(name="Lakeshore bundling", team=other_team)
    QueueRule.objects.create(queue=bundling, category="bundling")
    QueueRule.objects.create(queue=general, category="", priority=1000)
    edit("17000", "11102", "1")
    d1 = _denial(ingest, remit([("17000", "", "200", "150", "CO*45*50"), ("11102", "", "100", "0", "CO*97*100")]))
    d2 = _denial(ingest, remit([("99214", "", "100", "0", "CO*50*100")]))
    assert d1.queue == bundling and d2.queue == general
    QueueRule.objects.create(queue=special, category="bundling", payer=Payer.objects.get())
    d3 = _denial(ingest, remit([("17000", "", "200", "150", "CO*45*50"), ("11102", "", "100", "0", "CO*97*100")]))
    assert d3.queue == special


def test_due_date_priority_and_expected_recovery(triage_setup, ingest):
    from denials.models import Payer

    edit("17000", "11102", "1")
    content = remit(
        [("17000", "", "200", "150", "CO*45*50"), ("11102", "XS", "100", "0", "CO*97*100")], pay_date="20261001"
    )
    denial = _denial(ingest, content)
    window = Payer.objects.get().appeal_window_days
    assert denial.due_date == dt.date(2026, 10, 1) + dt.timedelta(days=window)
    assert denial.success_probability > 0
    assert denial.expected_recovery == (denial.amount * denial.success_probability).quantize(Decimal("0.01"))
    assert denial.priority > 0


def test_write_offs_have_no_expected_recovery(triage_setup, ingest):
    edit("64483", "77003", "0")
    denial = _denial(ingest, remit([("64483", "", "900", "700", "CO*45*200"), ("77003", "", "150", "0", "CO*97*150")]))
    assert denial.expected_recovery == 0 and denial.priority == 0


def test_team_outcomes_replace_the_prior_once_there_are_enough(triage_setup, ingest, team):
    from denials.services import denials_triage

    queue = WorkQueue.objects.create(name="Bundling", team=team)
    QueueRule.objects.create(queue=queue, category="")
    edit("17000", "11102", "1")

    def make():
        return _denial(
            ingest,
            remit(
                [
                    ("17000", "", "200", "150", "CO*45*50"),
                    ("11102", "XS", "100", "0", "CO*97*100"),
                ]
            ),
        )

    fresh = make()
    prior = fresh.success_probability
    decided = [make() for _ in range(12)]
    Denial.objects.filter(pk__in=[d.pk for d in decided]).update(status="resolved", outcome="upheld")
    denials_triage(denial_ids=[fresh.pk])
    fresh.refresh_from_db()
    assert fresh.success_probability < prior  # this team keeps losing on 17000/11102


def test_retriage_after_an_ncci_change_moves_open_denials_and_leaves_worked_ones(
    triage_setup, ingest, coder, django_capture_on_commit_callbacks
):
    from ncci.signals import reference_data_changed

    content = lambda: remit([("93306", "", "500", "400", "CO*45*100"), ("93308", "", "200", "0", "CO*97*200")])  # noqa: E731
    open_denial = _denial(ingest, content())
    worked = _denial(ingest, content())
    Denial.objects.filter(pk=worked.pk).update(status="in-progress", assignee=coder)
    assert open_denial.category == "bundling-no-ptp-pair"
    edit("93306", "93308", "0")
    with django_capture_on_commit_callbacks(execute=True):
        reference_data_changed.send(sender=PtpEdit, table="ptp")
    open_denial.refresh_from_db()
    worked.refresh_from_db()
    assert open_denial.category == "bundling-not-appealable"
    assert worked.category == "bundling-no-ptp-pair"
    assert AuditEvent.objects.filter(action="denial.triaged", target_id=str(open_denial.pk)).count() == 2


def test_retriage_command(triage_setup, ingest):
    from io import StringIO

    from django.core.management import call_command

    _denial(ingest, remit([("93306", "", "500", "400", "CO*45*100"), ("93308", "", "200", "0", "CO*97*200")]))
    edit("93306", "93308", "1")
    out = StringIO()
    call_command("retriage", stdout=out)
    assert "1 denial(s) changed" in out.getvalue()
    assert Denial.objects.get().category == "bundling-modifier-may-apply"


def test_admin_change_to_a_category_rule_retriages_open_denials(
    triage_setup, ingest, admin_user, client, django_capture_on_commit_callbacks
):
    from denials.models import CategoryRule

    admin_user.is_superuser = True
    admin_user.save()
    denial = _denial(ingest, remit([("99214", "", "100", "0", "CO*50*100")]))
    assert denial.category == "medical-necessity"
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/denials/categoryrule/add/",
            {
                "category": "authorization",
                "group_code": "CO",
                "carc": "50",
                "rarc": "",
                "procedure_code": "",
                "priority": "10",
                "note": "payer treats 50 as a missing authorization",
            },
        )
    assert response.status_code == 302, response.content[:500]
    assert CategoryRule.objects.filter(note__startswith="payer treats").exists()
    denial.refresh_from_db()
    assert denial.category == "authorization"
