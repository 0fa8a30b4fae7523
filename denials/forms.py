from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from django import forms

from denials import vocabulary
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
    """The upload page's form. Its one field is named "files" (the page's input name), which
    ``Form`` already uses for the uploaded files themselves, so it is added per instance
    rather than declared on the class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"] = MultipleFileField(label="835 remittance files", help_text="Choose one or more files.")

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
    """Filters that identify nobody, so they may live in the URL (GET): payer and status."""

    FIELDS = ("payer", "status")

    payer = forms.ModelChoiceField(label="Payer", queryset=Payer.objects.all(), required=False, empty_label="Any payer")
    status = forms.ChoiceField(label="Claim status", choices=STATUS_CHOICES, required=False)

    def query_string(self) -> str:
        """The valid filters as a query string, for links back to the plain list."""
        from urllib.parse import urlencode

        self.is_valid()
        return urlencode(
            [(name, self.data[name]) for name in self.FIELDS if self.data.get(name) and name not in self.errors]
        )


class ClaimSearchForm(forms.Form):
    """Finding a claim by its numbers: POST only, because a patient control number in a
    query string ends up in access logs, browser history and Referer headers."""

    pcn = forms.CharField(label="Patient control number", required=False, max_length=50)
    payer_claim = forms.CharField(label="Payer claim number", required=False, max_length=50)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


# --- The coder's worklist --------------------------------------------------------------
AGE_CHOICES = [
    ("", "Any age"),
    ("0-30", "0 to 30 days"),
    ("31-60", "31 to 60 days"),
    ("61-90", "61 to 90 days"),
    ("91-", "Over 90 days"),
]
DUE_CHOICES = [
    ("", "Any deadline"),
    ("overdue", "Overdue"),
    ("7", "Due within 7 days"),
    ("30", "Due within 30 days"),
    ("90", "Due within 90 days"),
]
SORT_CHOICES = [
    ("priority", "Sort: priority"),
    ("due", "Sort: deadline, soonest"),
    ("amount", "Sort: at stake, largest"),
    ("recovery", "Sort: expected recovery"),
    ("age", "Sort: age, oldest"),
    ("dos", "Sort: date of service"),
    ("payer", "Sort: payer"),
    ("patient", "Sort: patient"),
]
PAGE_SIZES = [("", "50 rows"), (25, "25 rows"), (100, "100 rows")]  # blank: the default, 50
# The filters a worklist URL may carry (the search never does: it travels in a POST body).
FILTER_FIELDS = (
    "queue",
    "category",
    "payer",
    "carc",
    "rarc",
    "column1",
    "column2",
    "amount_min",
    "amount_max",
    "age",
    "due",
    "status",
    "assignee",
    "remitted_from",
    "remitted_to",
    "team",
    "setting",
    "specialty",
    "reason_given",
    "npi",
    "sort",
    "per_page",
)
MORE_FILTERS = (
    "carc",
    "rarc",
    "column1",
    "column2",
    "amount_min",
    "amount_max",
    "age",
    "due",
    "remitted_from",
    "remitted_to",
    "team",
    "setting",
    "specialty",
    "reason_given",
    "npi",
)


def _choices(form: forms.Form, name: str, choices: list[Any] | Callable[[], list[Any]]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


class WorklistFilterForm(forms.Form):
    """The filters of a worklist view; invalid values are reported and ignored, never fatal."""

    queue = forms.ChoiceField(
        label="Queue",
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That queue is not one of yours: showing your own work instead."},
    )
    category = forms.ChoiceField(label="Category", required=False)
    payer = forms.ModelChoiceField(
        label="Payer", queryset=Payer.objects.none(), required=False, empty_label="Any payer"
    )
    status = forms.ChoiceField(label="Status", required=False)
    assignee = forms.ChoiceField(label="Assignee", required=False)
    carc = forms.CharField(
        label="CARC", required=False, max_length=5, widget=forms.TextInput(attrs={"placeholder": "97", "size": 5})
    )
    rarc = forms.CharField(
        label="RARC", required=False, max_length=8, widget=forms.TextInput(attrs={"placeholder": "M15", "size": 6})
    )
    column1 = forms.CharField(
        label="NCCI Column 1",
        required=False,
        max_length=5,
        widget=forms.TextInput(attrs={"placeholder": "17000", "size": 6}),
    )
    column2 = forms.CharField(
        label="NCCI Column 2",
        required=False,
        max_length=5,
        widget=forms.TextInput(attrs={"placeholder": "11102", "size": 6}),
    )
    amount_min = forms.DecimalField(
        label="At stake from $",
        required=False,
        min_value=0,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "0"}),
    )
    amount_max = forms.DecimalField(
        label="to $",
        required=False,
        min_value=0,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "any"}),
    )
    age = forms.ChoiceField(label="Age", choices=AGE_CHOICES, required=False)
    due = forms.ChoiceField(label="Deadline", choices=DUE_CHOICES, required=False)
    remitted_from = forms.DateField(
        label="Remitted from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    remitted_to = forms.DateField(label="to", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.ChoiceField(label="Team", required=False)
    setting = forms.ChoiceField(label="NCCI setting", required=False)
    specialty = forms.ChoiceField(label="Specialty", required=False)
    # Not "reason": the bulk write-off form posts its own reason beside these filters.
    reason_given = forms.CharField(
        label="Reason given",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "as written on the write-off", "size": 16}),
    )
    npi = forms.RegexField(
        label="Rendering NPI",
        required=False,
        max_length=15,
        # As the remittance carried it (an NPI is 10 digits; "none": the claim named no provider).
        regex=r"^[A-Za-z0-9]+$",
        error_messages={"invalid": 'Letters and digits only, as on the remittance ("none" for no provider).'},
        widget=forms.TextInput(attrs={"placeholder": "1234567893", "size": 11}),
    )
    sort = forms.ChoiceField(label="Sort", choices=SORT_CHOICES, required=False)
    per_page = forms.TypedChoiceField(label="Rows", choices=PAGE_SIZES, coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        *args: Any,
        queues: list[Any],
        payers: Any,
        people: Any,
        teams: Any = (),
        specialties: Callable[[], list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        from denials.models import Denial
        from ncci.models import Setting

        super().__init__(*args, **kwargs)
        self.queue_summaries = queues
        self.people = list(people)
        # Read when the field is shown or checked, not on every page that never does.
        _choices(self, "team", lambda: [("", "Any team"), *((str(t.pk), t.name) for t in teams)])
        _choices(self, "setting", [("", "Any setting"), *Setting.choices])
        _choices(
            self,
            "specialty",
            lambda: [("", "Any specialty"), *((n, n) for n in (specialties() if specialties else ()))],
        )
        _choices(self, "queue", [(q.key, q.name) for q in queues])
        _choices(self, "category", vocabulary.choices(vocabulary.CATEGORIES, blank="Any category"))
        cast(forms.ModelChoiceField, self.fields["payer"]).queryset = payers
        _choices(
            self,
            "status",
            [
                ("", "Active work"),
                ("all", "Any status"),
                ("finished", "Finished (outcome recorded)"),
                *Denial.Status.choices,
            ],
        )
        _choices(
            self,
            "assignee",
            [
                ("", "Any assignee"),
                ("me", "Assigned to me"),
                ("none", "Unassigned"),
                *((str(p.pk), p.get_username()) for p in self.people),
            ],
        )

    def clean_amount_max(self) -> Decimal | None:
        low, high = self.cleaned_data.get("amount_min"), self.cleaned_data.get("amount_max")
        if low is not None and high is not None and high < low:
            raise forms.ValidationError("The upper amount is below the lower one.")
        return high

    def selector_kwargs(self) -> dict[str, Any]:
        """The valid filters as keyword arguments of selectors.denial_worklist."""
        self.is_valid()
        data = self.cleaned_data
        kwargs = {
            name: data.get(name) or ""
            for name in ("queue", "category", "carc", "rarc", "column1", "column2", "age", "due", "status", "assignee")
        }
        kwargs["sort"] = data.get("sort") or "priority"
        kwargs["payer_id"] = data["payer"].pk if data.get("payer") else None
        kwargs["amount_min"] = data.get("amount_min")
        kwargs["amount_max"] = data.get("amount_max")
        kwargs["remitted_from"] = data.get("remitted_from")
        kwargs["remitted_to"] = data.get("remitted_to")
        kwargs["team_id"] = int(data["team"]) if data.get("team") else None
        for name in ("setting", "specialty", "npi"):
            kwargs[name] = data.get(name) or ""
        kwargs["reason"] = data.get("reason_given") or ""
        return kwargs

    def clean_remitted_to(self) -> Any:
        low, high = self.cleaned_data.get("remitted_from"), self.cleaned_data.get("remitted_to")
        if low is not None and high is not None and high < low:
            raise forms.ValidationError("The end date is before the start date.")
        return high

    @property
    def page_size(self) -> int:
        self.is_valid()
        return self.cleaned_data.get("per_page") or 50

    @property
    def current_queue(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("queue") or ""

    @property
    def current_queue_summary(self) -> Any:
        return next((q for q in self.queue_summaries if q.key == self.current_queue), None)

    def filter_items(self) -> list[tuple[str, str]]:
        """The filters in force, as (name, value): hidden fields of forms that act on this view."""
        self.is_valid()
        return [
            (name, str(self.data[name])) for name in FILTER_FIELDS if self.data.get(name) and name not in self.errors
        ]

    # The row table's columns: (sort key or "", heading, class, the sort's direction).
    columns = [
        ("patient", "Patient · claim #", "", "ascending"),
        ("payer", "Payer · service date", "hide-narrow", "ascending"),
        ("", "Procedure · codes", "", ""),
        ("amount", "At stake · exp.", "num", "descending"),
        ("due", "Due · age", "num", "ascending"),
        ("", "Category · assignee", "", ""),
    ]

    def main_fields(self) -> list[Any]:
        return [self[name] for name in ("category", "payer", "status", "assignee", "sort")]

    def more_fields(self) -> list[Any]:
        return [self[name] for name in (*MORE_FILTERS, "per_page")]

    @property
    def has_filters(self) -> bool:
        return any(name not in ("queue", "sort", "per_page") for name, _ in self.filter_items())

    @property
    def more_filters_used(self) -> bool:
        return any(self.data.get(name) for name in MORE_FILTERS)


class SearchForm(forms.Form):
    search = forms.CharField(label="Search patient, member id or claim number", max_length=100, required=False)
    page = forms.IntegerField(required=False, min_value=1)


class VersionedForm(forms.Form):
    """Every form on the denial page carries the version the person saw
    (see denials.services.worklist._denial_update)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _person(value: str, user: Any) -> Any:
    """ "me", a user id, or "" (nobody) -> the user or None; the lookup is a selector's."""
    from denials.selectors import person_by_id

    if value == "me":
        return user
    if not value:
        return None
    person = person_by_id(person_id=value)
    if person is None:
        raise forms.ValidationError("Choose someone on the team.")
    return person


