"""XSD validation on request, against the official ISO 20022 schemas shipped in `xsd/`.

Validation is a second opinion, not a gate: many banks send files that break a facet here
or there (a BIC written as 'BANK BIC') and are still perfectly usable, so schema errors are
diagnostics with line numbers and the parse result stands.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any, cast

from lxml import etree

from parsers.camt.fields import local_name
from reconciler.domain.common import Diagnostic, Severity

MAX_SCHEMA_DIAGNOSTICS = 50


def shipped_schemas() -> list[str]:
    folder = resources.files("parsers.camt") / "xsd"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".xsd"))


@lru_cache(maxsize=16)
def load_schema(message: str) -> etree.XMLSchema | None:
    """The schema for 'camt.053.001.08', or None when none is shipped for that version."""
    resource = resources.files("parsers.camt") / "xsd" / f"{message}.xsd"
    if not resource.is_file():
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(io.BytesIO(resource.read_bytes()), parser))


def validate_camt(data: bytes, message: str, *, filename: str) -> list[Diagnostic]:
    schema = load_schema(message)
    if schema is None:
        return [Diagnostic(Severity.INFO,
                           f"no schema shipped for {message}; not validated (shipped: "
                           f"{', '.join(shipped_schemas())})", filename, "schema-unavailable")]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    root = etree.parse(io.BytesIO(data), parser).getroot()
    # A business application header wraps the Document; the schema describes the Document.
    document = root if local_name(root) == "Document" else next(
        (e for e in root.iter() if local_name(e) == "Document"), root)
    if schema.validate(document):
        return []
    diagnostics = []
    errors = cast(Iterable[Any], schema.error_log)  # the stubs miss _ErrorLog.__iter__
    for error in list(errors)[:MAX_SCHEMA_DIAGNOSTICS]:
        place = f"{filename}: line {error.line}" if error.line else filename
        diagnostics.append(Diagnostic(Severity.ERROR, f"not valid against {message}.xsd: "
                                      f"{error.message}", place, "schema-invalid"))
    return diagnostics
