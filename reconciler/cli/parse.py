"""`recon parse FILE`: print a bank file's normalised statements as JSON. No database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from parsers import parse
from parsers.jsonout import result_to_dict
from reconciler.cli.context import CommandGroups, Context
from reconciler.errors import InputError


def register(groups: CommandGroups) -> None:
    command = groups.command("parse", cmd_parse,
                             "print a bank file's statements as JSON (no database)")
    command.add_argument("file", metavar="FILE", help="MT940, MT942 or CAMT.052/053/054 file")
    command.add_argument("--validate", action="store_true",
                         help="also validate CAMT against the ISO 20022 schema")
    command.add_argument("--pretty", action="store_true", help="indent the JSON")


def cmd_parse(ctx: Context, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        # One line, exit 2 (the CLI prints ReconError that way): no traceback for a typo.
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    result = parse(data, filename=str(path), validate=args.validate)
    print(json.dumps(result_to_dict(result), indent=2 if args.pretty else None,
                     ensure_ascii=False))
    return 0
