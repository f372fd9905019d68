"""Config fuzz (robustness): any ``golive:`` config is either rejected with a clear
config error or synthesizes a stack with 0 mandatory violations; never a traceback, never a
silently insecure stack.

Strategies are derived from the dataclass annotations of ``components.config.StackConfig``
(walked recursively), so a new setting is fuzzed as soon as it is declared. Each example
starts from the prod stack's config and applies one to three operations:

- a type-correct value near interesting boundaries (0, negatives, huge numbers, empty and
  odd strings, CIDRs, regions, NaN/inf, values taken from other settings, duplicates);
- a value of the wrong type;
- an unknown key (typos of real keys and arbitrary names), at any level;
- list operations (empty, duplicate, drop, reverse) and dropping a key (its default).

Two properties: ``parse()`` either returns a StackConfig or raises a ConfigError whose every
problem names a ``golive:`` key and a rule (and never anything else); a production config that
parses synthesizes a stack the whole pack finds GO (or the program itself raises a ConfigError).
Staging and development stacks are not judged by the go-live blockers.

Each bug this test found (11, all fixed in components/config/ and golive/engine.py) is kept as a
regression test at the end; a new one goes there too, as a strict xfail naming the fault until fixed.

By default the examples are derandomized so the suite stays deterministic; run
``GOLIVE_FUZZ=deep python -m pytest tests/test_config_fuzz.py --hypothesis-show-statistics``
for a long random search.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import re
import types
import typing
from typing import Any, Literal

import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st

from components.config import SECRET_KEYS, ConfigError, StackConfig, camel, parse
from golive import check, engine
from policy.rules import META

NAMESPACE = "golive"
DEEP = os.environ.get("GOLIVE_FUZZ") == "deep"

PARSE_SETTINGS = settings(
    max_examples=5000 if DEEP else 500,
    deadline=None,
    derandomize=not DEEP,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SYNTH_SETTINGS = settings(
    max_examples=200 if DEEP else 8,
    deadline=None,
    derandomize=not DEEP,
    database=None,
    # A synth takes about a second: shrinking a failure would cost minutes; the failing ops are few anyway.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


# --------------------------------------------------------------------------- the schema, from the annotations


def _fields(cls: Any) -> list[tuple[str, Any, dataclasses.Field]]:
    hints = typing.get_type_hints(cls)
    return [(camel(f.name), hints[f.name], f) for f in dataclasses.fields(cls) if f.init]


def _optional_of(tp: Any) -> Any | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0]
    return None


def _item_of(tp: Any) -> Any | None:
    return typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None


def _schema_paths(cls: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any, dataclasses.Field]]:
    """Every field of the schema as (path, type, field); ``*`` stands for an element of a list of objects."""
    found = []
    for key, tp, f in _fields(cls):
        path = (*prefix, key)
        found.append((path, tp, f))
        if dataclasses.is_dataclass(tp):
            found += _schema_paths(tp, path)
        elif (item := _item_of(tp)) is not None and dataclasses.is_dataclass(item):
            found += _schema_paths(item, (*path, "*"))
    return found


SCHEMA = _schema_paths(StackConfig)
SCHEMA_KEYS = {".".join(p for p in path if p != "*") for path, _, _ in SCHEMA}
LIST_PATHS = [(path, tp, f) for path, tp, f in SCHEMA if _item_of(tp) is not None]
OBJECT_PATHS = [()] + [path for path, tp, _ in SCHEMA if dataclasses.is_dataclass(tp)] + [
    (*path, "*") for path, tp, _ in LIST_PATHS if dataclasses.is_dataclass(_item_of(tp))
]


def _class_at(path: tuple[str, ...]) -> Any:
    """The dataclass an object path (as in OBJECT_PATHS) holds."""
    cls: Any = StackConfig
    for part in path:
        if part == "*":
            cls = _item_of(cls)
            continue
        cls = dict((k, tp) for k, tp, _ in _fields(cls))[part]
    return cls


def _to_raw(value: Any) -> Any:
    """A parsed value (or default) as the YAML/JSON a stack file holds."""
    if dataclasses.is_dataclass(value):
        return {camel(f.name): _to_raw(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, tuple):
        return [_to_raw(v) for v in value]
    return value


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return _to_raw(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return _to_raw(f.default_factory())
    return None


def _prod_raw() -> dict[str, Any]:
    """The prod stack's ``golive:`` config as native values (what the YAML holds), secrets as the program sees them."""
    data = yaml.safe_load((engine.ROOT / "Pulumi.prod.yaml").read_text())["config"]
    raw = {}
    for key, value in data.items():
        if key.startswith(f"{NAMESPACE}:"):
            name = key.split(":", 1)[1]
            raw[name] = "[secret]" if name in SECRET_KEYS else value
    return raw


