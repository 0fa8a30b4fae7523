"""The appeals list's filters and sort orders: one ``FilterSet`` for the page and the API, so
``/appeals/?overdue=true&sort=-amount`` and ``/api/appeals/?overdue=true&sort=-amount`` answer
the same rows.

Filters: status, payer, level, due soon (unsent and due within 7 days), overdue (unsent and past
due), coder, created by, started (``started_from``/``started_to``, the day it was created),
decided (``decided_from``/``decided_to``), outcome, and the filters of a covered line: NCCI edit
(Column 1 and/or Column 2), CARC (``97`` or ``CO-97``), category, modifier used, team (of the
line's work queue), NCCI setting and specialty (of the line's procedure code). "Coder" is the
person who works the appeal: whoever created it, or the assignee of one of its denials (a manager
who starts an appeal for a coder's denial still finds it under that coder); "created by" is only
who created it (the dashboard's coder grouping). Sort (``sort``): due date, amount at stake,
created, status; a leading "-" reverses.

The line filters are applied together: an appeal is listed when one line the user may see
matches every one of them, which is how the managers' dashboard (``appeals.analytics``) puts an
appeal in a group, so a dashboard number and the list it links to count the same appeals.

``outcome``: ``overturned``, ``partially-paid``, ``upheld`` (decided so), ``decided`` (any of
those three), ``pending`` (draft, ready or submitted), ``withdrawn`` (withdrawn, or decided
"withdrawn"): the dashboard's won, partly won, lost, decided, pending and withdrawn.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from appeals import selectors
from appeals import vocabulary as v
from appeals.models import Appeal
from denials import vocabulary as denial_words
from denials.filter_fields import IdFilter

TRUE_FALSE = [("true", "Yes"), ("false", "No")]

#: ``sort`` values (a leading "-" reverses): field sorted on, and its label. "amount" sorts on the
#: annotated amount at stake.
SORTS: dict[str, tuple[str, str]] = {
    "due": ("due_date", "Due date"),
    "amount": ("amount_at_stake", "Amount at stake"),
    "created": ("created_at", "Created"),
    "status": ("status", "Status"),
}


def _flag(value: Any) -> bool | None:
    """'true'/'1'/'yes' or 'false'/'0'/'no' (the page's checkboxes send 'true'); anything else: no filter."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    return None


OUTCOME_CHOICES = [
    ("overturned", "Won (overturned)"),
    ("partially-paid", "Partly won"),
    ("upheld", "Lost (upheld)"),
    ("decided", "Decided (won, partly won or lost)"),
    ("pending", "Pending (not decided yet)"),
    ("withdrawn", "Withdrawn"),
]
#: The dashboard's outcome buckets (``appeals.analytics``: WON, PARTIAL, LOST, DECIDED, PENDING,
#: WITHDRAWN), on the appeal itself.
OUTCOME_CONDITIONS: dict[str, Q] = {
    "overturned": Q(status=v.STATUS_DECIDED, outcome=v.OUTCOME_OVERTURNED),
    "partially-paid": Q(status=v.STATUS_DECIDED, outcome=v.OUTCOME_PARTIALLY_PAID),
    "upheld": Q(status=v.STATUS_DECIDED, outcome=v.OUTCOME_UPHELD),
    "decided": Q(status=v.STATUS_DECIDED) & ~Q(outcome=v.OUTCOME_WITHDRAWN),
    "pending": Q(status__in=v.OPEN_STATUSES),
    "withdrawn": Q(status=v.STATUS_WITHDRAWN) | Q(status=v.STATUS_DECIDED, outcome=v.OUTCOME_WITHDRAWN),
}
#: Filters read from a covered line (``Appeal.denials.through`` rows), applied together.
LINE_FILTERS = ("column1", "column2", "carc", "category", "modifier", "team", "setting", "specialty", "bundling")


def _line_conditions(values: dict[str, Any]) -> Q | None:
    """One Q over through rows for the line filters given, or None when none is."""
    q = Q()
    used = False
    for name, value in values.items():
        if value in (None, ""):
            continue
        used = True
        text = str(value).strip()
        if name in ("column1", "column2"):
            q &= Q(**{f"denial__ncci_{name}": text.upper()})
        elif name == "carc":
            group, _, carc = text.upper().rpartition("-")
            q &= Q(denial__carc=carc) & (Q(denial__group_code=group) if group else Q())
        elif name == "category":
            q &= Q(denial__category=text)
        elif name == "modifier":
            q &= Q(modifier_used="" if text.lower() == "none" else text.upper())
        elif name == "team":
            q &= Q(denial__queue__team_id=int(value))
        elif name == "setting":
            q &= Q(denial__ncci_setting=text.lower())
        elif name == "specialty":
            q &= _specialty_q(text)
        elif name == "bundling":
            flag = _flag(text)
            if flag is None:
                continue
            bundling = Q(denial__category__in=denial_words.BUNDLING_CATEGORIES)
            q &= bundling if flag else ~bundling
    return q if used else None


def _specialty_q(specialty: str) -> Q:
    """Lines whose procedure code the admin-edited ranges put in ``specialty`` (a claim-level line:
    "Unmapped"), as ``denials.analytics`` counts them."""
    from denials.analytics import codes_of_specialty
    from ncci.specialties import UNMAPPED

    present = (
        Appeal.denials.through.objects.filter(denial__line__isnull=False)
        .order_by()
        .values_list("denial__line__procedure_code", flat=True)
        .distinct()
    )
    codes = codes_of_specialty(present, specialty)
    if specialty.lower() == UNMAPPED.lower():
        return Q(denial__line__isnull=True) | Q(denial__line__procedure_code__in=codes)
    return Q(denial__line__procedure_code__in=codes)


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorts as asked, then by id, so equal values keep one order from page to page."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in ([], (), {}, "", None):
            return qs
        ordering = [self.get_ordering_value(param) for param in value if param]
        return qs.order_by(*ordering, "id") if ordering else qs


class AppealFilterForm(forms.Form):
    """Checks what a plain field cannot: the NCCI setting and the specialty are known names."""

    def clean_setting(self) -> str:
        from ncci.models import Setting

        value = (self.cleaned_data.get("setting") or "").strip().lower()
        if value and value not in Setting.values:
            raise forms.ValidationError(f"{value!r} is not an NCCI setting; use one of {', '.join(Setting.values)}.")
        return value

    def clean_specialty(self) -> str:
        from denials.analytics import specialty_names

        value = (self.cleaned_data.get("specialty") or "").strip()
        if not value:
            return ""
        known = specialty_names()
        match = next((name for name in known if name.lower() == value.lower()), None)
        if match is None:
            raise forms.ValidationError(f"{value!r} is not a specialty; use one of {', '.join(known)}.")
        return match


class AppealFilter(django_filters.FilterSet):
    """Used by ``appeals.views.appeal_list`` and ``appeals.api.AppealViewSet`` on the user's
    visible appeals (``selectors.appeal_list``, which annotates ``amount_at_stake``)."""

    status = django_filters.ChoiceFilter(choices=v.choices(v.STATUSES), empty_label="Any status")
    # Ids, not model choices: an id the user's appeals do not involve matches nothing (as the
    # API always answered), and the page builds its own lists of payers and people.
    payer = IdFilter(field_name="claim__payer_id", label="Payer")
    level = django_filters.ChoiceFilter(choices=v.choices(v.LEVELS), empty_label="Any level")
    due_soon = django_filters.CharFilter(method="filter_due_soon", label="Due within 7 days")
    overdue = django_filters.CharFilter(method="filter_overdue", label="Overdue (not sent, past due)")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label="Due on or before")
    column1 = django_filters.CharFilter(method="filter_line", label="NCCI Column 1", max_length=5)
    column2 = django_filters.CharFilter(method="filter_line", label="NCCI Column 2", max_length=5)
    carc = django_filters.CharFilter(method="filter_line", label="CARC", max_length=8)
    category = django_filters.ChoiceFilter(
        method="filter_line", choices=denial_words.choices(denial_words.CATEGORIES), empty_label="Any category"
    )
    modifier = django_filters.CharFilter(
        method="filter_line", label="Modifier used", max_length=4, help_text='"none" for no modifier'
    )
    team = IdFilter(method="filter_line", label="Team")
    setting = django_filters.CharFilter(method="filter_line", label="NCCI setting", max_length=20)
    specialty = django_filters.CharFilter(method="filter_line", label="Specialty", max_length=80)
    bundling = django_filters.CharFilter(method="filter_line", label="A bundling denial (any bundling category)")
    first_level = django_filters.CharFilter(method="filter_first_level", label="First level of its ladder")
    coder = IdFilter(method="filter_coder", label="Coder")
    created_by = IdFilter(field_name="created_by_id", label="Created by")
    started_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Started on or after"
    )
    started_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Started on or before"
    )
    decided_from = django_filters.DateFilter(field_name="decided_on", lookup_expr="gte", label="Decided on or after")
    decided_to = django_filters.DateFilter(field_name="decided_on", lookup_expr="lte", label="Decided on or before")
    outcome = django_filters.ChoiceFilter(
        method="filter_outcome", choices=OUTCOME_CHOICES, empty_label="Any outcome", label="Outcome"
    )
    sort = StableOrderingFilter(
        fields={field: param for param, (field, _label) in SORTS.items()},
        field_labels=dict(SORTS.values()),
        label="Sort by",
    )

    class Meta:
        model = Appeal
        form = AppealFilterForm
        fields = [
            "status",
            "payer",
            "level",
            "due_soon",
            "overdue",
            "due_before",
            "column1",
            "column2",
            "carc",
            "category",
            "modifier",
            "team",
            "setting",
            "specialty",
            "bundling",
            "first_level",
            "coder",
            "created_by",
            "started_from",
            "started_to",
            "decided_from",
            "decided_to",
            "outcome",
        ]

    def filter_line(self, queryset: QuerySet[Appeal], name: str, value: Any) -> QuerySet[Appeal]:
        return queryset  # applied together in ``filter_queryset`` (one covered line matches all)

    def filter_queryset(self, queryset: QuerySet[Appeal]) -> QuerySet[Appeal]:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        lines = _line_conditions({name: data.get(name) for name in LINE_FILTERS})
        if lines is None:
            return queryset
        through = Appeal.denials.through.objects.all()
        user = getattr(getattr(self, "request", None), "user", None)
        if user is not None:
            from denials.selectors import denials_visible_to

            through = through.filter(denial_id__in=denials_visible_to(user=user).values("pk"))
        if data.get("modifier"):
            from appeals.analytics import modifier_used_sql

            through = through.annotate(modifier_used=modifier_used_sql())
        return queryset.filter(pk__in=through.filter(lines).values("appeal_id"))

    def filter_first_level(self, queryset: QuerySet[Appeal], name: str, value: Any) -> QuerySet[Appeal]:
        from appeals.analytics import FIRST_LEVELS

        flag = _flag(value)
        if flag is None:
            return queryset
        return queryset.filter(level__in=FIRST_LEVELS) if flag else queryset.exclude(level__in=FIRST_LEVELS)

    def filter_outcome(self, queryset: QuerySet[Appeal], name: str, value: str) -> QuerySet[Appeal]:
        condition = OUTCOME_CONDITIONS.get(value)
        return queryset.filter(condition) if condition is not None else queryset

    def filter_due_soon(self, queryset: QuerySet[Appeal], name: str, value: Any) -> QuerySet[Appeal]:
        flag = _flag(value)
        if flag is None:
            return queryset
        return queryset.filter(selectors.due_soon_q()) if flag else queryset.exclude(selectors.due_soon_q())

    def filter_overdue(self, queryset: QuerySet[Appeal], name: str, value: Any) -> QuerySet[Appeal]:
        flag = _flag(value)
        if flag is None:
            return queryset
        return queryset.filter(selectors.overdue_q()) if flag else queryset.exclude(selectors.overdue_q())

    def filter_coder(self, queryset: QuerySet[Appeal], name: str, value: Any) -> QuerySet[Appeal]:
        if value is None:
            return queryset
        assigned = Appeal.denials.through.objects.filter(denial__assignee_id=value).values("appeal_id")
        return queryset.filter(Q(created_by_id=value) | Q(pk__in=assigned))

    @property
    def used(self) -> bool:
        """Whether any filter (not the sort) narrows the list."""
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return any(data.get(name) not in (None, "", []) for name in self.Meta.fields)
