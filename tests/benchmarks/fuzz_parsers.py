"""Fuzz the bank-file parsers: hostile bytes in, only ever `ParseError` out.

A seeded mutation engine over valid seeds (the CAMT fixtures of `tests/parsers/fixtures/`, the
statement fixtures of `tests/imports/fixtures/`, the MT940/MT942 dialect samples of
`tests/parsers_mt940/samples.py` and a small `reconciler.demo` data set in every format).
Each case applies one to four mutations a hostile or broken bank file would carry: byte
flips, truncation, deleted and duplicated tags and fields, huge numbers, unicode and invalid
UTF-8, CR/LF mixes, deep nesting, splices of two files, re-encoding, binary garbage.

A treasury server reads files that came over the network from a bank or a middleman; any
exception other than the parser's own `ParseError` would stop an import run, so every such
case is a bug. Its input is saved to `--out` (one file per distinct failure: exception type
and the innermost frame) with the traceback beside it, to reproduce with `recon parse FILE`.

    python -m tests.benchmarks.fuzz_parsers [--cases 100000] [--seed 1] [--jobs 2]
        [--out fuzz-findings] [--timeout 10]
    python -m tests.benchmarks.fuzz_parsers --memory-mb 200   # big hostile files, peak RSS
    python -m tests.benchmarks.fuzz_parsers --atheris --cases 100000   # coverage-guided

Case N is derived from (seed, N) alone, so a finding is reproducible by its number too.
Exit code 1 when anything other than a ParseError came out (or a case ran over --timeout).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import random
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from parsers import parse
from reconciler.errors import ParseError

ROOT = Path(__file__).resolve().parents[1]
Mutator = Callable[[random.Random, bytes, list[bytes]], bytes]


# --- seeds ------------------------------------------------------------------------------


def load_seeds() -> list[bytes]:
    """Valid bank files of every format and dialect the parsers know."""
    seeds = [p.read_bytes() for p in sorted((ROOT / "parsers" / "fixtures").glob("*.xml"))]
    seeds += [p.read_bytes() for p in sorted((ROOT / "imports" / "fixtures").iterdir())
              if p.suffix in (".xml", ".sta") and not p.name.startswith("broken")]
    from tests.parsers_mt940 import samples

    seeds += [value.encode("latin-1", "replace") for name, value in vars(samples).items()
              if name.isupper() and isinstance(value, str)]
    seeds += _demo_seeds()
    return [s for s in seeds if s]


def _demo_seeds() -> list[bytes]:
    from reconciler.demo import DemoConfig, build_demo

    with tempfile.TemporaryDirectory() as folder:
        config = DemoConfig(seed=7, customers=20, open_items=40, payments=24)
        files = build_demo(Path(folder), config)
        paths = [*files.mt940[:2], *files.camt053[:2], *files.camt054[:2]]
        ing = build_demo(Path(folder) / "ing", config, formats=("mt940",), mt940_style="ing")
        paths += list(ing.mt940[:1])
        return [p.read_bytes() for p in paths]


# --- mutations --------------------------------------------------------------------------

_HUGE = [b"9" * 400, b"1" + b"0" * 40, b"99999999999999999999,99", b"-0", b"1e999999",
         b"Infinity", b"NaN", b"0." + b"0" * 300 + b"1", b"\xd9\xa3", b"\xef\xbc\x91"]
_UNICODE = ["\u202e", "\u0000", "\ufeff", "\ud800", "€", "ß", "\U0001f4b8", "\u00a0",
            "İ", "\u2028", "ｱ", "\x1a", "\x85", "&#0;", "&amp;", "]]>", "<![CDATA[", "'\""]
_LINE_ENDS = [b"\r\n", b"\n", b"\r", b"\n\r", b"\r\r\n", b""]


def _position(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def flip(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    out = bytearray(data)
    for _flip in range(rng.randint(1, 8)):
        at = rng.randrange(len(out))
        out[at] = rng.randrange(256) if rng.random() < 0.5 else out[at] ^ (1 << rng.randrange(8))
    return bytes(out)


def truncate(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    return data[:_position(rng, data)]


def delete_range(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    start = _position(rng, data)
    return data[:start] + data[start + rng.randint(1, 200):]


def duplicate_range(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    start = _position(rng, data)
    chunk = data[start:start + rng.randint(1, 400)]
    return data[:start] + chunk * rng.randint(2, 50) + data[start:]


def _tag_span(rng: random.Random, data: bytes) -> tuple[int, int] | None:
    """An XML element (start tag to its end tag) or an MT940 field (`:61:` up to the next)."""
    start = data.find(b"<", _position(rng, data))
    if start >= 0 and data[start + 1:start + 2] not in (b"/", b"?", b"!"):
        end_name = data.find(b">", start)
        name = data[start + 1:end_name].split(b" ")[0] if end_name > 0 else b""
        close = data.find(b"</" + name + b">", end_name) if name else -1
        if close > 0:
            return start, close + len(name) + 3
        return (start, end_name + 1) if end_name > 0 else None
    start = data.find(b"\n:", _position(rng, data))
    if start < 0:
        return None
    following = data.find(b"\n:", start + 2)
    return start + 1, (following + 1 if following > 0 else len(data))


def delete_tag(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    span = _tag_span(rng, data)
    return data if span is None else data[:span[0]] + data[span[1]:]


def duplicate_tag(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    span = _tag_span(rng, data)
    if span is None:
        return data
    chunk = data[span[0]:span[1]]
    return data[:span[0]] + chunk * rng.randint(2, 30) + data[span[0]:]


def huge_number(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    digits = [i for i in range(0, len(data), max(1, len(data) // 400)) if data[i:i + 1].isdigit()]
    if not digits:
        return data + rng.choice(_HUGE)
    at = rng.choice(digits)
    end = at
    while end < len(data) and data[end:end + 1].isdigit():
        end += 1
    return data[:at] + rng.choice(_HUGE) + data[end:]


def unicode_text(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    text = "".join(rng.choice(_UNICODE) for _ in range(rng.randint(1, 6)))
    if rng.random() < 0.1:  # bytes that are no valid UTF-8 at all
        encoded = bytes(rng.randrange(128, 256) for _ in range(rng.randint(1, 6)))
    else:
        codec = rng.choice(["utf-8", "utf-16-le", "latin-1"])
        errors = "surrogatepass" if codec != "latin-1" else "replace"
        encoded = text.encode(codec, errors)
    at = _position(rng, data)
    return data[:at] + encoded + data[at:]


def line_ends(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    return b"".join(line + rng.choice(_LINE_ENDS) for line in lines)


def nesting(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    depth = rng.choice([50, 500, 3000, 20000])
    at = data.find(b">", _position(rng, data)) + 1 or len(data)
    if rng.random() < 0.5:  # MT940 envelopes nest blocks: {4:{4:{4:...
        return data[:at] + b"{4:" * depth + data[at:] + b"}" * depth
    return data[:at] + b"<Ntry>" * depth + b"</Ntry>" * rng.choice([0, depth]) + data[at:]


def splice(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    other = rng.choice(seeds)
    return data[:_position(rng, data)] + other[_position(rng, other):]


def reencode(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    text = data.decode("utf-8", "replace")
    codec = rng.choice(["utf-16", "utf-16-be", "utf-32", "cp1252", "utf-8-sig", "cp500"])
    return text.encode(codec, "replace")


def garbage(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    blob = rng.randbytes(rng.randint(1, 2000))
    return blob if rng.random() < 0.3 else data[:_position(rng, data)] + blob


def sign_and_marks(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    """Swap the markers the amount sign hangs on: C/D/RC/RD, CRDT/DBIT, decimal marks."""
    pairs = [(b"CRDT", b"DBIT"), (b"DBIT", b"CRDT"), (b"CR", b"RD"), (b"C2", b"X2"),
             (b",", b"."), (b".", b","), (b"EUR", b"E\xa4R"), (b"BOOK", b"")]
    old, new = rng.choice(pairs)
    return data.replace(old, new, rng.randint(1, 3))


MUTATORS: list[Mutator] = [flip, truncate, delete_range, duplicate_range, delete_tag,
                           duplicate_tag, huge_number, unicode_text, line_ends, nesting, splice,
                           reencode, garbage, sign_and_marks]


def make_case(seeds: list[bytes], seed: int, number: int) -> tuple[bytes, list[str]]:
    """Case `number` of run `seed`: the same bytes on every machine and Python version."""
    rng = random.Random(f"{seed}:{number}")
    data = rng.choice(seeds)
    applied = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
        mutator = rng.choice(MUTATORS)
        data = mutator(rng, data, seeds)
        applied.append(mutator.__name__)
    return data, applied


# --- running ----------------------------------------------------------------------------


class CaseTimeoutError(Exception):
    """A single parse took longer than --timeout: a hang or an algorithmic blow-up."""


@dataclass
class Tally:
    cases: int = 0
    parsed: int = 0
    parse_errors: int = 0
    unnamed_errors: int = 0  # ParseError whose message does not name the file
    findings: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def merge(self, other: Tally) -> None:
        self.cases += other.cases
        self.parsed += other.parsed
        self.parse_errors += other.parse_errors
        self.unnamed_errors += other.unnamed_errors
        for key, value in other.findings.items():
            self.findings.setdefault(key, value)
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise CaseTimeoutError("case ran over the time limit")


def run_range(args: tuple[int, int, int, float]) -> Tally:
    seed, start, stop, timeout = args
    seeds = load_seeds()
    tally = Tally()
    signal.signal(signal.SIGALRM, _on_alarm)
    name = "fuzz.bin"
    for number in range(start, stop):
        data, applied = make_case(seeds, seed, number)
        tally.cases += 1
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            parse(data, filename=name)
            tally.parsed += 1
        except ParseError as exc:
            tally.parse_errors += 1
            if not str(exc).startswith(name):
                tally.unnamed_errors += 1
                _note(tally, number, "ParseError without the file name", str(exc))
        except (Exception, RecursionError) as exc:  # everything else is a finding
            frames = traceback.extract_tb(exc.__traceback__)
            last = frames[-1] if frames else None
            place = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
            _note(tally, number, f"{type(exc).__name__} at {place}",
                  f"mutations: {applied}\n" + "".join(traceback.format_exception(exc)))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return tally


def _note(tally: Tally, number: int, key: str, detail: str) -> None:
    tally.counts[key] = tally.counts.get(key, 0) + 1
    tally.findings.setdefault(key, (number, key, detail))


def save_findings(tally: Tally, seed: int, out: Path) -> None:
    seeds = load_seeds()
    out.mkdir(parents=True, exist_ok=True)
    for number, key, detail in tally.findings.values():
        data, _ = make_case(seeds, seed, number)
        stem = f"case-{seed}-{number}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
        (out / f"{stem}.bin").write_bytes(data)
        (out / f"{stem}.txt").write_text(f"{key}\nseed {seed} case {number}\n\n{detail}\n",
                                         encoding="utf-8")


def atheris_run(cases: int, seed: int, out: Path) -> int:
    """Coverage-guided fuzzing with atheris (libFuzzer), when it is installed: the seed files
    are the starting corpus, the parsers are instrumented, `cases` runs at most. libFuzzer
    stops at the first exception other than ParseError and writes its input to `out`."""
    import importlib

    atheris: Any = importlib.import_module("atheris")  # optional: pip install atheris
    atheris.instrument_all()  # the parsers are loaded already: instrument what is loaded
    corpus = Path(tempfile.mkdtemp(prefix="fuzz-corpus-"))
    for number, data in enumerate(load_seeds()):
        (corpus / f"seed-{number}").write_bytes(data)
    out.mkdir(parents=True, exist_ok=True)

    def one_input(data: bytes) -> None:
        with contextlib.suppress(ParseError):
            parse(data, filename="fuzz.bin")

    atheris.Setup([sys.argv[0], f"-runs={cases}", f"-seed={seed}", "-rss_limit_mb=2048",
                   "-timeout=10", f"-artifact_prefix={out}/", str(corpus)], one_input)
    atheris.Fuzz()
    return 0


def memory_run(size_mb: int) -> int:
    """Each big hostile file of `tests.security.hostile` in a fresh interpreter: outcome,
    time, peak RSS and the overhead beyond the file's own bytes."""
    from tests.security.hostile import BIG_FILES, MB, probe_parse, write_big

    print(f"{'file':22} {'outcome':12} {'seconds':>8} {'peak MB':>8} {'over MB':>8}  message")
    with tempfile.TemporaryDirectory() as folder:
        for kind in BIG_FILES:
            path = write_big(kind, Path(folder) / f"{kind}.bin", size_mb * MB)
            probe = probe_parse(path, timeout=1800)
            path.unlink()
            print(f"{kind:22} {probe.outcome:12} {probe.seconds:8.1f} {probe.peak_mb:8.0f} "
                  f"{probe.overhead_mb:8.0f}  {probe.message[:70]}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=max(1, min(2, multiprocessing.cpu_count())))
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per case")
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    parser.add_argument("--memory-mb", type=int, default=0,
                        help="instead: parse big hostile files of this size in a child process "
                             "each and print peak memory")
    parser.add_argument("--atheris", action="store_true",
                        help="coverage-guided instead (needs `pip install atheris`)")
    args = parser.parse_args(argv)
    if args.atheris:
        return atheris_run(args.cases, args.seed, args.out)
    if args.memory_mb:
        return memory_run(args.memory_mb)
    seeds = load_seeds()
    print(f"fuzzing parsers.parse: {args.cases} cases, seed {args.seed}, {len(seeds)} seed "
          f"files, {len(MUTATORS)} mutators, {args.jobs} process(es)", flush=True)
    chunk = 500
    ranges = [(args.seed, start, min(start + chunk, args.cases), args.timeout)
              for start in range(0, args.cases, chunk)]
    tally = Tally()
    began = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        for done, part in enumerate(pool.imap_unordered(run_range, ranges), start=1):
            tally.merge(part)
            if done % 40 == 0:
                rate = tally.cases / (time.perf_counter() - began)
                print(f"  {tally.cases} cases, {rate:,.0f}/s", flush=True)
    elapsed = time.perf_counter() - began
    failures = sum(n for key, n in tally.counts.items() if not key.startswith("ParseError"))
    print(f"cases: {tally.cases} in {elapsed:.1f} s ({tally.cases / elapsed:,.0f} cases/s)")
    print(f"parsed without error: {tally.parsed}; ParseError: {tally.parse_errors} "
          f"({tally.unnamed_errors} without the file name); other exceptions: {failures}")
    if tally.findings:
        save_findings(tally, args.seed, args.out)
        for key, count in sorted(tally.counts.items()):
            number = tally.findings[key][0]
            print(f"  {count:6d} x {key} (first: case {number})")
        print(f"reproducers in {args.out}/ (run: recon parse FILE)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
