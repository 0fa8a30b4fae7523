"""Malformed 835 files for the bad-input tests: each built from one good interchange by one fault.

``CORPUS`` maps a name to ``(content, expected)``: ``expected`` is ``"failed"`` (quarantined: the
file fails, its error names the place) or ``"warned"`` (stored, with a warning naming the place),
and the words the error or warning must contain. Built in code rather than stored, so each fault
is visible beside its name; the good interchange is a minimal 5010 835 of our own.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

GOOD_CLAIM = [
    "CLP*GOOD1*1*100*80*20*12*ICN1*11*1",
    "NM1*QC*1*DOE*JANE****MI*M123",
    "SVC*HC:99213*100*80**1",
    "DTM*472*20240105",
    "CAS*PR*2*20",
]


def transaction(control: str, trace: str, claim: list[str], paid: str = "80") -> list[str]:
    """One ST/SE 835 transaction set paying ``claim`` (SE count computed)."""
    body = [
        f"ST*835*{control}",
        f"BPR*I*{paid}*C*ACH*CCP*01*111000025*DA*123456*1512345678**01*222000025*DA*98765*20240110",
        f"TRN*1*{trace}*1512345678",
        "N1*PR*ACME HEALTH PLAN",
        "REF*2U*98765",
        "N1*PE*VALLEY CLINIC*XX*1234567893",
        "LX*1",
        *claim,
    ]
    return [*body, f"SE*{len(body) + 1}*{control}"]


def isa(control: str = "000000001", version: str = "00501", sub: str = ":", rep: str = "^") -> str:
    return "*".join([
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
        "240110", "1200", rep, version, control, "0", "P", sub,
    ])  # fmt: skip


def segments(*transactions: list[str], control: str = "000000001", gs_version: str = "005010X221A1") -> list[str]:
    out = [isa(control), f"GS*HP*SENDER*RECEIVER*20240110*1200*1*X*{gs_version}"]
    for txn in transactions:
        out += txn
    return [*out, f"GE*{len(transactions)}*1", f"IEA*1*{control}"]


def join(segs: list[str], terminator: str = "~") -> bytes:
    return (f"{terminator}\n".join(segs) + f"{terminator}\n").encode("utf-8")


def interchange(*transactions: list[str], control: str = "000000001") -> bytes:
    """One ISA/GS holding the given transaction sets ('~' and newline after each segment)."""
    return join(segments(*transactions, control=control))


def good() -> bytes:
    return interchange(transaction("0001", "TRACE1", GOOD_CLAIM))


def _replace(old: str, new: str) -> Callable[[], bytes]:
    def build() -> bytes:
        text = good().decode()
        assert old in text, old
        return text.replace(old, new, 1).encode("utf-8")

    return build


def _without(prefix: str) -> Callable[[], bytes]:
    """The good file without its first segment starting ``prefix``; inside the transaction set the
    SE count is recomputed, so the missing segment is the only fault."""

    def build() -> bytes:
        txn = transaction("0001", "TRACE1", GOOD_CLAIM)
        if prefix in ("ST*", "SE*") or not any(s.startswith(prefix) for s in txn):
            return join([s for s in segments(txn) if not s.startswith(prefix)])
        body = txn[:-1]
        drop = next(i for i, s in enumerate(body) if s.startswith(prefix))
        body = body[:drop] + body[drop + 1 :]
        return join(segments([*body, f"SE*{len(body) + 1}*0001"]))

    return build


def _claim(*lines: str) -> Callable[[], bytes]:
    return lambda: interchange(transaction("0001", "TRACE1", ["CLP*BAD1*1*100*80*20*12*ICN2", *lines]))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("remit.835", good())
    return buffer.getvalue()


ACK_999 = [
    "GS*FA*SENDER*RECEIVER*20240110*1200*1*X*005010X231A1",
    "ST*999*0001*005010X231A1",
    "AK1*HP*1*005010X221A1",
    "AK9*A*1*1*1",
    "SE*4*0001",
]
CLAIM_837 = [
    "GS*HC*SENDER*RECEIVER*20240110*1200*1*X*005010X222A1",
    "ST*837*0001*005010X222A1",
    "BHT*0019*00*1*20240110*1200*CH",
    "SE*3*0001",
]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

BUILDERS: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "whitespace only": lambda: b"  \n\t\r\n  ",
    "truncated in the ISA": lambda: good()[:60],
    "truncated mid claim": lambda: good()[: good().index(b"SVC") + 6],
    "truncated before SE": lambda: good()[: good().index(b"SE*")],
    "ISA one character short": _replace("SENDER         ", "SENDER        "),
    "ISA one character long": _replace("SENDER         ", "SENDER          "),
    "element separator equals segment terminator": lambda: good().replace(b"~", b"*"),
    "component separator equals element separator": _replace("*P*:", "*P**"),
    "repetition separator equals element separator": _replace("*^*00501", "***00501"),
    "missing SE": _without("SE*"),
    "missing GE": _without("GE*"),
    "missing IEA": _without("IEA*"),
    "missing ST": _without("ST*"),
    "missing GS": _without("GS*"),
    "missing BPR": _without("BPR*"),
    "missing payer N1": _without("N1*PR"),
    "SE segment count wrong": _replace("SE*13*0001", "SE*99*0001"),
    "SE control number differs from ST": _replace("SE*13*0001", "SE*13*0002"),
    "GE count wrong": _replace("GE*1*1", "GE*5*1"),
    "GE control number differs from GS": _replace("GE*1*1", "GE*1*7"),
    "IEA control number differs from ISA": _replace("IEA*1*000000001", "IEA*1*000000002"),
    "IEA count wrong": _replace("IEA*1*000000001", "IEA*3*000000001"),
    "reused ST control numbers": lambda: interchange(
        transaction("0001", "TRACE1", GOOD_CLAIM), transaction("0001", "TRACE2", GOOD_CLAIM)
    ),
    "non-UTF-8 bytes in a name": lambda: good().replace(b"DOE*JANE", b"DO\xe9\xff*JANE"),
    "byte order mark": lambda: b"\xef\xbb\xbf" + good(),
    "UTF-16 encoded": lambda: good().decode().encode("utf-16"),
    "a zip renamed .835": _zip,
    "a PNG image": lambda: PNG,
    "random binary": lambda: bytes(range(256)) * 8,
    "plain text, not X12": lambda: b"Dear billing office,\nplease find our remittance attached.\n",
    "a 4010 835": lambda: good().replace(b"*00501*", b"*00401*").replace(b"005010X221A1", b"004010X091A1"),
    "a 999 acknowledgement": lambda: join([isa(), *ACK_999, "GE*1*1", "IEA*1*000000001"]),
    "an 837 claim file": lambda: join([isa(), *CLAIM_837, "GE*1*1", "IEA*1*000000001"]),
    "NUL bytes in the payer name": _replace("ACME HEALTH", "ACME\x00HEALTH"),
    "amount too large for its column": _claim("SVC*HC:99213*100*1234567890123456**1"),
    "units too large for their column": _claim("SVC*HC:99213*100*80**10000000"),
    "claim number too long for its column": lambda: interchange(
        transaction("0001", "TRACE1", ["CLP*" + "P" * 39 + "*1*100*80*20*12*ICN2"])
    ),
    "amount that is not a number": _claim("SVC*HC:99213*1O0*80**1"),
    "date that is not a date": _claim("SVC*HC:99213*100*80**1", "DTM*472*20241345"),
    "seven CAS triples": _claim("SVC*HC:99213*100*30**1", "CAS*CO*45*10**97*10**16*10**18*10**22*10**29*10**50*10"),
    "six modifiers": _claim("SVC*HC:99213:25:59:XS:XE:XP:XU*100*80**1"),
    "CAS with an unknown group code": _claim("SVC*HC:99213*100*80**1", "CAS*ZZ*45*20"),
    "segment before ISA": lambda: b"XYZ*1~\n" + good(),
    "ISA and nothing else": lambda: (isa() + "~").encode(),
    "transaction set with no claims": lambda: interchange([*transaction("0001", "TRACE1", [])[:6], "SE*7*0001"]),
    "CLP missing its amounts": lambda: interchange(transaction("0001", "TRACE1", ["CLP*BAD1*1"])),
    "SVC without a procedure code": _claim("SVC**100*80**1"),
    "a 60 MB element": lambda: _replace("DOE*JANE", "DOE*" + "J" * (60 * 1024 * 1024))(),
}
