"""The appeal package's facts, read from stored data only: ``appeal_package(appeal=...)``.

The package is a frozen dataclass tree (``Package``) that the PDF (``appeals.pdf``), the
print-friendly page (``appeals.package_views``) and the cover letter's template context
(``appeals.letters``) all read, so the three show the same facts. **Nothing is invented**:
a fact the database does not hold is an empty string (or ``None``) here, the page and the
PDF print it as "missing", and the checklist lists it as missing.

Where each fact comes from:

- payer: ``Payer`` (name, ``appeal_address``, ``appeal_fax``, kind); provider: the
  remittance's payee ``Provider`` (name, NPI, TIN); rendering provider and patient: the
  claim (``ClaimPayment``, from the 835's NM1 loops); claim numbers: CLP01 and CLP07.
- each denial: group code, CARC and RARCs with their words from the code tables, read by
  ``denials.selectors.code_descriptions`` (the same selector the denial page uses); the NCCI
  edit as triage copied it onto the denial (``ncci_*`` fields), the indicator in words from
  ``ncci.ptp``, and whether it was in force on the date of service by ``ncci.ptp.edit_in_force``.
- the corrected line: the Column 2 line with the modifier of ``corrected_line_modifier``.
- passages: the denial's ``Evidence`` rows with their document's title and upload date.
- the EOB excerpt: the claim's stored 835 rows (service lines, adjustments, remarks).
- documents: the claim's ``ClinicalDocument`` rows (a PDF is checked to open with pypdf;
  one that does not is reported, never dropped silently).
- the checklist: ``_checklist`` below; which denials need a passage: ``needs_passage``.

Queries are bounded: a fixed number (about a dozen) whatever the number of lines, denials,
passages or documents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from appeals import vocabulary as v
from appeals.models import Appeal
from denials import vocabulary as denial_words

# The modifier rule lives in denials (the denial page prefills its corrected-claim modifier with
# it); re-exported here for the package's callers.
from denials.modifiers import DISTINCT_PROCEDURAL_SERVICE as DISTINCT_PROCEDURAL_SERVICE
from denials.modifiers import corrected_line_modifier as corrected_line_modifier
from ncci import ptp

# --- Rules ------------------------------------------------------------------------------------

#: Categories whose appeal argues from the clinical record, so a saved passage is expected:
#: medical necessity (the note shows why the service was needed) and coding (the note supports
#: the code, diagnosis or modifier billed). Bundling denials join them only under modifier
#: indicator 1, where the appeal asks for a modifier the note must justify (see ``needs_passage``).
#: Not here: an edit not in force (argued from the NCCI dates), timely filing, authorization,
#: eligibility, duplicates and the rest, which rest on dates, numbers or payer records.
DOCUMENTATION_CATEGORIES: frozenset[str] = frozenset({denial_words.MEDICAL_NECESSITY, denial_words.CODING})


def needs_passage(*, category: str, modifier_indicator: str) -> bool:
    """Whether a denial's appeal rests on documentation, so its checklist wants a passage.

    Bundling categories do only when the NCCI edit has modifier indicator 1 (a modifier may
    bypass it when the record shows a distinct service): "modifier may apply" and "appealable".
    Under 9 or an edit not in force the case rests on the NCCI table, not on the note.
    """
    if category in denial_words.BUNDLING_CATEGORIES:
        return category != denial_words.BUNDLING_EDIT_NOT_IN_FORCE and (modifier_indicator or "").strip() == (
            ptp.ALLOWED
        )
    return category in DOCUMENTATION_CATEGORIES


# --- The facts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayerFacts:
    name: str
    kind: str
    address: str
    fax: str


@dataclass(frozen=True)
class ProviderFacts:
    name: str
    npi: str
    tin: str


@dataclass(frozen=True)
class PatientFacts:
    name: str
    member_id: str


@dataclass(frozen=True)
class CodeWords:
    """A code with its words from the code tables ("" when none is on file)."""

    code: str
    words: str


@dataclass(frozen=True)
class EditFacts:
    """The NCCI PTP edit copied on the denial when triage found it."""

    column1: str
    column1_words: str
    column2: str
    column2_words: str
    indicator: str
    indicator_words: str
    effective_date: dt.date | None
    deletion_date: dt.date | None
    quarter: str
    setting: str
    rationale: str
    #: Whether the edit applied on the date of service (``ncci.ptp.edit_in_force``); None without a date.
    in_force: bool | None
    #: Why it did not, in words ("" when it did or nobody knows).
    not_in_force_reason: str


@dataclass(frozen=True)
class Passage:
    quote: str
    kind: str
    kind_label: str
    document_id: int
    document_title: str
    document_date: dt.date | None


@dataclass(frozen=True)
class CorrectedLine:
    """The denied Column 2 line as it should have been billed: its modifiers plus one."""

    sequence: int
    procedure_code: str
    procedure_words: str
    billed_modifiers: tuple[str, ...]
    modifiers: tuple[str, ...]
    #: The modifier this appeal asks the payer to read on the line ("" when none is supported yet).
    modifier: str
    modifier_reason: str
    #: The modifier was already on the line as billed (the payer did not honour it).
    already_billed: bool
    service_date: dt.date | None
    units: Decimal | None
    charge: Decimal


@dataclass(frozen=True)
class DenialFacts:
    id: int
    category: str
    category_label: str
    group: CodeWords
    carc: CodeWords
    rarcs: tuple[CodeWords, ...]
    amount: Decimal
    service_date: dt.date | None
    procedure_code: str
    modifiers: tuple[str, ...]
    line_sequence: int | None
    edit: EditFacts | None
    corrected_line: CorrectedLine | None
    passages: tuple[Passage, ...]
    needs_passage: bool

    @property
    def code(self) -> str:
        return f"{self.group.code}-{self.carc.code}"


@dataclass(frozen=True)
class EobAdjustment:
    group_code: str
    carc: str
    words: str
    amount: Decimal


@dataclass(frozen=True)
class EobLine:
    sequence: int
    procedure_code: str
    modifiers: tuple[str, ...]
    service_date: dt.date | None
    units: Decimal | None
    charge: Decimal
    allowed: Decimal | None
    paid: Decimal
    adjustments: tuple[EobAdjustment, ...]
    remarks: tuple[CodeWords, ...]
    denied: bool


@dataclass(frozen=True)
class Eob:
    """The payer's remittance for the claim, as the stored 835 rows hold it."""

    remittance_date: dt.date | None
    trace_number: str
    status: str
    charge: Decimal
    paid: Decimal
    allowed: Decimal | None
    patient_responsibility: Decimal | None
    lines: tuple[EobLine, ...]
    claim_adjustments: tuple[EobAdjustment, ...]
    claim_remarks: tuple[CodeWords, ...]


