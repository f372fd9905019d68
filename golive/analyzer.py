"""The policy pack over the Analyzer protocol, as ``pulumi preview --policy-pack policy`` runs it.

The Pulumi CLI never imports a pack's rules. It starts the pack
(``python -u -m pulumi.policy <engine> policy/`` in ``policy/``), asks for its
policies (``GetAnalyzerInfo``), reconciles the policy config file with their
schemas and defaults (``Configure``), describes the stack (``ConfigureStack``),
sends every resource's inputs (``Analyze``) and finally every resource's outputs
with its links (``AnalyzeStack``). The pack's servicer deserializes each request
and hands policies proxies: objects as ``Mapping``, lists as ``Sequence``, and
values that are unknown at preview raise ``UnknownValueError``.

This module does the CLI's half of that conversation from a synth document, with
two transports behind one interface:

- ``InProcessPack``: pulumi_policy's own servicer, built from ``policy/__main__.py``
  exactly as ``PolicyPack`` builds it, driven with protobuf requests serialized to
  bytes and parsed back. Each resource type gets a servicer that holds the policies
  declared for that type (a policy's first act is to return on any other type), so
  a check does not deserialize every resource once per policy.
- ``GrpcPack``: the pack as a separate process, started the way the CLI's Python
  language host starts it, spoken to over gRPC.

The test suite proves both give identical diagnostics on the prod stack, the
50-service catalog and every mutation case.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import pathlib
import queue
import runpy
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .engine import PROJECT, ROOT, ROOT_STACK_TYPE, SECRET_MARKER, UNKNOWN_MARKER, SynthResult, UsageError

PACK_DIR_NAME = "policy"
PACK_VERSION = "0.0.1"  # what pulumi_policy's servicer reports; the CLI prefers PulumiPolicy.yaml's version
START_TIMEOUT_S = 60.0

# The wire's special values (pulumi/sdk/go/common/resource/plugin/rpc.go).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# What pulumi_policy's servicer says when a policy read a value that is unknown at preview.
DEFERRED_PREFIX = "can't run policy '"
DEFERRED_INFIX = " during preview: "


class PackError(UsageError):
    """The pack could not start, or its config is wrong: a one-line message, exit 2."""


# --------------------------------------------------------------------------- what the CLI sends


def wire_value(value: Any) -> Any:
    """A synth-document value as the engine marshals it to an analyzer.

    Unknown values become the unknown sentinel (``KeepUnknowns``), secret ones a
    secret-signature object (``KeepSecrets``; the pack unwraps it). Synth documents
    hold neither secret values nor resource references, only their markers and ids.
    """
    if isinstance(value, Mapping):
        return {str(k): wire_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire_value(v) for v in value]
    if value == UNKNOWN_MARKER:
        return UNKNOWN_STRING
    if value == SECRET_MARKER:
        return {SIG_KEY: SECRET_SIG, "value": SECRET_MARKER}
    return value


def _struct(values: Mapping[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    struct.update(wire_value(values))
    return struct


def root_stack_urn(stack: str, project: str = PROJECT) -> str:
    return f"urn:pulumi:{stack}::{project}::{ROOT_STACK_TYPE}::{project}-{stack}"


@dataclass(frozen=True)
class Wire:
    """The requests of one preview, built once from a synth document."""

    analyze: tuple[Any, ...]  # AnalyzeRequest per resource, root stack first
    analyze_stack: Any  # AnalyzeStackRequest

    @classmethod
    def of(cls, synth: SynthResult) -> Wire:
        from pulumi.runtime.proto import analyzer_pb2 as pb

        records = synth.resources
        by_urn = {r["urn"]: r for r in records}
        root_urn = root_stack_urn(synth.stack, synth.project)

        def options(record: Mapping[str, Any] | None) -> Any:
            opts = (record or {}).get("options") or {}
            return pb.AnalyzerResourceOptions(
                protect=bool(opts.get("protect")),
                ignoreChanges=list(opts.get("ignoreChanges") or ()),
                deleteBeforeReplace=bool(opts.get("deleteBeforeReplace")),
                deleteBeforeReplaceDefined=bool(opts.get("deleteBeforeReplaceDefined")),
                additionalSecretOutputs=list(opts.get("additionalSecretOutputs") or ()),
                customTimeouts=pb.AnalyzerResourceOptions.CustomTimeouts(),
                parent=(record or {}).get("parent") or "",
            )

        def provider(record: Mapping[str, Any]) -> Any:
            ref = record.get("provider")
            target = by_urn.get(ref.rsplit("::", 1)[0]) if ref else None
            if target is None:
                return None
            return pb.AnalyzerProviderResource(type=target["type"], properties=_struct(target["inputs"]),
                                               urn=target["urn"], name=target["name"])

        analyze = [pb.AnalyzeRequest(type=ROOT_STACK_TYPE, properties=_struct({}), urn=root_urn,
                                     name=f"{synth.project}-{synth.stack}", options=options(None))]
        stack_resources = [pb.AnalyzerResource(type=ROOT_STACK_TYPE, properties=_struct(synth.outputs), urn=root_urn,
                                               name=f"{synth.project}-{synth.stack}", options=options(None))]
        for record in records:
            prov = provider(record)
            analyze.append(pb.AnalyzeRequest(type=record["type"], properties=_struct(record["inputs"]), urn=record["urn"],
                                             name=record["name"], options=options(record), provider=prov))
            # AnalyzeStack sees each resource's outputs: what the provider computed, and its inputs as given.
            outputs = {**(record.get("computed") or {}), **record["inputs"]}
            stack_resources.append(pb.AnalyzerResource(
                type=record["type"], properties=_struct(outputs), urn=record["urn"], name=record["name"],
                options=options(record), provider=prov, parent=record.get("parent") or "",
                dependencies=list(record["options"].get("dependsOn") or ()),
                propertyDependencies={
                    prop: pb.AnalyzerPropertyDependencies(urns=list(urns))
                    for prop, urns in (record.get("propertyDependencies") or {}).items() if urns
                },
            ))
        return cls(tuple(analyze), pb.AnalyzeStackRequest(resources=stack_resources))


def configure_stack_request(synth: SynthResult, stack_config: Mapping[str, str] | None = None,
                            secret_keys: Sequence[str] = ()) -> Any:
    """``ConfigureStack``: what the CLI tells a pack about the stack before analysis."""
    from pulumi.runtime.proto import analyzer_pb2 as pb

    return pb.AnalyzerStackConfigureRequest(
        stack=synth.stack, project=synth.project, organization="organization", dry_run=synth.first_preview,
        config=dict(stack_config or {}), config_secret_keys=list(secret_keys),
        tags={"pulumi:project": synth.project, "pulumi:runtime": "python"},
    )


# --------------------------------------------------------------------------- the policy config file


@dataclass(frozen=True)
class PolicyMeta:
    """A policy as ``GetAnalyzerInfo`` describes it."""

    name: str
    description: str
    enforcement: str  # advisory, mandatory, remediate or disabled: the pack's own level
    severity: str
    kind: str  # "resource" or "stack"
    tags: tuple[str, ...]
    remediation: str
    schema: Mapping[str, Mapping[str, Any]]  # config property -> JSON schema
    required: tuple[str, ...]

    @property
    def category(self) -> str:
        return next((t.split(":", 1)[1] for t in self.tags if t.startswith("category:")), "Uncategorized")


_LEVEL_NAMES = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
_LEVEL_VALUES = {v: k for k, v in _LEVEL_NAMES.items()}
_SEVERITY_NAMES = {0: "", 1: "low", 2: "medium", 3: "high", 4: "critical"}


def policy_metas(info: Any) -> dict[str, PolicyMeta]:
    from google.protobuf import json_format

    metas: dict[str, PolicyMeta] = {}
    for p in info.policies:
        schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
        metas[p.name] = PolicyMeta(
            name=p.name, description=p.description, enforcement=_LEVEL_NAMES[p.enforcementLevel],
            severity=_SEVERITY_NAMES.get(p.severity, "") or "medium",
            kind="stack" if p.policy_type == 2 else "resource", tags=tuple(p.tags), remediation=p.remediation_steps,
            schema=schema, required=tuple(p.configSchema.required) if p.HasField("configSchema") else (),
        )
    return metas


@dataclass(frozen=True)
class PolicyConfig:
    """The reconciled policy config: per policy its enforcement level and properties (CLI semantics)."""

    levels: Mapping[str, str]
    properties: Mapping[str, Mapping[str, Any]]
    source: str = "(pack defaults)"

    def request(self) -> Any:
        from pulumi.runtime.proto import analyzer_pb2 as pb

        configs = {}
        for name, level in self.levels.items():
            config = pb.PolicyConfig(enforcementLevel=_LEVEL_VALUES[level])
            if self.properties.get(name):
                config.properties.update(self.properties[name])
            configs[name] = config
        return pb.ConfigureAnalyzerRequest(policyConfig=configs)


def read_policy_config_file(path: pathlib.Path) -> dict[str, Any]:
    """The JSON file ``pulumi preview --policy-pack-config`` takes."""
    try:
        text = path.read_text()
    except OSError as err:
        raise PackError(f"cannot read policy config {path}: {err.strerror or err}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as err:
        raise PackError(f"policy config {path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise PackError(f"policy config {path} must be a JSON object mapping policy names to an enforcement level or an object")
    return data


def reconcile(metas: Mapping[str, PolicyMeta], given: Mapping[str, Any] | None, source: str = "(pack defaults)") -> PolicyConfig:
    """Fill in the schema defaults, apply ``all`` then each policy's entry, validate: the CLI's ``ReconcilePolicyPackConfig``.

    golive is stricter than the CLI in one way: a policy name or a property the pack
    does not have is an error here (the CLI ignores it, so a typo would silently
    leave a threshold at its default).
    """
    levels = {name: meta.enforcement for name, meta in metas.items()}
    properties: dict[str, dict[str, Any]] = {
        name: {key: prop["default"] for key, prop in meta.schema.items() if "default" in prop} for name, meta in metas.items()
    }
    problems: list[str] = []
    given = dict(given or {})
    given.pop("environments", None)  # ESC environment references: the CLI resolves them, not the pack
    entries: list[tuple[str, Any]] = []
    if "all" in given:
        entries.append(("all", given.pop("all")))
    entries += sorted(given.items())
    for name, value in entries:
        level, props = None, {}
        if isinstance(value, str):
            level = value
        elif isinstance(value, dict):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
            if level is not None and not isinstance(level, str):
                problems.append(f"{name}.enforcementLevel: {json.dumps(level)} is not a valid enforcement level; must be a string")
                level = None
        else:
            problems.append(f"{name}: {json.dumps(value)} is not a valid value; must be a string or object")
            continue
        if level is not None and level not in _LEVEL_VALUES:
            problems.append(f"{name}: {json.dumps(level)} is not a valid enforcement level "
                            f"({', '.join(sorted(_LEVEL_VALUES))})")
            level = None
        if name == "all":
            if props:
                problems.append("all: only takes an enforcement level")
            if level is not None:
                levels = dict.fromkeys(levels, level)
            continue
        if name not in metas:
            close = _closest(name, metas)
            problems.append(f"{name}: the pack has no such policy{f' (did you mean {close!r}?)' if close else ''}")
            continue
        if level is not None:
            levels[name] = level
        for key, prop_value in props.items():
            schema = metas[name].schema.get(key)
            if schema is None:
                known = ", ".join(sorted(metas[name].schema)) or "none"
                problems.append(f"{name}.{key}: the policy has no such setting (settings: {known})")
                continue
            problems += [f"{name}.{key}: {p}" for p in _schema_problems(schema, prop_value)]
            properties[name][key] = prop_value
        for key in metas[name].required:
            if key not in properties[name]:
                problems.append(f"{name}.{key}: is required")
    if problems:
        raise PackError(f"policy config {source}: {len(problems)} problem{'s' if len(problems) != 1 else ''}: " + "; ".join(problems))
    return PolicyConfig(levels, properties, source)


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return match[0] if match else None


_JSON_TYPES = {
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer(),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _schema_problems(schema: Mapping[str, Any], value: Any) -> list[str]:
    """JSON-schema problems of ``value``, for the keywords golive's policies declare (type, items, enum, bounds)."""
    kind = schema.get("type")
    if kind in _JSON_TYPES and not _JSON_TYPES[kind](value):
        return [f"Invalid type. Expected: {kind}, given: {_json_kind(value)}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"must be one of {', '.join(json.dumps(v) for v in schema['enum'])}")
    if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
        problems.append(f"must be greater than or equal to {schema['minimum']}")
    if "maximum" in schema and isinstance(value, (int, float)) and value > schema["maximum"]:
        problems.append(f"must be less than or equal to {schema['maximum']}")
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            problems += [f"[{i}]: {p}" for p in _schema_problems(schema["items"], item)]
    return problems


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- transports


class Transport(Protocol):
    def get_analyzer_info(self) -> Any: ...
    def configure(self, request: Any) -> None: ...
    def configure_stack(self, request: Any) -> None: ...
    def analyze(self, request: Any) -> Any: ...
    def analyze_stack(self, request: Any) -> Any: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PackDefinition:
    """What ``policy/__main__.py`` hands to ``PolicyPack``."""

    kwargs: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.kwargs["name"]

    @property
    def policies(self) -> list[Any]:
        return list(self.kwargs["policies"])


_PACKS: dict[str, PackDefinition] = {}


def load_pack(root: pathlib.Path = ROOT) -> PackDefinition:
    """Run ``policy/__main__.py`` as the CLI does, with ``PolicyPack`` captured instead of serving.

    The pack imports its rules as the top-level package ``rules``; golive imports the
    same modules as ``policy.rules``. Aliasing the one to the other keeps a single copy
    of every policy object (and of its module state) in this process. That the pack
    also starts on its own, without the alias, is what ``GrpcPack`` proves.
    """
    key = str(root)
    if key in _PACKS:
        return _PACKS[key]
    import pulumi_policy

    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        rules = importlib.import_module("policy.rules")
    except Exception as err:  # noqa: BLE001 an import error of the pack is the user's to fix
        raise PackError(f"policy pack failed to load: {type(err).__name__}: {err}") from None
    previous_rules = sys.modules.get("rules")
    sys.modules["rules"] = rules
    captured: dict[str, Any] = {}

    class CapturingPack:
        def __init__(self, **kwargs: Any) -> None:
            captured.update(kwargs)

    serving = pulumi_policy.PolicyPack
    pulumi_policy.PolicyPack = CapturingPack  # type: ignore[misc,assignment]
    try:
        runpy.run_path(str(root / PACK_DIR_NAME / "__main__.py"), run_name="__main__")
    except Exception as err:  # noqa: BLE001
        raise PackError(f"policy pack failed to load: {type(err).__name__}: {err}") from None
    finally:
        pulumi_policy.PolicyPack = serving  # type: ignore[misc]
        if previous_rules is None:
            sys.modules.pop("rules", None)
        else:
            sys.modules["rules"] = previous_rules
    if "policies" not in captured:
        raise PackError(f"{PACK_DIR_NAME}/__main__.py did not construct a PolicyPack")
    _PACKS[key] = PackDefinition(captured)
    return _PACKS[key]


class InProcessPack:
    """pulumi_policy's servicer in this process, fed the bytes the CLI would send.

    Two shortcuts keep an offline check fast; the test suite proves both change no
    diagnostic (against ``GrpcPack`` with the CLI's full requests):

    - ``Analyze``: each resource type has a servicer holding only the resource policies
      declared for that type; every other policy returns on its first line for it (a
      type no policy is declared for gets no request).
    - ``AnalyzeStack``: each stack policy has a servicer of its own and receives the
      resources of its declared types plus everything they link to (parents,
      dependencies, property dependencies, transitively) and every provider: all a
      policy can reach from what it looks for. The servicer deserializes the whole
      request once per policy, so this is most of the time saved.
    - Each servicer is configured with its own policies' entries of the policy config.

    The accepted-risk policies run last, as they do in the pack's own loop.
    """

    def __init__(self, pack: PackDefinition, policies: Sequence[Any] | None = None,
                 types_of: Mapping[str, Sequence[str]] | None = None, last: Iterable[str] = ()):
        """``types_of``: policy name -> the resource types it is declared for (none: every type);
        ``last``: the policies that report what the others left behind (accepted risks)."""
        from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
        from pulumi_policy.policy import _PolicyAnalyzerServicer

        self._servicer_class = _PolicyAnalyzerServicer
        self._pack = pack
        kwargs = dict(pack.kwargs)
        self._level = kwargs.get("enforcement_level") or EnforcementLevel.ADVISORY
        self._extra = {k: kwargs.get(k) for k in ("initial_config", "description", "display_name", "readme", "provider",
                                                   "tags", "repository")}
        self._policies = list(policies if policies is not None else pack.policies)
        self._types_of = {name: tuple(types) for name, types in (types_of or {}).items()}
        self._last = set(last)
        self._resource_policies = [p for p in self._policies if isinstance(p, ResourceValidationPolicy)]
        stack_policies = [p for p in self._policies if isinstance(p, StackValidationPolicy)]
        self._stack = [(p, self._servicer([p])) for p in stack_policies if p.name not in self._last]
        self._stack_last = self._servicer([p for p in stack_policies if p.name in self._last])
        self._by_type: dict[str, Any] = {}
        self._configuration: dict[str, Any] = {}  # the latest Configure and ConfigureStack, replayed on new servicers

    def _servicer(self, policies: list[Any]) -> Any:
        if not policies:
            return None
        servicer = self._servicer_class(self._pack.name, PACK_VERSION, policies, self._level, **self._extra)
        servicer.golive_policy_names = {p.name for p in policies}
        return servicer

    @staticmethod
    def _send(servicer: Any, method: str, request: Any) -> None:
        """Configure a servicer; of the policy config only its own policies' entries (all it reads)."""
        if method == "Configure":
            from pulumi.runtime.proto import analyzer_pb2 as pb

            request = pb.ConfigureAnalyzerRequest(policyConfig={
                name: config for name, config in request.policyConfig.items() if name in servicer.golive_policy_names})
        getattr(servicer, method)(request, None)

    def _for_type(self, type_: str) -> Any:
        if type_ not in self._by_type:
            applying = [p for p in self._resource_policies if p.name not in self._last
                        and (not self._types_of.get(p.name) or type_ in self._types_of[p.name])]
            # The reporters of accepted risks only report what the others left: without those, nothing.
            policies = [p for p in self._resource_policies if p in applying or p.name in self._last] if applying else []
            servicer = self._servicer(policies)
            for method, request in self._configuration.items():
                if servicer is not None:
                    self._send(servicer, method, request)
            self._by_type[type_] = servicer
        return self._by_type[type_]

    @staticmethod
    def _wire(message: Any) -> Any:
        return type(message).FromString(message.SerializeToString())

    def get_analyzer_info(self) -> Any:
        return self._wire(self._servicer(self._policies).GetAnalyzerInfo(None, None))

    def _configure_all(self, method: str, request: Any) -> None:
        request = self._wire(request)
        self._configuration[method] = request
        for servicer in (*(s for _, s in self._stack), self._stack_last, *self._by_type.values()):
            if servicer is not None:
                self._send(servicer, method, request)

    def configure(self, request: Any) -> None:
        self._configure_all("Configure", request)

    def configure_stack(self, request: Any) -> None:
        self._configure_all("ConfigureStack", request)

    def analyze(self, request: Any) -> Any:
        from pulumi.runtime.proto import analyzer_pb2 as pb

        servicer = self._for_type(request.type)
        if servicer is None:
            return pb.AnalyzeResponse()
        return self._wire(servicer.Analyze(self._wire(request), None))

    def analyze_stack(self, request: Any) -> Any:
        from pulumi.runtime.proto import analyzer_pb2 as pb

        request = self._wire(request)
        resources = list(request.resources)
        index = {r.urn: i for i, r in enumerate(resources)}
        links = [
            {index[u] for u in (r.parent, *r.dependencies, *(u for deps in r.propertyDependencies.values() for u in deps.urns))
             if u in index}
            for r in resources
        ]
        always = {i for i, r in enumerate(resources) if r.type.startswith("pulumi:providers:") or r.type == ROOT_STACK_TYPE}
        merged = pb.AnalyzeResponse()
        for policy, servicer in self._stack:
            types = self._types_of.get(policy.name)
            if types:
                reach = always | {i for i, r in enumerate(resources) if r.type in types}
                frontier = list(reach)
                while frontier:
                    for j in links[frontier.pop()] - reach:
                        reach.add(j)
                        frontier.append(j)
                sub = pb.AnalyzeStackRequest(resources=[resources[i] for i in sorted(reach)])
            else:
                sub = request
            response = self._wire(servicer.AnalyzeStack(self._wire(sub), None))
            merged.diagnostics.extend(response.diagnostics)
            merged.not_applicable.extend(response.not_applicable)
        if self._stack_last is not None:
            response = self._wire(self._stack_last.AnalyzeStack(pb.AnalyzeStackRequest(), None))
            merged.diagnostics.extend(response.diagnostics)
            merged.not_applicable.extend(response.not_applicable)
        return merged

    def close(self) -> None:
        self._by_type.clear()


# Run before the pack, in the process that becomes it: ask Linux to end it when golive ends (PR_SET_PDEATHSIG,
# kept across exec), then exec the pack's command line unchanged. Done in the new process rather than in a
# preexec_fn, which would run Python between fork and exec in a process that has gRPC threads.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "try:\n"
    "    ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)\n"
    "except OSError:\n"
    "    pass\n"
    "if os.getppid() == 1:\n"
    "    sys.exit(1)\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


class GrpcPack:
    """The pack in its own process, started and spoken to as the Pulumi CLI does.

    ``python -u -m pulumi.policy <engine address> <pack dir>`` in the pack directory,
    with the stack described in ``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_DRY_RUN``/
    ``PULUMI_CONFIG`` (what the language host sets from ``ConfigureStack``); the pack
    prints its port on stdout. ``memo`` answers a byte-identical ``Analyze`` request a
    second time from the first answer (policies are functions of their request), which
    lets a test suite check many nearly identical stacks.
    """

    def __init__(self, root: pathlib.Path = ROOT, *, stack: str = "prod", project: str = PROJECT, dry_run: bool = False,
                 stack_config: Mapping[str, str] | None = None, python: str | None = None, memo: bool = False,
                 timeout_s: float = START_TIMEOUT_S):
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        pack_dir = root / PACK_DIR_NAME
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        env.update(PULUMI_PROJECT=project, PULUMI_STACK=stack, PULUMI_DRY_RUN="true" if dry_run else "false",
                   PULUMI_ORGANIZATION="organization", PULUMI_CONFIG=json.dumps(dict(stack_config or {})),
                   PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONPATH", None)
        interpreter = python or sys.executable
        command = [interpreter, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(pack_dir)]
        self._memo: dict[bytes, Any] | None = {} if memo else None
        self._process = subprocess.Popen([interpreter, "-c", _DIE_WITH_PARENT, *command], cwd=pack_dir, env=env,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         start_new_session=True)
        try:
            port = self._await_port(timeout_s)
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}",
                                                  options=[("grpc.max_receive_message_length", 400 * 1024 * 1024),
                                                           ("grpc.max_send_message_length", 400 * 1024 * 1024)])
            grpc.channel_ready_future(self._channel).result(timeout=timeout_s)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        except BaseException:
            self.close()
            raise

    def _await_port(self, timeout_s: float) -> int:
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self._process.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
        try:
            line = lines.get(timeout=timeout_s)
        except queue.Empty:
            raise PackError(f"policy pack did not start within {timeout_s:.0f} s (no port on its stdout)") from None
        text = line.decode(errors="replace").strip()
        if not text.isdigit():
            self._process.wait(timeout=10)
            raise PackError(f"policy pack failed to start: {self._last_error(text)}")
        return int(text)

    def _last_error(self, stdout_line: str) -> str:
        err = (self._process.stderr.read() or b"").decode(errors="replace") if self._process.stderr else ""  # type: ignore[union-attr]
        lines = [line.strip() for line in (err + "\n" + stdout_line).splitlines() if line.strip()]
        detail = next((line for line in reversed(lines) if not line.startswith(("File ", "^", "~"))), "")
        return f"{detail} (exit {self._process.returncode})" if detail else f"exit {self._process.returncode}"

    def _call(self, method: str, request: Any) -> Any:
        import grpc

        try:
            return getattr(self._stub, method)(request)
        except grpc.RpcError as err:
            raise PackError(f"policy pack {method} failed: {err.details() if hasattr(err, 'details') else err}") from None

    def get_analyzer_info(self) -> Any:
        from google.protobuf import empty_pb2

        return self._call("GetAnalyzerInfo", empty_pb2.Empty())

    def configure(self, request: Any) -> None:
        self._call("Configure", request)

    def configure_stack(self, request: Any) -> None:
        self._call("ConfigureStack", request)

    def analyze(self, request: Any) -> Any:
        if self._memo is None:
            return self._call("Analyze", request)
        key = request.SerializeToString(deterministic=True)
        if key not in self._memo:
            self._memo[key] = self._call("Analyze", request)
        return self._memo[key]

    def analyze_stack(self, request: Any) -> Any:
        return self._call("AnalyzeStack", request)

    def close(self) -> None:
        channel = getattr(self, "_channel", None)
        if channel is not None:
            channel.close()
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> GrpcPack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- one preview's analysis


