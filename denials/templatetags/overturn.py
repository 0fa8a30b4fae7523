"""Small template helpers: money, code meanings."""

from __future__ import annotations

import html
import itertools
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from denials import vocabulary

register = template.Library()


@register.filter
def money(value: Any) -> str:
    """$1,234.56 (negative amounts as -$1,234.56); blank for None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def lookup(mapping: Any, key: str) -> Any:
    if not mapping:
        return ""
    return mapping.get(key, "")


NO_WORDS = "no description loaded"


def _words(descriptions: Any, key: str) -> tuple[str, str]:
    """(summary, official text) of a code; a plain string counts as the official text."""
    value = (descriptions or {}).get(key, "") if hasattr(descriptions or {}, "get") else ""
    if not value:
        return "", ""
    summary = getattr(value, "summary", None)
    if summary is None:
        return "", str(value)
    return summary, getattr(value, "official", "")


def _can_import_codes(context: Any) -> bool:
    """Only admins get the link to the code-list importer (the page itself checks again)."""
    from denials.roles import is_admin

    request = context.get("request") if hasattr(context, "get") else None
    user = getattr(request, "user", None) or (context.get("user") if hasattr(context, "get") else None)
    return bool(user is not None and is_admin(user) and (user.is_superuser or user.is_staff))


def _no_words(context: Any, kind: str) -> str:
    from django.urls import reverse

    if not _can_import_codes(context):
        return format_html('<span class="code-missing">{}</span>', NO_WORDS)
    code_list = {"CARC": "carc", "RARC": "rarc", "CPT": "procedure"}.get(kind, "")
    url = reverse("ncci:code_import") + (f"?list={code_list}" if code_list else "")
    return format_html('<span class="code-missing">{} (<a href="{}">import the code list</a>)</span>', NO_WORDS, url)


@register.simple_tag
def code_chip(kind: str, code: str, descriptions: dict[str, str] | None = None, label: str = "") -> str:
    """A code with its meaning on hover and focus, e.g. CO-97: our summary, then the official text."""
    summary, official = _words(descriptions, f"{kind}:{code}")
    if summary and official and official != summary:
        meaning = f"{summary} (Official text: {official})"
    else:
        meaning = summary or official or f"{kind if kind != 'GROUP' else 'Group code'} {code}: {NO_WORDS}"
    return format_html('<abbr class="code" tabindex="0" title="{}">{}</abbr>', meaning, label or code)


@register.simple_tag(takes_context=True)
def describe(context: Any, kind: str, code: str, descriptions: dict[str, str] | None = None) -> str:
    """What a code means, in words: our plain-words summary first, then the official text
    (secondary, when loaded); "no description loaded" (with the importer's link for admins)
    when there is neither. Inline markup only: it is used inside paragraphs and cells."""
    summary, official = _words(descriptions, f"{kind}:{code}")
    if summary and official and official != summary:
        return format_html(
            '<span class="code-summary">{}</span> '
            '<small class="code-official" title="The official text">Official: {}</small>',
            summary,
            official,
        )
    if summary or official:
        return format_html('<span class="code-summary">{}</span>', summary or official)
    return _no_words(context, kind)


@register.simple_tag(takes_context=True)
def procedure_words(context: Any, code: str, descriptions: dict[str, str] | None = None) -> str:
    """A procedure code's short description as loaded (a licensed CPT file, the HCPCS file),
    or "no description loaded" (with the importer's link for admins)."""
    text = (descriptions or {}).get(code, "") if code else ""
    if text:
        return format_html('<span class="code-summary">{}</span>', text)
    return _no_words(context, "CPT")


@register.simple_tag
def modifier_chip(code: str, descriptions: dict[str, str] | None = None) -> str:
    """A modifier with its words on hover and focus ("LT: Left side"), or "no description loaded"."""
    words = (descriptions or {}).get(code, "")
    title = f"{code}: {words}" if words else f"Modifier {code}: {NO_WORDS}"
    return format_html('<abbr class="code mod" tabindex="0" title="{}">{}</abbr>', title, code)


# Django's own templates for these widgets (django/forms/widgets/*.html), written out here.
_INPUT_WIDGETS = frozenset(
    f"django/forms/widgets/{kind}.html" for kind in ("text", "number", "date", "hidden", "email", "search")
)
_SELECT_WIDGET = "django/forms/widgets/select.html"
_OPTION_WIDGET = "django/forms/widgets/select_option.html"


@register.simple_tag
def form_field(field: Any) -> str:
    """A form field's widget, as ``{{ field }}`` renders it, for text-like inputs and single
    selects built here from the widget's own context (values, ``selected``, attributes).

    A filter bar has some twenty fields and a hundred options; through the widget templates
    (a template per option) they took longer to render than the rest of a queue page. Any
    other widget is rendered by Django as usual."""
    widget = field.field.widget
    if widget.template_name not in _INPUT_WIDGETS and widget.template_name != _SELECT_WIDGET:
        return field.as_widget()
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    if widget.template_name == _SELECT_WIDGET:
        return mark_safe(_select_html(context))  # every value went through _e()
    value = "" if context["value"] is None else f' value="{_e(context["value"])}"'
    return mark_safe(
        f'<input type="{_e(context["type"])}" name="{_e(context["name"])}"{value}{_attrs_html(context["attrs"])}>'
    )


def _select_html(context: dict[str, Any]) -> str:
    parts = [f'<select name="{_e(context["name"])}"{_attrs_html(context["attrs"])}>']
    for group_name, options, _ in context["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_e(group_name)}">')
        for option in options:
            if option["template_name"] != _OPTION_WIDGET:
                raise ValueError(f"form_field: no markup written for {option['template_name']}")
            attrs = _attrs_html(option["attrs"])
            # The option template's file ends with a newline, and so does each option.
            parts.append(f'\n  <option value="{_e(option["value"])}"{attrs}>{_e(option["label"])}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _attrs_html(attrs: dict[str, Any]) -> str:
    """Django's attrs.html: ``True`` as a bare attribute, ``False`` left out."""
    return "".join(
        f" {_e(name)}" if value is True else f' {_e(name)}="{_e(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


# --- The worklist and the denial page ---------------------------------------------------
# Tag colours per triage category; every tag also carries its words, never colour alone.
_v = vocabulary
CATEGORY_COLOURS: dict[str, str] = {
    _v.BUNDLING_MODIFIER_MAY_APPLY: "teal",
    _v.BUNDLING_APPEALABLE: "green",
    _v.BUNDLING_NOT_APPEALABLE: "grey",
    _v.BUNDLING_EDIT_NOT_IN_FORCE: "violet",
    _v.BUNDLING_NO_PTP_PAIR: "amber",
    _v.CODING: "blue",
    _v.MEDICAL_NECESSITY: "pink",
    _v.MISSING_INFORMATION: "amber",
    _v.AUTHORIZATION: "violet",
    _v.ELIGIBILITY: "blue",
    _v.DUPLICATE: "grey",
    _v.TIMELY_FILING: "red",
    _v.COORDINATION_OF_BENEFITS: "blue",
    _v.NON_COVERED: "pink",
    _v.PLAN_PROCEDURES: "violet",
    _v.PATIENT_RESPONSIBILITY: "amber",
    _v.CONTRACTUAL: "grey",
    _v.OTHER: "grey",
}
# What fits in a dense row (presentation, not a second label): the full label from the
# vocabulary is on hover and on the denial page.
CATEGORY_SHORT: dict[str, str] = {
    _v.BUNDLING_MODIFIER_MAY_APPLY: "Bundling · modifier may apply",
    _v.BUNDLING_APPEALABLE: "Bundling · appealable",
    _v.BUNDLING_NOT_APPEALABLE: "Bundling · not appealable",
    _v.BUNDLING_EDIT_NOT_IN_FORCE: "Bundling · edit not in force",
    _v.BUNDLING_NO_PTP_PAIR: "Bundling · no PTP pair",
    _v.COORDINATION_OF_BENEFITS: "Coordination of benefits",
    _v.AUTHORIZATION: "Authorization",
}


@register.simple_tag
def category_tag(slug: str, short: bool = True) -> str:
    """A category as a coloured tag; the words come from ``denials.vocabulary``, only the colour
    and the short form for dense rows are presentation kept here."""
    label = vocabulary.category_label(slug)
    if not slug:
        return format_html('<span class="tag tag-grey">{}</span>', label)
    text = CATEGORY_SHORT.get(slug, label) if short else label
    return format_html('<span class="tag tag-{}" title="{}">{}</span>', CATEGORY_COLOURS.get(slug, "grey"), label, text)


@register.filter
def action_label(slug: str) -> str:
    return vocabulary.action_label(slug)


@register.filter
def outcome_label(action: str) -> str:
    """What a coder recorded (an outcome action), in the outcome form's words."""
    return vocabulary.OUTCOME_LABELS.get(action, action.replace("-", " ").capitalize())


@register.filter
def indicator_words(indicator: str) -> str:
    from ncci.ptp import indicator_label

    return indicator_label(indicator, detail=True)


@register.simple_tag
def status_badge(denial: Any) -> str:
    return format_html('<span class="badge badge-status-{}">{}</span>', denial.status, denial.get_status_display())


def _today() -> Any:
    from django.utils import timezone

    return timezone.localdate()


@register.simple_tag
def due_in(due_date: Any) -> str:
    """Days to the appeal deadline, with due-soon (7 days or fewer) and overdue set apart in words."""
    return _due_in(due_date, today=_today())


def _due_in(due_date: Any, *, today: Any) -> str:
    if not due_date:
        return format_html('<span class="muted">{}</span>', "no deadline")
    days = (due_date - today).days
    title = f"Appeal due {due_date:%Y-%m-%d}"
    if days < 0:
        return format_html('<span class="overdue" title="{}">{} d</span>', title, -days)
    if days <= 7:
        return format_html('<span class="due-soon" title="{}">{} d</span>', title, days)
    return format_html('<span title="{}">{} d</span>', title, days)


@register.filter
def percent(value: Any) -> str:
    try:
        return f"{Decimal(value) * 100:.0f}%"
    except (InvalidOperation, TypeError):
        return ""


#: The short label of an evidence kind in a dense row: the modifier it supports, or "other".
EVIDENCE_KIND_SHORT = {**vocabulary.EVIDENCE_KIND_MODIFIERS, "other": "other"}


@register.filter
def evidence_kind_short(kind: str) -> str:
    return EVIDENCE_KIND_SHORT.get(kind, kind)


@register.filter
def evidence_kind_modifier(kind: str) -> str:
    """The X modifier a saved passage of this kind supports ('' for "other")."""
    return vocabulary.EVIDENCE_KIND_MODIFIERS.get(kind, "")


@register.simple_tag
def highlight_evidence(text: str, evidence: list[Any]) -> str:
    """The document text with saved passages wrapped in <mark class="evidence">.

    The marks only wrap text, so the element's textContent stays the document text and the
    browser's selection offsets (static/js/worklist.js) index the same string the server does.
    Overlapping passages are merged into one highlight per stretch of text.
    """
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    bounds = sorted({0, len(text), *(e.start for e in evidence), *(e.end for e in evidence)})
    out: list[str] = []
    for start, end in itertools.pairwise(bounds):
        if start >= end or start >= len(text):
            continue
        chunk = escape(text[start:end])
        covering = [e for e in evidence if e.start <= start and end <= e.end]
        if not covering:
            out.append(chunk)
            continue
        first = covering[0]
        last_piece = any(e.end == end for e in covering)
        label = evidence_kind_short(first.kind)
        attrs = f' data-evidence-id="{first.pk}" title="{escape(first.get_kind_display())}"'
        if last_piece:
            attrs += f' data-kind="{escape(label)}"'
        out.append(f'<mark class="evidence"{attrs}>{chunk}</mark>')
    return mark_safe("".join(out))  # every piece of text went through escape()


#: What an audit row's keys mean to a billing team. Keys not here are named from the target
#: model's field (its verbose name) or, failing that, the key in words; never the raw key.
AUDIT_FIELD_LABELS: dict[str, str] = {
    "status": "Status",
    "assignee_id": "Assignee",
    "chosen_modifier": "Modifier",
    "resolution_reason": "Reason",
    "outcome": "Outcome",
    "recovered_amount": "Recovered",
    "category": "Category",
    "queue": "Queue",
    "action": "Next step",
    "kind": "Kind",
    "quote": "Passage",
    "note": "Note",
    "name": "File",
    "error": "Error",
    "source": "Received by",
    "rows_added": "Rows added",
}
#: Keys that are ids or fingerprints: nothing a person reads.
AUDIT_HIDDEN_KEYS = frozenset({"sha256", "evidence", "document", "version", "id"})


def _audit_value_choices(event: Any, key: str) -> dict[str, str]:
    """The labels of a choice field of the event's target model ({} when it has none)."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.exceptions import FieldDoesNotExist

    if not getattr(event, "target_type_id", None):
        return {}
    model = ContentType.objects.get_for_id(event.target_type_id).model_class()  # cached: no query per row
    if model is None:
        return {}
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return {}
    return {str(k): str(v) for k, v in getattr(field, "flatchoices", ()) or ()}


def _audit_label(event: Any, key: str) -> str:
    if key in AUDIT_FIELD_LABELS:
        return AUDIT_FIELD_LABELS[key]
    from django.contrib.contenttypes.models import ContentType
    from django.core.exceptions import FieldDoesNotExist
    from django.utils.text import capfirst

    if getattr(event, "target_type_id", None):
        model = ContentType.objects.get_for_id(event.target_type_id).model_class()
        if model is not None:
            try:
                return str(capfirst(getattr(model._meta.get_field(key), "verbose_name", key)))
            except FieldDoesNotExist:
                pass
    words = key.removesuffix("_id").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _audit_words(event: Any, key: str, value: Any, people: dict[str, str] | None, queues: dict[str, str] | None) -> str:
    from denials.models import ClinicalDocument, Evidence

    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    if key == "assignee_id":
        return (people or {}).get(text, f"user #{text}")
    if key == "queue":
        return (queues or {}).get(text, f"queue #{text}")
    if key == "category":
        return vocabulary.category_label(text)
    if key == "action" and text in vocabulary.ACTIONS:
        return vocabulary.action_label(text)
    if key == "kind":
        kinds = {**dict(Evidence.Kind.choices), **dict(ClinicalDocument.Kind.choices)}
        return str(kinds.get(text, text))
    if key in ("recovered_amount", "amount"):
        return money(text)
    choices = _audit_value_choices(event, key)
    if text in choices:
        return choices[text]
    return text if len(text) <= 120 else text[:119] + "…"


@register.simple_tag
def audit_changes(
    event: Any, people: dict[str, str] | None = None, queues: dict[str, str] | None = None
) -> list[tuple[str, str, str]]:
    """What an audit row changed, in words: [("Status", "Open", "Corrected claim"), ...].

    Every key of the row's old and new values (ids and fingerprints left out), named in words
    and with its values in words: choice labels, people and queue names, money; never a raw
    dict or field name.
    """
    old = event.old if isinstance(event.old, dict) else {}
    new = event.new if isinstance(event.new, dict) else {}
    keys = [k for k in dict.fromkeys([*old, *new]) if k not in AUDIT_HIDDEN_KEYS]
    changes = []
    for key in keys:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        changes.append(
            (
                _audit_label(event, key),
                _audit_words(event, key, before, people, queues),
                _audit_words(event, key, after, people, queues),
            )
        )
    return changes


AUDIT_ACTIONS = {
    "denial.assigned": "assigned",
    "denial.unassigned": "released it",
    "denial.triaged": "triaged",
    "denial.corrected_claim": "marked corrected claim",
    "denial.appeal": "sent to appeal",
    "denial.write_off": "wrote off",
    "denial.bill_patient": "billed the patient",
    "denial.request_info": "requested information",
    "denial.escalate": "escalated",
    "denial.reopen": "reopened",
    "denial.note_added": "added a note",
    "denial.evidence_saved": "saved evidence",
    "denial.evidence_removed": "removed evidence",
    "document.uploaded": "attached a document",
    "remittance_file.received": "received the file",
    "remittance_file.ingested": "ingested it",
    "remittance_file.duplicate": "recorded it as a duplicate",
    "remittance_file.failed": "recorded it as failed",
    "remittance_file.attempt_failed": "recorded a failed attempt",
    "remittance_file.retry": "queued it again",
}


@register.filter
def audit_action(action: str) -> str:
    return AUDIT_ACTIONS.get(action, action.split(".", 1)[-1].replace("_", " "))


@register.simple_tag
def priority_words(denial: Any, short: bool = False) -> str:
    """The priority as a coder acts on it: "High — $95 expected, due in 12 days"
    (``denials.plain_words.priority_words``). ``short=True`` for a dense row: "High · $95" (the
    expected recovery), the whole sentence on hover."""
    return _priority_words(denial, today=_today(), short=short)


def _priority_words(denial: Any, *, today: Any, short: bool) -> str:
    from denials.plain_words import priority_words as words_for

    words = words_for(
        priority=denial.priority,
        expected_recovery=denial.expected_recovery,
        due_date=denial.due_date,
        today=today,
    )
    if short:  # the row's own columns say the amount at stake and the days to the deadline
        return format_html(
            '<span class="priority priority-{}" title="{}"><strong>{}</strong> · {}</span>',
            words.level.lower(),
            f"{words} (priority score {Decimal(denial.priority or 0):,.2f})",
            words.level,
            money(denial.expected_recovery or 0).removesuffix(".00"),
        )
    return format_html(
        '<span class="priority priority-{}" title="{}"><strong>{}</strong> — {}</span>',
        words.level.lower(),
        f"{words} (priority score {Decimal(denial.priority or 0):,.2f}: "
        "expected recovery, raised as the deadline nears)",
        words.level,
        words.detail,
    )


def _render_today(context: Any) -> Any:
    """Today, worked out once per template render: a queue page asks for it several times a row."""
    cache = context.render_context
    if _TODAY_KEY not in cache:
        cache[_TODAY_KEY] = _today()
    return cache[_TODAY_KEY]


_TODAY_KEY = "overturn_today"


@register.simple_tag(takes_context=True)
def worklist_row(context: Any, denial: Any, descriptions: dict[str, Any] | None = None) -> str:
    """One row of the worklist's table (``templates/denials/worklist.html``), built here in one
    call: a queue page shows 50 to 100 of them, and the same markup as a template loop (a dozen
    tags and some fifty lookups a row) was most of the page's time.

    Needs the denial's claim (with its remittance), line, payer and assignee joined in
    (``selectors.denial_worklist`` does)."""
    from django.urls import reverse

    d = denial
    claim = d.claim
    payer = _e(d.payer.name)
    url = _e(reverse("denials:denial_detail", args=[d.pk]))
    if d.line is not None:
        mods = "".join(f'<span class="mod">-{_e(m)}</span>' for m in d.line.modifiers)
        procedure = f"{_e(d.line.procedure_code)}{mods}"
    else:
        procedure = '<span class="muted">whole claim</span>'
    codes = code_chip("CARC", d.carc, descriptions, d.code) + "".join(
        code_chip("RARC", r, descriptions) for r in d.rarc_list
    )
    today = _render_today(context)
    remitted = claim.remittance.remittance_date
    age = f"{max((today - remitted).days, 0)} d old" if remitted else ""
    who = _e(d.assignee.get_username()) if d.assignee else "<em>unassigned</em>"
    status = f" · {_e(d.get_status_display())}" if d.outcome_recorded else ""
    dos = f"{d.service_date:%Y-%m-%d}" if d.service_date else "—"
    # Narrow windows drop the payer column: the name moves under the patient (show-narrow),
    # cut short, in full on hover (title) and focus.
    priority = _priority_words(d, today=today, short=True)
    # Every value above went through _e() or a tag that escapes.
    return mark_safe(
        f'<tr data-row="{d.pk}" id="denial-row-{d.pk}">\n'
        f'<td class="sel"><input type="checkbox" name="ids" value="{d.pk}" aria-label="Tick denial {d.pk}"></td>\n'
        '<td class="wl-patient">\n'
        f'<a data-open class="primary" href="{url}" hx-get="{url}" hx-target="#denial-pane" '
        f'hx-swap="innerHTML show:#denial-pane:top" hx-push-url="true">{_e(claim.patient_name or "(no name)")}</a>\n'
        f'<span class="sub mono" title="Patient control number">#{_e(claim.patient_control_number)}</span>\n'
        f'<span class="sub payer-name show-narrow" tabindex="0" title="{payer}">{payer}</span>\n'
        "</td>\n"
        f'<td class="wl-payer hide-narrow"><span class="payer-name" tabindex="0" title="{payer}">{payer}</span>'
        f'<span class="sub">DOS {dos}</span></td>\n'
        f'<td class="wl-code">\n<span class="proc mono">{procedure}</span>\n<span class="sub">{codes}</span>\n</td>\n'
        f'<td class="num">{_e(money(d.amount))}<span class="sub">{priority}</span></td>\n'
        f'<td class="num wl-due">{_due_in(d.due_date, today=today)}<span class="sub">{age}</span></td>\n'
        f'<td class="wl-cat">{category_tag(d.category)}<span class="sub">{who}{status}</span></td>\n'
        "</tr>"
    )


def _e(value: Any) -> str:
    """HTML-escaped text (Django's ``escape`` without its lazy-string wrapper: a row calls it a dozen times)."""
    return html.escape(str(value))


@register.filter
def units(value: Any) -> str:
    """Units as a person writes them: 1, not 1.000; a real fraction keeps its digits (0.5, 1.25)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        return str(value)
    if number == number.to_integral_value():
        return f"{number.to_integral_value():,}"
    return f"{number.normalize():f}"
