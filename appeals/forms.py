"""Forms of the appeal pages. Each carries the appeal's ``version``: a save made from an
out-of-date page is refused by ``appeals.services.appeal_update`` (nothing saved, the
conflict shown in words). The rules themselves are the service's; these only read input."""

from __future__ import annotations

from typing import Any

from django import forms

from appeals import vocabulary as v

MISSING_VERSION = "The page was missing the appeal's version: reload it and try again."


class VersionedForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, error_messages={"required": MISSING_VERSION, "invalid": MISSING_VERSION}
    )


class StatusForm(VersionedForm):
    status = forms.ChoiceField(
        choices=v.choices(v.STATUSES),
        error_messages={"invalid_choice": "Choose a status from the buttons: %(value)s is not one."},
    )


class SubmitForm(VersionedForm):
    """Mark the appeal sent: when, how, and the payer's reference for it."""

    submitted_on = forms.DateField(
        label="Sent on",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Say when the appeal was sent.", "invalid": "Enter the date as YYYY-MM-DD."},
    )
    method = forms.ChoiceField(
        label="Sent by",
        choices=[("", "Choose…"), *v.choices(v.METHODS)],
        error_messages={"required": "Say how the appeal was sent (portal, fax, mail or clearinghouse)."},
    )
    payer_reference = forms.CharField(label="Payer's reference", required=False, max_length=80)


class DecideForm(VersionedForm):
    """The payer's decision: outcome, amount recovered, decision date."""

    outcome = forms.ChoiceField(
        label="Payer's decision",
        choices=[("", "Choose…"), *v.choices(v.OUTCOMES)],
        error_messages={"required": "Choose the payer's decision."},
    )
    amount_recovered = forms.DecimalField(
        label="Amount recovered",
        max_digits=14,
        decimal_places=2,
        required=False,
        error_messages={
            "invalid": "Enter an amount of money, like 125.00.",
            "max_decimal_places": "Enter the amount in dollars and cents (two decimals at most).",
        },
    )
    decided_on = forms.DateField(
        label="Decided on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes: dict[str, Any] = {"status": v.STATUS_DECIDED, "outcome": data["outcome"]}
        if data.get("amount_recovered") is not None:
            changes["amount_recovered"] = data["amount_recovered"]
        if data.get("decided_on"):
            changes["decided_on"] = data["decided_on"]
        return changes


class NotesForm(VersionedForm):
    notes = forms.CharField(label="Notes", required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))


class StartForm(forms.Form):
    """The Appeal button on the denial page: an optional route (a Medicare reopening)."""

    level = forms.ChoiceField(choices=[("", "First level"), *v.choices(v.LEVELS)], required=False)
