"""What every command gets: the settings and, on demand, the database."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from reconciler.db.session import Database
from reconciler.settings import Settings, load_settings

Handler = Callable[["Context", argparse.Namespace], int | None]


class Context:
    def __init__(self, config_path: str | None = None) -> None:
        self._config_path = config_path
        self._settings: Settings | None = None
        self._db: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self._config_path)
        return self._settings

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


class CommandGroups:
    """Top-level commands plus named groups (`recon import ...`) shared between modules."""

    def __init__(self, top: Any) -> None:
        self.top = top
        self._groups: dict[str, Any] = {}

    def command(self, name: str, handler: Handler, help: str, group: str | None = None,
                **kwargs: Any) -> argparse.ArgumentParser:
        parent = self.group(group) if group else self.top
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help,
                                                            **kwargs)
        parser.set_defaults(handler=handler)
        return parser

    def group(self, name: str, help: str | None = None) -> Any:
        if name not in self._groups:
            helps = {"import": "import master data or bank files", "audit": "the audit journal",
                     "user": "web users", "export": "exports for the ERP and scripts",
                     "dunning": "collections: the dunning run", "jobs": "scheduled jobs",
                     "dispute": "disputes on open items", "promise": "promises to pay"}
            parser = self.top.add_parser(name, help=help or helps.get(name, name))
            self._groups[name] = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND",
                                                       required=True)
        return self._groups[name]
