"""Dunning plans as data: stages by days relative to the due date, per customer segment.

A plan is TOML (see `default_plans.toml`). Stage selection is a pure function so that the
daily run, the worklist and the tests agree on which item is at which stage.

Escalation is deliberate, one stage at a time: an invoice found 60 days overdue that was never
chased gets a first reminder, not a formal notice. A customer must have been reminded before
being threatened, and a formal notice without prior reminders weakens a later claim.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from reconciler.errors import ConfigError

CHANNELS = ("email", "letter", "phone", "formal_notice", "task")


@dataclass(frozen=True, slots=True)
class Stage:
    name: str  # courtesy | reminder1 | reminder2 | call | formal_notice (also the template)
    offset_days: int  # relative to the due date: -5 is five days before
    channel: str
    template: str
    level: int  # 1-based position in the plan
    fee: Decimal = Decimal(0)
    interest_rate: Decimal = Decimal(0)  # yearly rate on the overdue amount, e.g. 0.09


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    stages: tuple[Stage, ...]
    minimum_amount: Decimal = Decimal("10.00")  # below this total, nobody is chased
    min_days_between: int = 7  # gap between two actions for the same item
    owner: str | None = None  # e.g. the key-account team that gets the tasks

    def next_stage(self, *, days_past_due: int, level: int,
                   last_action: dt.date | None, today: dt.date) -> Stage | None:
        """The stage an item reaches today, or None.

        `level` is the last stage sent (0: none). Pre-due stages (negative offsets) are
        skipped once the item is overdue: a courtesy reminder for a late invoice is noise.
        """
        if last_action is not None and (today - last_action).days < self.min_days_between:
            return None
        for stage in self.stages:
            if stage.level <= level:
                continue
            if stage.offset_days < 0 <= days_past_due:
                continue  # courtesy window passed
            if stage.offset_days <= days_past_due:
                return stage
            return None
        return None


@dataclass(frozen=True, slots=True)
class PlanBook:
    """Plans by segment; `default` for customers whose segment has no plan of its own."""

    default: Plan
    by_segment: dict[str, Plan]

    def plan_for(self, segment: str | None) -> Plan:
        return self.by_segment.get(segment or "", self.default)


def _decimal(value: object, where: str) -> Decimal:
    if isinstance(value, float):
        raise ConfigError(f"{where}: write amounts as strings, not floats")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: not a number: {value!r}") from None


def parse_plans(text: str, *, source: str = "plans") -> PlanBook:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    plans: dict[str, Plan] = {}
    segments: dict[str, str] = {}
    for name, body in raw.get("plans", {}).items():
        where = f"{source}: plans.{name}"
        unknown = set(body) - {"stages", "minimum_amount", "min_days_between", "owner",
                               "segments"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        stages = []
        for index, stage in enumerate(body.get("stages", []), start=1):
            swhere = f"{where}.stages[{index}]"
            bad = set(stage) - {"name", "days", "channel", "template", "fee", "interest_rate"}
            if bad:
                raise ConfigError(f"{swhere}: unknown key {sorted(bad)[0]!r}")
            channel = stage.get("channel", "email")
            if channel not in CHANNELS:
                raise ConfigError(f"{swhere}: channel {channel!r} is not one of {CHANNELS}")
            stages.append(Stage(
                name=str(stage["name"]), offset_days=int(stage["days"]), channel=channel,
                template=str(stage.get("template", stage["name"])), level=index,
                fee=_decimal(stage.get("fee", "0"), swhere),
                interest_rate=_decimal(stage.get("interest_rate", "0"), swhere)))
        offsets = [s.offset_days for s in stages]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise ConfigError(f"{where}: stage days must strictly increase")
        plans[name] = Plan(name=name, stages=tuple(stages),
                           minimum_amount=_decimal(body.get("minimum_amount", "10.00"), where),
                           min_days_between=int(body.get("min_days_between", 7)),
                           owner=body.get("owner"))
        for segment in body.get("segments", []):
            segments[str(segment)] = name
    if "default" not in plans:
        raise ConfigError(f"{source}: a plan named 'default' is required")
    return PlanBook(default=plans["default"],
                    by_segment={seg: plans[name] for seg, name in segments.items()})


def load_plans(path: str | None = None) -> PlanBook:
    """The plans file from settings, else the built-in plans."""
    if path is None:
        text = resources.files("rules").joinpath("default_plans.toml").read_text("utf-8")
        return parse_plans(text, source="default_plans.toml")
    try:
        return parse_plans(Path(path).read_text(encoding="utf-8"), source=path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read dunning plans: {exc.strerror}") from None


def late_interest(amount: Decimal, rate: Decimal, days: int) -> Decimal:
    """Simple statutory-style interest: amount x yearly rate x days / 365, to the cent."""
    if days <= 0 or rate <= 0:
        return Decimal(0)
    return (amount * rate * days / 365).quantize(Decimal("0.01"))
