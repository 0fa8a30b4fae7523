from __future__ import annotations

from django import forms

from denials.models import ClaimPayment, Payer


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".835,.txt,.edi,.x12,.dat"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):  # type: ignore[no-untyped-def]
        single = super().clean
        if isinstance(data, (list, tuple)):
            if not data:
                return [single(None, initial)]  # raises "required"
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(label="835 remittance files", help_text="Choose one or more files.")

    def clean_files(self):  # type: ignore[no-untyped-def]
        from django.conf import settings

        files = self.cleaned_data["files"]
        for f in files:
            if f.size > settings.MAX_REMITTANCE_FILE_BYTES:
                raise forms.ValidationError(
                    f"{f.name} is {f.size:,} bytes; the limit is {settings.MAX_REMITTANCE_FILE_BYTES:,}."
                )
        return files


STATUS_CHOICES = [("", "Any status")] + [(k, f"{k}: {v}") for k, v in ClaimPayment.STATUS_LABELS.items()]


class ClaimFilterForm(forms.Form):
    pcn = forms.CharField(label="Patient control number", required=False)
    payer_claim = forms.CharField(label="Payer claim number", required=False)
    payer = forms.ModelChoiceField(label="Payer", queryset=Payer.objects.all(), required=False, empty_label="Any payer")
    status = forms.ChoiceField(label="Claim status", choices=STATUS_CHOICES, required=False)