class AssignForm(VersionedForm):
    # "me", a user id (managers), or "" to unassign.
    assignee = forms.CharField(required=False, label="Assign to")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_assignee(self) -> Any:
        return _person(self.cleaned_data.get("assignee", ""), self.user)


# What a coder may record: the words are the vocabulary's. "Send to appeal" is not among them:
# the Appeal button starts a real appeal (see ``vocabulary.OUTCOMES_NOT_ON_THE_FORM``).
OUTCOME_CHOICES = vocabulary.outcome_choices()


class OutcomeForm(VersionedForm):
    ACTIONS = vocabulary.OUTCOME_LABELS

    action = forms.ChoiceField(
        label="What was done",
        choices=OUTCOME_CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "Choose what was done from the list. To appeal, use the Appeal button above: "
            "it starts an appeal with its level and deadline."
        },
    )
    modifier = forms.CharField(label="Modifier on the corrected line", required=False, max_length=2)
    reason = forms.CharField(
        label="Reason or note", required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    # Which field a refusal of each action belongs next to.
    REFUSAL_FIELD = {
        vocabulary.OUTCOME_CORRECTED_CLAIM: "modifier",
        vocabulary.OUTCOME_WRITE_OFF: "reason",
        vocabulary.OUTCOME_REQUEST_INFO: "reason",
        vocabulary.OUTCOME_ESCALATE: "reason",
    }


class NoteForm(VersionedForm):
    # Additive: a note, a document or a passage never overwrites anyone's work, so the
    # version is carried but not required to match.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    body = forms.CharField(label="Add a note", max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class DocumentForm(VersionedForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    file = forms.FileField(
        label="Clinical document (plain text or PDF)",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.pdf,text/plain,application/pdf"}),
    )
    title = forms.CharField(
        label="Title",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Operative note, 2026-09-14"}),
    )

    MAX_BYTES = 10 * 1024 * 1024

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(f"{upload.name} is {upload.size:,} bytes; the limit is {self.MAX_BYTES:,}.")
        return upload