@dataclass(frozen=True)
class Diagnostic:
    """One ``AnalyzeDiagnostic``, with its request's URN where the pack left it empty (as the engine does)."""

    policy: str
    urn: str
    message: str  # the policy's own message (the pack prefixes it with the policy's description)
    enforcement: str
    severity: str
    stage: str  # "analyze" or "analyze-stack"

    @property
    def deferred(self) -> bool:
        """The servicer could not run the policy at preview: it read a value only ``pulumi up`` knows."""
        return self.message.startswith(DEFERRED_PREFIX) and DEFERRED_INFIX in self.message


@dataclass
class Analysis:
    metas: dict[str, PolicyMeta]
    config: PolicyConfig
    diagnostics: list[Diagnostic] = field(default_factory=list)
    not_applicable: dict[str, set[str]] = field(default_factory=dict)  # policy -> URNs ("" for the stack)


def _diagnostics(response: Any, metas: Mapping[str, PolicyMeta], urn: str, stage: str) -> Iterator[Diagnostic]:
    for d in response.diagnostics:
        meta = metas.get(d.policyName)
        message = d.message
        if meta is not None and message.startswith(meta.description):
            message = message[len(meta.description):].removeprefix("\n")
        yield Diagnostic(policy=d.policyName, urn=d.urn or urn, message=message, enforcement=_LEVEL_NAMES[d.enforcementLevel],
                         severity=_SEVERITY_NAMES.get(d.severity, "") or (meta.severity if meta else "medium"), stage=stage)


