"""One typed settings object: defaults, then the TOML file, then `RECON_*` variables.

File: `--config PATH`, else `$RECON_CONFIG`, else `./recon.toml` when present.
Environment: `RECON_DATABASE_URL` for a top-level key, `RECON_MATCHING__AUTO_THRESHOLD` for
a key inside a table (double underscore between levels).
Secrets are references, never values: `password = {"$env": "BANK_PASSWORD"}` or
`{"$file": "/run/secrets/bank"}`; the value is read only when used and never printed.
An unknown key anywhere is an error that names it.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.money import ZERO

ENV_PREFIX = "RECON_"


@dataclass(frozen=True, slots=True)
class Secret:
    """A reference to a secret held in the environment or a file."""

    env: str | None = None
    file: str | None = None

    def reveal(self) -> str:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError(f"secret: environment variable {self.env} is not set")
            return value
        if self.file is not None:
            try:
                return Path(self.file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"secret: cannot read {self.file}: {exc.strerror}") from None
        raise ConfigError("secret: empty reference")

    def __repr__(self) -> str:
        return f"Secret(env={self.env!r})" if self.env else f"Secret(file={self.file!r})"


@dataclass(frozen=True, slots=True)
class Tolerance:
    """What a payment may differ from the items it settles, in the currency's units.

    Intermediary banks deduct their charges from SEPA and SWIFT credits, so a payment a few
    euros short is normal and is booked as a bank charge, not chased as a short payment.
    """

    bank_charge: Decimal = Decimal("15.00")
    write_off: Decimal = Decimal("5.00")


@dataclass(frozen=True, slots=True)
class MatchingSettings:
    auto_threshold: float = 0.95  # confidence at or above which a proposal is applied
    suggest_threshold: float = 0.30  # below this a proposal is not even shown
    auto_margin: float = 0.10  # the best proposal must lead the next by more than this
    matchers: tuple[str, ...] = ("reference", "combination", "fuzzy_name")
    disabled: tuple[str, ...] = ()
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    default_tolerance: Tolerance = Tolerance()
    combination_max_items: int = 40  # open items considered per payer
    # CPU-time safety net per search; the node budget is what bounds a search, so that the
    # outcome does not depend on how busy the machine is.
    combination_time_ms: int = 1000
    workers: int = 0  # processes matching a large run's lines: 0 is one per core
    write_off_limit: Decimal = Decimal("50.00")  # above: approver only

    def tolerance(self, currency: str) -> Tolerance:
        return self.tolerances.get(currency.upper(), self.default_tolerance)


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """A bank source: `[sources.NAME]` in the settings file."""

    kind: str  # sftp | ebics | folder
    schedule: str | None = None  # cron, five fields
    pattern: str = "*"
    # sftp
    host: str | None = None
    port: int = 22
    username: str | None = None
    key_file: str | None = None
    password: Secret | None = None
    known_hosts: str | None = None
    remote_dir: str = "."
    archive_dir: str | None = None
    done_marker: str | None = None  # e.g. ".done": take a file only when NAME.done exists
    stable_seconds: int = 5  # size and mtime unchanged this long: the upload is complete
    timeout_seconds: int = 30
    retries: int = 3
    # folder
    path: str | None = None
    # ebics
    url: str | None = None
    host_id: str | None = None
    partner_id: str | None = None
    user_id: str | None = None
    keys_dir: str | None = None
    passphrase: Secret | None = None
    order_types: tuple[str, ...] = ()
    backend: str = "builtin"  # builtin | ebicsclient


@dataclass(frozen=True, slots=True)
class SinkSettings:
    """Where posted cash entries go: `[sinks.NAME]`."""

    kind: str  # file | webhook | sftp
    format: str = "json"  # json | csv (file, sftp)
    path: str | None = None
    url: str | None = None
    secret: Secret | None = None  # HMAC key for webhooks
    host: str | None = None
    port: int = 22
    username: str | None = None
    key_file: str | None = None
    password: Secret | None = None
    known_hosts: str | None = None
    remote_dir: str = "."
    timeout_seconds: int = 30
    max_attempts: int = 8


@dataclass(frozen=True, slots=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 8
    secret_key: Secret | None = None  # default: a random key per process
    session_minutes: int = 30
    secure_cookies: bool = False  # set true behind HTTPS
    login_attempts_per_minute: int = 10


@dataclass(frozen=True, slots=True)
class DunningSettings:
    plans_file: str | None = None  # TOML; default: the built-in plans
    minimum_amount: Decimal = Decimal("10.00")
    email_from: str = "receivables@example.com"
    sender_name: str = "Accounts Receivable"
    creditor_iban: str = ""  # the account customers are asked to pay into
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: Secret | None = None
    smtp_starttls: bool = False
    schedule: str = "0 6 * * 1-5"


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    enabled: bool = True
    outbox_seconds: int = 60
    kpi_schedule: str = "30 23 * * *"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///recon.db"
    entity: str = "MAIN"  # default entity for open items without one
    base_currency: str = "EUR"
    matching: MatchingSettings = MatchingSettings()
    sources: dict[str, SourceSettings] = field(default_factory=dict)
    sinks: dict[str, SinkSettings] = field(default_factory=dict)
    web: WebSettings = WebSettings()
    dunning: DunningSettings = DunningSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    data_dir: str = "var"  # quarantine, file drops, generated letters
    # Largest bank file accepted. A month of camt.053 for a busy account is tens of MB; a
    # parse holds every entry in memory (about 1 KB each), so the cap bounds memory too.
    max_file_mb: int = 100
    config_path: str | None = None  # where the settings came from (not a key to set)


# --- loading -----------------------------------------------------------------------------


def load_settings(path: str | os.PathLike[str] | None = None,
                  environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Read settings: defaults < TOML file < RECON_* environment variables."""
    environ = os.environ if environ is None else environ
    chosen = path or environ.get("RECON_CONFIG")
    raw: dict[str, Any] = {}
    if chosen is None and Path("recon.toml").is_file():
        chosen = "recon.toml"
    if chosen is not None:
        file = Path(chosen)
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file}: settings file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    _apply_environment(raw, environ)
    raw["config_path"] = str(chosen) if chosen else None
    settings = _build(Settings, raw, "settings")
    assert isinstance(settings, Settings)
    return settings