PROD_RAW = _prod_raw()


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(set(), *(_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_strings(v) for v in value))
    return set()


def _ints(value: Any) -> set[int]:
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, dict):
        return set().union(set(), *(_ints(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_ints(v) for v in value))
    return set()


_DEFAULTS = _to_raw(StackConfig())
# Every string and integer the prod config or the defaults use: a well-formed value of one setting in another's place.
STRING_POOL = sorted(_strings(PROD_RAW) | _strings(_DEFAULTS))
INT_POOL = sorted(_ints(PROD_RAW) | _ints(_DEFAULTS))

ODD_STRINGS = [
    "", " ", "x", "X" * 300, "null", "true", "0", "-1", "1e999", "NaN", "None", "{}", "[]", "[1,", "*", "a b", "UPPER", "ünïcödé",
    "\n", "\t", "\x00", "../..", "$(rm -rf /)", "'; DROP TABLE x; --",
    # CIDRs
    "0.0.0.0/0", "::/0", "10.0.0.0/8", "10.20.0.0/16", "10.20.0.1/16", "10.20.0.0/33", "10.20.0.0/24", "10.20.0.0/28",
    "10.20.0.0/29", "10.21.0.0/16", "192.168.0.0/24", "172.16.0.0/12", "172.16.0.0/22", "100.64.0.0/10", "8.8.8.0/24",
    "10.20.0.0", "256.0.0.0/8", "fd00::/8",
    # regions and zones
    "eu-west-1", "eu-central-1", "us-east-1", "ap-south-2", "il-central-1", "cn-north-1", "us-gov-west-1", "mars-north-1",
    "eu-west-1a", "eu-west-1z", "eu-central-1a", "us-east-1a",
    # versions, durations, sizes, URLs, names
    "1.2.3", "1.2", "01.02.03", "1.2.3-rc1", "^1.2.3", "~1.2", "latest", "v1.33.0-eksbuild.1", "0s", "1s", "59s", "1m", "5m",
    "2h", "15d", "1w", "1y", "0d", "100GB", "0GB", "150Gi", "1Ti", "#alerts", "a@b.co", "@", "https://example.com/x",
    "http://example.com/x", "https://", "example.com", "Z123", "arn:aws:iam::123456789012:role/x",
    "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000", "cron(0 2 * * ? *)", "cron(bad)",
    "00:00-00:30", "23:30-00:30", "sun:23:30-mon:00:30", "mon:00:00-mon:00:00", "kube-system", "default", "-a-", "a" * 64,
    "a" * 63, "a" * 20, "svc-" + "a" * 28, "api.golive.example.com", "x." * 120 + "com",
]
HUGE_INTS = [2**31 - 1, 2**31, 2**53 + 1, 2**63, 2**64, 10**30, 10**400]
EDGE_INTS = [0, -1, 1, 2, 3, 5, 6, 7, 29, 30, 31, 59, 60, 61, 89, 90, 99, 100, 101, 365, 366, 1023, 1024, 1149, 1150, 4000, 4001,
             8192, 8193, 36500, 36501, 65535, 65536, -(2**31)]
EDGE_FLOATS = [0.0, -0.0, -1.0, 0.5, 1.0, 2.0, 50.0, 99.0, 99.9, 99.99999, 100.0, 100.0001, 1e9, 1e308, math.inf, -math.inf, math.nan]
WRONG_TYPES = [None, True, False, 0, -1, 1.5, "str", "", [], ["a"], [1, 2], {}, {"k": "v"}, "not json {", "[1,", [[[]]],
               {"a": {"b": None}}, [{}], 10**400, math.nan]


# --------------------------------------------------------------------------- values of a type


def _near_ints(current: Any) -> list[int]:
    if isinstance(current, bool) or not isinstance(current, int):
        return []
    return [current - 1, current + 1, current * 2, current // 2, -current, current * 1000]


def _near_strings(current: Any) -> list[str]:
    if not isinstance(current, str) or not current:
        return []
    return [current + "x", current[:-1], current.upper(), current + " ", " " + current, current * 2, current + "\n"]


def typed_values(tp: Any, current: Any, depth: int = 0) -> st.SearchStrategy:
    """Type-correct values of ``tp`` (as a stack file holds them), many near a boundary or near ``current``."""
    if (inner := _optional_of(tp)) is not None:
        return st.one_of(st.none(), typed_values(inner, current, depth))
    origin = typing.get_origin(tp)
    if origin is Literal:
        options = list(typing.get_args(tp))
        return st.sampled_from(options + [o.upper() for o in options if isinstance(o, str) and o.upper() != o])
    if origin is tuple:
        item = _item_of(tp)
        items = typed_values(item, None, depth + 1)
        current_list = current if isinstance(current, list) else []
        choices = [st.lists(items, max_size=4), st.just([]), st.just(current_list + current_list[:1])]
        if current_list:
            choices += [st.just(current_list[1:]), st.just(current_list[::-1]), st.just(json.dumps(current_list))]
        return st.one_of(*choices)
    if dataclasses.is_dataclass(tp):
        if depth > 1:
            return st.just({})
        choices = [st.just({})]
        if isinstance(current, dict):
            choices += [st.just(current), st.just(json.dumps(current))]
        return st.one_of(*choices)
    if tp is bool:
        return st.sampled_from([True, False, "true", "false"])
    if tp is int:
        return st.one_of(
            st.sampled_from(EDGE_INTS + _near_ints(current)),
            st.sampled_from(INT_POOL),
            st.sampled_from(HUGE_INTS),
            st.integers(-1000, 100_000),
            st.sampled_from([str(i) for i in (0, -1, 7, 30, 365)] + ["+5", " 5 ", "05"]),
        )
    if tp is float:
        numeric = isinstance(current, (int, float)) and not isinstance(current, bool)
        # An earlier draw may have left a huge integer here; scaling it would overflow a float.
        near = [current * f for f in (0.5, 0.999, 1.001, 2)] if numeric and abs(current) < 1e300 else []
        return st.one_of(
            st.sampled_from(EDGE_FLOATS + near),
            st.sampled_from([0, 1, 100, 99]),
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from(["99.9", "nan", "inf", "-inf", "1e999", "1_0"]),
        )
    if tp is str:
        return st.one_of(
            st.sampled_from(ODD_STRINGS + _near_strings(current)),
            st.sampled_from(STRING_POOL),
            st.text(max_size=12),
        )
    raise AssertionError(f"the fuzz test does not know the config field type {tp!r}: teach typed_values about it")


# --------------------------------------------------------------------------- operations on a raw config


def _lookup(raw: Any, path: list[Any]) -> Any:
    node = raw
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def _put(raw: dict[str, Any], path: list[Any], value: Any, *, remove: bool = False) -> None:
    node: Any = raw
    for i, part in enumerate(path[:-1]):
        nxt = node[part] if isinstance(part, int) else node.get(part)
        if isinstance(path[i + 1], int):
            assert isinstance(nxt, list)
        elif not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    if remove:
        if isinstance(node, dict):
            node.pop(path[-1], None)
        return
    node[path[-1]] = value


@st.composite
def _concrete(draw: Any, raw: dict[str, Any], abstract: tuple[str, ...]) -> list[Any] | None:
    """The abstract path with each ``*`` replaced by an index of the list the raw config holds there (None: no such list)."""
    node: Any = raw
    out: list[Any] = []
    for part in abstract:
        if part == "*":
            if not isinstance(node, list) or not node:
                return None
            index = draw(st.integers(0, len(node) - 1))
            out.append(index)
            node = node[index]
        else:
            out.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _render(path: list[Any]) -> str:
    text = NAMESPACE + ":"
    for i, part in enumerate(path):
        text += f"[{part}]" if isinstance(part, int) else (part if i == 0 else f".{part}")
    return text


_typos = st.sampled_from([
    lambda k: k[:-1], lambda k: k + "s", lambda k: k.lower(), lambda k: k.upper(), lambda k: k[0].upper() + k[1:],
    lambda k: re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(), lambda k: k.replace("e", "3", 1), lambda k: f"{k} ", lambda k: f"{k}2",
])


@st.composite
def _operation(draw: Any, raw: dict[str, Any], kinds: tuple[str, ...]) -> tuple[str, list[Any] | None]:
    """Apply one operation to ``raw`` in place; returns (description, the unknown key the parser must report, if any)."""
    kind = draw(st.sampled_from(kinds))
    if kind == "unknown":
        where = draw(st.sampled_from(OBJECT_PATHS))
        path = draw(_concrete(raw, where))
        if path is None or (path and _lookup(raw, path) is not None and not isinstance(_lookup(raw, path), dict)):
            return "skip", None
        known = {k for k, _, _ in _fields(_class_at(where))} | (set(SECRET_KEYS) if not path else set())
        base = draw(st.sampled_from(sorted(known)))
        key = draw(st.one_of(_typos.map(lambda typo: typo(base)), st.text(min_size=1, max_size=10)))
        if key in known:
            return "skip", None
        value = draw(st.sampled_from(WRONG_TYPES + ["x", 1]))
        _put(raw, [*path, key], value)
        return f"unknown {_render([*path, key])}", [*path, key]
    if kind == "list":
        abstract, tp, f = draw(st.sampled_from(LIST_PATHS))
        path = draw(_concrete(raw, abstract))
        if path is None:
            return "skip", None
        current = _lookup(raw, path)
        current = current if isinstance(current, list) else _default(f) or []
        new = draw(st.sampled_from([
            [], current[1:], current[:-1], current[::-1], current + current[-1:], current[:1] * 2, current + current,
        ]))
        _put(raw, path, copy.deepcopy(new))
        return f"list {_render(path)} = {new!r}", None
    abstract, tp, f = draw(st.sampled_from(SCHEMA))
    path = draw(_concrete(raw, abstract))
    if path is None:
        return "skip", None
    if kind == "drop":
        _put(raw, path, None, remove=True)
        return f"drop {_render(path)}", None
    current = _lookup(raw, path)
    current = _default(f) if current is None else current
    value = draw(typed_values(tp, current) if kind == "value" else st.sampled_from(WRONG_TYPES))
    _put(raw, path, copy.deepcopy(value))
    return f"{kind} {_render(path)} = {value!r}", None


@st.composite
def raw_configs(draw: Any, kinds: tuple[str, ...], max_ops: int = 3) -> tuple[dict[str, Any], list[str], list[list[Any]]]:
    """(raw config, operations applied, unknown keys the parser must report)."""
    raw = copy.deepcopy(PROD_RAW)
    ops, unknown = [], []
    for _ in range(draw(st.integers(1, max_ops))):
        description, key = draw(_operation(raw, kinds))
        ops.append(description)
        if key:
            unknown.append(key)
    return raw, ops, unknown


ALL_KINDS = ("value", "value", "value", "wrong", "unknown", "list", "drop")
VALID_KINDS = ("value", "value", "value", "list", "drop")


# --------------------------------------------------------------------------- property 1: parse


def _still_present(raw: dict[str, Any], path: list[Any]) -> bool:
    """Whether an unknown key added earlier is still in ``raw`` (a later operation may have replaced its parent)."""
    parent = _lookup(raw, path[:-1])
    return isinstance(parent, dict) and path[-1] in parent


def _names_schema_key(key: str) -> bool:
    plain = re.sub(r"\[\d+\]", "", key.split(":", 1)[1])
    return plain in SCHEMA_KEYS


def assert_clear(err: ConfigError) -> None:
    """Every problem names a ``golive:`` key of the schema (or the unknown key given) and a rule."""
    assert err.problems, "a ConfigError with no problem"
    for problem in err.problems:
        assert isinstance(problem.key, str) and problem.key.startswith(f"{NAMESPACE}:"), problem
        assert isinstance(problem.rule, str) and problem.rule.strip(), problem
        if not problem.rule.startswith("unknown key"):
            assert _names_schema_key(problem.key), f"{problem.key} is not a key of the golive: schema ({problem.rule})"
    rendered = str(err)
    assert rendered.startswith(f"{NAMESPACE}: {len(err.problems)} configuration problem")


def _to_cli(raw: dict[str, Any]) -> dict[str, str]:
    """Values as ``pulumi config`` hands them to the program: strings, objects and lists as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in raw.items()}


@PARSE_SETTINGS
@given(raw_configs(ALL_KINDS))
def test_parse_accepts_or_explains(example):
    raw, ops, unknown = example
    event(f"ops: {len(ops)}")
    for form, given_raw in (("yaml", raw), ("cli", _to_cli(raw))):
        try:
            config = parse(given_raw, "prod")
        except ConfigError as err:
            event(f"{form}: rejected")
            assert_clear(err)
            reported = {p.key for p in err.problems}
            for path in unknown:
                if _still_present(raw, path):
                    assert _render(path) in reported, f"unknown key {_render(path)} not reported; problems: {sorted(reported)}"
        else:
            event(f"{form}: accepted")
            assert isinstance(config, StackConfig)
            assert not [p for p in unknown if _still_present(raw, p)], f"unknown keys accepted: {unknown}"


def test_schema_walk_sees_every_section():
    """The generic walk reaches nested objects, lists of objects and optional fields (so new settings are fuzzed)."""
    keys = SCHEMA_KEYS
    assert {"network.vpcCidr", "services.slo.availability", "delivery.canarySteps.setWeight", "edge.waf.rateLimit",
            "security.vpn.clientCidr", "backup.vaultLockComplianceAfterDays", "cluster.addons.kubeProxy"} <= keys
    assert len(SCHEMA) > 150


# --------------------------------------------------------------------------- property 2: synth + check


def _synth(raw: dict[str, Any]) -> engine.SynthResult:
    base, secret_keys = engine.load_stack_config("prod")
    config = {k: v for k, v in base.items() if not k.startswith(f"{NAMESPACE}:") or k in secret_keys}
    config.update({f"{NAMESPACE}:{k}": v for k, v in _to_cli(raw).items() if k not in SECRET_KEYS})
    return engine.synth("prod", config=config, secret_keys=secret_keys)


def _parses(raw: dict[str, Any]) -> bool:
    try:
        parse(_to_cli(raw), "prod")
    except ConfigError:
        return False
    return True


def _production(raw: dict[str, Any]) -> bool:
    return raw.get("environment", "production") == "production"


class NoGo(AssertionError):
    """A config parse() accepted synthesizes a stack with mandatory violations: a silently insecure stack."""

    def __init__(self, ops: list[str], blockers: list[tuple[str, str]]):
        self.policies = {policy for policy, _ in blockers}
        super().__init__(f"config accepted by parse() but the stack is NO-GO; ops {ops}: {blockers}")


def assert_go_or_config_error(raw: dict[str, Any], ops: list[str]) -> None:
    try:
        result = check.check(_synth(raw))
    except ConfigError as err:  # a rule only the program enforces: still a clear config error
        assert_clear(err)
        return
    blockers = sorted({(f.policy, f.message) for f in result.mandatory})
    if blockers:
        raise NoGo(ops, blockers)


@SYNTH_SETTINGS
@given(raw_configs(VALID_KINDS, max_ops=2))
def test_accepted_config_synthesizes_go(example):
    raw, ops, _ = example
    # The pack's mandatory policies are production go-live blockers; other environments are not judged by them.
    assume(_production(raw))
    assume(_parses(raw))
    assume(raw != PROD_RAW)
    event(" | ".join(op.split(" = ")[0] for op in ops))
    assert_go_or_config_error(raw, ops)


# --------------------------------------------------------------------------- regressions: one per bug found


def _prod_with(path: list[Any], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(PROD_RAW)
    _put(raw, path, value)
    return raw


def test_huge_number_for_a_float_setting_is_a_config_error():
    raw = _prod_with(["services", 0, "slo", "availability"], 10**400)
    with pytest.raises(ConfigError) as err:
        parse(raw, "prod")
    assert_clear(err.value)


@pytest.mark.parametrize(("path", "value"), [
    (["services", 0, "slo", "latencyThresholdSeconds"], math.nan),
    (["services", 0, "slo", "latencyThresholdSeconds"], "inf"),
    (["delivery", "maxBurnRate"], math.inf),
], ids=["latency-threshold-nan", "latency-threshold-inf-string", "max-burn-rate-inf"])
def test_non_finite_number_is_a_config_error(path, value):
    with pytest.raises(ConfigError) as err:
        parse(_prod_with(path, value), "prod")
    assert_clear(err.value)


def test_huge_integer_setting_is_a_config_error_not_a_traceback():
    assert_go_or_config_error(_prod_with(["cluster", "nodeMaxSize"], 10**400), ["cluster.nodeMaxSize = 10**400"])


def test_slo_objective_below_90_is_a_config_error_not_a_traceback():
    assert_go_or_config_error(_prod_with(["services", 1, "slo", "latencyTarget"], 1), ["services[1].slo.latencyTarget = 1"])


def test_duplicate_interface_endpoint_is_a_config_error_not_a_traceback():
    raw = _prod_with(["network", "interfaceEndpoints"], ["ecr.api", "ecr.api"])
    assert_go_or_config_error(raw, ["network.interfaceEndpoints = [ecr.api, ecr.api]"])


def test_security_hub_off_in_production_is_a_config_error_not_no_go():
    assert_go_or_config_error(_prod_with(["security", "securityHub"], False), ["security.securityHub = false"])


RATE_LIMIT_POLICY_MAX = META["edge-waf-rate-based-rule"].defaults["maxLimit"]


def test_config_and_policy_agree_on_the_waf_rate_limit_maximum():
    from components.config import WafConfig

    assert WafConfig.MAX_RATE_LIMIT == RATE_LIMIT_POLICY_MAX


def test_waf_rate_limit_above_the_policy_maximum_is_a_config_error_not_no_go():
    raw = _prod_with(["edge", "waf", "rateLimit"], RATE_LIMIT_POLICY_MAX + 1)
    assert_go_or_config_error(raw, [f"edge.waf.rateLimit = {RATE_LIMIT_POLICY_MAX + 1}"])


def test_unanalysed_delivery_in_production_is_a_config_error_not_no_go():
    assert_go_or_config_error(_prod_with(["services", 0, "delivery"], "none"), ["services[0].delivery = none"])


LOG_GROUP_POLICY_MIN_DAYS = META["logs-group-encrypted-retained"].defaults["minRetentionDays"]
NONCURRENT_VERSIONS_POLICY_MIN = META["backup-bucket-lifecycle"].defaults["minNoncurrentVersions"]


def test_empty_runbook_base_url_is_a_config_error_not_no_go():
    raw = _prod_with(["monitoring", "alerting", "runbookBaseUrl"], "")
    assert_go_or_config_error(raw, ["monitoring.alerting.runbookBaseUrl = ''"])


def test_short_opensearch_log_retention_is_a_config_error_not_no_go():
    from components.config import LOG_RETENTION_DAYS

    days = max(d for d in LOG_RETENTION_DAYS if d < LOG_GROUP_POLICY_MIN_DAYS)  # a valid CloudWatch value, just too short
    raw = _prod_with(["monitoring", "logs", "logRetentionDays"], days)
    assert_go_or_config_error(raw, [f"monitoring.logs.logRetentionDays = {days}"])


def test_few_noncurrent_versions_is_a_config_error_not_no_go():
    raw = _prod_with(["backup", "noncurrentVersionsKept"], NONCURRENT_VERSIONS_POLICY_MIN - 1)
    assert_go_or_config_error(raw, [f"backup.noncurrentVersionsKept = {NONCURRENT_VERSIONS_POLICY_MIN - 1}"])


def test_a_failed_synth_does_not_break_the_next():
    """Found by this fuzz test (fixed in golive/engine.py): a run that failed inside an RPC left its pending
    outputs in pulumi's global SETTINGS, and every later synth failed with 'Event loop is closed'."""
    import pulumi_random as random

    config, secret_keys = engine.load_stack_config("prod")

    def broken() -> None:
        random.RandomPassword("too-long", length=10**400)  # fails while the input is serialized, inside the RPC

    def small() -> None:
        random.RandomPassword("fine", length=32)

    with pytest.raises(OverflowError):
        engine.synth("prod", config=config, secret_keys=secret_keys, program=broken)
    result = engine.synth("prod", config=config, secret_keys=secret_keys, program=small)
    assert [r["name"] for r in result.resources] == ["fine"]


@pytest.mark.parametrize(("path", "value"), [
    (["services", 0, "alerting", "cpuCritical", "severity"], "warning"),
    (["services", 0, "alerting", "queueDepth", "threshold"], 0),
], ids=["critical-tier-made-a-warning", "queue-threshold-zero"])
def test_an_alert_tier_the_rules_cannot_express_is_a_config_error(path, value):
    raw = _prod_with(path, value)
    with pytest.raises(ConfigError) as err:
        parse(raw, "prod")
    assert_clear(err.value)
