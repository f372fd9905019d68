"""The generic config machinery: problems and errors, the parser that reads raw values into typed sections, shared rules."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

NAMESPACE = "golive"


@dataclass(frozen=True)
class Problem:
    """One configuration problem: which key, what value was given, which rule it breaks."""

    key: str
    value: Any
    rule: str

    def render(self) -> str:
        shown = str(self.value) if isinstance(self.value, (_Missing, _Shown)) else json.dumps(self.value, default=str)
        return f"{self.key} = {shown}: {self.rule}"


class ConfigError(Exception):
    """All problems found in one stack configuration."""

    def __init__(self, problems: Sequence[Problem], stack: str = ""):
        self.problems = list(problems)
        self.stack = stack
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        where = f' of stack "{self.stack}"' if self.stack else ""
        lines = [f"golive: {n} configuration problem{'s' if n != 1 else ''}{where}:"]
        lines += [f"  - {p.render()}" for p in self.problems]
        lines.append("Fix them in Pulumi.<stack>.yaml (or with `pulumi config set`) and run again.")
        return "\n".join(lines)


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


_MISSING: Any = _Missing()


class _Shown(str):
    """A description printed in place of a value: a secret's plain text, a whole section."""

    def __repr__(self) -> str:
        return str(self)


# What an error shows instead of a secret given in plain text.
HIDDEN = _Shown("(plain text, not shown)")


def doc(text: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A dataclass field with its documentation (shown in docs/config.md and errors)."""
    if default is not dataclasses.MISSING and isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple or default_factory for mutable defaults")
    if default is dataclasses.MISSING:
        return field(metadata={"doc": text}, **kwargs)
    return field(default=default, metadata={"doc": text}, **kwargs)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args)
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def difflib_closest(word: str, candidates: Sequence[str], cutoff: float = 0.7) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return match[0] if match else None


# The largest integer a double (Pulumi's wire format for numbers) holds exactly.
MAX_WIRE_INT = 2**53


def _shown(value: Any) -> Any:
    """A value short enough to print in an error (a 400-digit number is not)."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


class _Ctx:
    """What cross-field rules need: the environment and the region."""

    def __init__(self, environment: str, region: str):
        self.environment = environment
        self.region = region

    @property
    def production(self) -> bool:
        return self.environment == "production"


class _Parse:
    """One parse of a stack config: what cannot be read, what breaks a rule, and which keys could not be read.

    A value that cannot be read (a wrong type, a required key missing) is reported and its key marked broken; its
    default stands in so every other setting is still checked, and the rules' verdicts on a broken key (they judged
    the stand-in) are dropped. So one round trip shows every problem, everywhere.
    """

    def __init__(self, ctx: _Ctx):
        self.ctx = ctx
        self.problems: list[Problem] = []  # values that cannot be read: types, unknown and required keys
        self.checks: list[Problem] = []  # the rules (validate hooks and cross checks)
        self.broken: set[str] = set()

    def _is_broken(self, key: str) -> bool:
        return any(key == b or key.startswith((b + ".", b + "[")) for b in self.broken)

    def check(self, obj: Any, key: str) -> None:
        """Run ``obj``'s validate hook, keeping what it says about keys whose given value was read."""
        hook = getattr(obj, "validate", None)
        if hook is None:
            return
        found: list[Problem] = []
        hook(key, self.ctx, found)
        self.checks += [p for p in found if not self._is_broken(p.key)]

    def check_tree(self, obj: Any, key: str) -> None:
        """Run every ``validate`` hook of a default value, depth first, with the key path of each object."""
        if isinstance(obj, tuple):
            for i, item in enumerate(obj):
                self.check_tree(item, f"{key}[{i}]")
            return
        if not dataclasses.is_dataclass(obj):
            return
        for f in dataclasses.fields(obj):
            self.check_tree(getattr(obj, f.name), f"{key}.{camel(f.name)}")
        self.check(obj, key)

    def coerce(self, tp: Any, value: Any, key: str) -> Any:
        """Convert a raw config value to ``tp`` (objects checked by their rules as they are built), or ``_MISSING``."""
        problems = self.problems
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if value is None:
                return None
            return self.coerce(args[0], value, key)
        if origin is Literal:
            if value in typing.get_args(tp):
                return value
            problems.append(Problem(key, value, f"must be {_type_name(tp)}"))
            return _MISSING
        if origin is tuple:
            if isinstance(value, str):
                # `pulumi config set golive:x '[...]'` stores a JSON string.
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            if not isinstance(value, list):
                problems.append(Problem(key, _brief(value), f"must be {_type_name(tp)}"))
                return _MISSING
            item_tp = typing.get_args(tp)[0]
            items = [self.coerce(item_tp, v, f"{key}[{i}]") for i, v in enumerate(value)]
            for i, item in enumerate(items):
                if item is _MISSING:
                    self.broken.add(f"{key}[{i}]")
            # Each readable item was checked as it was built; the list's own rules need every item.
            return _MISSING if any(i is _MISSING for i in items) else tuple(items)
        if dataclasses.is_dataclass(tp):
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            if not isinstance(value, dict):
                problems.append(Problem(key, _brief(value), "must be an object"))
                return _MISSING
            return self.dataclass(tp, value, key)
        if tp is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value in ("true", "false"):
                return value == "true"
            problems.append(Problem(key, _brief(value), "must be true or false"))
            return _MISSING
        if tp is int:
            if isinstance(value, bool):
                problems.append(Problem(key, value, "must be an integer"))
                return _MISSING
            number = value if isinstance(value, int) else (
                int(value) if isinstance(value, str) and re.fullmatch(r"-?\d{1,400}", value.strip()) else None)
            if number is None:
                problems.append(Problem(key, _brief(value), "must be an integer"))
                return _MISSING
            if abs(number) > MAX_WIRE_INT:
                problems.append(Problem(key, _shown(value), f"must be at most {MAX_WIRE_INT} in size (Pulumi sends numbers as doubles)"))
                return _MISSING
            return number
        if tp is float:
            if isinstance(value, bool):
                problems.append(Problem(key, value, "must be a number"))
                return _MISSING
            number: float | None = None
            try:
                if isinstance(value, (int, float)):
                    number = float(value)
                elif isinstance(value, str):
                    number = float(value)
            except ValueError:
                number = None
            except OverflowError:
                number = math.inf
            if number is None:
                problems.append(Problem(key, _brief(value), "must be a number"))
                return _MISSING
            if not math.isfinite(number):
                problems.append(Problem(key, _shown(value), "must be a finite number"))
                return _MISSING
            return number
        if tp is str:
            if isinstance(value, str):
                return value
            problems.append(Problem(key, _brief(value), "must be a string"))
            return _MISSING
        raise TypeError(f"unsupported config field type {tp!r} for {key}")

    def dataclass(self, cls: Any, raw: Mapping[str, Any], key: str) -> Any:
        hints = typing.get_type_hints(cls)
        fields = {camel(f.name): f for f in dataclasses.fields(cls) if f.init}
        for unknown in sorted(set(raw) - set(fields)):
            self.problems.append(Problem(f"{key}.{unknown}", _brief(raw[unknown]), _unknown_key_rule(unknown, fields)))
        kwargs: dict[str, Any] = {}
        complete = True  # unknown keys are reported but do not stop the rest from being checked
        for camel_name, f in fields.items():
            field_key = f"{key}.{camel_name}"
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if camel_name not in raw:
                if required:
                    self.problems.append(Problem(field_key, _MISSING, f"is required ({f.metadata.get('doc', '')})"))
                    self.broken.add(field_key)
                    complete = False
                else:
                    kwargs[f.name] = _default_of(f)
                    self.check_tree(kwargs[f.name], field_key)
                continue
            value = self.coerce(hints[f.name], raw[camel_name], field_key)
            if value is _MISSING:
                self.broken.add(field_key)
                if required:
                    complete = False
                else:
                    kwargs[f.name] = _default_of(f)  # stands in, so the other fields' rules still run
                continue
            kwargs[f.name] = value
        if not complete:
            return _MISSING
        obj = cls(**kwargs)
        self.check(obj, key)
        return obj


def _default_of(f: dataclasses.Field) -> Any:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]


