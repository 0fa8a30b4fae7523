"""Clinical documents and the evidence passages coders save from them."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from denials.models import (
    ClaimPayment,
    Denial,
)
from denials.services.audit import audit_record
from denials.services.worklist import DenialActionRefused


def document_upload(*, claim: ClaimPayment, name: str, content: bytes, actor: User, title: str = "") -> Any:
    """Attach clinical documentation: plain text as is, PDF through pypdf's text extraction."""
    from denials.models import ClinicalDocument

    if not content:
        raise DenialActionRefused(f"{name} is empty.")
    if content[:5] == b"%PDF-":
        kind, text, pages = ClinicalDocument.Kind.PDF, *_pdf_text(name, content)
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = content.decode("latin-1")
        if "\x00" in text:
            raise DenialActionRefused(f"{name} is neither plain text nor a PDF.")
        kind, pages = ClinicalDocument.Kind.TEXT, 1
    text = text.replace("\r\n", "\n")
    digest = hashlib.sha256(content).hexdigest()
    existing = ClinicalDocument.objects.filter(claim=claim, sha256=digest).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        document = ClinicalDocument.objects.create(
            claim=claim,
            title=(title or name)[:200],
            original_name=name[:255],
            kind=kind,
            content=content,
            sha256=digest,
            text=text,
            page_count=pages,
            uploaded_by=actor,
        )
        audit_record(
            actor=actor,
            action="document.uploaded",
            target=claim,
            new={"document": document.pk, "name": name, "kind": kind},
        )
    return document


def _pdf_text(name: str, content: bytes) -> tuple[str, int]:
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(content))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:
        # As in the appeal package (appeals.pdf): a damaged PDF can stop pypdf with any of its
        # own errors (a reference loop: LimitReachedError) or a plain Python one from deep
        # inside it (an object that refers to itself: AttributeError). Each is a file that
        # cannot be read, not a fault.
        raise DenialActionRefused(f"{name} could not be read as a PDF ({type(exc).__name__}: {exc}).") from exc
    # A damaged or odd PDF can extract NUL characters, which PostgreSQL cannot store in text.
    text = "\n\n".join(p.strip() for p in pages).replace("\x00", "").strip()
    if not text:
        raise DenialActionRefused(f"{name} has no text layer (a scanned image?): attach the note as text.")
    return text, len(pages)


def evidence_save(
    *, denial: Denial, document: Any, start: int, end: int, kind: str, actor: User, quote: str = ""
) -> Any:
    """Save a passage of a document as evidence. Offsets index the document's text; when
    the browser's selection text is sent too, it must match what the offsets cover."""
    from denials.models import Evidence

    if document.claim_id != denial.claim_id:
        raise DenialActionRefused("That document belongs to another claim.")
    if kind not in Evidence.Kind.values:
        raise DenialActionRefused(f"Unknown evidence kind {kind!r}.")
    if not (0 <= start < end <= len(document.text)):
        raise DenialActionRefused("Select a passage inside the document first.")
    passage = document.text[start:end]
    if quote and " ".join(quote.split()) != " ".join(passage.split()):
        raise DenialActionRefused("The selection did not match the document text; select the passage again.")
    with transaction.atomic():
        evidence = Evidence.objects.create(
            denial=denial, document=document, start=start, end=end, quote=passage, kind=kind, created_by=actor
        )
        audit_record(
            actor=actor,
            action="denial.evidence_saved",
            target=denial,
            new={"evidence": evidence.pk, "kind": kind, "quote": passage[:200]},
        )
    return evidence


def evidence_delete(*, evidence: Any, actor: User) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="denial.evidence_removed",
            target=evidence.denial,
            old={"evidence": evidence.pk, "quote": evidence.quote[:200]},
        )
        evidence.delete()