@dataclass(frozen=True)
class DocumentFacts:
    id: int
    title: str
    original_name: str
    kind: str  # "pdf" or "text"
    uploaded_on: dt.date | None
    page_count: int
    text: str
    content: bytes = dataclasses.field(repr=False, default=b"")
    #: Why the document cannot be appended as it is ("" when it can).
    problem: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    label: str
    included: bool
    detail: str = ""


@dataclass(frozen=True)
class Package:
    appeal_id: int
    level: str
    level_label: str
    status_label: str
    due_date: dt.date | None
    prepared_on: dt.date
    amount_at_stake: Decimal
    payer_id: int
    payer: PayerFacts
    provider: ProviderFacts
    rendering_provider: ProviderFacts
    patient: PatientFacts
    patient_control_number: str
    payer_claim_number: str
    service_from: dt.date | None
    service_to: dt.date | None
    denials: tuple[DenialFacts, ...]
    eob: Eob
    documents: tuple[DocumentFacts, ...]
    checklist: tuple[ChecklistItem, ...]

    @property
    def category(self) -> str:
        """The category the cover letter is chosen by: the largest denial's (the first)."""
        return self.denials[0].category if self.denials else ""

    @property
    def missing(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.checklist if not item.included)

    def with_item(self, item: ChecklistItem) -> Package:
        """The same package with one more checklist row (the cover letter's, known once it is written)."""
        return dataclasses.replace(self, checklist=(*self.checklist, item))

    def with_document_problem(self, *, document_id: int, problem: str) -> Package:
        """The same package with one document marked as not appended, and its checklist row saying why
        (the PDF builder finds some damage only while copying the pages)."""
        documents = tuple(dataclasses.replace(d, problem=problem) if d.id == document_id else d for d in self.documents)
        return dataclasses.replace(self, documents=documents, checklist=_checklist_with_documents(self, documents))