def _brief(value: Any) -> Any:
    """A given value as an error shows it: an object or a list (or its JSON string) by its kind, not its contents."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, dict):
        return _Shown(f"(an object with {len(value)} key{'s' if len(value) != 1 else ''})")
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return _Shown(f"(a list of {len(value)})")
    return _shown(value) if isinstance(value, str) else value


def _unknown_key_rule(unknown: str, known: Mapping[str, Any]) -> str:
    suggestion = _closest(unknown, known)
    if suggestion:
        return f"unknown key (did you mean {suggestion!r}?)"
    return f"unknown key; known keys: {', '.join(sorted(known))}"


def _closest(word: str, candidates: Mapping[str, Any]) -> str | None:
    return difflib_closest(word, list(candidates))


def parse_cidr(key: str, value: str, problems: list[Problem]) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        problems.append(Problem(key, value, f"must be an IPv4 CIDR block with no host bits set ({exc})"))
        return None


LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
# Production keeps every CloudWatch log group at least a year (policy logs-group-encrypted-retained, CKV_AWS_338).
PRODUCTION_LOG_RETENTION_DAYS = 365

# Rules that span sections (e.g. the DR region differs from the primary); each
# takes (config: StackConfig, ctx, problems) and runs after every section parsed.
CROSS_CHECKS: list[Any] = []


def cross_check(fn: Any) -> Any:
    CROSS_CHECKS.append(fn)
    return fn


_PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)

def _check_retention(key: str, value: int, minimum: int, ctx: _Ctx, problems: list[Problem]) -> None:
    if value not in LOG_RETENTION_DAYS:
        problems.append(Problem(key, value, f"must be a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"))
    elif ctx.production and value < minimum:
        problems.append(Problem(key, value, f"production keeps these logs at least {minimum} days"))


# An exact chart (or image) version, x.y.z: what every pinned Helm chart must name, never a range.
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+")
_MON_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_MON_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}

def duration_seconds(value: str) -> float | None:
    """A Prometheus duration (``15s``, ``15d``; one unit) in seconds, or None if it is not one."""
    match = _MON_DURATION.fullmatch(value)
    return int(match.group(1)) * _MON_DURATION_SECONDS[match.group(2)] if match else None
