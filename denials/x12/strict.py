"""Optional strict 005010X221A1 validation of an 835, with a 999 acknowledgement, via pyx12.

Our own reader (``reader.py``) is deliberately forgiving and fast. This module is the
second opinion: pyx12 checks the file against the implementation guide (segment order,
loop repeats, code lists, lengths) and builds the 999 a strict trading partner would
send back. It is slow (~16 s for a 5,000-claim file), so it runs as a background job and
its findings are stored and shown next to the file. Nothing here imports Django.

Why this drives pyx12's engine itself rather than calling ``x12n_document()``: that
function builds its error tree privately, and in pyx12 4.0.0 the two outputs it offers
are incomplete for 835s -

* its 999 writer raises "Cannot create AK2: err_st.vriic was not set" whenever ST03 is
  absent, and the 835 guide marks ST03 as Not Used, so a valid 835 gets a 999 that stops
  after AK1 (the error is logged and swallowed);
* its JSON error dump skips element errors on ISA/GS/ST/IEA/GE/SE.

So ``_run_pyx12`` repeats the segment loop of ``pyx12.x12n_document.x12n_document``
(4.0.0, pinned in requirements.txt) with our own ``err_handler``, which we then walk with
our own visitors. ``tests/unit/test_x12_strict.py`` checks that its verdict matches
``x12n_document``'s on every sample file, so a pyx12 upgrade that changes the loop shows.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyx12.error_997
import pyx12.error_999
import pyx12.error_handler
import pyx12.error_visitor
import pyx12.errors
import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.segment
import pyx12.x12file

# x12n_document imports this helper from the same private module; we mirror it.
from pyx12.map_if._segment import apply_segment_errors
from pyx12.map_walker import apply_walk_errors, walk_tree

_log = logging.getLogger(__name__)

NO_ENVELOPE_ERROR = "strict validation needs an ISA envelope"

# A file with a systematic problem produces one finding per affected segment (a masked
# Medicaid sample yields hundreds); past this many the list stops helping a person and
# only bloats the stored result.
DEFAULT_MAX_FINDINGS = 1000

_UTF8_BOM = b"\xef\xbb\xbf"
# Indentation at the start of a line. pyx12 reports every indented segment as
# "Segment contains a leading space" (code 1), which buries the real findings.
_INDENT = re.compile(r"(?<=[\r\n])[ \t]+")
_INDENTED_CONTENT = re.compile(r"(?<=[\r\n])[ \t]+(?=[^\s])")
# Element errors on envelope segments are filed under the header node (ISA/GS/ST) even
# when they belong to the trailer; the reference designator in the message tells which.
_TRAILER_REFDES = re.compile(r"\b(IEA|GE|SE)\d{2}\b")

# Which envelope-level error codes belong to the header segment; everything else pyx12
# raises at that level comes from the trailer (counts, control-number mismatch, missing
# trailer). These follow pyx12's own err_gs/err_st.get_error_list and x12file.py.
_ISA_HEADER_CODES = frozenset({"025"})  # duplicate interchange control number
_GS_HEADER_CODES = frozenset({"6"})  # duplicate group control number
_ST_HEADER_CODES = frozenset({"1", "6", "7", "23"})


@dataclass
class StrictFinding:
    """One problem pyx12 found.

    ``segment_number`` counts segments from 1 across the whole file (ISA is 1), the same
    convention as ``parsed.Finding``, so the UI can point at the line; None when the
    problem has no segment (a missing trailer, or a note about the input itself).
    ``code`` is pyx12's error code ('8', '7', 'SEG1', '024'...), which for segment and
    element errors is the IK3/IK4 code it puts in the 999.
    """

    segment_number: int | None
    segment_id: str
    code: str
    message: str
    severity: str  # "error" (a strict receiver rejects on it) or "warning"


@dataclass
class StrictResult:
    """``ok`` is True only if pyx12 ran and found no errors (warnings do not count).

    ``ack_999`` is the acknowledgement pyx12 builds: a 999 for 5010 files (a 997 for
    4010 ones), empty when none could be built. ``error`` says why validation could not
    run at all; it is empty whenever pyx12 got through the file.
    """

    ok: bool
    findings: list[StrictFinding] = field(default_factory=list)
    ack_999: str = ""
    error: str = ""


def validate_strict(data: bytes, *, max_findings: int = DEFAULT_MAX_FINDINGS) -> StrictResult:
    """Validate an 835 against its pyx12 implementation-guide map and build the 999.

    Never raises: anything pyx12 cannot cope with comes back as ``ok=False`` with
    ``error`` naming the exception. Keeps no state between calls (all I/O is in memory,
    pyx12's loggers are restored), so it is safe to call from a Celery worker.
    """
    notes: list[StrictFinding] = []
    try:
        text, notes = _normalise(bytes(data))
        if not text.startswith("ISA"):
            return StrictResult(ok=False, findings=notes, error=NO_ENVELOPE_ERROR)
        with _pyx12_logging_silenced():
            valid, errh, vriic, fic = _run_pyx12(text)
            findings = _collect_findings(errh)
            ack, ack_problem = _build_ack(errh, vriic, fic)
    except _StoppedAt as stop:
        # The page gets a sentence; the worker's log keeps the exception for a developer.
        _log.warning("strict validation stopped at segment %s (%s)", stop.number, stop.segment_id, exc_info=stop.cause)
        return StrictResult(ok=False, findings=notes, error=stop.sentence())
    except Exception as exc:
        _log.warning("strict validation could not run", exc_info=exc)
        return StrictResult(ok=False, findings=notes, error=f"The strict check could not finish: {_plain(exc)}")

    has_errors = any(f.severity == "error" for f in findings)
    if not valid and not has_errors:
        # pyx12 judged the file invalid without itemising why; say so rather than show
        # a failed file with an empty list.
        findings.append(StrictFinding(None, "", "", "pyx12 reported the file invalid without details", "error"))
    findings = notes + findings
    if ack_problem:
        findings.append(ack_problem)
    if len(findings) > max_findings:
        dropped = len(findings) - max_findings
        findings = findings[:max_findings]
        findings.append(StrictFinding(None, "", "TRUNCATED", f"{dropped} more findings not listed", "warning"))
    return StrictResult(ok=valid and not has_errors, findings=findings, ack_999=ack)


class _StoppedAt(Exception):
    """pyx12 raised while reading one segment: remembers which, for a sentence a person reads."""

    def __init__(self, number: int | None, segment_id: str, cause: Exception) -> None:
        super().__init__(number, segment_id, cause)
        self.number = number
        self.segment_id = segment_id
        self.cause = cause

    def sentence(self) -> str:
        where = f"segment {self.number}" if self.number else "the file"
        if self.segment_id:
            where += f" ({self.segment_id})"
        return f"The strict check could not read {where}: {_plain(self.cause, in_segment=True)}"


_MAP_NOT_FOUND = re.compile(r"Map not found\.\s+icvn=(\S*), fic=(\S*), vriic=([^,\s]*)")


def _plain(exc: Exception, *, in_segment: bool = False) -> str:
    """An exception from inside pyx12 in words: its own message when it wrote one for
    people (an EngineError), otherwise what kind of trouble it was, never a bare repr
    such as "KeyError: 3"."""
    text = str(exc).strip()
    found = _MAP_NOT_FOUND.search(text)
    if found:
        version, function = found.group(3), found.group(2)
        return (
            f"the validator has no implementation guide for version {version or '(none)'} "
            f"with functional code {function or '(none)'} (GS08 and GS01)."
        )
    if isinstance(exc, pyx12.errors.EngineError | pyx12.errors.X12Error) and text:
        return f"the validator stopped: {text.rstrip('.')}."
    if in_segment and isinstance(exc, LookupError | TypeError | AttributeError | ValueError):
        return (
            "the segment is shaped in a way the validator does not expect (an element, "
            "envelope or loop it needs is missing or out of place). Check that segment "
            "and the ones before it."
        )
    return f"the validator stopped unexpectedly ({type(exc).__name__})."


def _normalise(data: bytes) -> tuple[str, list[StrictFinding]]:
    """Undo harmless transport damage pyx12 chokes on, noting each repair as a warning.

    A strict receiver may reject these too, so the repairs are reported, but they say
    nothing about the remittance itself and would otherwise hide every real finding
    (pyx12 refuses a BOM outright and flags each indented segment).
    """
    notes: list[StrictFinding] = []
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
        notes.append(StrictFinding(None, "", "BOM", "UTF-8 byte-order mark removed before validation", "warning"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Latin-1 maps every byte, so odd characters reach pyx12's character-set check
        # (which reports them) instead of failing the whole run here.
        text = data.decode("latin-1")
    text = text.lstrip()
    # Count only indented lines with content: whitespace trailing the last segment is
    # removed too but is no "line", and reporting it would be noise.
    indented = len(_INDENTED_CONTENT.findall(text))
    text = _INDENT.sub("", text)
    if indented:
        notes.append(
            StrictFinding(
                None,
                "",
                "INDENT",
                f"leading whitespace removed from {indented} lines before validation",
                "warning",
            )
        )
    return text, notes


def _run_pyx12(text: str) -> tuple[bool, Any, str | None, str | None]:
    """Walk every segment through pyx12's maps, as x12n_document (4.0.0) does.

    Returns pyx12's own validity flag, the filled ``err_handler`` and the last GS08 and
    GS01 seen, which choose the acknowledgement. Unlike x12n_document it
    writes no HTML/XML and takes no callback; the branches are otherwise the same.
    """
    # ParamsBase, not params(): the latter also reads /etc and ~/.pyx12.conf.xml, which
    # would make results depend on the worker's home directory.
    param = pyx12.params.ParamsBase()
    errh = pyx12.error_handler.err_handler()
    src = pyx12.x12file.X12Reader(io.StringIO(text))
    try:
        map_file = "x12.control.00501.xml" if src.icvn == "00501" else "x12.control.00401.xml"
        control_map = pyx12.map_if.load_map_file(map_file, param, None)
        map_index_if = pyx12.map_index.map_index(None)
        node = control_map.getnodebypath("/ISA_LOOP/ISA")
        walker = walk_tree()
        icvn: str | None = None
        fic: str | None = None
        vriic: str | None = None
        cur_map: Any = None
        valid = True
        # Where pyx12 was when it raised, so a crash inside it reads as "could not read
        # segment N" rather than a bare exception.
        at: tuple[int | None, str] = (None, "")
        try:
            for seg in src:
                orig_node = node
                seg_id = seg.get_seg_id()
                at = (src.get_cur_line(), seg_id)
                if seg_id == "ISA":
                    node = control_map.getnodebypath("/ISA_LOOP/ISA")
                    walker.forceWalkCounterToLoopStart("/ISA_LOOP", "/ISA_LOOP/ISA")
                elif seg_id == "GS":
                    node = control_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
                    walker.forceWalkCounterToLoopStart("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
                else:
                    node, _pop, _push, walk_errors = walker.walk_errors(
                        node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id()
                    )
                    apply_walk_errors(errh, walk_errors)
                if node is None:
                    # The walker found no place for this segment (already reported).
                    node = orig_node
                    continue
                if seg_id == "ISA":
                    errh.add_isa_loop(seg, src)
                    icvn = seg.get_value("ISA12")
                    errh.handle_errors(src.pop_errors())
                elif seg_id == "IEA":
                    errh.handle_errors(src.pop_errors())
                    errh.close_isa_loop(node, seg, src)
                elif seg_id == "GS":
                    fic = seg.get_value("GS01")
                    vriic = seg.get_value("GS08")
                    map_file_new = map_index_if.get_filename(icvn, vriic, fic)
                    if map_file != map_file_new:
                        if map_file_new is None:
                            raise pyx12.errors.EngineError(f"Map not found.  icvn={icvn}, fic={fic}, vriic={vriic}")
                        map_file = map_file_new
                        cur_map = pyx12.map_if.load_map_file(map_file, param, None)
                        src.check_837_lx = cur_map.id == "837"
                    node = cur_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
                    errh.add_gs_loop(seg, src)
                    errh.handle_errors(src.pop_errors())
                elif seg_id == "BHT" and vriic in ("004010X094", "004010X094A1"):
                    # x12n_document's special case: 4010 278s pick their map by BHT02.
                    tspc = seg.get_value("BHT02")
                    map_file_new = map_index_if.get_filename(icvn, vriic, fic, tspc)
                    if map_file != map_file_new:
                        if map_file_new is None:
                            raise pyx12.errors.EngineError(
                                f"Map not found.  icvn={icvn}, fic={fic}, vriic={vriic}, tspc={tspc}"
                            )
                        map_file = map_file_new
                        cur_map = pyx12.map_if.load_map_file(map_file, param, None)
                        src.check_837_lx = cur_map.id == "837"
                        node = cur_map.getnodebypath("/ISA_LOOP/GS_LOOP/ST_LOOP/HEADER/BHT")
                    errh.add_seg(node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id())
                    errh.handle_errors(src.pop_errors())
                elif seg_id == "GE":
                    errh.handle_errors(src.pop_errors())
                    errh.close_gs_loop(node, seg, src)
                elif seg_id == "ST":
                    errh.add_st_loop(seg, src)
                    errh.handle_errors(src.pop_errors())
                elif seg_id == "SE":
                    errh.handle_errors(src.pop_errors())
                    errh.close_st_loop(node, seg, src)
                else:
                    errh.add_seg(node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id())
                    errh.handle_errors(src.pop_errors())
                valid &= apply_segment_errors(node, seg, errh)
            src.cleanup()  # reports trailers (SE/GE/IEA) the file never closed
            errh.handle_errors(src.pop_errors())
        except Exception as exc:
            raise _StoppedAt(at[0], at[1], exc) from exc
    finally:
        src.close()
    return valid and errh.get_error_count() == 0, errh, vriic, fic


class _FindingCollector(pyx12.error_visitor.error_visitor):
    """Flatten pyx12's ISA/GS/ST/segment/element error tree into StrictFindings.

    Envelope errors are emitted when their header is visited (header problems) or after
    its children (trailer problems), so the list reads in file order.
    """

    def __init__(self) -> None:
        self.findings: list[StrictFinding] = []
        self._seg: Any = None

    def _add(self, number: int | None, seg_id: str, code: Any, message: Any) -> None:
        self.findings.append(StrictFinding(number, seg_id, str(code), str(message), "error"))

    def _envelope(
        self,
        node: Any,
        header_id: str,
        trailer_id: str,
        header_line: int | None,
        trailer_line: int | None,
        header_codes: frozenset[str],
        trailer: bool,
    ) -> None:
        for code, message in node.errors:
            if (code in header_codes) != trailer:
                line = trailer_line if trailer else header_line
                self._add(line, trailer_id if trailer else header_id, code, message)
        for ele in node.elements:
            for code, message, _bad in ele.errors:
                is_trailer = _TRAILER_REFDES.search(str(message)) is not None
                if is_trailer == trailer:
                    line = trailer_line if trailer else header_line
                    self._add(line, trailer_id if trailer else header_id, code, message)

    def visit_isa_pre(self, err_isa: Any) -> None:
        self._isa(err_isa, trailer=False)

    def visit_isa_post(self, err_isa: Any) -> None:
        self._isa(err_isa, trailer=True)

    def _isa(self, n: Any, trailer: bool) -> None:
        self._envelope(n, "ISA", "IEA", n.cur_line_isa, n.cur_line_iea, _ISA_HEADER_CODES, trailer)

    def visit_gs_pre(self, err_gs: Any) -> None:
        self._gs(err_gs, trailer=False)

    def visit_gs_post(self, err_gs: Any) -> None:
        self._gs(err_gs, trailer=True)

    def _gs(self, n: Any, trailer: bool) -> None:
        self._envelope(n, "GS", "GE", n.cur_line_gs, n.cur_line_ge, _GS_HEADER_CODES, trailer)

    def visit_st_pre(self, err_st: Any) -> None:
        self._st(err_st, trailer=False)

    def visit_st_post(self, err_st: Any) -> None:
        self._st(err_st, trailer=True)

    def _st(self, n: Any, trailer: bool) -> None:
        self._envelope(n, "ST", "SE", n.cur_line_st, n.cur_line_se, _ST_HEADER_CODES, trailer)

    def visit_seg(self, err_seg: Any) -> None:
        self._seg = err_seg
        for code, message, _value in err_seg.errors:
            self._add(err_seg.cur_line, err_seg.seg_id or "", code, message)

    def visit_ele(self, err_ele: Any) -> None:
        seg = self._seg
        for code, message, _value in err_ele.errors:
            self._add(seg.cur_line if seg else None, (seg.seg_id or "") if seg else "", code, message)


def _collect_findings(errh: Any) -> list[StrictFinding]:
    collector = _FindingCollector()
    errh.accept(collector)
    return collector.findings


class _Ack999Visitor(pyx12.error_999.error_999_visitor):
    """pyx12's 999 writer, minus its refusal to acknowledge a transaction without ST03.

    AK203 is only required when the acknowledged ST carries ST03; the 835 guide marks
    ST03 Not Used, so the stock visitor aborts on every valid 835.
    """

    def visit_st_pre(self, err_st: Any) -> None:
        if err_st.vriic is not None:
            super().visit_st_pre(err_st)
            return
        if err_st.trn_set_id is None or err_st.trn_set_control_num is None:
            raise pyx12.errors.EngineError("Cannot create AK2: ST01/ST02 not set")
        seg_data = pyx12.segment.Segment("AK2", "~", "*", ":")
        seg_data.set("01", err_st.trn_set_id)
        seg_data.set("02", err_st.trn_set_control_num.strip())
        self.wr.Write(seg_data)


def _build_ack(errh: Any, vriic: str | None, fic: str | None) -> tuple[str, StrictFinding | None]:
    """Build the 997/999 text the way x12n_document chooses it (by GS08 of the last group).

    A failure here does not invalidate the validation, so it becomes a warning.
    """
    if fic == "FA" or not vriic:
        # Acknowledgements are not acknowledged; and with no GS there is nothing to ack.
        return "", None
    out = io.StringIO()
    try:
        if vriic.startswith("004010"):
            errh.accept(pyx12.error_997.error_997_visitor(out))
        elif vriic.startswith("005010"):
            errh.accept(_Ack999Visitor(out))
        else:
            return "", None
    except Exception as exc:
        problem = StrictFinding(
            None, "", "999", f"could not build acknowledgement: {type(exc).__name__}: {exc}", "warning"
        )
        return "", problem
    return out.getvalue(), None


# pyx12 logs every error it finds at ERROR level (and error_999 forces DEBUG on its own
# logger), which would flood a worker's log with one line per bad segment; the findings
# carry the same information. The logger is process-wide, so concurrent calls in one
# process share one silencing: the first in saves the settings, the last out restores.
_silence_lock = threading.Lock()
_silence_depth = 0
_saved_logger_state: tuple[int, bool] = (logging.NOTSET, True)
_null_handler = logging.NullHandler()


@contextmanager
def _pyx12_logging_silenced() -> Iterator[None]:
    global _silence_depth, _saved_logger_state
    logger = logging.getLogger("pyx12")
    with _silence_lock:
        if _silence_depth == 0:
            _saved_logger_state = (logger.level, logger.propagate)
            # Without a handler of its own, a non-propagating logger falls back to
            # logging.lastResort and prints to stderr; the NullHandler prevents that.
            logger.addHandler(_null_handler)
            logger.setLevel(logging.CRITICAL + 1)
            logger.propagate = False
        _silence_depth += 1
    try:
        yield
    finally:
        with _silence_lock:
            _silence_depth -= 1
            if _silence_depth == 0:
                level, propagate = _saved_logger_state
                logger.setLevel(level)
                logger.propagate = propagate
                logger.removeHandler(_null_handler)
