"""The appeal's cover letter: chosen from the admins' ``LetterTemplate`` rows, written with
Django's template engine from a fixed context built from the package (``appeals.package``).

Which template
    The most specific active template wins (``letter_template_for``): category and payer,
    then category, then payer, then the default (both blank). The category is the package's
    (its largest denial's); a template for the generic "bundling" category covers the five
    bundling categories, and a template naming the exact one beats it. With no active template
    that fits, the first of ``SHIPPED_LETTERS`` (our default letter) is used, so a package
    always has a letter.

What a template sees
    Only the context below: plain dicts, lists and strings (no model instances, so a template
    cannot reach the database). A fact the database does not hold is an empty string, never a
    guess; the shipped letters print ``[missing: ...]`` for it with ``|default:``. Every key is
    always present, whatever the data, so a template errors only on its own typos. Dates are
    ISO (2026-09-14), money is "$1,234.56".

    ``subject``                    the written subject (the Re: line); in the body only
    ``today``                      the date the letter is written
    ``appeal``                     id, level, status, due_date, amount_at_stake
    ``payer``                      name, kind, address (multi-line), fax
    ``provider``                   name, npi, tin (the payee on the remittance)
    ``rendering_provider``         name, npi
    ``patient``                    name, member_id
    ``claim``                      patient_control_number, payer_claim_number, service_from,
                                   service_to, dates_of_service ("2026-09-14" or "A to B"),
                                   charge, paid, remittance_date
    ``denials``                    list, largest first, each with:
        id, category, category_label, code ("CO-97"), group_code, group_words, carc,
        carc_words, rarcs (list of {code, words}), rarc_text ("M15: words; ..."), amount,
        service_date, procedure_code, modifiers ("XS RT"),
        has_edit ("yes" or ""), edit: column1, column1_words, column2, column2_words,
        indicator, indicator_words, indicator_label ("1: payable with a modifier when
        documented"), effective_date, deletion_date, quarter, setting, rationale, in_force
        ("yes", "no" or "" when unknown), not_in_force_reason,
        has_corrected_line ("yes" or ""), corrected_line: procedure_code, procedure_words,
        as_billed ("11102" or "11102-RT"), corrected ("11102-XS"), modifier, modifier_reason,
        already_billed ("yes" or ""), service_date, units, charge,
        passages (list of {quote, kind, kind_label, document_title, document_date})
    ``denial``                     the first (largest) of ``denials``
    ``passages``                   every denial's passages, in order
    ``documents``                  list of {title, kind ("PDF" or "text"), uploaded_on, pages}
    ``missing``                    list of what the checklist finds missing (its labels)

Tags and filters
    Django's built-in filters and the tags ``if``, ``for``, ``with``, ``comment``, ``now``,
    ``firstof``, ``cycle``, ``ifchanged``, ``regroup``, ``spaceless``, ``autoescape``,
    ``filter``, ``templatetag``, ``verbatim``, ``widthratio``. Not ``load``, ``include``,
    ``extends``, ``url`` or ``debug``.

Errors
    A syntax error, an unknown tag or filter, or a variable not in the context raises
    ``LetterTemplateError`` naming the template and the line; callers show it, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.template import Context, Engine, Library, defaultfilters, defaulttags
from django.utils.safestring import SafeString

from appeals.models import LetterTemplate
from appeals.package import Package
from denials import vocabulary as denial_words
from denials.templatetags.overturn import money
from ncci import ptp

# --- Errors --------------------------------------------------------------------------------------


class LetterTemplateError(Exception):
    """A letter template could not be written: the message names the template and the line."""

    def __init__(self, *, template: str, message: str, line: int | None = None) -> None:
        self.template = template
        self.line = line
        self.message = message
        where = f"Letter template “{template}”" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {message}")


class _UnknownVariable(Exception):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"“{name}” is not in the letter context (see the list of variables)")


class _RaiseOnUnknown(str):
    """Django prints ``string_if_invalid % variable`` for a variable it cannot resolve: this one
    raises instead, so a typo in a template is an error with a line number, not a silent blank."""

    def __new__(cls) -> _RaiseOnUnknown:
        return super().__new__(cls, "%s")

    def __mod__(self, variable: Any) -> str:  # type: ignore[override]
        raise _UnknownVariable(str(variable))


ALLOWED_TAGS = frozenset(
    {
        "if",
        "for",
        "with",
        "comment",
        "now",
        "firstof",
        "cycle",
        "ifchanged",
        "regroup",
        "spaceless",
        "autoescape",
        "filter",
        "templatetag",
        "verbatim",
        "widthratio",
    }
)


def _engine(*, autoescape: bool) -> Engine:
    # No loaders and no libraries: a letter cannot include a file or load a tag library.
    engine = Engine(
        dirs=[],
        app_dirs=False,
        loaders=[],
        libraries={},
        debug=True,  # line numbers on errors
        autoescape=autoescape,
        string_if_invalid=_RaiseOnUnknown(),
    )
    builtins = Library()
    builtins.tags = {k: t for k, t in defaulttags.register.tags.items() if k in ALLOWED_TAGS}
    builtins.filters = dict(defaultfilters.register.filters)
    engine.template_builtins = [builtins]
    return engine


_TEXT_ENGINE = _engine(autoescape=False)
_HTML_ENGINE = _engine(autoescape=True)


def context_help() -> str:
    """The documented context and tags (this module's docstring), for the admin's help."""
    doc = __doc__ or ""
    start = doc.index("What a template sees")
    return doc[start : doc.index("Errors\n", start)].strip()


# --- Choosing ------------------------------------------------------------------------------------


def letter_template_for(*, category: str, payer_id: int | None) -> LetterTemplate | None:
    """The most specific active template for a category and payer (None when none fits).

    Rank: category and payer, category, payer, default; within a rank an exact category beats
    the generic "bundling" one; then by name and id, so the choice is stable.
    """
    rows = LetterTemplate.objects.filter(active=True).filter(Q(payer__isnull=True) | Q(payer_id=payer_id))
    fitting = [t for t in rows if t.category == "" or denial_words.category_matches(t.category, category)]
    if not fitting:
        return None

    def rank(t: LetterTemplate) -> tuple[int, int, str, int]:
        has_category, has_payer = bool(t.category), t.payer_id is not None
        level = {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}[(has_category, has_payer)]
        return (level, 0 if t.category == category else 1, t.name, t.pk)

    return min(fitting, key=rank)


def shipped_default() -> LetterTemplate:
    """The first shipped letter as an unsaved template: the letter when no row fits."""
    first = SHIPPED_LETTERS[0]
    return LetterTemplate(name=first["name"], category=first["category"], subject=first["subject"], body=first["body"])


# --- Context -------------------------------------------------------------------------------------


def _date(value: Any) -> str:
    return value.isoformat() if value else ""


def _money(value: Any) -> str:
    return money(value) if value is not None else ""


_EMPTY_EDIT = dict.fromkeys(
    (
        "column1",
        "column1_words",
        "column2",
        "column2_words",
        "indicator",
        "indicator_words",
        "indicator_label",
        "effective_date",
        "deletion_date",
        "quarter",
        "setting",
        "rationale",
        "in_force",
        "not_in_force_reason",
    ),
    "",
)
_EMPTY_LINE = dict.fromkeys(
    (
        "procedure_code",
        "procedure_words",
        "as_billed",
        "corrected",
        "modifier",
        "modifier_reason",
        "already_billed",
        "service_date",
        "units",
        "charge",
    ),
    "",
)


def _code_with(code: str, modifiers: tuple[str, ...]) -> str:
    return "-".join((code, *modifiers))


def _denial_context(d: Any) -> dict[str, Any]:
    edit = dict(_EMPTY_EDIT)
    if d.edit is not None:
        e = d.edit
        edit = {
            "column1": e.column1,
            "column1_words": e.column1_words,
            "column2": e.column2,
            "column2_words": e.column2_words,
            "indicator": e.indicator,
            "indicator_words": e.indicator_words,
            "indicator_label": ptp.indicator_label(e.indicator) if e.indicator_words else e.indicator,
            "effective_date": _date(e.effective_date),
            "deletion_date": _date(e.deletion_date),
            "quarter": e.quarter,
            "setting": e.setting,
            "rationale": e.rationale,
            "in_force": "" if e.in_force is None else ("yes" if e.in_force else "no"),
            "not_in_force_reason": e.not_in_force_reason,
        }
    line = dict(_EMPTY_LINE)
    if d.corrected_line is not None:
        c = d.corrected_line
        line = {
            "procedure_code": c.procedure_code,
            "procedure_words": c.procedure_words,
            "as_billed": _code_with(c.procedure_code, c.billed_modifiers),
            "corrected": _code_with(c.procedure_code, c.modifiers) if c.modifier else "",
            "modifier": c.modifier,
            "modifier_reason": c.modifier_reason,
            "already_billed": "yes" if c.already_billed else "",
            "service_date": _date(c.service_date),
            "units": f"{c.units.normalize():f}" if c.units is not None else "",
            "charge": _money(c.charge),
        }
    return {
        "id": str(d.id),
        "category": d.category,
        "category_label": d.category_label,
        "code": d.code,
        "group_code": d.group.code,
        "group_words": d.group.words,
        "carc": d.carc.code,
        "carc_words": d.carc.words,
        "rarcs": [{"code": r.code, "words": r.words} for r in d.rarcs],
        "rarc_text": "; ".join(f"{r.code}: {r.words or 'no description loaded'}" for r in d.rarcs),
        "amount": _money(d.amount),
        "service_date": _date(d.service_date),
        "procedure_code": d.procedure_code,
        "modifiers": " ".join(d.modifiers),
        "has_edit": "yes" if d.edit is not None else "",
        "edit": edit,
        "has_corrected_line": "yes" if d.corrected_line is not None else "",
        "corrected_line": line,
        "passages": [_passage_context(p) for p in d.passages],
    }


def _passage_context(p: Any) -> dict[str, str]:
    return {
        "quote": p.quote,
        "kind": p.kind,
        "kind_label": p.kind_label,
        "document_title": p.document_title,
        "document_date": _date(p.document_date),
    }


def _blank_denial() -> dict[str, Any]:
    """Every key of a denial, blank: what ``denial`` holds for an appeal without denials."""
    from decimal import Decimal

    from appeals.package import CodeWords, DenialFacts

    blank = CodeWords(code="", words="")
    facts = DenialFacts(
        id=0,
        category="",
        category_label="",
        group=blank,
        carc=blank,
        rarcs=(),
        amount=Decimal("0"),
        service_date=None,
        procedure_code="",
        modifiers=(),
        line_sequence=None,
        edit=None,
        corrected_line=None,
        passages=(),
        needs_passage=False,
    )
    return {**_denial_context(facts), "id": "", "code": "", "amount": ""}


def letter_context(*, package: Package) -> dict[str, Any]:
    """The fixed context a letter template sees (documented in this module's docstring)."""
    dates = _date(package.service_from)
    if package.service_to and package.service_to != package.service_from:
        dates = f"{dates} to {_date(package.service_to)}"
    denials = [_denial_context(d) for d in package.denials]
    return {
        "today": _date(package.prepared_on),
        "appeal": {
            "id": str(package.appeal_id),
            "level": package.level_label,
            "status": package.status_label,
            "due_date": _date(package.due_date),
            "amount_at_stake": _money(package.amount_at_stake),
        },
        "payer": {
            "name": package.payer.name,
            "kind": package.payer.kind,
            "address": package.payer.address,
            "fax": package.payer.fax,
        },
        "provider": {"name": package.provider.name, "npi": package.provider.npi, "tin": package.provider.tin},
        "rendering_provider": {"name": package.rendering_provider.name, "npi": package.rendering_provider.npi},
        "patient": {"name": package.patient.name, "member_id": package.patient.member_id},
        "claim": {
            "patient_control_number": package.patient_control_number,
            "payer_claim_number": package.payer_claim_number,
            "service_from": _date(package.service_from),
            "service_to": _date(package.service_to),
            "dates_of_service": dates if package.service_from else "",
            "charge": _money(package.eob.charge),
            "paid": _money(package.eob.paid),
            "remittance_date": _date(package.eob.remittance_date),
        },
        "denials": denials,
        "denial": denials[0] if denials else _blank_denial(),
        "passages": [p for d in denials for p in d["passages"]],
        "documents": [
            {
                "title": doc.title,
                "kind": "PDF" if doc.kind == "pdf" else "text",
                "uploaded_on": _date(doc.uploaded_on),
                "pages": str(doc.page_count),
            }
            for doc in package.documents
        ],
        "missing": [item.label for item in package.missing],
    }


# --- Writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    template_name: str
    #: "admin" for a ``LetterTemplate`` row, "shipped" for the built-in default.
    source: str
    subject: str
    body: str


def _tidy(text: str) -> str:
    """Template tags on lines of their own leave blank lines and trailing spaces: fold them."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _render(engine: Engine, source: str, context: dict[str, Any], name: str, part: str) -> str:
    try:
        template = engine.from_string(source)
        return template.render(Context(context, autoescape=engine.autoescape))
    except _UnknownVariable as exc:
        raise LetterTemplateError(template=name, message=f"{part}: {exc}", line=_line(exc)) from exc
    except Exception as exc:  # any failure in an admin-written template is reported, never a 500
        raise LetterTemplateError(template=name, message=f"{part}: {exc}", line=_line(exc)) from exc


def _line(exc: Exception) -> int | None:
    info = getattr(exc, "template_debug", None)
    return info.get("line") if isinstance(info, dict) else None


def letter_render(*, package: Package, template: LetterTemplate | None = None, html: bool = False) -> Letter:
    """Write the cover letter with ``template`` (default: the one ``letter_template_for`` picks).

    ``html=True`` escapes every value for an HTML page (the result is safe to place in one);
    otherwise the text is plain, for the PDF. Raises ``LetterTemplateError``.
    """
    source = "admin"
    if template is None:
        template = letter_template_for(category=package.category, payer_id=package.payer_id)
    if template is None:
        template, source = shipped_default(), "shipped"
    engine = _HTML_ENGINE if html else _TEXT_ENGINE
    context = letter_context(package=package)
    subject = " ".join(_render(engine, template.subject, context, template.name, "subject").split())
    body = _tidy(_render(engine, template.body, {**context, "subject": subject}, template.name, "body"))
    if html:
        subject, body = SafeString(subject), SafeString(body)
    return Letter(template_name=template.name, source=source, subject=subject, body=body)


def package_with_letter(*, package: Package, html: bool = False) -> tuple[Package, Letter | None, str]:
    """The package with its "Cover letter" checklist row, the letter (None when its template
    fails) and the error in words ("" when none): what the page and the PDF both show."""
    from appeals.package import ChecklistItem

    try:
        letter = letter_render(package=package, html=html)
    except LetterTemplateError as exc:
        return package.with_item(ChecklistItem("Cover letter", False, str(exc))), None, str(exc)
    detail = letter.template_name + (", built in (no letter template fits)" if letter.source == "shipped" else "")
    return package.with_item(ChecklistItem("Cover letter", True, detail)), letter, ""


# --- Our shipped letters --------------------------------------------------------------------------

_HEADER = """{{ today }}

{{ payer.name }}
Appeals
{{ payer.address|default:"[missing: the payer's appeal address]" }}
{% if payer.fax %}Fax {{ payer.fax }}{% endif %}

Re: {{ subject }}
Patient: {{ patient.name|default:"[missing]" }}, member id {{ patient.member_id|default:"[missing]" }}
Payer claim number: {{ claim.payer_claim_number|default:"[missing]" }}
Our account (patient control number): {{ claim.patient_control_number|default:"[missing]" }}
Date of service: {{ claim.dates_of_service|default:"[missing]" }}
Billing provider: {{ provider.name|default:"[missing]" }}, NPI {{ provider.npi|default:"[missing]" }}, \
TIN {{ provider.tin|default:"[missing]" }}
{% if rendering_provider.name %}Rendering provider: {{ rendering_provider.name }}\
{% if rendering_provider.npi %}, NPI {{ rendering_provider.npi }}{% endif %}{% endif %}
"""

_DENIED_LINES = """{% for d in denials %}
- {% if d.procedure_code %}{{ d.procedure_code }}{% if d.modifiers %} ({{ d.modifiers }}){% endif %}{% else %}\
The claim{% endif %}{% if d.service_date %} on {{ d.service_date }}{% endif %}, {{ d.amount }}
  Reason {{ d.code }}: {{ d.carc_words|default:"no description loaded" }}{% for r in d.rarcs %}
  Remark {{ r.code }}: {{ r.words|default:"no description loaded" }}{% endfor %}
{% endfor %}"""

_PASSAGES = """{% for p in d.passages %}
From “{{ p.document_title }}”{% if p.document_date %} ({{ p.document_date }}){% endif %}:
    “{{ p.quote }}”
{% endfor %}"""

_CLOSING = """
{% if documents %}Enclosed: the remittance excerpt for this claim{% for doc in documents %}; \
“{{ doc.title }}”{% endfor %}.{% else %}Enclosed: the remittance excerpt for this claim.{% endif %}

Please send your decision, or any request for more information, to the provider above.

Sincerely,

{{ provider.name|default:"[missing: provider name]" }}
"""

SHIPPED_LETTERS: tuple[dict[str, str], ...] = (
    {
        "name": "Appeal letter (default)",
        "category": "",
        "subject": "{{ appeal.level }}: claim {{ claim.payer_claim_number|default:claim.patient_control_number }}",
        "body": _HEADER
        + """
To the appeals reviewer,

We ask you to reconsider the following denied service{{ denials|length|pluralize }} on this claim \
and to pay {{ appeal.amount_at_stake }}, the amount still unpaid:
"""
        + _DENIED_LINES
        + """
{% for d in denials %}{% if d.passages %}
The medical record supports the service{% if d.procedure_code %} {{ d.procedure_code }}{% endif %}:
"""
        + _PASSAGES
        + """{% endif %}{% endfor %}
"""
        + _CLOSING,
    },
    {
        "name": "Bundling (NCCI edit) appeal",
        "category": denial_words.BUNDLING,
        "subject": "{{ appeal.level }}: NCCI bundling denial, claim "
        "{{ claim.payer_claim_number|default:claim.patient_control_number }}",
        "body": _HEADER
        + """
To the appeals reviewer,

The following service{{ denials|length|pluralize }} {{ denials|length|pluralize:"was,were" }} denied as \
part of another service on the same day:
"""
        + _DENIED_LINES
        + """
{% for d in denials %}{% if d.has_edit %}
NCCI procedure-to-procedure edit {{ d.edit.column1 }}/{{ d.edit.column2 }}\
{% if d.edit.setting %} ({{ d.edit.setting }}){% endif %}: Column 1 {{ d.edit.column1 }}\
{% if d.edit.column1_words %} ({{ d.edit.column1_words }}){% endif %}, Column 2 {{ d.edit.column2 }}\
{% if d.edit.column2_words %} ({{ d.edit.column2_words }}){% endif %}. Modifier indicator \
{{ d.edit.indicator_label|default:"[missing]" }}; effective {{ d.edit.effective_date|default:"[missing]" }}\
{% if d.edit.deletion_date %}, deleted {{ d.edit.deletion_date }}{% endif %}\
{% if d.edit.quarter %}; NCCI quarter {{ d.edit.quarter }}{% endif %}\
{% if d.edit.rationale %}; rationale: {{ d.edit.rationale }}{% endif %}.
{% if d.edit.in_force == "no" %}
This edit did not apply on the date of service ({{ d.edit.not_in_force_reason|default:"see the dates above" }}), \
so it cannot bundle {{ d.edit.column2 }} into {{ d.edit.column1 }}. Please pay the line as billed.
{% elif d.edit.indicator == "1" %}
Modifier indicator 1 means the Column 2 code is paid separately when the record shows a distinct service.\
{% if d.corrected_line.modifier %} The line should be read as {{ d.corrected_line.corrected }}\
{% if d.corrected_line.already_billed %} (the modifier {{ d.corrected_line.modifier }} was on the claim as billed)\
{% endif %}.{% endif %}
{% endif %}{% endif %}{% if d.passages %}
The record shows the service was distinct:
"""
        + _PASSAGES
        + """{% endif %}{% endfor %}
{% for d in denials %}{% if d.corrected_line.modifier %}
We ask you to pay {{ d.corrected_line.procedure_code }} on {{ d.corrected_line.service_date|default:d.service_date }} \
with modifier {{ d.corrected_line.modifier }} ({{ d.amount }}).{% endif %}{% endfor %}
The amount at stake on this appeal is {{ appeal.amount_at_stake }}.
"""
        + _CLOSING,
    },
    {
        "name": "Medical necessity appeal",
        "category": denial_words.MEDICAL_NECESSITY,
        "subject": "{{ appeal.level }}: medical necessity, claim "
        "{{ claim.payer_claim_number|default:claim.patient_control_number }}",
        "body": _HEADER
        + """
To the appeals reviewer,

The following service{{ denials|length|pluralize }} {{ denials|length|pluralize:"was,were" }} denied as not \
medically necessary:
"""
        + _DENIED_LINES
        + """
{% for d in denials %}{% if d.passages %}
The medical record documents why{% if d.procedure_code %} {{ d.procedure_code }}{% endif %} was needed:
"""
        + _PASSAGES
        + """{% else %}
[missing: the passage of the record that shows why{% if d.procedure_code %} {{ d.procedure_code }}{% endif %} \
was needed]
{% endif %}{% endfor %}
We ask you to review the enclosed record and pay {{ appeal.amount_at_stake }}.
"""
        + _CLOSING,
    },
    {
        "name": "Timely filing appeal",
        "category": denial_words.TIMELY_FILING,
        "subject": "{{ appeal.level }}: timely filing, claim "
        "{{ claim.payer_claim_number|default:claim.patient_control_number }}",
        "body": _HEADER
        + """
To the appeals reviewer,

The following service{{ denials|length|pluralize }} {{ denials|length|pluralize:"was,were" }} denied as filed \
late:
"""
        + _DENIED_LINES
        + """
We ask you to review the enclosed proof that the claim was filed within your filing limit and to pay \
{{ appeal.amount_at_stake }}.
"""
        + _CLOSING,
    },
)
