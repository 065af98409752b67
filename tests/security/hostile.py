"""Hostile bank files, written to disk in chunks (a 200 MB file never sits in the writer's
memory), and a child-process probe that parses one and reports its peak memory.

The probe runs in a fresh interpreter and reads its own high-water mark (`VmHWM`; Linux
`ru_maxrss` would keep the parent's peak across exec), so the figure is the parse's own.
`overhead` is peak RSS minus the interpreter at rest minus the file's own size: the
import reads the whole file into memory by design (it stores the raw bytes), so the question
for a hostile file is what the parser adds on top.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
CHUNK = MB

CAMT_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
             b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
             b"<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId>"
             b"<CreDtTm>2026-11-20T18:00:00</CreDtTm></GrpHdr>"
             b"<Stmt><Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>"
             b"<Ccy>EUR</Ccy></Acct>")
CAMT_ENTRY = (b'<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd>'
              b"</Sts><BookgDt><Dt>2026-11-20</Dt></BookgDt><BkTxCd/><NtryDtls><TxDtls>"
              b"<RmtInf><Ustrd>INV-1</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")
CAMT_TAIL = b"</Stmt></BkToCstmrStmt></Document>\n"
MT940_HEAD = (b":20:HOSTILE\r\n:25:DE89370400440532013000\r\n:28C:1/1\r\n"
              b":60F:C261119EUR100,00\r\n")
MT940_ENTRY = b":61:2611201120CR1,00NTRFNONREF//B1\r\n:86:166?00GUTSCHRIFT?20SVWZ+INV-1\r\n"
MT940_TAIL = b":62F:C261120EUR100,00\r\n-\r\n"


def _repeat(head: bytes, body: bytes, tail: bytes, size: int) -> Iterator[bytes]:
    yield head
    block = body * max(1, CHUNK // len(body))
    written = len(head) + len(tail)
    while written < size:
        part = block[:size - written]
        written += len(part)
        yield part
    yield tail


# Each generator yields the file in chunks of about 1 MB, `size` bytes in all.
BIG_FILES: dict[str, Callable[[int], Iterator[bytes]]] = {
    # one text node the size of the file: libxml2's 10 MB text limit must stop it
    "camt-one-huge-text": lambda size: _repeat(
        CAMT_HEAD + b"<Ntry><AddtlNtryInf>", b"A", b"</AddtlNtryInf></Ntry>" + CAMT_TAIL, size),
    # elements opened and never closed: the depth limit must stop it
    "camt-deep-nesting": lambda size: _repeat(CAMT_HEAD, b"<Ntry>", b"", size),
    # an entry repeated until the file is huge: a real statement can be long, but never that
    "camt-million-entries": lambda size: _repeat(CAMT_HEAD, CAMT_ENTRY, CAMT_TAIL, size),
    # binary garbage behind a plausible XML start
    "xml-then-binary": lambda size: _repeat(b"<Document>", bytes(range(256)), b"", size),
    # one :86: line the size of the file
    "mt940-one-huge-line": lambda size: _repeat(MT940_HEAD + b":86:", b"X", MT940_TAIL, size),
    # SWIFT blocks opened and never closed
    "mt940-nested-blocks": lambda size: _repeat(b"{1:F01BANKDEFFAXXX0000000000}", b"{4:", b"",
                                                size),
    # a statement line repeated until the file is huge
    "mt940-million-lines": lambda size: _repeat(MT940_HEAD, MT940_ENTRY, MT940_TAIL, size),
    # binary garbage from the first byte
    "binary": lambda size: _repeat(b"\x00\x01", bytes(range(255, -1, -1)), b"", size),
}


def write_big(kind: str, path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        for chunk in BIG_FILES[kind](size):
            handle.write(chunk)
    return path


def zip_of(name: str, data: bytes, *, stored: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(uncompressed: int) -> bytes:
    """A ZIP whose one member inflates to `uncompressed` bytes of zeros (about 1000:1)."""
    buffer = io.BytesIO()
    zeros = bytes(CHUNK)
    with (zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
          archive.open("statement.xml", "w", force_zip64=True) as member):
        for _ in range(uncompressed // CHUNK):
            member.write(zeros)
    return buffer.getvalue()


def small_hostile_files() -> dict[str, bytes]:
    """Small files that must each be refused with a ParseError naming the file."""
    from tests.parsers.test_hostile import BILLION_LAUGHS, MT940, XXE_FILE

    camt = (Path(__file__).resolve().parents[1] / "imports" / "fixtures" /
            "camt053_day1.xml").read_bytes()
    return {
        "billion-laughs.xml": BILLION_LAUGHS,
        "xxe.xml": XXE_FILE,
        "deep.xml": b"<Document><BkToCstmrStmt>" + b"<a>" * 5000 + b"</a>" * 5000
                    + b"</BkToCstmrStmt></Document>",
        "garbage.bin": bytes(range(256)) * 64,
        "statement.zip": zip_of("camt053.xml", camt),
        "statement-stored.zip": zip_of("mt940.sta", MT940, stored=True),
        "statement.xml.gz": gzip.compress(camt),
        "empty.sta": b"",
        "whitespace.xml": b" \r\n\t" * 1000,
        "truncated.xml": camt[: len(camt) // 2],
        "utf16-garbage.xml": "<Doc\ud800ument>".encode("utf-16", "surrogatepass"),
    }


def exponent_amount() -> bytes:
    """A camt.053 whose opening balance is written with an exponent (`100.1e999999`): Decimal
    reads it, and the balance check then overflows Decimal's own exponent range."""
    camt = (Path(__file__).resolve().parents[1] / "imports" / "fixtures" /
            "camt053_day1.xml").read_bytes()
    return re.sub(rb'(<Amt Ccy="EUR">)[^<]*<', rb"\g<1>100.1e999999<", camt, count=1)


@dataclass(frozen=True)
class Probe:
    outcome: str  # "parsed", "ParseError" or another exception's name
    message: str
    peak_mb: float
    overhead_mb: float
    seconds: float


_PROBE = r"""
import json, re, sys, time
from pathlib import Path
import parsers
from reconciler.errors import ParseError
def high_water_kib():
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's peak over exec.
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
rest = high_water_kib()
began = time.perf_counter()
path = Path(sys.argv[1])
data = path.read_bytes()
try:
    result = parsers.parse(data, filename=path.name)
    outcome, message = "parsed", f"{len(result.statements)} statement(s)"
except ParseError as exc:
    outcome, message = "ParseError", str(exc)
except BaseException as exc:
    outcome, message = type(exc).__name__, str(exc)
peak = high_water_kib()
print(json.dumps({"outcome": outcome, "message": message[:300], "rest": rest, "peak": peak,
                  "size": len(data), "seconds": time.perf_counter() - began}))
"""


def high_water_kib() -> int:
    """This process image's peak resident memory (Linux `VmHWM`), in KiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) if found else 0


def probe_parse(path: Path, *, timeout: float = 300) -> Probe:
    """Parse `path` in a fresh interpreter; its outcome and peak memory (Linux VmHWM)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True,
                          text=True, timeout=timeout, cwd=root, check=False)
    if done.returncode != 0:
        return Probe(f"crashed (exit {done.returncode})", done.stderr[-300:], 0, 0, 0)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    peak = report["peak"] / 1024  # KiB
    overhead = peak - report["rest"] / 1024 - report["size"] / MB
    return Probe(report["outcome"], report["message"], peak, overhead, report["seconds"])
