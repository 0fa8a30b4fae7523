"""Read an X12 835 remittance (005010X221A1) into plain dataclasses.

``read_835(data)`` never raises on bad input: every problem becomes a ``Finding``.
Errors are structural (the envelope does not add up, a number cannot be read, the version
is not 5010) and mean the file is refused; warnings (no envelope, a claim that does not
balance) let the file in with the problem shown.

The tokenizer is hand-written rather than built on pyx12 because remittances arrive with
every delimiter set the ISA allows, masked or short ISA segments, BOMs, indentation and no
envelope at all, and because a big payer file holds thousands of claims that must read in
a fraction of a second. This module imports nothing from Django.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from denials.x12.parsed import (
    Adjustment,
    ClaimPayment,
    Finding,
    ParsedFile,
    Party,
    ProviderAdjustment,
    ServiceLine,
    Transaction,
)

__all__ = ["SUPPORTED_VERSIONS", "read_835"]

SUPPORTED_VERSIONS: tuple[str, ...] = ("005010X221A1", "005010X221")
_WANTED = "send the 005010X221A1 (5010) remittance"

# X12 "R" (decimal) values: no exponent, no spaces, no thousands separators, all of
# which Decimal() would otherwise accept.
_IS_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)").fullmatch
_IS_DATE = re.compile(r"\d{8}").fullmatch
_IS_INTEGER = re.compile(r"\d+").fullmatch

_BOM = b"\xef\xbb\xbf"
# Balancing messages use a true minus sign (U+2212) for the operator so that subtracting a
# negative PLB amount stays readable; written as an escape because linters flag the glyph.
_MINUS = "\u2212"
_ZERO = Decimal("0")

# A body handler that reads past a segment's last element first appends this many empty
# ones (MIA24 is the furthest one read; CAS reads two past its last reason code).
_PADDING = [""] * 25

# What a body handler read from a segment that earned no finding: the segment's tag, then
# the values it read (see _Reader.read).
_Seen = tuple[Any, ...]
# How often read() weighs whether its cache of segments pays (every so many new entries),
# and how many entries it keeps at most.
_SEEN_CHECK = 4096
_SEEN_MAX = 65536
_intern = sys.intern
# The hottest objects (lines, adjustments, claims) are made bare and have every field set,
# which costs about a third less than the dataclass's __init__ (tests compare them with
# objects built by keyword).
_new = object.__new__

# DTM qualifiers kept, and the attribute each date goes to (see _Reader.date_slot).
_LINE_DATES = {"472": "service_date", "150": "service_date", "151": "service_date_end"}
_CLAIM_DATES = {"232": "statement_from", "233": "statement_to", "050": "received_date"}

# Separators a payer may use inside SVC01 when it ignores the one ISA16 declares.
_ALTERNATIVE_COMPONENT_SEPARATORS = ">:^|"

_GROUP_CODES = frozenset({"CO", "PR", "OA", "PI"})
_CLAIM_STATUSES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})

# Past this many of one kind the reader stops listing: a file that bad is refused anyway,
# and a million findings would only bury the first, most useful ones.
_MAX_FINDINGS = 1000


def read_835(data: bytes) -> ParsedFile:
    """Read an 835 file's bytes; problems are reported as findings, never raised."""
    result = ParsedFile()
    # A big remittance allocates hundreds of thousands of objects and frees none of them
    # before returning, so the cyclic collector would only rescan them again and again
    # (close to half the run time on a 5,000-claim file). The reader builds no reference
    # cycles, so reference counting alone still frees everything it discards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _Reader(data, result).read()
    except Exception as exc:
        # A reader bug must not take down the ingest worker: the file is refused with a
        # message a person can pass on, and the tests keep this branch unreachable.
        result.errors.append(Finding(0, "", f"the file could not be read ({type(exc).__name__}: {exc})"))
    finally:
        if collecting:
            gc.enable()
    return result


@dataclass(frozen=True)
class _Delimiters:
    element: str
    component: str
    segment: str
    # ISA11; "" when it is the 4010 standards identifier ("U"). Recorded only: no 835
    # element this reader keeps is a repeating one.
    repetition: str
    has_envelope: bool


@dataclass
class _Interchange:
    segment_number: int
    control_number: str  # ISA13
    sender_id: str  # ISA06
    receiver_id: str  # ISA08
    isa11: str
    isa12: str
    group_count: int = 0


@dataclass
class _Group:
    segment_number: int
    control_number: str  # GS06
    sender_id: str  # GS02
    receiver_id: str  # GS03
    version: str  # GS08
    supported: bool
    transaction_count: int = 0


@dataclass
class _OpenTransaction:
    transaction: Transaction
    segment_number: int
    readable: bool  # False when the version or set id is refused: segments are only counted
    bpr_segment: int = 0
    trn_seen: bool = False