class EvidenceForm(VersionedForm):
    """A passage of a document: offsets from the browser's selection, or just the quoted words
    (typed or pasted, for keyboard users), which are then found in the document text."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    document = forms.IntegerField(widget=forms.HiddenInput)
    start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    quote = forms.CharField(
        label="Passage",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Select text in the note above, or type words from it"}),
    )
    kind = forms.ChoiceField(label="Shows", choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from denials.models import Evidence

        super().__init__(*args, **kwargs)
        _choices(self, "kind", list(Evidence.Kind.choices))

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        no_offsets = data.get("start") is None or data.get("end") is None
        if no_offsets and not (data.get("quote") or "").strip():
            raise forms.ValidationError("Select a passage in the document first.")
        return data

    @property
    def selection_quote(self) -> str:
        """The selected text, checked by the service against the offsets; blank when the
        offsets were found from typed words (they match by construction)."""
        has_offsets = self.data.get("start") not in (None, "") and self.data.get("end") not in (None, "")
        return self.cleaned_data.get("quote", "") if has_offsets else ""

    def offsets_in(self, text: str) -> tuple[int, int] | None:
        """(start, end) in the document text: the selection's, or where the quoted words are
        (found by ``selectors.passage_offsets``)."""
        from denials.selectors import passage_offsets

        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if start is not None and end is not None:
            return start, end
        return passage_offsets(text=text, quote=self.cleaned_data.get("quote") or "")


class IdListField(forms.Field):
    """Ticked row ids; anything that is not a number is dropped (the selector drops the rest)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        return [int(v) for v in values if str(v).isdigit()][:5000]


class BulkForm(forms.Form):
    ACTIONS = [("assign-me", "Assign to me"), ("assign", "Assign"), (vocabulary.OUTCOME_WRITE_OFF, "Write off")]

    action = forms.ChoiceField(choices=ACTIONS)
    ids = IdListField(required=False)
    all_matching = forms.BooleanField(required=False)
    assignee = forms.CharField(required=False)  # a user id (managers)
    reason = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if not data.get("ids") and not data.get("all_matching"):
            raise forms.ValidationError("Tick the denials to act on first.")
        action = data.get("action")
        if action == "assign-me":
            data["action"], data["assignee"] = "assign", self.user
        elif action == "assign":
            data["assignee"] = _person(data.get("assignee") or "", self.user)
            if data["assignee"] is None:
                raise forms.ValidationError("Choose who to assign them to.")
        return data
