"""Filter fields shared by every list that takes ids in its query string (the API's filters and
the appeals list): an id is a whole number from 1 up to what the database's integers hold, so
``?payer=-6.1e131`` or ``?file=99999999999999999999`` gets a 400 naming the parameter instead of
reaching the database (where SQLite overflows and PostgreSQL refuses the value: a 500)."""

from __future__ import annotations

from django import forms
from django_filters import NumberFilter

#: The largest value a 64-bit signed integer column holds (SQLite's INTEGER, PostgreSQL's bigint).
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": "Enter an id: a whole number such as 12.",
                "min_value": "Enter an id: a whole number from 1.",
                "max_value": "No record has an id that large.",
            },
        )
        super().__init__(**kwargs)  # type: ignore[arg-type]


class IdFilter(NumberFilter):
    """An id in the query string (``?payer=12``): whole numbers from 1 to ``MAX_ID`` only."""

    field_class = IdField
