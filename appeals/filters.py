"""The appeals list's filters and sort orders: one ``FilterSet`` for the page and the API, so
``/appeals/?overdue=true&sort=-amount`` and ``/api/appeals/?overdue=true&sort=-amount`` answer
the same rows.

Filters: status, payer, level, due soon (unsent and due within 7 days), overdue (unsent and past
due), NCCI edit (Column 1 and/or Column 2 of a covered denial), coder. "Coder" is the person who
works the appeal: whoever created it, or the assignee of one of its denials (a manager who
starts an appeal for a coder's denial still finds it under that coder). Sort (``sort``): due
date, amount at stake, created, status; a leading "-" reverses.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from appeals import selectors
from appeals import vocabulary as v
from appeals.models import Appeal

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


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorts as asked, then by id, so equal values keep one order from page to page."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in ([], (), {}, "", None):
            return qs
        ordering = [self.get_ordering_value(param) for param in value if param]
        return qs.order_by(*ordering, "id") if ordering else qs


class AppealFilter(django_filters.FilterSet):
    """Used by ``appeals.views.appeal_list`` and ``appeals.api.AppealViewSet`` on the user's
    visible appeals (``selectors.appeal_list``, which annotates ``amount_at_stake``)."""

    status = django_filters.ChoiceFilter(choices=v.choices(v.STATUSES), empty_label="Any status")
    # Ids, not model choices: an id the user's appeals do not involve matches nothing (as the
    # API always answered), and the page builds its own lists of payers and people.
    payer = django_filters.NumberFilter(field_name="claim__payer_id", label="Payer")
    level = django_filters.ChoiceFilter(choices=v.choices(v.LEVELS), empty_label="Any level")
    due_soon = django_filters.CharFilter(method="filter_due_soon", label="Due within 7 days")
    overdue = django_filters.CharFilter(method="filter_overdue", label="Overdue (not sent, past due)")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label="Due on or before")
    column1 = django_filters.CharFilter(method="filter_column1", label="NCCI Column 1", max_length=5)
    column2 = django_filters.CharFilter(method="filter_column2", label="NCCI Column 2", max_length=5)
    coder = django_filters.NumberFilter(method="filter_coder", label="Coder")
    sort = StableOrderingFilter(
        fields={field: param for param, (field, _label) in SORTS.items()},
        field_labels=dict(SORTS.values()),
        label="Sort by",
    )

    class Meta:
        model = Appeal
        fields = ["status", "payer", "level", "due_soon", "overdue", "due_before", "column1", "column2", "coder"]

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

    def _edit(self, queryset: QuerySet[Appeal], field: str, value: str) -> QuerySet[Appeal]:
        code = (value or "").strip().upper()
        if not code:
            return queryset
        through = Appeal.denials.through.objects.filter(**{f"denial__{field}": code}).values("appeal_id")
        return queryset.filter(pk__in=through)

    def filter_column1(self, queryset: QuerySet[Appeal], name: str, value: str) -> QuerySet[Appeal]:
        return self._edit(queryset, "ncci_column1", value)

    def filter_column2(self, queryset: QuerySet[Appeal], name: str, value: str) -> QuerySet[Appeal]:
        return self._edit(queryset, "ncci_column2", value)

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