def _money_text(amount: Decimal) -> str:
    """Show money as billing teams read it (0.00, not 0), keeping any extra precision."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return f"{amount:.2f}"
    return str(amount)


def _detect_terminator(text: str, start: int, first: str) -> str:
    """The segment terminator, given the first character after the ISA16 / ST elements.

    A newline there means either newline-terminated segments, or the pathological layout
    where each segment is written as ``\\n~SEG``: then the real terminator is the
    punctuation that follows the line break.
    """
    if not first.isspace():
        return first
    j = start
    length = len(text)
    while j < length and text[j].isspace():
        j += 1
    if j < length and not text[j].isalnum():
        return text[j]
    return "\n" if "\n" in text[start:j] else first


#: Characters from "ISA" through ISA16: the ISA's fields are fixed width (106 with the terminator).
ISA_WIDTH = 105


def _isa_width(text: str, element: str) -> int:
    """Characters from "ISA" through ISA16 (the 16th element separator and the one character after)."""
    pos = 3
    for _ in range(15):
        pos = text.find(element, pos + 1)
    return pos + 2


def _detect_isa_delimiters(text: str) -> _Delimiters | str:
    element = text[3] if len(text) > 3 else ""
    if not element or element.isalnum() or element.isspace():
        return "the ISA segment's element separator could not be read"
    # The ISA can be narrower than 106 characters when a sender masks or trims its
    # fields, so ISA16 is found by counting separators rather than by position.
    pos = 3
    for _ in range(15):
        pos = text.find(element, pos + 1)
        if pos == -1:
            return "the ISA segment is incomplete: its delimiters could not be read"
    if pos + 2 >= len(text):
        return "the ISA segment is incomplete: its delimiters could not be read"
    component = text[pos + 1]
    after = text[pos + 2]
    if after.isalnum():
        return "ISA16 (component separator) is missing: the delimiters could not be read"
    segment = _detect_terminator(text, pos + 2, after)
    if component in (element, segment) or element == segment:
        return (
            f"the ISA declares clashing delimiters (element {element!r}, component {component!r}, segment {segment!r})"
        )
    fields = text[: pos + 2].split(element)
    isa11 = fields[11].strip() if len(fields) > 11 else ""
    repetition = isa11 if len(isa11) == 1 and not isa11.isalnum() and not isa11.isspace() else ""
    return _Delimiters(element, component, segment, repetition, has_envelope=True)


def _detect_st_delimiters(text: str) -> _Delimiters | str:
    element = text[2] if len(text) > 2 else ""
    if not element or element.isalnum() or element.isspace():
        return "not an X12 file: it does not start with ISA or ST"
    j = 3
    length = len(text)
    while j < length and (text[j].isalnum() or text[j] == element):
        j += 1
    segment = _detect_terminator(text, j + 1, text[j]) if j < length else "~"
    # Without an ISA16 the component separator is guessed from the first SVC01
    # (``HC:99213`` or ``HC>99213``); ':' is the usual one.
    component = ":"
    svc = text.find("SVC" + element)
    if svc != -1:
        probe = text[svc + 4 : svc + 7]
        if (
            len(probe) == 3
            and probe[:2].isalnum()
            and not probe[2].isalnum()
            and probe[2] not in (element, segment)
            and not probe[2].isspace()
        ):
            component = probe[2]
    return _Delimiters(element, component, segment, "", has_envelope=False)


def _version_problem(version: str, interchange: _Interchange | None) -> str | None:
    """Why a GS08/ST03 version cannot be read, or None when it is a 5010 835."""
    if version in SUPPORTED_VERSIONS:
        return None
    if version.startswith("004010") or version.startswith("003"):
        release = "4010" if version.startswith("004010") else version[:6]
        return f"X12 version {version} ({release}) is not supported: {_WANTED}"
    if version.startswith("005010"):
        return f"X12 version {version} is not the 835 remittance guide: {_WANTED}"
    # Masked or mangled versions (de-identified samples write 999999X999X9): the ISA
    # still tells the eras apart, since 4010 has the standards id 'U' in ISA11 where
    # 5010 has the repetition separator.
    if interchange is not None and (interchange.isa12 == "00401" or interchange.isa11 == "U"):
        return (
            f"X12 version {version!r} is not recognised and the envelope is 4010-style "
            f"(ISA11 {interchange.isa11!r}, ISA12 {interchange.isa12!r}): 4010 remittances "
            f"are not supported: {_WANTED}"
        )
    return f"X12 version {version!r} is not recognised: {_WANTED}"


def _get(elements: list[str], index: int) -> str:
    return elements[index] if index < len(elements) else ""


class _Reader:
    """One pass over the segments, keeping the envelope and loop position as state."""

    def __init__(self, data: bytes, result: ParsedFile) -> None:
        self.data = data
        self.result = result
        self.delimiters: _Delimiters | None = None
        self.interchange: _Interchange | None = None
        self.group: _Group | None = None
        self.open: _OpenTransaction | None = None
        self.transaction_seen = False
        self.party: Party | None = None
        self.claim: ClaimPayment | None = None
        self.line: ServiceLine | None = None
        self.component_warned: set[str] = set()
        self.component = ":"
        self.amounts: dict[str, Decimal] = {}
        self.dates: dict[str, dt.date] = {}
        # Codes repeat across a file (group codes, CARCs, procedure codes, modifiers): one
        # string object each, so a big file's thousands of lines do not hold a copy apiece.
        self.strings: dict[str, str] = {}
        # SVC01 text -> (qualifier, procedure code, modifiers), for texts read without a warning.
        self.procedures: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        # CAS01 text -> the group code it reads as, for texts that are one of the four codes.
        self.groups: dict[str, str] = {}
        # Whether the body handlers return what they read for read() to keep (see read()).
        self.keep = True

    def body_handlers(self) -> dict[str, Callable[[list[str], int], _Seen | None]]:
        # Built per read and never stored on self: bound methods kept on the instance would
        # make a reference cycle, which only the (paused) cyclic collector could free.
        return {
            "BPR": self._bpr,
            "TRN": self._trn,
            "DTM": self._dtm,
            "N1": self._n1,
            "REF": self._ref,
            "LX": self._lx,
            "CLP": self._clp,
            "CAS": self._cas,
            "NM1": self._nm1,
            "MOA": self._moa,
            "MIA": self._mia,
            "SVC": self._svc,
            "AMT": self._amt,
            "LQ": self._lq,
            "PLB": self._plb,
        }

    # -- findings -----------------------------------------------------------------------

    def error(self, number: int, segment_id: str, message: str) -> None:
        _add(self.result.errors, Finding(number, segment_id, message, "error"))

    def warn(self, number: int, segment_id: str, message: str) -> Finding:
        finding = Finding(number, segment_id, message, "warning")
        _add(self.result.warnings, finding)
        return finding

    # -- field readers ------------------------------------------------------------------
    # Body handlers pad their elements with _PADDING when the segment is shorter than the
    # furthest element they read, so they index without bounds checks. Amounts and dates
    # repeat heavily inside one file (fee schedules, one date of service per claim), so each
    # distinct text is parsed once per file; Decimal and date are immutable, so sharing the
    # objects is safe. The hottest handlers look a text up in these caches themselves and
    # call the methods below only when it is new (a call costs more than the lookup).

    def amount(self, elements: list[str], index: int, number: int) -> Decimal | None:
        """An optional amount (or quantity): None when the element is empty or unreadable."""
        value = elements[index]
        if not value:
            return None
        cached = self.amounts.get(value)
        if cached is not None:
            return cached
        return self.parse_amount(elements, index, number, required=False)

    def required_amount(self, elements: list[str], index: int, number: int) -> Decimal:
        """A mandatory amount; 0 stands in so reading can go on.

        An unreadable amount refuses the file (money cannot be guessed), but an empty one
        only warns: it reads as 0, and the balancing checks then show whether the claim
        still adds up (payer samples exist with an SVC whose charge and paid are empty).
        """
        raw = elements[index]
        cached = self.amounts.get(raw)
        if cached is not None:
            return cached
        value = raw.strip()
        if value.replace(".", "", 1).isdecimal():  # the common unsigned amount, checked without the regex
            amount = self.amounts[raw] = Decimal(value)
            return amount or _ZERO
        return self.parse_amount(elements, index, number, required=True) or _ZERO

    def parse_amount(self, elements: list[str], index: int, number: int, *, required: bool) -> Decimal | None:
        raw = elements[index]
        value = raw.strip()
        # str.isdecimal() is true for exactly the characters the regex's \d matches (Unicode
        # category Nd), so the quick test never accepts what _IS_AMOUNT would refuse.
        if value.replace(".", "", 1).isdecimal() or _IS_AMOUNT(value):
            amount = Decimal(value)
            self.amounts[raw] = amount
            return amount
        name = f"{elements[0]}{index:02d}"
        if value:
            self.error(number, elements[0], f"{name} {value!r} is not an amount")
        elif required:
            self.warn(number, elements[0], f"{name} (amount) is missing; read as 0")
        return None

    def date(self, elements: list[str], index: int, number: int) -> dt.date | None:
        """A CCYYMMDD date, or None.

        An unreadable date is a warning, not an error: it loses one date, not money, and
        real remittances carry typos such as a BPR16 of 20002316 that must still ingest.
        """
        raw = elements[index]
        if not raw:
            return None
        cached = self.dates.get(raw)
        if cached is not None:
            return cached
        value = raw.strip()
        if _IS_DATE(value):
            try:
                parsed = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
            except ValueError:
                pass
            else:
                self.dates[raw] = parsed
                return parsed
        self.warn(
            number,
            elements[0],
            f"{elements[0]}{index:02d} {value!r} is not a date (CCYYMMDD); left empty",
        )
        return None

    def count(self, elements: list[str], index: int, number: int) -> int | None:
        value = _get(elements, index).strip()
        if _IS_INTEGER(value):
            return int(value)
        self.error(number, elements[0], f"{elements[0]}{index:02d} {value!r} is not a count")
        return None

    def split_composite(self, value: str, number: int, segment_id: str, name: str) -> list[str]:
        assert self.delimiters is not None
        component = self.delimiters.component
        if component in value:
            return value.split(component)
        if len(value) > 3 and value[:2].isalnum():
            other = value[2]
            if other in _ALTERNATIVE_COMPONENT_SEPARATORS and other != component:
                if other not in self.component_warned:
                    self.component_warned.add(other)
                    self.warn(
                        number,
                        segment_id,
                        f"{name} {value!r} separates its parts with {other!r} but the file's "
                        f"component separator is {component!r}; read it with {other!r}",
                    )
                return value.split(other)
        return [value]

    # -- the pass -----------------------------------------------------------------------

    def read(self) -> None:
        # Files concatenated by hand can carry a BOM before every ISA, not only the first.
        data = self.data.replace(_BOM, b"")
        try:
            text = data.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            # Not UTF-8: an older payer system writing Latin-1 (or Windows-1252). Latin-1
            # reads every byte, so nothing is lost, but accented names may show oddly.
            text = data.decode("latin-1").strip()
            latin1 = True
            bad_byte = exc.start
        else:
            latin1 = False
            bad_byte = 0
        if not text:
            self.error(0, "", "the file is empty")
            return
        if text.startswith("ISA"):
            delimiters = _detect_isa_delimiters(text)
        elif text.startswith("ST"):
            delimiters = _detect_st_delimiters(text)
        else:
            delimiters = "not an X12 file: it does not start with ISA or ST"
        if isinstance(delimiters, str):
            self.error(0, "", delimiters)
            return
        self.delimiters = delimiters
        self.component = delimiters.component
        if not delimiters.has_envelope:
            self.warn(1, "ST", "file has no ISA/GS envelope; control numbers could not be checked")
        elif (width := _isa_width(text, delimiters.element)) != ISA_WIDTH:
            self.warn(
                1,
                "ISA",
                f"the ISA is {width} characters up to ISA16 where the standard fixes {ISA_WIDTH} "
                "(a field is padded or trimmed); read by its separators, but check the sender's settings",
            )
        if latin1:
            self.warn(
                0,
                "",
                f"the file is not valid UTF-8 (byte {bad_byte + 1} is {data[bad_byte]:#04x}); "
                "it was read as Latin-1, so check accented names",
            )

        element = delimiters.element
        # Body handlers are live only inside a readable transaction; the envelope
        # handlers are the only ones that open or close one, so this is refreshed after them.
        handlers = self.body_handlers()
        active: dict[str, Callable[[list[str], int], _Seen | None]] = {}
        # A remittance repeats most of its CAS, DTM, AMT and SVC segments word for word (a
        # fee schedule's adjustments and allowed amounts, a claim's date of service on each
        # of its lines). Their handlers return what they read from a segment that earned no
        # finding, and that is kept here by the segment's raw text, so a repeat is applied
        # to the current claim or line without being split or read again; whatever depends
        # on where the segment sits (is there a claim? a line?) is still decided at each
        # one. Like ``active``, it is live only inside a readable transaction (None outside).
        # A file that repeats little would pay for the lookups without being repaid, so the
        # cache is dropped once it holds more than one entry for every four segments read,
        # and stops growing at _SEEN_MAX entries.
        seen: dict[str, _Seen] = {}
        live: dict[str, _Seen] | None = None
        caching = True
        check_at = _SEEN_CHECK
        number = 0
        segment_id = ""
        terminator = delimiters.segment
        new = _new
        for block in _blocks(text, terminator):
            for raw in block.split(terminator):
                if live is not None and (hit := live.get(raw)) is not None:
                    tag = hit[0]
                    if tag == "CAS":
                        line = self.line
                        target = line if line is not None else self.claim
                        if target is not None:
                            number += 1
                            segment_id = tag
                            # Every field set on a bare object: about a third cheaper than the
                            # dataclass's __init__, 35,000 times in a 5,000-claim file.
                            adjustment = new(Adjustment)
                            adjustment.group_code = hit[1]
                            adjustment.reason_code = hit[2]
                            adjustment.amount = hit[3]
                            adjustment.quantity = None
                            adjustment.segment_number = number
                            adjustment.element = 2
                            target.adjustments.append(adjustment)
                            continue
                    elif tag == "DTM":
                        # The date goes where _dtm puts it (date_slot).
                        number += 1
                        segment_id = tag
                        slot = self.date_slot(hit[1])
                        if slot is not None:
                            setattr(slot[0], slot[1], hit[2])
                        continue
                    elif tag == "AMT":
                        number += 1
                        segment_id = tag
                        line = self.line
                        if line is not None and hit[1] == "B6":
                            line.allowed = hit[2]
                            line.origins["AMT*B6"] = number
                        continue
                    else:  # SVC
                        claim = self.claim
                        if claim is not None:
                            number += 1
                            segment_id = tag
                            lines = claim.service_lines
                            # Every field set on a bare object, as for the adjustment above.
                            line = new(ServiceLine)
                            line.sequence = len(lines) + 1
                            line.qualifier = hit[1]
                            line.procedure_code = hit[2]
                            line.modifiers = [*hit[3]]
                            line.charge = hit[4]
                            line.paid = hit[5]
                            line.revenue_code = hit[6]
                            line.units = hit[7]
                            line.original_procedure_code = ""
                            line.service_date = None
                            line.service_date_end = None
                            line.line_control_number = ""
                            line.allowed = None
                            line.adjustments = []
                            line.remark_codes = []
                            line.segment_number = number
                            line.origins = {}
                            line.remark_origins = {}
                            lines.append(line)
                            self.line = line
                            continue
                    # Not where the handler reads it without a finding: read it as usual.
                segment = raw.strip()
                if not segment:
                    continue
                number += 1
                elements = segment.split(element)
                segment_id = elements[0]
                handler = active.get(segment_id)
                if handler is not None:
                    kept = handler(elements, number)
                    if kept is not None and live is not None:
                        live[raw] = kept
                        if len(live) >= check_at:
                            check_at += _SEEN_CHECK
                            if len(live) * 4 > number:
                                seen.clear()
                                live = None
                                self.keep = caching = False
                            elif len(live) >= _SEEN_MAX:
                                self.keep = False
                    continue
                envelope = _ENVELOPE.get(segment_id)
                if envelope is not None:
                    envelope(self, elements, number)
                    if self.open is not None and self.open.readable:
                        active, live = handlers, (seen if caching else None)
                    else:
                        active, live = {}, None
                elif self.open is None and segment_id != "TA1":
                    # TA1 (interchange acknowledgment) may legitimately sit between ISA and GS.
                    if segment.startswith("ISA"):
                        self.error(
                            number,
                            "ISA",
                            "this interchange uses different delimiters from the first one: "
                            "send each interchange as its own file",
                        )
                    elif not segment_id.strip():
                        self.error(
                            number,
                            "",
                            f"a segment with no tag (it begins {segment[:20]!r}): a segment terminator is "
                            "probably misplaced, e.g. inside the ISA",
                        )
                    else:
                        self.error(number, segment_id, f"{segment_id} is outside any transaction (ST … SE)")
                # Anything else inside a transaction is a segment this reader does not need.

        self.result.segment_count = number
        self.end_of_file(number, segment_id)

    # -- envelope -----------------------------------------------------------------------

    def isa(self, elements: list[str], number: int) -> None:
        assert self.delimiters is not None
        self.close_transaction(number, "ISA", "before the next interchange")
        self.close_group(number, "ISA", "before the next interchange")
        if self.interchange is not None:
            self.error(
                number,
                "ISA",
                f"interchange {self.interchange.control_number} (ISA at segment "
                f"{self.interchange.segment_number}) has no IEA before the next ISA",
            )
        if len(elements) < 17:
            self.error(number, "ISA", f"ISA has {len(elements) - 1} elements; it must have 16")
        self.interchange = _Interchange(
            segment_number=number,
            control_number=_get(elements, 13).strip(),
            sender_id=_get(elements, 6).strip(),
            receiver_id=_get(elements, 8).strip(),
            isa11=_get(elements, 11).strip(),
            isa12=_get(elements, 12).strip(),
        )

    def gs(self, elements: list[str], number: int) -> None:
        self.close_transaction(number, "GS", "before the next functional group")
        self.close_group(number, "GS", "before the next functional group")
        if self.interchange is None:
            self.error(number, "GS", "GS is outside any interchange (no ISA before it)")
        else:
            self.interchange.group_count += 1
        version = _get(elements, 8).strip()
        problem = _version_problem(version, self.interchange)
        if problem is not None:
            self.error(number, "GS", problem)
        if not self.result.version:
            self.result.version = version
        self.group = _Group(
            segment_number=number,
            control_number=_get(elements, 6).strip(),
            sender_id=_get(elements, 2).strip(),
            receiver_id=_get(elements, 3).strip(),
            version=version,
            supported=problem is None,
        )

    def st(self, elements: list[str], number: int) -> None:
        assert self.delimiters is not None
        self.close_transaction(number, "ST", "before the next ST")
        self.transaction_seen = True
        group = self.group
        interchange = self.interchange
        set_id = _get(elements, 1).strip()
        control = _get(elements, 2).strip()
        declared = _get(elements, 3).strip()
        readable = True
        if group is None:
            if self.delimiters.has_envelope:
                self.error(number, "ST", "ST is outside any functional group (no GS before it)")
            version = declared
            if version:
                problem = _version_problem(version, interchange)
                if problem is not None:
                    self.error(number, "ST", problem)
                    readable = False
            else:
                self.warn(number, "ST", "the X12 version is not stated (no GS08 or ST03); read as 005010X221A1")
            if not self.result.version:
                self.result.version = version
        else:
            group.transaction_count += 1
            version = group.version
            readable = group.supported
            if declared and declared != version:
                self.warn(number, "ST", f"ST03 {declared} differs from GS08 {version}; read as {version}")
        if set_id != "835":
            self.error(number, "ST", f"transaction set {set_id!r} is not an 835 remittance")
            readable = False
        if not control:
            self.error(number, "ST", "ST02 (transaction control number) is missing")
        transaction = Transaction(
            control_number=control,
            interchange_control_number=interchange.control_number if interchange else "",
            group_control_number=group.control_number if group else "",
            sender_id=(group.sender_id if group else "") or (interchange.sender_id if interchange else ""),
            receiver_id=(group.receiver_id if group else "") or (interchange.receiver_id if interchange else ""),
            version=version,
            segment_number=number,
        )
        if interchange is not None:
            transaction.origins["ISA"] = interchange.segment_number
        if group is not None:
            transaction.origins["GS"] = group.segment_number
        self.open = _OpenTransaction(transaction, number, readable)
        self.party = None
        self.claim = None
        self.line = None

    def se(self, elements: list[str], number: int) -> None:
        opened = self.open
        if opened is None:
            self.error(number, "SE", "SE has no matching ST")
            return
        actual = number - opened.segment_number + 1
        declared = self.count(elements, 1, number)
        control = opened.transaction.control_number
        if declared is not None and declared != actual:
            message = f"SE01 says {declared} segments but transaction {control} has {actual} (ST to SE inclusive)"
            assert self.delimiters is not None
            if self.delimiters.has_envelope:
                self.error(number, "SE", message)
            else:
                # A transaction without its envelope was cut out of an interchange by hand,
                # so its count is no proof of a damaged transmission: show it, ingest anyway.
                self.warn(number, "SE", message)
        se02 = _get(elements, 2).strip()
        if se02 != control:
            self.error(number, "SE", f"SE02 {se02!r} does not match ST02 {control!r}")
        self.finish_transaction()

    def ge(self, elements: list[str], number: int) -> None:
        self.close_transaction(number, "GE", "before GE")
        group = self.group
        if group is None:
            self.error(number, "GE", "GE has no matching GS")
            return
        declared = self.count(elements, 1, number)
        if declared is not None and declared != group.transaction_count:
            self.error(
                number,
                "GE",
                f"GE01 says {declared} but group {group.control_number} holds "
                f"{_plural(group.transaction_count, 'transaction set')}",
            )
        ge02 = _get(elements, 2).strip()
        if ge02 != group.control_number:
            self.error(number, "GE", f"GE02 {ge02!r} does not match GS06 {group.control_number!r}")
        self.group = None

    def iea(self, elements: list[str], number: int) -> None:
        self.close_transaction(number, "IEA", "before IEA")
        self.close_group(number, "IEA", "before IEA")
        interchange = self.interchange
        if interchange is None:
            self.error(number, "IEA", "IEA has no matching ISA")
            return
        declared = self.count(elements, 1, number)
        if declared is not None and declared != interchange.group_count:
            self.error(
                number,
                "IEA",
                f"IEA01 says {declared} but interchange {interchange.control_number} holds "
                f"{_plural(interchange.group_count, 'functional group')}",
            )
        iea02 = _get(elements, 2).strip()
        if iea02 != interchange.control_number:
            self.error(number, "IEA", f"IEA02 {iea02!r} does not match ISA13 {interchange.control_number!r}")
        self.interchange = None

    def close_transaction(self, number: int, segment_id: str, where: str) -> None:
        if self.open is None:
            return
        self.error(
            number,
            segment_id,
            f"transaction {self.open.transaction.control_number} (ST at segment "
            f"{self.open.segment_number}) has no SE {where}",
        )
        self.finish_transaction()

    def close_group(self, number: int, segment_id: str, where: str) -> None:
        if self.group is None:
            return
        self.error(
            number,
            segment_id,
            f"functional group {self.group.control_number} (GS at segment "
            f"{self.group.segment_number}) has no GE {where}",
        )
        self.group = None

    def end_of_file(self, number: int, segment_id: str) -> None:
        self.close_transaction(number, segment_id, "(the file ends first)")
        self.close_group(number, segment_id, "(the file ends first)")
        if self.interchange is not None:
            self.error(
                number,
                segment_id,
                f"interchange {self.interchange.control_number} (ISA at segment "
                f"{self.interchange.segment_number}) has no IEA (the file ends first)",
            )
            self.interchange = None
        if not self.transaction_seen:
            self.error(0, "", "the file holds no transaction (no ST segment)")

    def finish_transaction(self) -> None:
        opened = self.open
        assert opened is not None
        self.open = None
        self.party = None
        self.claim = None
        self.line = None
        if not opened.readable:
            return
        transaction = opened.transaction
        number = opened.segment_number
        if not opened.bpr_segment:
            self.error(number, "ST", f"transaction {transaction.control_number} has no BPR (payment) segment")
        if not opened.trn_seen:
            self.error(number, "ST", f"transaction {transaction.control_number} has no TRN (trace number) segment")
        for claim in transaction.claims:
            self.check_claim_balance(claim)
        if opened.bpr_segment:
            self.check_transaction_balance(transaction, opened.bpr_segment)
        self.result.transactions.append(transaction)

    # -- balancing ----------------------------------------------------------------------

    def check_claim_balance(self, claim: ClaimPayment) -> None:
        # Sums by hand rather than through the adjustment_total properties, which would
        # add every line twice; this runs for every claim of every file.
        adjusted = _ZERO
        for adjustment in claim.adjustments:
            adjusted += adjustment.amount
        unbalanced: list[tuple[ServiceLine, Decimal]] = []
        for line in claim.service_lines:
            line_total = _ZERO
            for adjustment in line.adjustments:
                line_total += adjustment.amount
            adjusted += line_total
            if line.charge - line.paid != line_total:
                unbalanced.append((line, line_total))
        expected = claim.charge - claim.paid
        if expected != adjusted:
            claim.warnings.append(
                self.warn(
                    claim.segment_number,
                    "CLP",
                    f"claim {claim.patient_control_number} does not balance: charge "
                    f"{_money_text(claim.charge)} {_MINUS} paid {_money_text(claim.paid)} = "
                    f"{_money_text(expected)} but adjustments total {_money_text(adjusted)}",
                )
            )
        for line, line_total in unbalanced:
            expected = line.charge - line.paid
            claim.warnings.append(
                self.warn(
                    line.segment_number,
                    "SVC",
                    f"claim {claim.patient_control_number} line {line.sequence} "
                    f"({line.procedure_code or line.qualifier}) does not balance: charge "
                    f"{_money_text(line.charge)} {_MINUS} paid {_money_text(line.paid)} = "
                    f"{_money_text(expected)} but its adjustments total {_money_text(line_total)}",
                )
            )

    def check_transaction_balance(self, transaction: Transaction, number: int) -> None:
        paid = sum((claim.paid for claim in transaction.claims), _ZERO)
        provider = sum((plb.amount for plb in transaction.provider_adjustments), _ZERO)
        expected = paid - provider
        # A debit (BPR03 'D') moves money from the payee to the payer: BPR02 stays positive.
        payment = -transaction.payment_amount if transaction.credit_debit == "D" else transaction.payment_amount
        if expected != payment:
            transaction.warnings.append(
                self.warn(
                    number,
                    "BPR",
                    f"transaction {transaction.control_number} does not balance: claims paid "
                    f"{_money_text(paid)} {_MINUS} provider adjustments {_money_text(provider)} = "
                    f"{_money_text(expected)} but BPR02 pays {_money_text(transaction.payment_amount)}",
                )
            )

    # -- header (table 1) ---------------------------------------------------------------

    def _bpr(self, e: list[str], n: int) -> None:
        assert self.open is not None
        if len(e) < 17:
            e += _PADDING
        t = self.open.transaction
        self.open.bpr_segment = n
        t.origins["BPR"] = n
        t.handling_code = e[1].strip()
        t.payment_amount = self.required_amount(e, 2, n)
        t.credit_debit = e[3].strip()
        t.payment_method = e[4].strip()
        t.payment_date = self.date(e, 16, n)

    def _trn(self, e: list[str], n: int) -> None:
        assert self.open is not None
        if len(e) < 4:
            e += _PADDING
        t = self.open.transaction
        self.open.trn_seen = True
        t.origins["TRN"] = n
        t.trace_number = e[2].strip()
        t.trace_originator = e[3].strip()

    def _n1(self, e: list[str], n: int) -> None:
        assert self.open is not None
        if len(e) < 5:
            e += _PADDING
        t = self.open.transaction
        entity = e[1]
        if entity == "PR":
            party: Party | None = t.payer
        elif entity == "PE":
            party = t.payee
        else:
            party = None
        self.party = party
        self.claim = None
        self.line = None
        if party is None:
            return
        party.segment_number = n
        party.name = e[2].strip()
        party.id_qualifier = e[3].strip()
        party.identifier = e[4].strip()
        if entity == "PE":
            if party.id_qualifier == "XX":
                party.npi = party.identifier
            elif party.id_qualifier == "FI":
                party.tin = party.identifier

    def _ref(self, e: list[str], n: int) -> None:
        if len(e) < 3:
            e += _PADDING
        qualifier = e[1]
        value = e[2].strip()
        line = self.line
        if line is not None:
            if qualifier == "6R":
                line.line_control_number = value
                line.origins["REF*6R"] = n
        elif self.claim is None and self.party is not None:
            self.party.additional_ids[qualifier] = value
            self.party.origins["REF*" + qualifier] = n
            if qualifier == "TJ" and not self.party.tin:
                self.party.tin = value

    def _lx(self, e: list[str], n: int) -> None:
        self.party = None
        self.claim = None
        self.line = None

    # -- claims (2100) and lines (2110) -------------------------------------------------

    def _clp(self, e: list[str], n: int) -> None:
        assert self.open is not None
        if len(e) < 12:  # CLP11 (DRG) is usually absent
            e += _PADDING
        self.party = None
        self.line = None
        control = e[1].strip()
        if not control:
            self.error(n, "CLP", "CLP01 (patient control number) is missing")
        status = e[2].strip()
        if status not in _CLAIM_STATUSES:
            self.warn(n, "CLP", f"CLP02 {status!r} is not a claim status code")
        charge = self.required_amount(e, 3, n)
        paid = self.required_amount(e, 4, n)
        responsibility = self.amount(e, 5, n)
        # Every field set on a bare object, as for the lines and adjustments in read().
        claim = _new(ClaimPayment)
        claim.patient_control_number = control
        claim.status_code = status
        claim.charge = charge
        claim.paid = paid
        claim.patient_responsibility = responsibility
        claim.filing_indicator = e[6].strip()
        claim.payer_claim_number = e[7].strip()
        claim.facility_type = e[8].strip()
        claim.frequency_code = e[9].strip()
        claim.drg_code = e[11].strip()
        claim.patient_last_name = ""
        claim.patient_first_name = ""
        claim.patient_member_id = ""
        claim.insured_member_id = ""
        claim.rendering_provider_name = ""
        claim.rendering_provider_npi = ""
        claim.statement_from = None
        claim.statement_to = None
        claim.received_date = None
        claim.adjustments = []
        claim.remark_codes = []
        claim.service_lines = []
        claim.warnings = []
        claim.segment_number = n
        claim.origins = {}
        claim.remark_origins = {}
        self.claim = claim
        self.open.transaction.claims.append(claim)

    def _cas(self, e: list[str], n: int) -> _Seen | None:
        line = self.line
        target = line if line is not None else self.claim
        if target is None:
            self.error(n, "CAS", "CAS is not inside a claim (no CLP before it)")
            return None
        size = len(e)  # the elements the segment has (CAS01 is 1)
        amounts = self.amounts
        if size == 4:
            # The usual CAS (CAS*CO*45*7.6): one reason and its amount, read without the loop.
            group = self.groups.get(e[1])
            if group is None:
                group = self.cas_group(e[1], n)
            reason = self.strings.get(e[2]) or self.shared_code(e[2])
            if reason:
                amount = amounts.get(e[3])
                if amount is None:
                    amount = self.required_amount(e, 3, n)
                target.adjustments.append(Adjustment(group, reason, amount, None, n, 2))
                # Read without a finding (a known group code, a readable amount): the same
                # text reads the same anywhere in the file (see read()).
                if self.keep:
                    cached = amounts.get(e[3])
                    if cached is not None and e[1] in self.groups:
                        return ("CAS", group, reason, cached)
            return None
        e += _PADDING
        group = self.groups.get(e[1])
        if group is None:
            group = self.cas_group(e[1], n)
        adjustments = target.adjustments
        for index in (2, 5, 8, 11, 14, 17):
            if index >= size:
                break
            reason = self.strings.get(e[index]) or self.shared_code(e[index])
            if not reason:
                continue
            amount = amounts.get(e[index + 1])
            if amount is None:
                amount = self.required_amount(e, index + 1, n)
            text = e[index + 2]
            quantity = amounts.get(text) if text else None
            if quantity is None and text:
                quantity = self.amount(e, index + 2, n)
            adjustments.append(Adjustment(group, reason, amount, quantity, n, index))
        if size > 20:
            self.cas_beyond_guide(e, size, n, group, adjustments)
        return None

    def cas_group(self, raw: str, n: int) -> str:
        """CAS01's group code, warning when it is not one; a known code is kept per text."""
        group = self.shared_code(raw)
        if group in _GROUP_CODES:
            self.groups[raw] = group
        else:
            self.warn(n, "CAS", f"CAS01 {group!r} is not a group code (CO, PR, OA, PI)")
        return group

    def shared_code(self, raw: str) -> str:
        """``raw`` stripped, as the one string object the file uses for that code."""
        code = raw.strip()
        return self.strings.setdefault(code, code)

    def cas_beyond_guide(self, e: list[str], count: int, n: int, group: str, adjustments: list[Adjustment]) -> None:
        """A CAS with more than the guide's six reason/amount/quantity triples.

        The money is real (dropping it would unbalance the claim), so every triple is read
        and stored; the warning says the payer's file is beyond the 5010 guide.
        """
        extra = 0
        for index in range(20, count, 3):
            reason = e[index].strip()
            if not reason:
                continue
            extra += 1
            amount = self.required_amount(e, index + 1, n)
            quantity = self.amount(e, index + 2, n)
            adjustments.append(Adjustment(group, reason, amount, quantity, n, index))
        if extra:
            self.warn(
                n,
                "CAS",
                f"CAS has {_plural(extra, 'adjustment')} past CAS19 (the 5010 guide allows six per CAS); read and kept",
            )

    def _nm1(self, e: list[str], n: int) -> None:
        claim = self.claim
        if claim is None:
            return
        if len(e) < 10:
            e += _PADDING
        entity = e[1]
        if entity == "QC":
            claim.origins["NM1*QC"] = n
            claim.patient_last_name = e[3].strip()
            claim.patient_first_name = e[4].strip()
            claim.patient_member_id = e[9].strip()
        elif entity == "IL":
            claim.origins["NM1*IL"] = n
            claim.insured_member_id = e[9].strip()
            if not claim.patient_member_id:
                claim.patient_member_id = claim.insured_member_id
        elif entity == "82":
            claim.origins["NM1*82"] = n
            last = e[3].strip()
            first = e[4].strip()
            claim.rendering_provider_name = f"{last}, {first}" if first else last
            if e[8] == "XX":
                claim.rendering_provider_npi = e[9].strip()

    def date_slot(self, qualifier: str) -> tuple[Any, str] | None:
        """Where a DTM's date goes, as (object, attribute): by its qualifier and what the
        segment sits in (a line's service dates, a claim's statement and received dates, the
        transaction's production date before any claim); None for a date not kept."""
        line = self.line
        if line is not None:
            name = _LINE_DATES.get(qualifier)
            return None if name is None else (line, name)
        claim = self.claim
        if claim is not None:
            name = _CLAIM_DATES.get(qualifier)
            return None if name is None else (claim, name)
        if qualifier == "405":
            assert self.open is not None
            return (self.open.transaction, "production_date")
        return None

    def _dtm(self, e: list[str], n: int) -> _Seen | None:
        if len(e) < 3:
            e += _PADDING
        qualifier = e[1]
        dates = self.dates
        slot = self.date_slot(qualifier)
        if slot is not None:
            # A date is never false, so a cached one skips the call.
            setattr(slot[0], slot[1], dates.get(e[2]) or self.date(e, 2, n))
        # A readable date reads the same anywhere in the file (see read()); the qualifier
        # is interned so that read() compares it by identity.
        date = dates.get(e[2]) if self.keep else None
        return None if date is None else ("DTM", _intern(qualifier), date)

    def _moa(self, e: list[str], n: int) -> None:
        if self.claim is not None:
            _add_codes(self.claim.remark_codes, self.claim.remark_origins, e, (3, 4, 5, 6, 7), n)

    def _mia(self, e: list[str], n: int) -> None:
        if self.claim is not None:
            _add_codes(self.claim.remark_codes, self.claim.remark_origins, e, (5, 20, 21, 22, 23, 24), n)

    def _svc(self, e: list[str], n: int) -> _Seen | None:
        claim = self.claim
        if claim is None:
            self.line = None
            self.error(n, "SVC", "SVC is not inside a claim (no CLP before it)")
            return None
        if len(e) < 6:
            e += _PADDING
        svc01 = self.procedures.get(e[1])
        if svc01 is None:
            svc01 = self.read_svc01(e[1], n)
        qualifier, code, modifiers = svc01
        original = e[6] if len(e) > 6 else ""  # SVC06, usually absent
        original_parts = self.split_composite(original.strip(), n, "SVC", "SVC06") if original else []
        amounts = self.amounts
        charge = amounts.get(e[2])
        if charge is None:
            charge = self.required_amount(e, 2, n)
        paid = amounts.get(e[3])
        if paid is None:
            paid = self.required_amount(e, 3, n)
        units = amounts.get(e[5])
        if units is None:
            units = self.amount(e, 5, n)
        lines = claim.service_lines
        # Every field positionally (a call with keywords costs a fifth more, 20,000 times a file).
        line = ServiceLine(
            len(lines) + 1,  # sequence
            qualifier,
            code,
            list(modifiers),
            charge,
            paid,
            e[4].strip(),  # revenue_code
            units,
            original_parts[1].strip() if len(original_parts) > 1 else "",  # original_procedure_code
            None,  # service_date
            None,  # service_date_end
            "",  # line_control_number
            None,  # allowed
            [],  # adjustments
            [],  # remark_codes
            n,  # segment_number
            {},  # origins
            {},  # remark_origins
        )
        lines.append(line)
        self.line = line
        # Read without a finding (an SVC01 kept in self.procedures, readable amounts, no
        # SVC06): the same text reads the same anywhere in the file (see read()).
        if (
            not self.keep
            or original
            or e[1] not in self.procedures
            or e[2] not in amounts
            or e[3] not in amounts
            or (e[5] and e[5] not in amounts)
        ):
            return None
        return ("SVC", qualifier, code, modifiers, amounts[e[2]], amounts[e[3]], line.revenue_code, units)

    def read_svc01(self, raw: str, n: int) -> tuple[str, str, tuple[str, ...]]:
        """SVC01's qualifier, procedure code and modifiers, warning about what is wrong with it.

        Kept per distinct text when it needs no warning (the same text always reads the
        same), so a file's thousands of lines billing the same code split it once.
        """
        composite = raw.strip()
        component = self.component
        if component in composite:
            parts = composite.split(component)
        else:
            parts = self.split_composite(composite, n, "SVC", "SVC01")
        shared = self.strings.setdefault
        code = parts[1].strip() if len(parts) > 1 else ""
        if not code:
            self.warn(n, "SVC", f"SVC01 {composite!r} has no procedure code")
        modifiers: list[str] = []
        for modifier in parts[2:6]:
            if modifier := modifier.strip():
                modifiers.append(shared(modifier, modifier))
        if len(parts) > 6:
            self.svc_beyond_modifiers(parts, n)
        qualifier = parts[0].strip()
        svc01 = (shared(qualifier, qualifier), shared(code, code), tuple(modifiers))
        if code and len(parts) <= 6 and component in composite:
            self.procedures[raw] = svc01
        return svc01

    def svc_beyond_modifiers(self, parts: list[str], n: int) -> None:
        """SVC01 components past the four modifiers: C00307 is a description and C00308 a
        product id, neither kept (a description is not worth a warning); a payer that sends
        more than four modifiers puts them there, and losing a modifier changes how a line is
        worked, so those are named."""
        extra = [p.strip() for p in parts[6:]]
        looks_like_modifiers = [p for p in extra if len(p) == 2 and p.isalnum()]
        if looks_like_modifiers:
            self.warn(
                n,
                "SVC",
                f"SVC01 has more than 4 modifiers; {', '.join(repr(m) for m in looks_like_modifiers)} "
                "beyond the fourth are not kept (a service line holds 4)",
            )

    def _amt(self, e: list[str], n: int) -> _Seen | None:
        if len(e) < 3:
            e += _PADDING
        line = self.line
        amounts = self.amounts
        if line is not None and e[1] == "B6":
            allowed = amounts.get(e[2])
            line.allowed = allowed if allowed is not None else self.amount(e, 2, n)
            line.origins["AMT*B6"] = n
        # A readable amount reads the same anywhere in the file (see read()).
        amount = amounts.get(e[2]) if self.keep else None
        return None if amount is None else ("AMT", _intern(e[1]), amount)

    def _lq(self, e: list[str], n: int) -> None:
        if len(e) < 3:
            e += _PADDING
        if self.line is not None and e[1] == "HE":
            code = e[2].strip()
            if code and code not in self.line.remark_codes:
                self.line.remark_codes.append(code)
                self.line.remark_origins[code] = (n, "LQ02")

    # -- provider adjustments (table 3) ---------------------------------------------------

    def _plb(self, e: list[str], n: int) -> None:
        assert self.open is not None
        if len(e) < 15:
            e += _PADDING
        self.party = None
        self.claim = None
        self.line = None
        provider = e[1].strip()
        period = self.date(e, 2, n)
        adjustments = self.open.transaction.provider_adjustments
        for index in range(3, 15, 2):
            composite = e[index].strip()
            if not composite:
                continue
            parts = self.split_composite(composite, n, "PLB", f"PLB{index:02d}")
            adjustments.append(
                ProviderAdjustment(
                    provider_identifier=provider,
                    fiscal_period_date=period,
                    reason_code=parts[0].strip(),
                    reference=parts[1].strip() if len(parts) > 1 else "",
                    amount=self.required_amount(e, index + 1, n),
                    segment_number=n,
                    element=index,
                )
            )


