"""The appeal package as one PDF: ``appeal_package_pdf(package=...)``.

fpdf2 typesets our pages (cover letter, the appeal's facts and corrected line, the EOB
excerpt, the checklist, text documents); pypdf then appends each attached PDF document page
by page, as it was uploaded. Both are pure-Python wheels (fpdf2 needs Pillow and fontTools,
also wheels): no system library, unlike HTML-to-PDF engines (WeasyPrint needs Pango).

Fonts: fpdf2's core fonts are Latin-1 only, and clinical notes and names carry typographic
quotes, dashes, "≥", accented and non-Latin letters. Replacing those would alter the
passages the letter quotes, so we embed DejaVu Sans (``appeals/fonts``, with its licence;
fpdf2 ships no font), subset to the characters used. A character DejaVu lacks prints as a
blank box rather than stopping the package.

A PDF document that cannot be appended (damaged, password-protected) does not stop the
package: a page says which document and why, and the checklist marks it as not appended.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos
from pypdf import PdfReader, PdfWriter

from appeals.letters import Letter, package_with_letter
from appeals.package import ChecklistItem, DocumentFacts, Package
from denials.templatetags.overturn import money

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
MISSING = "missing"

# Colours (RGB): body text, muted text, rules and fills, the "missing" red.
INK = (28, 32, 38)
MUTED = (96, 104, 116)
RULE = (210, 214, 220)
FILL = (243, 245, 248)
QUOTE_FILL = (246, 243, 232)
RED = (170, 30, 30)
GREEN = (20, 110, 50)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _money(value: Decimal | None) -> str:
    return money(value) if value is not None else ""


class _PackagePdf(FPDF):
    def __init__(self, *, appeal_id: int, appended_pages: int = 0) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.appeal_id = appeal_id
        # fpdf2 counts only its own pages ({nb}); the attached PDFs' pages follow ours.
        self.appended_pages = appended_pages
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)
        self.section = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        left = f"Appeal {self.appeal_id}" + (f" · {self.section}" if self.section else "")
        self.cell(0, 4, left, align="L")
        self.set_x(self.l_margin)
        then = f" (then {self.appended_pages} attached PDF page{'s' if self.appended_pages != 1 else ''})"
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}" + (then if self.appended_pages else ""), align="R")
        self.set_text_color(*INK)

    # --- Building blocks ---------------------------------------------------------------------
    @property
    def width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def new_section(self, title: str) -> None:
        self.add_page()  # draws the previous page's footer, with the previous section's name
        self.section = title

    def heading(self, text: str, size: float = 14) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)
        self.set_font(FONT, "", 9.5)

    def subheading(self, text: str) -> None:
        if self.get_y() > self.h - 45:
            self.add_page()
        self.ln(2)
        self.set_font(FONT, "B", 10.5)
        self.multi_cell(0, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = self.get_y()
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.ln(1.5)
        self.set_font(FONT, "", 9.5)

    def paragraph(self, text: str, *, size: float = 9.5, muted: bool = False, height: float = 4.8) -> None:
        self.set_font(FONT, "", size)
        if muted:
            self.set_text_color(*MUTED)
        for line in self.lines_for(text, self.width, height):
            if self.get_y() + height > self.page_break_trigger:
                self.add_page()
                self.set_font(FONT, "", size)
            self.set_x(self.l_margin)
            self.cell(self.width, height, line)
            self.ln(height)
        self.set_text_color(*INK)

    def lines_for(self, text: str, width: float, height: float) -> list[str]:
        """``text`` broken into lines that fit ``width`` in the current font, at spaces.

        Our own greedy wrap, one width per word: fpdf2's line breaker measures the line again
        for every character, which made the letter and notes the slowest part of a package. A
        word wider than a line goes to fpdf2's breaker, which cuts it.
        """
        out: list[str] = []
        space = self.get_string_width(" ")
        for part in text.split("\n"):
            if self.get_string_width(part) <= width:
                out.append(part)
                continue
            # A line's leading spaces indent every line it wraps into (the letter's "  Reason ...").
            body = part.lstrip(" ")
            indent = part[: len(part) - len(body)]
            if indent:
                out.extend(indent + ln for ln in self.lines_for(body, width - self.get_string_width(indent), height))
                continue
            line, line_width = "", 0.0
            for word in part.split(" "):
                word_width = self.get_string_width(word)
                if line and line_width + space + word_width <= width:
                    line, line_width = f"{line} {word}", line_width + space + word_width
                    continue
                if line:
                    out.append(line)
                if word_width <= width:
                    line, line_width = word, word_width
                else:
                    pieces: list[str] = self.multi_cell(  # type: ignore[assignment]
                        width, height, word, dry_run=True, output=MethodReturnValue.LINES
                    )
                    out.extend(pieces[:-1])
                    line = pieces[-1]
                    line_width = self.get_string_width(line)
            out.append(line)
        return out or [""]

    def facts(self, rows: list[tuple[str, str]]) -> None:
        """Label / value rows; an empty value prints as "missing" in red."""
        label_w, lh = 48, 4.6
        value_w = self.width - label_w
        for label, value in rows:
            self.set_font(FONT, "", 9.5)
            lines = self.lines_for(value.strip() or MISSING, value_w, lh)
            if self.get_y() + lh * len(lines) > self.page_break_trigger:
                self.add_page()
            y = self.get_y()
            self.set_font(FONT, "B", 8.5)
            self.set_text_color(*MUTED)
            self.set_xy(self.l_margin, y)
            self.cell(label_w, lh, label)
            self.set_font(FONT, "", 9.5)
            self.set_text_color(*(INK if value.strip() else RED))
            for n, line in enumerate(lines):
                self.set_xy(self.l_margin + label_w, y + n * lh)
                self.cell(value_w, lh, line)
            self.set_text_color(*INK)
            self.set_xy(self.l_margin, y + lh * len(lines) + 0.8)

    def quote(self, text: str, source: str) -> None:
        """A passage on a tinted block, indented, with its source under it."""
        indent, pad, lh = 4.0, 3.0, 4.8
        inner = self.width - indent - 2 * pad
        self.set_font(FONT, "", 9.5)
        self.set_fill_color(*QUOTE_FILL)
        lines = self.lines_for(f"“{text}”", inner, lh)
        if self.get_y() + lh * min(len(lines), 3) + 2 * pad > self.page_break_trigger:
            self.add_page()
        self.set_x(self.l_margin + indent)
        self.cell(self.width - indent, pad - 1, "", fill=True)
        self.ln(pad - 1)
        for line in lines:
            if self.get_y() + lh > self.page_break_trigger:
                self.add_page()
                self.set_font(FONT, "", 9.5)
            self.rect(self.l_margin + indent, self.get_y(), self.width - indent, lh, style="F")
            self.set_x(self.l_margin + indent + pad)
            self.cell(inner, lh, line)
            self.ln(lh)
        self.set_x(self.l_margin + indent)
        self.cell(self.width - indent, pad - 1, "", fill=True)
        self.ln(pad)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.set_x(self.l_margin + indent)
        self.cell(self.width - indent, 4.2, source)
        self.ln(4.2)
        self.set_text_color(*INK)
        self.ln(1.5)

    def grid(
        self,
        headings: list[str],
        rows: list[list[str]],
        widths: list[float],
        align: list[str] | None = None,
        colours: list[tuple[int, int, int] | None] | None = None,
    ) -> None:
        """A table with rules between rows; cells wrap; the headings repeat on a new page.

        ``colours`` colours each row's first cell (bold), e.g. the checklist's Included/Missing.
        Drawn with plain cells rather than fpdf2's ``table()``, which lays every cell out twice
        and made a package three times slower.
        """
        scale = self.width / sum(widths)
        widths = [w * scale for w in widths]
        aligns = [{"LEFT": "L", "RIGHT": "R", "CENTER": "C"}[a] for a in (align or ["LEFT"] * len(headings))]
        lh, pad = 4.3, 1.3

        def head() -> None:
            self.set_font(FONT, "B", 7.8)
            self.set_text_color(*MUTED)
            self.set_fill_color(*FILL)
            self.set_x(self.l_margin)
            y = self.get_y()
            self.rect(self.l_margin, y, self.width, lh + 2 * pad, style="F")
            x = self.l_margin
            for text, w, a in zip(headings, widths, aligns, strict=True):
                self.set_xy(x + pad, y + pad)
                self.cell(w - 2 * pad, lh, text, align=a)
                x += w
            self.set_xy(self.l_margin, y + lh + 2 * pad)
            self.set_text_color(*INK)

        head()
        for index, values in enumerate(rows):
            self.set_font(FONT, "", 8.5)
            cells = [self.lines_for(text, w - 2 * pad, lh) for text, w in zip(values, widths, strict=True)]
            height = max(len(c) for c in cells) * lh + 2 * pad
            if self.get_y() + height > self.page_break_trigger:
                self.add_page()
                head()
            y, x = self.get_y(), self.l_margin
            for column, (lines, w, a) in enumerate(zip(cells, widths, aligns, strict=True)):
                colour = colours[index] if colours and column == 0 else None
                self.set_font(FONT, "B" if colour else "", 8.5)
                self.set_text_color(*(colour or INK))
                for n, line in enumerate(lines):
                    self.set_xy(x + pad, y + pad + n * lh)
                    self.cell(w - 2 * pad, lh, line, align=a)
                x += w
            self.set_text_color(*INK)
            self.line(self.l_margin, y + height, self.l_margin + self.width, y + height)
            self.set_xy(self.l_margin, y + height)
        self.ln(2)


# --- Pages ----------------------------------------------------------------------------------------


def _letter_page(pdf: _PackagePdf, letter: Letter | None, error: str) -> None:
    pdf.new_section("Cover letter")
    if letter is None:
        pdf.heading("Cover letter")
        pdf.set_text_color(*RED)
        pdf.paragraph(f"The cover letter could not be written. {error}")
        pdf.paragraph("Fix the letter template in the admin, then make the package again.", muted=True)
        return
    pdf.paragraph(letter.body, size=10, height=5.2)


def _summary_pages(pdf: _PackagePdf, package: Package) -> None:
    pdf.new_section("The appeal")
    pdf.heading(f"Appeal {package.appeal_id}: {package.level_label}")
    pdf.facts(
        [
            ("Payer", package.payer.name),
            ("Payer appeal address", package.payer.address),
            ("Payer appeal fax", package.payer.fax),
            ("Billing provider", package.provider.name),
            ("Provider NPI", package.provider.npi),
            ("Provider TIN", package.provider.tin),
            (
                "Rendering provider",
                ", NPI ".join(p for p in (package.rendering_provider.name, package.rendering_provider.npi) if p),
            ),
            ("Patient", package.patient.name),
            ("Member id", package.patient.member_id),
            ("Patient control number", package.patient_control_number),
            ("Payer claim number", package.payer_claim_number),
            ("Date of service", _dates(package)),
            ("Appeal due", _date(package.due_date)),
            ("Amount at stake", _money(package.amount_at_stake)),
        ]
    )
    for number, d in enumerate(package.denials, start=1):
        where = (
            f" on {d.procedure_code}" + (f"-{'-'.join(d.modifiers)}" if d.modifiers else "") if d.procedure_code else ""
        )
        pdf.subheading(f"Denial {number}: {d.code}{where}, {_money(d.amount)}")
        pdf.facts(
            [
                ("Category", d.category_label),
                ("Date of service", _date(d.service_date)),
                ("Group code", f"{d.group.code}: {d.group.words}" if d.group.words else d.group.code),
                ("Reason (CARC)", f"{d.carc.code}: {d.carc.words or 'no description loaded'}"),
                *(("Remark (RARC)", f"{r.code}: {r.words or 'no description loaded'}") for r in d.rarcs),
            ]
        )
        if d.edit is not None:
            e = d.edit
            pdf.set_font(FONT, "B", 9.5)
            pdf.cell(0, 6, "NCCI procedure-to-procedure edit", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            in_force = {True: "yes", False: "no" + (f": {e.not_in_force_reason}" if e.not_in_force_reason else "")}
            pdf.facts(
                [
                    ("Column 1 (paid)", f"{e.column1}" + (f": {e.column1_words}" if e.column1_words else "")),
                    ("Column 2 (denied)", f"{e.column2}" + (f": {e.column2_words}" if e.column2_words else "")),
                    ("Modifier indicator", f"{e.indicator}: {e.indicator_words}" if e.indicator_words else e.indicator),
                    ("Effective", _date(e.effective_date)),
                    ("Deleted", _date(e.deletion_date) or "not deleted"),
                    ("NCCI quarter", e.quarter),
                    ("Setting", e.setting),
                    ("Rationale", e.rationale),
                    ("In force on service date", in_force.get(e.in_force, "") if e.in_force is not None else ""),
                ]
            )
        if d.corrected_line is not None:
            c = d.corrected_line
            pdf.set_font(FONT, "B", 9.5)
            pdf.cell(0, 6, "Corrected claim line", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            as_billed = "-".join((c.procedure_code, *c.billed_modifiers))
            corrected = "-".join((c.procedure_code, *c.modifiers)) if c.modifier else MISSING
            pdf.grid(
                ["", "Line", "Procedure", "Date", "Units", "Charge"],
                [
                    ["As billed", str(c.sequence), as_billed, _date(c.service_date), _units(c.units), _money(c.charge)],
                    ["Corrected", str(c.sequence), corrected, _date(c.service_date), _units(c.units), _money(c.charge)],
                ],
                widths=[22, 12, 50, 26, 16, 24],
                align=["LEFT", "RIGHT", "LEFT", "LEFT", "RIGHT", "RIGHT"],
            )
            note = (
                f"Modifier {c.modifier} on the Column 2 code {c.procedure_code}: {c.modifier_reason}"
                + ("; it was on the line as billed." if c.already_billed else ".")
                if c.modifier
                else f"Modifier missing: {c.modifier_reason}."
            )
            pdf.paragraph(note, size=8.5, muted=True)
        if d.passages:
            pdf.set_font(FONT, "B", 9.5)
            pdf.cell(0, 6, "Supporting documentation", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            for p in d.passages:
                source = f"{p.document_title}" + (f", {_date(p.document_date)}" if p.document_date else "")
                pdf.quote(p.quote, f"{source} · {p.kind_label}")
        elif d.needs_passage:
            pdf.set_text_color(*RED)
            pdf.paragraph("Supporting documentation passage: missing (this appeal rests on the record).")
            pdf.set_text_color(*INK)


def _units(value: Decimal | None) -> str:
    return f"{value.normalize():f}" if value is not None else ""


def _dates(package: Package) -> str:
    if package.service_from is None:
        return ""
    if package.service_to and package.service_to != package.service_from:
        return f"{_date(package.service_from)} to {_date(package.service_to)}"
    return _date(package.service_from)


def _eob_pages(pdf: _PackagePdf, package: Package) -> None:
    eob = package.eob
    pdf.new_section("Remittance excerpt")
    pdf.heading("Remittance (EOB) excerpt")
    pdf.paragraph("As the payer's 835 remittance reported it.", muted=True, size=8.5)
    pdf.facts(
        [
            ("Payer", package.payer.name),
            ("Remittance date", _date(eob.remittance_date)),
            ("Check / trace number", eob.trace_number),
            ("Claim status", eob.status),
            ("Payer claim number", package.payer_claim_number),
            ("Patient control number", package.patient_control_number),
        ]
    )
    rows = []
    for ln in eob.lines:
        adjustments = "\n".join(f"{a.group_code}-{a.carc} {_money(a.amount)}" for a in ln.adjustments)
        remarks = " ".join(r.code for r in ln.remarks)
        rows.append(
            [
                str(ln.sequence) + (" *" if ln.denied else ""),
                "-".join((ln.procedure_code, *ln.modifiers)),
                _date(ln.service_date),
                _units(ln.units),
                _money(ln.charge),
                _money(ln.allowed) or "—",
                _money(ln.paid),
                adjustments or "—",
                remarks or "—",
            ]
        )
    rows.append(["", "Claim", "", "", _money(eob.charge), _money(eob.allowed) or "—", _money(eob.paid), "", ""])
    pdf.grid(
        ["Line", "Procedure", "Date", "Units", "Charge", "Allowed", "Paid", "Adjustments", "Remarks"],
        rows,
        widths=[10, 24, 20, 11, 20, 20, 20, 28, 22],
        align=["LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT", "LEFT"],
    )
    pdf.paragraph("* a line this appeal asks the payer to pay.", muted=True, size=8)
    if eob.patient_responsibility is not None:
        pdf.paragraph(f"Patient responsibility on the claim: {_money(eob.patient_responsibility)}", size=9)
    if eob.claim_adjustments or eob.claim_remarks:
        pdf.subheading("Claim-level adjustments and remarks")
        for a in eob.claim_adjustments:
            pdf.paragraph(f"{a.group_code}-{a.carc} {_money(a.amount)}: {a.words or 'no description loaded'}", size=9)
        for r in eob.claim_remarks:
            pdf.paragraph(f"{r.code}: {r.words or 'no description loaded'}", size=9)
    legend: dict[str, str] = {}
    for ln in eob.lines:
        for a in ln.adjustments:
            legend[f"CARC {a.carc}"] = a.words or "no description loaded"
        for r in ln.remarks:
            legend[f"RARC {r.code}"] = r.words or "no description loaded"
    if legend:
        pdf.subheading("What the codes mean")
        for code, words in legend.items():
            pdf.paragraph(f"{code}: {words}", size=8.5)


def _checklist_page(pdf: _PackagePdf, checklist: tuple[ChecklistItem, ...]) -> None:
    pdf.new_section("Checklist")
    pdf.heading("Checklist")
    missing = sum(1 for item in checklist if not item.included)
    pdf.paragraph(
        f"{missing} item{'s' if missing != 1 else ''} missing." if missing else "Everything is included.",
        size=9.5,
    )
    pdf.ln(1)
    pdf.grid(
        ["Status", "Item", "Detail"],
        [["Included" if i.included else "Missing", i.label, i.detail] for i in checklist],
        widths=[20, 70, 86],
        colours=[GREEN if i.included else RED for i in checklist],
    )


def _text_document(pdf: _PackagePdf, document: DocumentFacts) -> None:
    pdf.new_section(f"Document: {document.title}"[:80])
    pdf.heading(document.title, size=12)
    pdf.paragraph(
        f"{document.original_name} · attached {_date(document.uploaded_on) or 'on an unknown date'}",
        muted=True,
        size=8.5,
    )
    pdf.ln(2)
    pdf.paragraph(document.text or "(the document has no text)", size=9.5, height=4.8)


def _unappendable_page(pdf: _PackagePdf, document: DocumentFacts) -> None:
    pdf.new_section(f"Document: {document.title}"[:80])
    pdf.heading(document.title, size=12)
    pdf.set_text_color(*RED)
    pdf.paragraph(f"This document could not be appended: {document.problem}.")
    pdf.set_text_color(*INK)
    pdf.paragraph(
        f"File: {document.original_name}. Attach a readable copy to the claim, or send the original with this package.",
        muted=True,
    )


def _clean_pdf(content: bytes) -> tuple[bytes, str]:
    """The document's pages copied into a fresh PDF, or the reason they cannot be.

    Copying fully (not only opening) finds damage that shows only when the pages are read,
    before anything is added to the package.
    """
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            return b"", "the PDF is password-protected"
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        if len(writer.pages) == 0:
            return b"", "the PDF has no pages"
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue(), ""
    except Exception as exc:  # pypdf raises many kinds for damaged files; each is reported
        return b"", f"the PDF could not be read ({type(exc).__name__}: {exc})"


def appeal_package_pdf(*, package: Package) -> bytes:
    """The whole package as one PDF (bytes): our pages, then each attached PDF's own pages."""
    appended: list[tuple[DocumentFacts, bytes]] = []
    for document in package.documents:
        if document.kind != "pdf" or document.problem:
            continue
        clean, problem = _clean_pdf(document.content)
        if problem:
            package = package.with_document_problem(document_id=document.id, problem=problem)
        else:
            appended.append((document, clean))
    package, letter, error = package_with_letter(package=package)

    appended_pages = sum(len(PdfReader(io.BytesIO(clean)).pages) for _document, clean in appended)
    pdf = _PackagePdf(appeal_id=package.appeal_id, appended_pages=appended_pages)
    pdf.set_title(f"Appeal {package.appeal_id} package")
    pdf.set_creator("Overturn")
    _letter_page(pdf, letter, error)
    _summary_pages(pdf, package)
    _eob_pages(pdf, package)
    _checklist_page(pdf, package.checklist)
    for document in package.documents:
        if document.kind == "pdf":
            if document.problem:
                _unappendable_page(pdf, document)
        else:
            _text_document(pdf, document)
    ours = bytes(pdf.output())
    if not appended:
        return ours
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(ours)))
    for _document, clean in appended:
        writer.append(PdfReader(io.BytesIO(clean)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
