"""Managers' figures (issue 11): every figure computed by hand from a known set of rows and
compared with the selectors, the API and the CSV export; the counting rules (an appeal of two
lines counts once, a denial appealed at two levels counts twice, empty months are zero); team
scoping; coders refused.

The rows (remittance dates; amounts are the denied amounts):

Team A (queue QA), payer P1 (remitted 2026-01-10):
  C1 charge 1000: D1 11102 CO-97 modifier-may-apply 17000/11102 practitioner, Dr Ames, $200, modifier XS
                  D2 11103 CO-97 modifier-may-apply 17000/11103 practitioner, Dr Ames, $150
  C2 charge 500:  D3 99213 CO-16 missing-information $500, written off "Timely filing limit passed" on 01-31
  C8 charge 120:  D7 99214 CO-16 missing-information $120, open
  C7 a reversal (status 22) of C1: never billed, never counted
Team A, payer P2 (remitted 2026-03-05):
  C3 charge 400:  D4 20610 CO-97 not-appealable 20605/20610 hospital, Dr Bell, $400, open
  C4 charge 300:  paid, no denial
  C5 charge 250:  D5 64483 CO-50 medical-necessity $250
Team B (queue QB), payer P1 (remitted 2026-01-12):
  C6 charge 800:  D6 93308 CO-97 appealable 93306/93308 practitioner, Dr Cole, $800

Appeals:
  A1 (team A) D1+D2, first level, started 2026-01-20, decided 2026-02-15 partially paid $250
     (shares, largest line first: D1 $200, D2 $50)
  A2 (team A) D5, first level, started 2026-03-10, decided 2026-03-30 upheld
  A3 (team A) D5 again, second level (from A2), started 2026-04-15, pending
  A4 (team B) D6, first level, started 2026-01-25, decided 2026-02-20 overturned $800
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appeals import analytics as appeal_figures
from appeals import services as appeal_services
from appeals.analytics_rollup import figures_refresh
from appeals.recovery import recovered_share_sql, recovered_shares
from denials import analytics as denial_figures
from denials import vocabulary as words
from denials.analytics import FilterError, Filters, filters_parse
from denials.models import (
    AccessEvent,
    ClaimPayment,
    Denial,
    Payer,
    Provider,
    Remittance,
    RemittanceFile,
    ServiceLine,
    WorkQueue,
)
from tests.factories import PayerFactory

pytestmark = pytest.mark.django_db

JAN, MAR, JAN_B = dt.date(2026, 1, 10), dt.date(2026, 3, 5), dt.date(2026, 1, 12)
TODAY = dt.date(2026, 4, 30)
D = Decimal


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


class Rows:
    """The world of the module docstring, built through the models and the appeals services."""

    def __init__(self, *, team: Any, other_team: Any, manager: Any, other_manager: Any, admin: Any) -> None:
        self.team, self.other_team = team, other_team
        self.manager, self.other_manager, self.admin = manager, other_manager, admin
        self.p1: Payer = PayerFactory(name="Lakeshore Health")  # type: ignore[assignment]
        self.p2: Payer = PayerFactory(name="Prairie Mutual")  # type: ignore[assignment]
        self.qa = WorkQueue.objects.create(name="QA", team=team)
        self.qb = WorkQueue.objects.create(name="QB", team=other_team)
        self.payee = Provider.objects.create(name="Riverside Clinic", npi="1234567893")
        self.file = RemittanceFile.objects.create(original_name="t.835", content=b"", sha256="0" * 64, source="command")
        r1 = self._remittance(self.p1, JAN, "r1")
        r2 = self._remittance(self.p2, MAR, "r2")
        r3 = self._remittance(self.p1, JAN_B, "r3")
        c1 = self._claim(r1, 1, "1000", provider=("Dr Ames", "111"))
        self.d1 = self._denial(
            c1,
            "11102",
            "200",
            "97",
            words.BUNDLING_MODIFIER_MAY_APPLY,
            self.qa,
            edit=("17000", "11102", "practitioner"),
        )
        self.d2 = self._denial(
            c1,
            "11103",
            "150",
            "97",
            words.BUNDLING_MODIFIER_MAY_APPLY,
            self.qa,
            edit=("17000", "11103", "practitioner"),
        )
        Denial.objects.filter(pk=self.d1.pk).update(chosen_modifier="XS")
        c2 = self._claim(r1, 2, "500")
        self.d3 = self._denial(c2, "99213", "500", "16", words.MISSING_INFORMATION, self.qa)
        Denial.objects.filter(pk=self.d3.pk).update(
            status=words.STATUS_WRITTEN_OFF,
            resolution_reason="Timely filing limit passed",
            worked_at=_at(dt.date(2026, 1, 31)),
        )
        c8 = self._claim(r1, 8, "120")
        self.d7 = self._denial(c8, "99214", "120", "16", words.MISSING_INFORMATION, self.qa)
        reversal = self._claim(r1, 7, "-1000", status="22")
        assert reversal.status_code == "22"
        c3 = self._claim(r2, 3, "400", provider=("Dr Bell", "222"))
        self.d4 = self._denial(
            c3, "20610", "400", "97", words.BUNDLING_NOT_APPEALABLE, self.qa, edit=("20605", "20610", "hospital")
        )
        self._claim(r2, 4, "300")
        c5 = self._claim(r2, 5, "250")
        self.d5 = self._denial(c5, "64483", "250", "50", words.MEDICAL_NECESSITY, self.qa)
        c6 = self._claim(r3, 6, "800", provider=("Dr Cole", "333"))
        self.d6 = self._denial(
            c6, "93308", "800", "97", words.BUNDLING_APPEALABLE, self.qb, edit=("93306", "93308", "practitioner")
        )

        self.a1 = self._decided([self.d1, self.d2], dt.date(2026, 1, 20), dt.date(2026, 2, 15), "partially-paid", "250")
        self.a2 = self._decided([self.d5], dt.date(2026, 3, 10), dt.date(2026, 3, 30), "upheld", "0")
        self.a3 = appeal_services.appeal_next_level(appeal=self.a2, actor=self.manager)
        type(self.a3).objects.filter(pk=self.a3.pk).update(created_at=_at(dt.date(2026, 4, 15)))
        self.a4 = self._decided(
            [self.d6], dt.date(2026, 1, 25), dt.date(2026, 2, 20), "overturned", "800", actor=self.other_manager
        )
        # Paid on appeal: the outcome was recorded the day the payer decided.
        Denial.objects.filter(pk__in=[self.d1.pk, self.d2.pk]).update(worked_at=_at(dt.date(2026, 2, 15)))

    def _remittance(self, payer: Payer, day: dt.date, key: str) -> Remittance:
        return Remittance.objects.create(
            file=self.file, dedupe_key=key, payer=payer, payee=self.payee, payment_amount=D("0"), payment_date=day
        )

    def _claim(
        self, remittance: Remittance, seq: int, charge: str, *, status: str = "1", provider: tuple[str, str] = ("", "")
    ) -> ClaimPayment:
        return ClaimPayment.objects.create(
            remittance=remittance,
            sequence=seq,
            payer=remittance.payer,
            patient_control_number=f"PCN{seq}",
            status_code=status,
            charge=D(charge),
            paid=D("0"),
            rendering_provider_name=provider[0],
            rendering_provider_npi=provider[1],
        )

    def _denial(
        self,
        claim: ClaimPayment,
        code: str,
        amount: str,
        carc: str,
        category: str,
        queue: WorkQueue,
        *,
        edit: tuple[str, str, str] = ("", "", ""),
    ) -> Denial:
        line = ServiceLine.objects.create(
            claim=claim, sequence=claim.service_lines.count() + 1, procedure_code=code, charge=D(amount), paid=D("0")
        )
        return Denial.objects.create(
            claim=claim,
            line=line,
            payer=claim.payer,
            kind=Denial.Kind.LINE_DENIED,
            group_code="CO",
            carc=carc,
            amount=D(amount),
            category=category,
            queue=queue,
            ncci_column1=edit[0],
            ncci_column2=edit[1],
            ncci_setting=edit[2],
        )

    def _decided(
        self, denials: list[Denial], started: dt.date, decided: dt.date, outcome: str, amount: str, actor: Any = None
    ) -> Any:
        actor = actor or self.manager
        appeal = appeal_services.appeal_create(denials=denials, actor=actor)
        type(appeal).objects.filter(pk=appeal.pk).update(created_at=_at(started))
        appeal.refresh_from_db()
        for changes in (
            {"status": "ready"},
            {"status": "submitted", "submitted_on": started, "method": "portal"},
            {"status": "decided", "outcome": outcome, "amount_recovered": D(amount), "decided_on": decided},
        ):
            appeal = appeal_services.appeal_update(
                appeal=appeal, expected_version=appeal.version, actor=actor, **changes
            )
        return appeal


@pytest.fixture
def rows(team, other_team, manager, other_manager, admin_user, db):
    world = Rows(team=team, other_team=other_team, manager=manager, other_manager=other_manager, admin=admin_user)
    # The figures read their own tables: bring them up to date with the rows just written (some
    # were written with a bare update, which no incremental refresh sees: a full one).
    figures_refresh(full=True)
    return world


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _csv(client: Any, table: str, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/analytics/?format=csv&table={table}{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _dashboard(client: Any, query: str = "") -> tuple[str, dict[str, Any]]:
    """The dashboard as a browser with JavaScript sees it: the page, then each table its placeholder
    asks for (``?table=<id>`` as an htmx request); the HTML of all of them and the tables shown."""
    import re

    shell = client.get(f"/analytics/?{query}")
    assert shell.status_code == 200
    html = shell.content.decode()
    asked = re.findall(r'hx-get="([^"]+)" hx-trigger="load"', html)
    assert len(asked) == 12, asked  # every table of the page is asked for, none built in the shell
    assert shell.context["tables"] == {}
    shown: dict[str, Any] = {}
    for url in asked:
        section = client.get("/analytics/" + url.replace("&amp;", "&"), headers={"HX-Request": "true"})
        assert section.status_code == 200
        assert "<html" not in section.content.decode()  # the section alone
        shown[section.context_data["t"].id] = section.context_data["t"]
        html += section.content.decode()
    return html, shown


def _success(rows: list[Any]) -> dict[str, tuple]:
    """label -> (appeals, won, partial, lost, pending, success_rate, at stake, recovered)."""
    return {
        r.label: (r.appeals, r.won, r.partial, r.lost, r.pending, r.success_rate, r.amount_at_stake, r.amount_recovered)
        for r in rows
    }


# --- The recovered share: one rule, its SQL form, and what the denials stored ----------------------
def test_recovered_shares_fill_the_largest_line_first_and_add_up_to_the_amount():
    shares = recovered_shares(recovered=D("250"), lines=[("a", D("150"), 2), ("b", D("200"), 1), ("c", D("150"), 1)])
    assert shares == {"b": D("200"), "c": D("50"), "a": D("0")}
    assert sum(shares.values()) == D("250")
    with pytest.raises(ValueError, match="negative"):
        recovered_shares(recovered=D("-1"), lines=[])


def test_the_sql_share_agrees_with_the_pure_rule_and_with_what_the_denials_stored(rows):
    through = type(rows.a1).denials.through.objects.filter(appeal_id=rows.a1.pk)
    sql = {
        r["denial_id"]: r["share"] for r in through.annotate(share=recovered_share_sql()).values("denial_id", "share")
    }
    pure = recovered_shares(
        recovered=rows.a1.amount_recovered, lines=[(d.pk, d.amount, d.pk) for d in (rows.d1, rows.d2)]
    )
    stored = dict(Denial.objects.filter(pk__in=[rows.d1.pk, rows.d2.pk]).values_list("pk", "recovered_amount"))
    assert {k: D(v) for k, v in sql.items()} == pure == stored == {rows.d1.pk: D("200"), rows.d2.pk: D("50")}


# --- Appeal success: every grouping by hand ------------------------------------------------------------
EXPECTED_MANAGER_A = {
    # label: (appeals, won, partial, lost, pending, success_rate, at stake, recovered)
    "edit": {
        "17000 / 11102": (1, 0, 1, 0, 0, 1.0, D("200"), D("200")),
        "17000 / 11103": (1, 0, 1, 0, 0, 1.0, D("150"), D("50")),
    },
    # A1 covers two CO-97 lines: one appeal, the money of both lines.
    "carc": {
        "CO-97": (1, 0, 1, 0, 0, 1.0, D("350"), D("250")),
        "CO-50": (2, 0, 0, 1, 1, 0.0, D("500"), D("0")),
    },
    "category": {
        "Bundling: modifier may apply": (1, 0, 1, 0, 0, 1.0, D("350"), D("250")),
        "Medical necessity": (2, 0, 0, 1, 1, 0.0, D("500"), D("0")),
    },
    "payer": {
        "Lakeshore Health": (1, 0, 1, 0, 0, 1.0, D("350"), D("250")),
        "Prairie Mutual": (2, 0, 0, 1, 1, 0.0, D("500"), D("0")),
    },
    # D1 carries XS; D2 and D5 none: A1 counts once in each group it has lines in.
    "modifier": {
        "XS": (1, 0, 1, 0, 0, 1.0, D("200"), D("200")),
        "No modifier recorded": (3, 0, 1, 1, 1, 0.5, D("650"), D("50")),
    },
    # D5 appealed at two levels: two appeals, each counted once.
    "level": {
        "First-level appeal": (2, 0, 1, 1, 0, 0.5, D("600"), D("250")),
        "Second-level appeal": (1, 0, 0, 0, 1, None, D("250"), D("0")),
    },
    "specialty": {
        "Dermatology": (1, 0, 1, 0, 0, 1.0, D("350"), D("250")),
        "Pain management": (2, 0, 0, 1, 1, 0.0, D("500"), D("0")),
    },
    # Started in January, March and April: February is there, with zeros.
    "month": {
        "2026-01": (1, 0, 1, 0, 0, 1.0, D("350"), D("250")),
        "2026-02": (0, 0, 0, 0, 0, None, D("0"), D("0")),
        "2026-03": (1, 0, 0, 1, 0, 0.0, D("250"), D("0")),
        "2026-04": (1, 0, 0, 0, 1, None, D("250"), D("0")),
    },
}


@pytest.mark.parametrize("by", sorted(EXPECTED_MANAGER_A))
def test_appeal_success_by_each_grouping_matches_the_figures_worked_by_hand(rows, by):
    found = appeal_figures.appeal_success(user=rows.manager, filters=Filters(), by=by)
    assert _success(found) == EXPECTED_MANAGER_A[by]


def test_appeal_success_by_coder_names_who_started_the_appeals(rows):
    found = appeal_figures.appeal_success(user=rows.manager, filters=Filters(), by="coder")
    assert _success(found) == {rows.manager.username: (3, 0, 1, 1, 1, 0.5, D("850"), D("250"))}


def test_months_are_listed_in_order_with_the_empty_month_as_zero(rows):
    found = appeal_figures.appeal_success(user=rows.manager, filters=Filters(), by="month")
    assert [r.label for r in found] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    ranged = appeal_figures.appeal_success(
        user=rows.manager, filters=Filters(date_from=dt.date(2025, 12, 1), date_to=dt.date(2026, 2, 28)), by="month"
    )
    assert [(r.label, r.appeals) for r in ranged] == [("2025-12", 0), ("2026-01", 1), ("2026-02", 0)]


def test_an_admin_sees_every_team_and_a_manager_only_their_own(rows):
    admin = _success(appeal_figures.appeal_success(user=rows.admin, filters=Filters(), by="payer"))
    assert admin["Lakeshore Health"] == (2, 1, 1, 0, 0, 1.0, D("1150"), D("1050"))
    other = _success(appeal_figures.appeal_success(user=rows.other_manager, filters=Filters(), by="payer"))
    assert other == {"Lakeshore Health": (1, 1, 0, 0, 0, 1.0, D("800"), D("800"))}
    team_b_only = appeal_figures.appeal_success(user=rows.admin, filters=Filters(team_id=rows.other_team.pk), by="edit")
    assert _success(team_b_only) == {"93306 / 93308": (1, 1, 0, 0, 0, 1.0, D("800"), D("800"))}


def test_a_withdrawn_appeal_is_neither_pending_nor_decided(rows):
    appeal = appeal_services.appeal_create(denials=[rows.d7], actor=rows.manager)
    appeal_services.appeal_update(
        appeal=appeal, expected_version=appeal.version, actor=rows.manager, status="withdrawn"
    )
    figures_refresh()  # the services bumped the versions: the incremental refresh sees the new appeal
    row = appeal_figures.appeal_success(user=rows.manager, filters=Filters(), by="category")
    missing = next(r for r in row if r.keys == {"category": words.MISSING_INFORMATION})
    assert (missing.appeals, missing.withdrawn, missing.pending, missing.decided, missing.success_rate) == (
        1,
        1,
        0,
        0,
        None,
    )


def test_recovered_by_month_of_decision_and_the_yield(rows):
    months = appeal_figures.recovered_by_month(user=rows.manager, filters=Filters())
    assert [(m.month, m.appeals_decided, m.amount_recovered, m.decided_at_stake) for m in months] == [
        ("2026-02", 1, D("250"), D("350")),
        ("2026-03", 1, D("0"), D("250")),
    ]
    assert months[0].recovery_yield == round(250 / 350, 4)
    totals = appeal_figures.appeal_totals(user=rows.manager, filters=Filters())
    assert (totals.appeals, totals.amount_recovered, totals.decided_at_stake) == (3, D("250"), D("600"))
    assert totals.recovery_yield == round(250 / 600, 4)


def test_bundling_first_level_success_counts_first_level_bundling_appeals_only(rows):
    mine = appeal_figures.bundling_first_level_success(user=rows.manager, filters=Filters())
    assert (mine.appeals, mine.partial, mine.success_rate) == (1, 1, 1.0)
    every = appeal_figures.bundling_first_level_success(user=rows.admin, filters=Filters())
    assert (every.appeals, every.won, every.partial) == (2, 1, 1)


# --- Denial figures by hand ------------------------------------------------------------------------------
def _counts(found: list[Any]) -> dict[str, tuple[int, Decimal]]:
    return {r.label: (r.count, r.amount) for r in found}


def test_denials_by_category_payer_month_and_carc(rows):
    f, m = Filters(), rows.manager
    assert _counts(denial_figures.denial_counts(user=m, filters=f, by="category")) == {
        "Missing information": (2, D("620")),
        "Bundling: not appealable": (1, D("400")),
        "Bundling: modifier may apply": (2, D("350")),
        "Medical necessity": (1, D("250")),
    }
    assert _counts(denial_figures.denial_counts(user=m, filters=f, by="payer")) == {
        "Lakeshore Health": (4, D("970")),
        "Prairie Mutual": (2, D("650")),
    }
    months = denial_figures.denial_counts(user=m, filters=f, by="month")
    assert [(r.label, r.count, r.amount) for r in months] == [
        ("2026-01", 4, D("970")),
        ("2026-02", 0, D("0")),
        ("2026-03", 2, D("650")),
    ]
    assert _counts(denial_figures.denial_counts(user=m, filters=f, by="carc")) == {
        "97": (3, D("750")),
        "16": (2, D("620")),
        "50": (1, D("250")),
    }


def test_filters_narrow_the_denials(rows):
    m = rows.manager
    by_payer = denial_figures.denial_counts(user=m, filters=Filters(payer_id=rows.p2.pk), by="category")
    assert _counts(by_payer) == {"Bundling: not appealable": (1, D("400")), "Medical necessity": (1, D("250"))}
    hospital = denial_figures.denial_counts(user=m, filters=Filters(setting="hospital"), by="carc")
    assert _counts(hospital) == {"97": (1, D("400"))}
    derm = denial_figures.denial_counts(user=m, filters=Filters(specialty="Dermatology"), by="category")
    assert _counts(derm) == {"Bundling: modifier may apply": (2, D("350"))}
    march = denial_figures.denial_counts(
        user=m, filters=Filters(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31)), by="month"
    )
    assert [(r.label, r.count) for r in march] == [("2026-03", 2)]


def test_denial_rate_is_denied_over_billed_by_claims_and_by_dollars(rows):
    # Billed: C1 1000, C2 500, C8 120, C3 400, C4 300, C5 250, C6 800 (the reversal C7 is not a claim billed).
    mine = denial_figures.denial_rate(user=rows.manager, filters=Filters())
    assert (mine.claims, mine.billed, mine.denied_claims, mine.denied) == (7, D("3370"), 5, D("1620"))
    assert mine.count_rate == round(5 / 7, 4) and mine.dollar_rate == round(1620 / 3370, 4)
    every = denial_figures.denial_rate(user=rows.admin, filters=Filters())
    assert (every.claims, every.denied_claims, every.denied) == (7, 6, D("2420"))
    # By specialty, billed means that specialty's lines: Dermatology is C1's two denied lines.
    derm = denial_figures.denial_rate(user=rows.manager, filters=Filters(specialty="Dermatology"))
    assert (derm.claims, derm.billed, derm.denied_claims, derm.denied) == (1, D("350"), 1, D("350"))


def test_write_offs_days_to_resolve_and_aging(rows):
    m, f = rows.manager, Filters()
    assert _counts(denial_figures.write_offs(user=m, filters=f)) == {"Timely filing limit passed": (1, D("500"))}
    # D3: Jan 10 -> Jan 31 = 21 days; D1 and D2: Jan 10 -> Feb 15 = 36 days each.
    days = denial_figures.days_to_resolve(user=m, filters=f)
    assert (days.denials, days.average_days) == (3, 31.0)
    # Open on 2026-04-30: D4 (remitted Mar 5: 56 days) and D7 (Jan 10: 110 days); D5 is under appeal.
    buckets = denial_figures.aging(user=m, filters=f, today=TODAY)
    assert [(b.key, b.count, b.amount) for b in buckets] == [
        ("0-30", 0, D("0")),
        ("31-60", 1, D("400")),
        ("61-90", 0, D("0")),
        ("91-", 1, D("120")),
    ]


def test_prevention_lists_indicator_0_and_missing_modifier_denials_by_pair_and_provider(rows):
    found = denial_figures.prevention(user=rows.manager, filters=Filters())
    assert [(r.category, r.column1, r.column2, r.provider_name, r.count, r.amount) for r in found] == [
        (words.BUNDLING_NOT_APPEALABLE, "20605", "20610", "Dr Bell", 1, D("400")),
        (words.BUNDLING_MODIFIER_MAY_APPLY, "17000", "11102", "Dr Ames", 1, D("200")),
        (words.BUNDLING_MODIFIER_MAY_APPLY, "17000", "11103", "Dr Ames", 1, D("150")),
    ]
    # Team B's appealable bundling denial is not a prevention row, and never a manager A's.
    assert all(r.provider_name != "Dr Cole" for r in denial_figures.prevention(user=rows.admin, filters=Filters()))


# --- Filters ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "param", "why"),
    [
        ({"from": "2026-13-01"}, "from", "not a date"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "to", "before the start"),
        ({"payer": "abc"}, "payer", "not an id"),
        ({"payer": "999999"}, "payer", "no payer"),
        ({"setting": "moon"}, "setting", "not an NCCI setting"),
        ({"specialty": "Astrology"}, "specialty", "not a specialty"),
    ],
)
def test_bad_filters_name_the_parameter_and_why(rows, params, param, why):
    with pytest.raises(FilterError) as error:
        filters_parse(params=params, user=rows.manager)
    assert error.value.param == param and why in error.value.message


def test_a_manager_cannot_ask_for_another_teams_figures(rows):
    with pytest.raises(FilterError, match="not one of the teams"):
        filters_parse(params={"team": str(rows.other_team.pk)}, user=rows.manager)
    assert filters_parse(params={"team": str(rows.other_team.pk)}, user=rows.admin).team_id == rows.other_team.pk
    assert filters_parse(params={"specialty": "dermatology"}, user=rows.manager).specialty == "Dermatology"


# --- The API, the page and the CSV agree with the selectors ------------------------------------------------
def test_the_appeal_success_api_answers_the_selectors_figures(rows):
    response = _api(rows.manager).get("/api/analytics/appeal-success/?by=edit")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["by"] == "edit"
    assert body["results"] == [
        {
            "column1": "17000",
            "column2": "11102",
            "label": "17000 / 11102",
            "appeals": 1,
            "won": 0,
            "partial": 1,
            "lost": 0,
            "pending": 0,
            "withdrawn": 0,
            "decided": 1,
            "success_rate": 1.0,
            "amount_at_stake": "200.00",
            "decided_at_stake": "200.00",
            "amount_recovered": "200.00",
            "recovery_yield": 1.0,
        },
        {
            "column1": "17000",
            "column2": "11103",
            "label": "17000 / 11103",
            "appeals": 1,
            "won": 0,
            "partial": 1,
            "lost": 0,
            "pending": 0,
            "withdrawn": 0,
            "decided": 1,
            "success_rate": 1.0,
            "amount_at_stake": "150.00",
            "decided_at_stake": "150.00",
            "amount_recovered": "50.00",
            "recovery_yield": round(50 / 150, 4),
        },
    ]


@pytest.mark.parametrize("by", sorted(EXPECTED_MANAGER_A))
def test_api_and_csv_agree_with_the_selectors_for_every_grouping(rows, client, by):
    expected = EXPECTED_MANAGER_A[by]
    results = _api(rows.manager).get(f"/api/analytics/appeal-success/?by={by}").json()["results"]
    assert {
        r["label"]: (
            r["appeals"],
            r["won"],
            r["partial"],
            r["lost"],
            r["pending"],
            r["success_rate"],
            D(r["amount_at_stake"]),
            D(r["amount_recovered"]),
        )
        for r in results
    } == expected
    client.force_login(rows.manager)
    table = _csv(client, f"appeal-success-{by}")
    first = "Column 1" if by == "edit" else next(iter(table[0])) if table else ""
    assert len(table) == len(expected)
    for line in table:
        label = f"{line['Column 1']} / {line['Column 2']}" if by == "edit" else line[first]
        appeals, won, partial, lost, pending, rate, at_stake, recovered = expected[label]
        assert (int(line["Appeals"]), int(line["Won"]), int(line["Partly won"]), int(line["Lost"])) == (
            appeals,
            won,
            partial,
            lost,
        )
        assert int(line["Pending"]) == pending
        assert line["Success rate"] == ("" if rate is None else str(rate))
        assert D(line["At stake"]) == at_stake and D(line["Recovered"]) == recovered


def test_the_denials_api_and_csv_agree(rows, client):
    results = _api(rows.manager).get("/api/analytics/denials/?by=month").json()["results"]
    assert [(r["month"], r["count"], r["amount"]) for r in results] == [
        ("2026-01", 4, "970.00"),
        ("2026-02", 0, "0.00"),
        ("2026-03", 2, "650.00"),
    ]
    payers = _api(rows.manager).get("/api/analytics/denials/?by=payer").json()["results"]
    assert payers[0] == {"payer_id": rows.p1.pk, "label": "Lakeshore Health", "count": 4, "amount": "970.00"}
    client.force_login(rows.manager)
    lines = _csv(client, "denials-month")
    assert [(r["Month (remittance date)"], r["Denials"], r["Dollars"]) for r in lines] == [
        ("2026-01", "4", "970.00"),
        ("2026-02", "0", "0.00"),
        ("2026-03", "2", "650.00"),
    ]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("by=colour", "by"),
        ("", "by"),
        ("by=edit&from=yesterday", "from"),
        ("by=edit&payer=x", "payer"),
        ("by=edit&colour=red", "colour"),
    ],
)
def test_the_api_answers_400_naming_the_bad_parameter(rows, query, param):
    response = _api(rows.manager).get(f"/api/analytics/appeal-success/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [param]


def test_the_api_refuses_coders_and_scopes_managers(rows, coder):
    assert _api(coder).get("/api/analytics/appeal-success/?by=edit").status_code == 403
    assert _api(coder).get("/api/analytics/denials/?by=month").status_code == 403
    other = _api(rows.other_manager).get("/api/analytics/denials/?by=category").json()["results"]
    assert other == [
        {"category": words.BUNDLING_APPEALABLE, "label": "Bundling: appealable", "count": 1, "amount": "800.00"}
    ]
    refused = _api(rows.manager).get(f"/api/analytics/denials/?by=category&team={rows.other_team.pk}")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["team"]


def test_the_dashboard_shows_the_figures_and_links_them_to_their_rows(rows, client):
    client.force_login(rows.manager)
    page, _shown = _dashboard(client)
    assert "17000" in page and "11102" in page
    assert "/appeals/?column1=17000&amp;column2=11102" in page
    assert "/worklist/?queue=all&amp;status=all&amp;category=missing-information" in page
    assert "/worklist/?queue=all&amp;age=91-" in page
    assert "/ncci/scrub/?line-0-code=20605&amp;line-1-code=20610&amp;setting=hospital" in page
    assert "Change Healthcare" in page and "Premier" in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "<script>" not in page
    # Team B's numbers are nowhere on team A's page.
    assert "93308" not in page and "Dr Cole" not in page


def test_the_page_and_the_csv_show_the_same_rows(rows, client):
    client.force_login(rows.manager)
    _page, tables_shown = _dashboard(client)
    for table_id in ("appeal-success-edit", "denials-category", "aging", "prevention", "recovered", "denial-rate"):
        table = tables_shown[table_id]
        lines = _csv(client, table_id)
        assert len(lines) == len(table.rows) > 0, table_id
        for line, row in zip(lines, table.rows, strict=True):
            from appeals.analytics_tables import csv_value

            assert list(line.values()) == [csv_value(c, col) for c, col in zip(row, table.columns, strict=True)]


def test_a_csv_export_is_recorded_as_an_export(rows, client):
    client.force_login(rows.manager)
    before = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).count()
    _csv(client, "prevention")
    events = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT)
    assert events.count() == before + 1
    latest = events.order_by("-id").first()
    assert latest is not None and "table=prevention" in latest.path
    assert client.get("/analytics/?format=csv&table=nope").status_code == 400


def test_the_page_names_a_bad_filter(rows, client):
    client.force_login(rows.manager)
    response = client.get("/analytics/?from=2026-99-01")
    assert response.status_code == 400
    assert "from" in response.content.decode() and "not a date" in response.content.decode()


def test_coders_get_404_and_managers_land_on_the_dashboard(rows, client, coder):
    client.force_login(coder)
    assert client.get("/analytics/").status_code == 404
    assert client.get("/analytics/?format=csv&table=prevention").status_code == 404
    assert client.get("/")["Location"] != "/analytics/"
    client.force_login(rows.manager)
    assert client.get("/")["Location"] == "/analytics/"
    client.force_login(rows.admin)
    assert client.get("/")["Location"] == "/analytics/"


def test_another_teams_manager_sees_none_of_team_as_numbers(rows, client):
    client.force_login(rows.other_manager)
    page, _shown = _dashboard(client)
    assert "93308" in page
    for team_a_only in ("11102", "20610", "Dr Ames", "Dr Bell", "Timely filing"):
        assert team_a_only not in page, team_a_only


def test_the_dashboard_reads_in_a_bounded_number_of_queries(rows, client, django_assert_max_num_queries, settings):
    import re

    from appeals.analytics_views import DEFAULT_GROUPING, dashboard_table_ids

    settings.TESTING = False  # read as production does: the figures the last refresh wrote, no refresh first
    client.force_login(rows.manager)
    with django_assert_max_num_queries(15):  # the shell: the form's choices and the freshness, no figure
        page = client.get("/analytics/")
    assert page.status_code == 200
    asked = re.findall(r'hx-get="([^"]+)" hx-trigger="load"', page.content.decode())
    assert {url.rsplit("table=", 1)[1] for url in asked} == set(dashboard_table_ids(DEFAULT_GROUPING))
    for url in asked:
        # First read of a table: the user's queues, a look-up, the version and a write per figure, plus
        # its sums (cells and the days around them; aging: per age): as many for a thousand rows as for ten.
        with django_assert_max_num_queries(45):
            assert client.get(f"/analytics/{url}", headers={"HX-Request": "true"}).status_code == 200
        # Read again before the figures change: the table as it was kept.
        with django_assert_max_num_queries(12):
            assert client.get(f"/analytics/{url}", headers={"HX-Request": "true"}).status_code == 200


def test_the_page_is_a_shell_whose_tables_arrive_in_requests_of_their_own(rows, client):
    """Each placeholder asks for its table with the page's filters; the answer is that table's
    section, the same partial the page would show. Without JavaScript the placeholder's link
    opens the page with that table in it; a table the page does not have is refused in words."""
    client.force_login(rows.manager)
    query = f"from=2026-01-01&team={rows.team.pk}&group=coder"
    page = client.get(f"/analytics/?{query}").content.decode()
    assert 'hx-get="?from=2026-01-01&amp;team=' in page and "table=appeal-success-coder" in page
    assert "Counting…" in page and "Show this table" in page
    assert "Appeal success by coder" in page  # the placeholder names its table before it arrives
    section = client.get(f"/analytics/?{query}&table=denials-category", headers={"HX-Request": "true"})
    fragment = section.content.decode()
    assert fragment.lstrip().startswith('<section class="card an-section" id="denials-category"')
    assert section.context_data["t"].rows and "format=csv" in fragment
    # No JavaScript: the whole page, with that table in it and the others still to ask for.
    plain = client.get(f"/analytics/?{query}&table=denials-category")
    assert "<html" in plain.content.decode() and list(plain.context["tables"]) == ["denials-category"]
    assert 'id="denials-category" aria-labelledby' in plain.content.decode()
    refused = client.get("/analytics/?table=nope", headers={"HX-Request": "true"})
    assert refused.status_code == 400 and "not a table of this page" in refused.content.decode()


def test_in_tests_and_development_the_page_refreshes_the_figures_before_reading(rows, client):
    """Production reads what the beat task wrote; tests and development (``DEBUG``) refresh first,
    so a denial written a moment ago is on the page, and the page says when the figures were counted."""
    from appeals.analytics_rollup import figures_as_of

    Denial.objects.filter(pk=rows.d7.pk).update(amount=D("125"), version=rows.d7.version + 1)
    before = figures_as_of()
    client.force_login(rows.manager)
    response = client.get("/analytics/?format=csv&table=denials-category")
    found = {r["Category"]: r["Dollars"] for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert found[words.category_label(words.MISSING_INFORMATION)] == "625.00"  # D3 $500 + D7 now $125
    after = figures_as_of()
    assert before is not None and after is not None and after > before
    page = client.get("/analytics/")
    assert "Figures as of" in page.content.decode()


# --- Reference lines: admin-edited rows, seeded from the shipped defaults ---------------------------------
def test_reference_lines_are_seeded_rows_the_dashboard_reads(rows):
    from appeals.models import ReferenceLine
    from appeals.reference_lines import SHIPPED_REFERENCE_LINES, reference_lines

    stored = {r.key: r for r in ReferenceLine.objects.all()}
    assert set(stored) == {line.key for line in SHIPPED_REFERENCE_LINES}
    premier = stored["initial-denial-rate-private-claims"]
    assert (premier.measures, premier.low, premier.high, premier.shown) == ("denial_rate_claims", D("0.15"), None, True)
    bundling = stored["bundling-first-level-success"]
    assert (bundling.low, bundling.high) == (D("0.5"), D("0.7"))
    assert [line.words for line in reference_lines()] == ["50-70%", "about 9%", "about 15%"]


def test_an_admin_edits_and_hides_reference_lines_and_the_dashboard_follows(rows, client):
    from appeals.defaults import REFERENCE_LINES_SET, appeal_defaults_apply
    from appeals.models import ReferenceLine
    from denials.models import ShippedDefaults

    premier = ReferenceLine.objects.get(key="initial-denial-rate-private-claims")
    charges = ReferenceLine.objects.get(key="initial-denial-rate-charges")
    client.force_login(rows.admin)
    change = f"/admin/appeals/referenceline/{premier.pk}/change/"
    assert client.get(change).status_code == 200
    form = {
        "measures": premier.measures,
        "label": premier.label,
        "low": "0.15",
        "high": "",
        "source": premier.source,
        "position": premier.position,
        # "shown" left out: unticked
    }
    assert client.post(change, form).status_code == 302
    charges_form = {
        **form,
        "measures": charges.measures,
        "label": "Denied share of charges",
        "low": "0.08",
        "high": "0.1",
    }
    charges_form.update(source="Change Healthcare, Denials Index, 2017", shown="on", position=charges.position)
    assert client.post(f"/admin/appeals/referenceline/{charges.pk}/change/", charges_form).status_code == 302
    # A range whose high end is below its low end is refused in words.
    bad = client.post(f"/admin/appeals/referenceline/{charges.pk}/change/", {**charges_form, "high": "0.05"})
    assert bad.status_code == 200 and "is below the low end" in bad.content.decode()
    assert premier.history.count() == 2  # created, then hidden: the admin's edit is in the history

    client.force_login(rows.manager)
    page = client.get("/analytics/").content.decode()
    assert "Premier" not in page
    assert "8-10%: Denied share of charges" in page and "Change Healthcare, Denials Index, 2017" in page
    # Applying the shipped defaults again never brings the hidden line back nor undoes the edit.
    ShippedDefaults.objects.filter(name=REFERENCE_LINES_SET).delete()
    appeal_defaults_apply(actor_label="test")
    assert not ReferenceLine.objects.get(pk=premier.pk).shown
    assert ReferenceLine.objects.get(pk=charges.pk).label == "Denied share of charges"


# --- Modifier used: what was sent, kept when the appeal was sent --------------------------------------------
def test_the_modifier_sent_is_kept_and_later_changes_to_the_denial_do_not_rewrite_it(rows):
    from appeals.models import SentModifier

    sent = dict(SentModifier.objects.filter(appeal=rows.a1).values_list("denial_id", "modifier"))
    # D1: the team chose XS, the package's first choice; D2: nothing supports a modifier.
    assert sent == {rows.d1.pk: "XS", rows.d2.pk: ""}
    # Reopened and corrected with another modifier later: what A1 sent stays XS.
    Denial.objects.filter(pk=rows.d1.pk).update(chosen_modifier="59")
    figures_refresh(full=True)  # a bare update bumps no version
    found = _success(appeal_figures.appeal_success(user=rows.manager, filters=Filters(), by="modifier"))
    assert found == EXPECTED_MANAGER_A["modifier"]


def test_an_appeal_not_sent_yet_reports_the_modifier_the_team_chose(rows):
    Denial.objects.filter(pk=rows.d7.pk).update(chosen_modifier="XU")
    appeal_services.appeal_create(denials=[rows.d7], actor=rows.manager)
    figures_refresh(full=True)  # the bare update bumped no version
    found = _success(appeal_figures.appeal_success(user=rows.manager, filters=Filters(), by="modifier"))
    assert found["XU"] == (1, 0, 0, 0, 1, None, D("120"), D("0"))


def test_the_package_modifier_from_a_passage_is_what_sending_keeps(rows):
    """D7 has no chosen modifier; a saved passage of a separate site makes the package ask for XS."""
    from appeals.models import SentModifier
    from appeals.package import appeal_package
    from denials.models import ClinicalDocument, Evidence

    Denial.objects.filter(pk=rows.d7.pk).update(
        category=words.BUNDLING_MODIFIER_MAY_APPLY,
        ncci_column1="99213",
        ncci_column2="99214",
        ncci_modifier_indicator="1",
    )
    denial = Denial.objects.get(pk=rows.d7.pk)
    document = ClinicalDocument.objects.create(
        claim=denial.claim,
        title="Note",
        original_name="note.txt",
        kind="text",
        content=b"Lesion on the left arm.",
        sha256="1" * 64,
        text="Lesion on the left arm.",
    )
    Evidence.objects.create(denial=denial, document=document, start=0, end=10, quote="Lesion on ", kind="separate-site")
    appeal = appeal_services.appeal_create(denials=[denial], actor=rows.manager)
    expected = appeal_package(appeal=appeal, with_content=False).denials[0].corrected_line
    assert expected is not None and expected.modifier == "XS"
    for changes in ({"status": "ready"}, {"status": "submitted", "submitted_on": TODAY, "method": "fax"}):
        appeal = appeal_services.appeal_update(
            appeal=appeal, expected_version=appeal.version, actor=rows.manager, **changes
        )
    assert SentModifier.objects.get(appeal=appeal).modifier == "XS"
    figures_refresh(full=True)  # the bare update of D7 bumped no version
    found = _success(appeal_figures.appeal_success(user=rows.manager, filters=Filters(), by="modifier"))
    assert found["XS"][0] == 2  # A1 (D1) and this one


# --- Every number links to exactly the rows it counts --------------------------------------------------
def _listed(client: Any, href: str) -> int:
    response = client.get(href)
    assert response.status_code == 200, href
    form = response.context["form"]
    assert not form.errors, (href, form.errors)  # a filter the list ignored would show other rows
    return response.context["page"].paginator.count


def _linked_counts(tables: list[Any]) -> list[tuple[str, str, Any, str]]:
    """(table, column, number, link) for every linked count on the tables."""
    found = []
    for table in tables:
        for row in table.rows:
            for cell, column in zip(row, table.columns, strict=True):
                if column.kind == "int" and cell.href:
                    found.append((table.id, column.key, cell.value, cell.href))
    return found


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"setting": "practitioner"},
        {"from": "2026-01-01", "to": "2026-02-28", "specialty": "Dermatology"},
        {"payer": "p2"},
        {"team": "team", "specialty": "Pain management"},
    ],
    ids=["no filters", "setting", "dates and specialty", "payer", "team and specialty"],
)
def test_each_linked_count_opens_a_list_of_exactly_that_many_rows(rows, client, params):
    from appeals import analytics_tables as tables

    values = {"p2": str(rows.p2.pk), "team": str(rows.team.pk)}
    filters = filters_parse(params={k: values.get(v, v) for k, v in params.items()}, user=rows.manager)
    built = [tables.build_table(table_id=t, user=rows.manager, filters=filters) for t in tables.table_ids()]
    linked = _linked_counts(built)
    client.force_login(rows.manager)
    checked = 0
    for table_id, column, number, href in linked:
        assert _listed(client, href) == number, (table_id, column, href)
        checked += 1
    assert checked >= 5
    # Every count on the page links somewhere, but the denial rate's claim counts: claims, not
    # rows of a list (its dollars denied link to the denials).
    unlinked = [
        (t.id, c.key, cell.value)
        for t in built
        for row in t.rows
        for cell, c in zip(row, t.columns, strict=True)
        if c.kind == "int" and not cell.href and cell.value and c.key not in ("claims", "denied_claims")
    ]
    assert unlinked == []


def test_a_month_and_a_coder_link_to_their_appeals(rows, client):
    from appeals import analytics_tables as tables

    client.force_login(rows.manager)
    months = tables.build_table(table_id="appeal-success-month", user=rows.manager, filters=Filters())
    january = next(r for r in months.rows if r[0].value == "2026-01")
    assert "started_from=2026-01-01" in january[1].href and "started_to=2026-01-31" in january[1].href
    assert _listed(client, january[1].href) == 1
    coders = tables.build_table(table_id="appeal-success-coder", user=rows.manager, filters=Filters())
    assert f"created_by={rows.manager.pk}" in coders.rows[0][1].href
    assert _listed(client, coders.rows[0][1].href) == 3
    # The lost count of the CO-50 group: A2, upheld.
    carcs = tables.build_table(table_id="appeal-success-carc", user=rows.manager, filters=Filters())
    co50 = next(r for r in carcs.rows if r[0].value == "CO-50")
    lost = co50[1 + [c.key for c in tables.SUCCESS_COLUMNS].index("lost")]
    assert lost.value == 1 and "outcome=upheld" in lost.href
    response = client.get(lost.href)
    assert [a.pk for a in response.context["page"].object_list] == [rows.a2.pk]
    assert "Also filtered by" in response.content.decode() and "CARC: CO-50" in response.content.decode()


def test_the_charts_carry_the_links_of_their_bars(rows, client):
    client.force_login(rows.manager)
    _page, shown = _dashboard(client)
    trend = shown["denial-trend"].chart
    assert len(trend["links"]) == len(trend["datasets"])  # one list of links per category
    assert all(len(links) == len(trend["labels"]) for links in trend["links"])
    assert all(href.startswith("/worklist/?") for links in trend["links"] for href in links)
    recovered = shown["recovered"].chart
    assert recovered["links"] and all("decided_from=" in href for href in recovered["links"])


def test_the_appeals_list_refuses_an_unknown_setting_or_specialty_in_words(rows, client):
    client.force_login(rows.manager)
    response = client.get("/appeals/?specialty=Astrology")
    assert "not a specialty" in response.content.decode()
    api = _api(rows.manager).get("/api/appeals/?setting=moon")
    assert api.status_code == 400 and "setting" in api.json()