def analyze(synth: SynthResult, transport: Transport, policy_config: Mapping[str, Any] | PolicyConfig | None = None, *,
            config_source: str = "(pack defaults)", stack_config: Mapping[str, str] | None = None,
            secret_keys: Sequence[str] = (), wire: Wire | None = None) -> Analysis:
    """Everything the CLI asks the pack during one preview of ``synth``, in the CLI's order.

    ``policy_config``: the content of a ``--policy-pack-config`` file (read from ``config_source``), reconciled
    with the pack's schemas and defaults as the CLI does; or an already reconciled :class:`PolicyConfig`.
    """
    metas = policy_metas(transport.get_analyzer_info())
    config = policy_config if isinstance(policy_config, PolicyConfig) else reconcile(metas, policy_config, config_source)
    transport.configure(config.request())
    transport.configure_stack(configure_stack_request(synth, stack_config, secret_keys))
    wire = wire or Wire.of(synth)
    analysis = Analysis(metas=metas, config=config)
    for request in wire.analyze:
        response = transport.analyze(request)
        analysis.diagnostics.extend(_diagnostics(response, metas, request.urn, "analyze"))
        for item in response.not_applicable:
            analysis.not_applicable.setdefault(item.policy_name, set()).add(request.urn)
    response = transport.analyze_stack(wire.analyze_stack)
    analysis.diagnostics.extend(_diagnostics(response, metas, "", "analyze-stack"))
    for item in response.not_applicable:
        analysis.not_applicable.setdefault(item.policy_name, set()).add("")
    return analysis


