"""The `recon` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from reconciler import __version__
from reconciler.cli.context import CommandGroups, Context
from reconciler.errors import ReconError

# Modules that add commands; each has `register(groups: CommandGroups) -> None`.
COMMAND_MODULES = (
    "reconciler.cli.admin",
    "reconciler.cli.imports",
    "reconciler.cli.parse",
    "reconciler.cli.statements",
    "reconciler.cli.matching",
    "reconciler.cli.demo",
    "reconciler.cli.web",
    "reconciler.cli.connectors",
    "reconciler.cli.collections",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recon", description="Bank-statement reconciliation and collections server."
    )
    parser.add_argument("--version", action="version", version=f"recon {__version__}")
    parser.add_argument("--config", metavar="PATH",
                        help="settings file (default: $RECON_CONFIG, else ./recon.toml)")
    groups = CommandGroups(parser.add_subparsers(dest="command", metavar="COMMAND"))
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that area is not installed in this build
            raise
        module.register(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    context = Context(config_path=args.config)
    try:
        code = handler(context, args)
    except ReconError as exc:
        print(f"recon: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("recon: interrupted", file=sys.stderr)
        return 130
    finally:
        context.close()
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
