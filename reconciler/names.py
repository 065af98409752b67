"""Company names reduced to a comparable form.

A payer writes "Müller GmbH & Co. KG", the bank delivers "MUELLER GMBH U. CO KG" and the ERP
holds "Mueller"; all three must compare equal. `normalize_name` case-folds, transliterates
(German umlauts the way German banks spell them: ä -> ae), drops accents and punctuation,
removes legal forms and collapses whitespace. Matchers compare payer names with the stored
`customers.normalized_name`, so they must use this same function.
"""

from __future__ import annotations

import re
import unicodedata

# German umlauts become two letters, as German banks and SEPA's restricted character set
# write them; every other accent is dropped by NFKD decomposition below.
_TRANSLITERATION = str.maketrans({
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "å": "aa",
    "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "&": " ", "+": " ",
})

# Legal forms that are never a meaningful word of a name: removed wherever they stand.
_LEGAL_FORMS_ANYWHERE = frozenset({
    "gmbh", "mbh", "ag", "bv", "nv", "sa", "sarl", "sas", "sasu", "eurl", "ltd", "llc", "inc",
    "spa", "srl", "sro", "plc", "llp", "gbr", "ohg", "ug", "kgaa", "vof", "bvba", "sprl",
    "aps", "oyj", "kft", "zoo", "limited", "incorporated", "corp", "corporation", "ev",
    "sagl", "snc", "sccl", "slu", "gmbhco",
})
# Short forms that are also ordinary words or initials ("AB Meier", "Co-op"): removed only at
# the end of a name, where a legal form stands.
_LEGAL_FORMS_AT_END = _LEGAL_FORMS_ANYWHERE | frozenset({
    "co", "kg", "ab", "as", "oy", "sl", "lp", "se", "cv", "sp", "und", "and", "cie", "et", "u",
})

_DOTS = re.compile(r"\.")
_SLASHED_INITIALS = re.compile(r"\b([a-z])/([a-z])\b")  # "A/S", "I/S": one legal form
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalize_name(name: str | None) -> str:
    """'Müller GmbH & Co. KG' -> 'mueller'; '' for None or a name made only of punctuation."""
    if not name:
        return ""
    text = name.casefold().translate(_TRANSLITERATION)
    if not text.isascii():  # plain ASCII has no accents to strip (most names, fastest path)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    # "S.A.", "B.V.", "Co." lose their dots so that they read as one token.
    text = _SLASHED_INITIALS.sub(r"\1\2", _DOTS.sub("", text))
    tokens = _NOT_WORD.sub(" ", text).split()
    kept = [t for t in tokens if t not in _LEGAL_FORMS_ANYWHERE]
    while kept and kept[-1] in _LEGAL_FORMS_AT_END:
        kept.pop()
    if not kept:
        # The whole name is a legal form ("AG"): keep what was there rather than nothing.
        kept = tokens
    return " ".join(kept)
