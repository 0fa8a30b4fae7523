"""Forms of the ncci pages: code search, the claim scrubber, NCCI file uploads."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from ncci.models import Setting
from ncci.scrubber import looks_like_procedure_code

SETTING_CHOICES = [("", "All settings"), *Setting.choices]
DIRECTION_CHOICES = [
    ("both", "Both directions"),
    ("column1", "As Column 1 (paid)"),
    ("column2", "As Column 2 (bundled)"),
]


class DateInput(forms.DateInput):
    input_type = "date"


class SearchForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=60,
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": "CPT/HCPCS code, e.g. 17000",
                "autocomplete": "off",
                "data-search": "",
                "spellcheck": "false",
            }
        ),
    )
    setting = forms.ChoiceField(label="Setting", choices=SETTING_CHOICES, required=False)
    date = forms.DateField(label="In force on", required=False, widget=DateInput, help_text="Default: today")
    direction = forms.ChoiceField(label="Direction", choices=DIRECTION_CHOICES, required=False)
    in_force_only = forms.BooleanField(label="Only edits in force on that date", required=False)

    def clean_code(self) -> str:
        return " ".join(self.cleaned_data["code"].split()).upper()

    def clean_direction(self) -> str:
        return self.cleaned_data["direction"] or "both"


def is_code(text: str) -> bool:
    return looks_like_procedure_code(text)


class ScrubForm(forms.Form):
    setting = forms.ChoiceField(label="Setting", choices=Setting.choices, initial=Setting.PRACTITIONER)
    date_of_service = forms.DateField(label="Date of service", widget=DateInput)


_MODIFIER_SPLIT = re.compile(r"[\s,;/-]+")


class ScrubLineForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 7, "spellcheck": "false"}),
    )
    modifiers = forms.CharField(
        label="Modifiers",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 12, "placeholder": "e.g. 25 or XS RT"}),
    )
    units = forms.IntegerField(
        label="Units", min_value=1, max_value=99_999, required=False, widget=forms.NumberInput(attrs={"min": 1})
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if code and not is_code(code):
            raise forms.ValidationError("Enter a 5-character CPT/HCPCS code.")
        return code

    def clean_modifiers(self) -> list[str]:
        modifiers = [m.upper() for m in _MODIFIER_SPLIT.split(self.cleaned_data["modifiers"].strip()) if m]
        if len(modifiers) > 4:
            raise forms.ValidationError("A line carries at most four modifiers.")
        for modifier in modifiers:
            if len(modifier) != 2 or not modifier.isalnum():
                raise forms.ValidationError(f"{modifier!r} is not a 2-character modifier.")
        return modifiers

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("code") and (data.get("modifiers") or data.get("units")) and not self.errors:
            self.add_error("code", "Enter the code for this line, or clear it.")
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".zip,.txt,.TXT,.csv,.xlsx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            if not data:
                return [single(None, initial)]
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class NcciUploadForm(forms.Form):
    files = MultipleFileField(  # type: ignore[assignment]  # a field, popped from the class by Django
        label="CMS NCCI files",
        help_text="The zip archives as CMS publishes them, or the .txt/.csv/.xlsx inside. Several at once is fine.",
    )
    table = forms.ChoiceField(
        label="Table", required=False, choices=[("", "Detect from the file"), ("ptp", "PTP edits"), ("mue", "MUE")]
    )
    setting = forms.ChoiceField(
        label="Setting", required=False, choices=[("", "Detect from the file"), *Setting.choices]
    )
    quarter = forms.CharField(
        label="Quarter",
        required=False,
        max_length=6,
        widget=forms.TextInput(attrs={"placeholder": "e.g. 2026Q3"}),
        help_text="Blank: from the file name.",
    )

    def clean_quarter(self) -> str:
        quarter = self.cleaned_data["quarter"].strip().upper()
        if quarter and not re.fullmatch(r"\d{4}Q[1-4]", quarter):
            raise forms.ValidationError("A quarter looks like 2026Q3.")
        return quarter


class CodeListUploadForm(forms.Form):
    code_list = forms.ChoiceField(
        label="List",
        choices=[
            ("carc", "CARC: claim adjustment reason codes"),
            ("rarc", "RARC: remittance advice remark codes"),
            ("procedure", "Procedure codes (CPT/HCPCS)"),
        ],
    )
    file = forms.FileField(
        label="File",
        help_text="CSV, TSV or XLSX with a header row.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx"}),
    )
    skip_refused = forms.BooleanField(
        label="Import the good rows even when some rows are refused",
        required=False,
        help_text="Off: a file with any refused row changes nothing, and the report lists the rows to fix.",
    )
