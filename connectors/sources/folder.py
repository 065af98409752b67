"""A watched folder, for banks whose own transfer software drops files on a local disk."""

from __future__ import annotations

import os
from pathlib import Path

from connectors.errors import ConnectorError
from connectors.sources.base import RemoteFile, matches, safe_name
from reconciler.settings import SourceSettings


class FolderSource:
    def __init__(self, name: str, settings: SourceSettings) -> None:
        if not settings.path:
            raise ConnectorError(f"sources.{name}: a folder source needs 'path'")
        self.name = name
        self.settings = settings
        self.stable_seconds = settings.stable_seconds
        self.folder = Path(settings.path)
        # Taken files move to archive_dir (default: archive/ inside the folder), so the
        # transfer software's folder shows at a glance what is still waiting.
        archive = settings.archive_dir
        self.archive = Path(archive) if archive else self.folder / "archive"

    def list_files(self) -> list[RemoteFile]:
        if not self.folder.is_dir():
            raise ConnectorError(f"sources.{self.name}: folder {self.folder} does not exist")
        marker = self.settings.done_marker
        names = set(os.listdir(self.folder))
        found: list[RemoteFile] = []
        for entry in sorted(names):
            if marker and entry.endswith(marker):
                continue
            if entry.startswith(".") or not matches(entry, self.settings.pattern):
                continue  # hidden names are uploads in progress by convention
            path = self.folder / entry
            try:
                safe_name(entry)
                stat = path.lstat()
            except (ConnectorError, OSError):
                continue
            if not path.is_file() or path.is_symlink():
                continue
            found.append(RemoteFile(name=entry, size=stat.st_size, mtime=int(stat.st_mtime),
                                    complete=bool(marker and entry + marker in names)))
        return found

    def fetch(self, file: RemoteFile) -> bytes:
        return (self.folder / safe_name(file.name)).read_bytes()

    def acknowledge(self, file: RemoteFile) -> None:
        self.archive.mkdir(parents=True, exist_ok=True)
        name = safe_name(file.name)
        target = self.archive / name
        if target.exists():  # same name delivered again on another day: keep both
            target = self.archive / f"{name}.{file.mtime}"
        os.replace(self.folder / name, target)
        marker = self.settings.done_marker
        if marker and (self.folder / (name + marker)).exists():
            (self.folder / (name + marker)).unlink()

    def close(self) -> None:
        return None
