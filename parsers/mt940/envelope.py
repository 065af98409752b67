"""Text pre-processors: what banks wrap around the MT940 tags.

Each pre-processor takes the decoded file text and returns text in which one bank quirk is
gone. They keep the number of lines unchanged (what they remove becomes an empty line), so a
diagnostic's "line N" still points at the line the bank sent. They run in `TEXT_PRE_PROCESSORS`
order before the tag tokenizer sees the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

TextPreProcessor = Callable[[str], str]

# A line that starts an MT940 tag (`:20:`, `:28C:`, `:NS:`); used to find the message body.
TAG_LINE = re.compile(r":(?:\d\d[A-Z]?|NS):")


def normalise_line_endings(text: str) -> str:
    """Windows exports (ING, Sparkasse) end lines with CRLF, some old systems with a bare CR."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def strip_control_characters(text: str) -> str:
    """mBank wraps each message in SOH (0x01) ... ETX (0x03); a UTF-8 BOM may lead the file.

    Other C0 controls (a stray 0x1A end-of-file from DOS tools, NULs) carry no data either.
    Tabs and newlines stay.
    """
    text = text.removeprefix("\ufeff")
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub("", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# SWIFT FIN envelope: basic header {1:...}, application header {2:...}, user header {3:{...}},
# the text block opener {4: and the trailer block {5:{...}}. Blocks 3 and 5 nest one level.
_SWIFT_BLOCK = re.compile(r"\{[1235]:(?:[^{}]|\{[^{}]*\})*\}|\{4:")


def strip_swift_blocks(text: str) -> str:
    """Files sent over SWIFTNet (ASN, SNS, Knab, KBS, ING) keep the FIN envelope.

    `{1:F01...}{2:O940...}{3:}{4:` sits on one line or is spread over several, and the text
    block closes with `-}` (often followed by `{5:...}`). The blocks are removed; a block
    spanning lines leaves its line breaks, and the `-}` closer becomes the plain `-` trailer.
    """
    if "{" not in text:
        return text
    text = _SWIFT_BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return re.sub(r"(?m)^-\}[ \t]*$", "-", text)


def blank_text_outside_messages(text: str) -> str:
    """Remove what banks put between messages: headers, prose and the `-` trailers.

    ABN AMRO and bunq start each message with three lines (`ABNANL2A` / `940` / `ABNANL2A`),
    old ING files with `0000 01INGBNL2AXXXX00001` / `940 00`, Rabobank with a lone `:940:`, and
    some exports with a line of free prose. A message ends with `-`, `-XXX` (old ING) or `-}`.
    Everything before the first `:20:` and between a trailer and the next `:20:` is blanked,
    except tag lines, which the reader reports as misplaced.
    A `-` line inside a message (a wrapped `:86:` line that happens to be a dash) is kept,
    because the next tag after it is not a `:20:`.
    """
    first = _FIRST_STATEMENT.search(text)
    if first is None:
        return _blank_non_tag_lines(text)
    pieces = [_blank_non_tag_lines(text[:first.start()])]
    position = first.start()
    for trailer in _TRAILER_LINE.finditer(text, position):
        if trailer.start() < position:
            continue  # inside a stretch already blanked
        following = _ANY_TAG_LINE.search(text, trailer.end())
        if following is not None and not text.startswith(":20:", following.start()):
            continue  # a dash inside a message
        end = following.start() if following is not None else len(text)
        pieces.append(text[position:trailer.start()])
        pieces.append("\n" * text.count("\n", trailer.start(), end))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


_FIRST_STATEMENT = re.compile(r"^:20:", re.MULTILINE)
_TRAILER_LINE = re.compile(r"^-(?:XXX|\})?[ \t]*$", re.MULTILINE)
_ANY_TAG_LINE = re.compile(r"^:(?:\d\d[A-Z]?|NS):", re.MULTILINE)


def _blank_non_tag_lines(text: str) -> str:
    """Blank every line but tag lines (a tag out here is left for the reader to report)."""
    return "\n".join(line if TAG_LINE.match(line) else "" for line in text.split("\n"))


TEXT_PRE_PROCESSORS: tuple[TextPreProcessor, ...] = (
    normalise_line_endings,
    strip_control_characters,
    strip_swift_blocks,
    blank_text_outside_messages,
)


def clean_envelope(text: str) -> str:
    """Run every text pre-processor in order."""
    for pre_processor in TEXT_PRE_PROCESSORS:
        text = pre_processor(text)
    return text