# --------------------------------------------------------------------------- the committed policy config


def _is_threshold(value: Any) -> bool:
    return isinstance(value, (int, float))  # numbers and booleans: what a stack tunes


def render_policy_config(config: PolicyConfig, given: Mapping[str, Any]) -> str:
    """A policy config file with every policy's enforcement level and thresholds spelled out.

    Thresholds are the numeric and boolean settings; lists and names (tag keys, documented
    metrics) stay the pack's defaults unless ``given`` already sets them.
    """
    entries: dict[str, Any] = {}
    for name in sorted(config.levels):
        explicit = given.get(name) if isinstance(given.get(name), dict) else {}
        properties = {k: int(v) if isinstance(v, float) and v.is_integer() else v
                      for k, v in sorted(config.properties.get(name, {}).items()) if _is_threshold(v) or k in explicit}
        entries[name] = {"enforcementLevel": config.levels[name], **properties} if properties else config.levels[name]
    return json.dumps(entries, indent=2) + "\n"


def write_policy_config(path: pathlib.Path) -> None:
    """Rewrite ``path`` with every policy of the pack: its values where it has them, the pack's defaults elsewhere."""
    from . import check

    metas = policy_metas(check._in_process(check.load_policies()).get_analyzer_info())
    given = read_policy_config_file(path) if path.exists() else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_policy_config(reconcile(metas, given, str(path)), given))