def _apply_environment(raw: dict[str, Any], environ: typing.Mapping[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "RECON_CONFIG":
            continue
        if name in ("RECON_PASSWORD", "RECON_TEST_POSTGRES_URL"):
            continue  # read by the commands that need them, not settings
        path = name[len(ENV_PREFIX):].lower().split("__")
        target = raw
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{name}: {part} is not a table")
        target[path[-1]] = value


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        known = ", ".join(sorted(names))
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {known})")
    values = {key: _convert(hints[key], value, f"{where}.{key}") for key, value in raw.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, where)
    if hint is Secret:
        if isinstance(value, dict) and set(value) == {"$env"}:
            return Secret(env=str(value["$env"]))
        if isinstance(value, dict) and set(value) == {"$file"}:
            return Secret(file=str(value["$file"]))
        raise ConfigError(f'{where}: a secret must be a reference, {{"$env": "NAME"}} or '
                          f'{{"$file": "PATH"}}, never the value itself')
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value, where)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table")
        return {str(k).upper() if args[1] is Tolerance else str(k):
                _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        return tuple(_convert(args[0], v, where) for v in value)
    if hint is Decimal:
        if isinstance(value, float):
            raise ConfigError(f"{where}: write amounts as strings ('15.00'), not floats")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ConfigError(f"{where}: not an amount: {value!r}") from None
    if hint is bool:
        if isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if hint is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}") from None
    if hint is float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
        if not 0.0 <= number <= 1.0:
            raise ConfigError(f"{where}: expected a score between 0 and 1, got {value!r}")
        return number
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported setting type {hint!r}")


__all__ = ["ZERO", "Settings", "load_settings"]