# --- Reading -----------------------------------------------------------------------------------


def appeal_package(*, appeal: Appeal, with_content: bool = True) -> Package:
    """Every fact of the appeal's package, from the database only (a fixed number of queries).

    ``with_content=False`` leaves the documents' bytes out and skips opening the PDFs (for a
    caller that wants the checklist, not the file).
    """
    from denials.models import Denial

    return _package(
        claim_id=appeal.claim_id,
        denials=Denial.objects.filter(appeals=appeal),
        appeal_id=appeal.pk,
        level=appeal.level,
        status=appeal.status,
        due_date=appeal.due_date,
        with_content=with_content,
    )


def denial_package(*, denial: Any) -> Package:
    """The package one denial would have as a new appeal of its own (the letter preview in the
    admin): its payer kind's first level, no appeal id and no due date."""
    from appeals import levels
    from appeals.level_table import level_table
    from denials.models import Denial

    return _package(
        claim_id=denial.claim_id,
        denials=Denial.objects.filter(pk=denial.pk),
        appeal_id=0,
        level=levels.first_level(payer_kind=denial.payer.kind, table=level_table()),
        status=v.STATUS_DRAFT,
        due_date=None,
        with_content=False,
    )


def _package(
    *,
    claim_id: int,
    denials: Any,
    appeal_id: int,
    level: str,
    status: str,
    due_date: dt.date | None,
    with_content: bool,
) -> Package:
    from denials.models import (
        Adjustment,
        ClaimPayment,
        ClinicalDocument,
        Evidence,
        RemarkCode,
        ServiceLine,
    )
    from denials.selectors import code_descriptions
    from ncci.models import ProcedureCode

    claim = ClaimPayment.objects.select_related("payer", "remittance__payee").get(pk=claim_id)
    denials = list(denials.select_related("line", "pair_line").order_by("-amount", "id"))
    lines = list(ServiceLine.objects.filter(claim=claim).order_by("sequence"))
    adjustments = list(Adjustment.objects.filter(claim=claim).order_by("sequence"))
    remarks = list(RemarkCode.objects.filter(claim=claim).order_by("sequence"))
    evidence = list(
        Evidence.objects.filter(denial__in=[d.pk for d in denials])
        .select_related("document")
        .defer("document__content", "document__text")
        .order_by("denial_id", "document__uploaded_at", "document_id", "start")
    )
    documents_qs = ClinicalDocument.objects.filter(claim=claim).order_by("uploaded_at", "id")
    if not with_content:
        documents_qs = documents_qs.defer("content")
    documents = list(documents_qs)

    carcs = {a.reason_code for a in adjustments} | {d.carc for d in denials}
    rarcs = {r.code for r in remarks} | {r for d in denials for r in d.rarc_list}
    words = {
        key: str(value) for key, value in code_descriptions(carcs=carcs, rarcs=rarcs, with_group_codes=True).items()
    }
    codes = {ln.procedure_code for ln in lines} | {c for d in denials for c in (d.ncci_column1, d.ncci_column2) if c}
    procedure_words = {
        code: short or long
        for code, short, long in ProcedureCode.objects.filter(code__in=codes).values_list(
            "code", "short_description", "description"
        )
    }

    def word(kind: str, code: str) -> CodeWords:
        return CodeWords(code=code, words=words.get(f"{kind}:{code}", ""))

    denial_facts = tuple(
        _denial_facts(
            denial=d,
            evidence=[e for e in evidence if e.denial_id == d.pk],
            lines=lines,
            word=word,
            procedure_words=procedure_words,
        )
        for d in denials
    )
    denied_line_ids = {d.line_id for d in denials if d.line_id}
    eob = Eob(
        remittance_date=claim.remittance.remittance_date,
        trace_number=claim.remittance.trace_number,
        status=claim.status_label,
        charge=claim.charge,
        paid=claim.paid,
        allowed=_total(ln.allowed for ln in lines) if lines else None,
        patient_responsibility=claim.patient_responsibility,
        lines=tuple(
            EobLine(
                sequence=ln.sequence,
                procedure_code=ln.procedure_code,
                modifiers=tuple(ln.modifiers),
                service_date=ln.service_date,
                units=ln.units,
                charge=ln.charge,
                allowed=ln.allowed,
                paid=ln.paid,
                adjustments=tuple(_eob_adjustment(a, word) for a in adjustments if a.line_id == ln.pk),
                remarks=tuple(word("RARC", r.code) for r in remarks if r.line_id == ln.pk),
                denied=ln.pk in denied_line_ids,
            )
            for ln in lines
        ),
        claim_adjustments=tuple(_eob_adjustment(a, word) for a in adjustments if a.line_id is None),
        claim_remarks=tuple(word("RARC", r.code) for r in remarks if r.line_id is None),
    )
    document_facts = tuple(_document_facts(doc, with_content=with_content) for doc in documents)

    dates = sorted({d.service_date for d in denial_facts if d.service_date})
    service_from = dates[0] if dates else claim.statement_from
    service_to = dates[-1] if dates else (claim.statement_to or claim.statement_from)
    payee = claim.remittance.payee
    package = Package(
        appeal_id=appeal_id,
        level=level,
        level_label=v.label(v.LEVELS, level),
        status_label=v.label(v.STATUSES, status),
        due_date=due_date,
        prepared_on=timezone.localdate(),
        amount_at_stake=sum((d.amount for d in denial_facts), Decimal("0")),
        payer_id=claim.payer_id,
        payer=PayerFacts(
            name=claim.payer.name,
            kind=v.label(v.PAYER_KINDS, claim.payer.kind),
            address=claim.payer.appeal_address.strip(),
            fax=claim.payer.appeal_fax.strip(),
        ),
        provider=ProviderFacts(name=payee.name, npi=payee.npi, tin=payee.tin),
        rendering_provider=ProviderFacts(name=claim.rendering_provider_name, npi=claim.rendering_provider_npi, tin=""),
        patient=PatientFacts(name=claim.patient_name, member_id=claim.patient_member_id or claim.insured_member_id),
        patient_control_number=claim.patient_control_number,
        payer_claim_number=claim.payer_claim_number,
        service_from=service_from,
        service_to=service_to,
        denials=denial_facts,
        eob=eob,
        documents=document_facts,
        checklist=(),
    )
    return dataclasses.replace(package, checklist=_checklist(package))