_ENVELOPE: dict[str, Callable[[_Reader, list[str], int], None]] = {
    "ISA": _Reader.isa,
    "GS": _Reader.gs,
    "ST": _Reader.st,
    "SE": _Reader.se,
    "GE": _Reader.ge,
    "IEA": _Reader.iea,
}


#: Characters of text split into segments at a time: splitting a whole big file at once
#: would hold a string for every one of its segments (tens of MB for 20,000 claims).
_BLOCK = 1 << 20


def _blocks(text: str, terminator: str) -> Iterator[str]:
    """``text`` in pieces of about ``_BLOCK`` characters, each cut at a terminator (which
    neither piece keeps), so that splitting every piece at the terminator gives exactly
    ``text.split(terminator)``."""
    start = 0
    length = len(text)
    while start + _BLOCK < length:
        end = text.find(terminator, start + _BLOCK)
        if end == -1:
            break
        yield text[start:end]
        start = end + len(terminator)
    yield text[start:]


def _add(findings: list[Finding], finding: Finding) -> None:
    if len(findings) < _MAX_FINDINGS:
        findings.append(finding)
    elif len(findings) == _MAX_FINDINGS:
        findings.append(
            Finding(
                finding.segment_number,
                finding.segment_id,
                f"more than {_MAX_FINDINGS} problems of this kind; the rest are not listed",
                finding.severity,
            )
        )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _add_codes(
    codes: list[str], origins: dict[str, tuple[int, str]], elements: list[str], indexes: tuple[int, ...], number: int
) -> None:
    for index in indexes:
        code = _get(elements, index).strip()
        if code and code not in codes:
            codes.append(code)
            origins[code] = (number, f"{elements[0]}{index:02d}")