def _total(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum, or None when any value is unknown (an allowed amount the payer did not send)."""
    total = Decimal("0")
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _eob_adjustment(adjustment: Any, word: Any) -> EobAdjustment:
    return EobAdjustment(
        group_code=adjustment.group_code,
        carc=adjustment.reason_code,
        words=word("CARC", adjustment.reason_code).words,
        amount=adjustment.amount,
    )


def _edit_facts(denial: Any, procedure_words: dict[str, str]) -> EditFacts | None:
    if not (denial.ncci_column1 and denial.ncci_column2):
        return None
    indicator = denial.ncci_modifier_indicator.strip()
    in_force: bool | None = None
    reason = ""
    if indicator == ptp.NOT_APPLICABLE:
        in_force, reason = False, "modifier indicator 9: CMS treats the edit as deleted"
    elif denial.ncci_effective_date and denial.service_date:
        in_force = ptp.edit_in_force(
            denial.ncci_effective_date, denial.ncci_deletion_date, denial.service_date, modifier_indicator=indicator
        )
        if not in_force:
            if denial.service_date < denial.ncci_effective_date:
                reason = f"the edit took effect on {denial.ncci_effective_date.isoformat()}, after the date of service"
            elif denial.ncci_deletion_date:
                reason = f"the edit was deleted on {denial.ncci_deletion_date.isoformat()}"
    if denial.category == denial_words.BUNDLING_EDIT_NOT_IN_FORCE and in_force is None:
        in_force = False
    return EditFacts(
        column1=denial.ncci_column1,
        column1_words=procedure_words.get(denial.ncci_column1, ""),
        column2=denial.ncci_column2,
        column2_words=procedure_words.get(denial.ncci_column2, ""),
        indicator=indicator,
        indicator_words=ptp.INDICATOR_WORDS.get(indicator, ""),
        effective_date=denial.ncci_effective_date,
        deletion_date=denial.ncci_deletion_date,
        quarter=denial.ncci_quarter,
        setting=denial.ncci_setting,
        rationale=denial.ncci_rationale,
        in_force=in_force,
        not_in_force_reason=reason,
    )


def _wants_corrected_line(denial: Any) -> bool:
    """A corrected line is part of the appeal when the team chose a modifier, or when a modifier can
    bypass the edit (indicator 1, edit in force: "modifier may apply" and "appealable")."""
    if denial.chosen_modifier.strip():
        return True
    return denial.category in (
        denial_words.BUNDLING_MODIFIER_MAY_APPLY,
        denial_words.BUNDLING_APPEALABLE,
    ) and denial.ncci_modifier_indicator.strip() in (ptp.ALLOWED, "")


def _corrected_line(
    denial: Any, evidence: list[Any], lines: list[Any], procedure_words: dict[str, str]
) -> CorrectedLine | None:
    if not _wants_corrected_line(denial):
        return None
    # NCCI reads the modifier on the Column 2 code: the denied line normally is that code; when
    # the payer denied the Column 1 line instead, the pair's other line carries it.
    line = denial.line
    column2 = denial.ncci_column2
    if column2 and (line is None or line.procedure_code != column2):
        line = next((ln for ln in (denial.pair_line, *lines) if ln is not None and ln.procedure_code == column2), line)
    if line is None:
        return None
    modifier, reason = corrected_line_modifier(
        chosen=denial.chosen_modifier,
        evidence_kinds=[e.kind for e in evidence],
        triage_modifier=denial.action_modifier,
    )
    billed = tuple(line.modifiers)
    already = bool(modifier) and modifier in billed
    modifiers = billed if (already or not modifier) else (*billed, modifier)
    return CorrectedLine(
        sequence=line.sequence,
        procedure_code=line.procedure_code,
        procedure_words=procedure_words.get(line.procedure_code, ""),
        billed_modifiers=billed,
        modifiers=modifiers[:4],
        modifier=modifier,
        modifier_reason=reason,
        already_billed=already,
        service_date=line.service_date,
        units=line.units,
        charge=line.charge,
    )


def _denial_facts(
    *, denial: Any, evidence: list[Any], lines: list[Any], word: Any, procedure_words: dict[str, str]
) -> DenialFacts:
    from denials.models import Evidence

    kind_labels = dict(Evidence.Kind.choices)
    line = denial.line
    return DenialFacts(
        id=denial.pk,
        category=denial.category,
        category_label=denial_words.category_label(denial.category),
        group=word("GROUP", denial.group_code),
        carc=word("CARC", denial.carc),
        rarcs=tuple(word("RARC", r) for r in denial.rarc_list),
        amount=denial.amount,
        service_date=denial.service_date or (line.service_date if line else None),
        procedure_code=line.procedure_code if line else "",
        modifiers=tuple(line.modifiers) if line else (),
        line_sequence=line.sequence if line else None,
        edit=_edit_facts(denial, procedure_words),
        corrected_line=_corrected_line(denial, evidence, lines, procedure_words),
        passages=tuple(
            Passage(
                quote=e.quote,
                kind=e.kind,
                kind_label=kind_labels.get(e.kind, e.kind),
                document_id=e.document_id,
                document_title=e.document.title,
                document_date=timezone.localdate(e.document.uploaded_at) if e.document.uploaded_at else None,
            )
            for e in evidence
        ),
        needs_passage=needs_passage(category=denial.category, modifier_indicator=denial.ncci_modifier_indicator),
    )


def pdf_problem(content: bytes) -> str:
    """Why stored bytes cannot be appended as PDF pages ("" when they open and have pages)."""
    from pypdf import PdfReader

    if not content:
        return "the stored file is empty"
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            return "the PDF is password-protected"
        if len(reader.pages) == 0:
            return "the PDF has no pages"
    except Exception as exc:  # pypdf raises many kinds for damaged files; each is reported
        return f"the PDF could not be read ({type(exc).__name__}: {exc})"
    return ""


def _document_facts(document: Any, *, with_content: bool) -> DocumentFacts:
    content = bytes(document.content) if with_content else b""
    problem = ""
    if with_content and document.kind == "pdf":
        problem = pdf_problem(content)
    return DocumentFacts(
        id=document.pk,
        title=document.title,
        original_name=document.original_name,
        kind=document.kind,
        uploaded_on=timezone.localdate(document.uploaded_at) if document.uploaded_at else None,
        page_count=document.page_count,
        text=document.text,
        content=content,
        problem=problem,
    )


# --- The checklist ------------------------------------------------------------------------------


def _fact(label: str, value: str, detail: str = "") -> ChecklistItem:
    return ChecklistItem(label=label, included=bool(value.strip()), detail=value.strip() or detail)


def _checklist(package: Package) -> tuple[ChecklistItem, ...]:
    """What the package holds and what is missing, in the order a reviewer checks a letter."""
    items = [
        _fact("Payer appeal address", package.payer.address, "add it on the payer in the admin"),
        _fact("Payer claim number", package.payer_claim_number),
        _fact("Patient control number", package.patient_control_number),
        _fact("Patient name", package.patient.name),
        _fact("Member id", package.patient.member_id),
        _fact("Provider NPI", package.provider.npi, "not on the remittance: add it to the provider in the admin"),
        _fact("Provider TIN", package.provider.tin, "not on the remittance: add it to the provider in the admin"),
        ChecklistItem(
            "Date of service",
            package.service_from is not None,
            package.service_from.isoformat() if package.service_from else "",
        ),
    ]
    for denial in package.denials:
        where = f"denial {denial.id} ({denial.code}{' on ' + denial.procedure_code if denial.procedure_code else ''})"
        items.append(
            ChecklistItem(
                f"Reason words for {where}",
                bool(denial.carc.words),
                f"CARC {denial.carc.code}: on file"
                if denial.carc.words
                else f"CARC {denial.carc.code} has no description loaded",
            )
        )
        if denial.category in denial_words.BUNDLING_CATEGORIES and denial.category != denial_words.BUNDLING_NO_PTP_PAIR:
            items.append(
                ChecklistItem(
                    f"NCCI edit for {where}",
                    denial.edit is not None,
                    f"{denial.edit.column1}/{denial.edit.column2}" if denial.edit else "",
                )
            )
        if denial.corrected_line is not None:
            line = denial.corrected_line
            items.append(
                ChecklistItem(
                    f"Modifier on the corrected line for {where}",
                    bool(line.modifier),
                    f"{line.procedure_code}-{line.modifier} ({line.modifier_reason})"
                    if line.modifier
                    else "save a documentation passage or choose the modifier on the denial",
                )
            )
        if denial.needs_passage:
            count = len(denial.passages)
            items.append(
                ChecklistItem(
                    f"Documentation passage for {where}",
                    count > 0,
                    f"{count} passage{'s' if count != 1 else ''} quoted"
                    if count
                    else "the case rests on the record: save the passage that supports it",
                )
            )
    return (*items, *_document_items(package.documents))


def _document_items(documents: tuple[DocumentFacts, ...]) -> list[ChecklistItem]:
    if not documents:
        return [ChecklistItem("Clinical documents", False, "no document is attached to the claim")]
    return [
        ChecklistItem(
            f"Document: {doc.title}",
            not doc.problem,
            f"could not be appended: {doc.problem}"
            if doc.problem
            else (f"PDF, {doc.page_count} page{'s' if doc.page_count != 1 else ''}" if doc.kind == "pdf" else "text"),
        )
        for doc in documents
    ]


def _checklist_with_documents(package: Package, documents: tuple[DocumentFacts, ...]) -> tuple[ChecklistItem, ...]:
    kept = [item for item in package.checklist if not item.label.startswith(("Document: ", "Clinical documents"))]
    return (*kept, *_document_items(documents))
