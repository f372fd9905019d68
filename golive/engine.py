"""Run the Pulumi program under the SDK's mock runtime and record every registration.

What is recorded is what the Pulumi engine would receive from ``pulumi preview``:
the type, name, parent and provider of each resource, its inputs under the
camelCase names providers and policy packs see, and its resource options. The
record is the synth document described in ``docs/synth-format.md``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import os
import pathlib
import runpy
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import mocks as golive_mocks

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROJECT = "golive"
SECRET_MARKER = "[secret]"
# A value the engine cannot know yet (an output of a resource a first preview has not created).
UNKNOWN_MARKER = "[unknown]"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"

# The Pulumi wire format tags special values with this key (see pulumi.runtime.rpc).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d474f8"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class UsageError(Exception):
    """A mistake in how the engine was called (unknown stack, unreadable file)."""


@dataclass
class SynthResult:
    """The synth document plus in-memory conveniences for the checker and tests."""

    stack: str
    project: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any] = field(default_factory=dict)
    first_preview: bool = False

    def document(self) -> dict[str, Any]:
        return {"stack": self.stack, "project": self.project, "firstPreview": self.first_preview,
                "resources": self.resources, "outputs": self.outputs}

    def to_json(self) -> str:
        return json.dumps(self.document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> SynthResult:
        return cls(doc["stack"], doc["project"], doc["resources"], doc.get("outputs", {}), bool(doc.get("firstPreview")))

    # Helpers used by tests and by the policy checker.
    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def by_urn(self) -> dict[str, dict[str, Any]]:
        return {r["urn"]: r for r in self.resources}

    def children_of(self, urn: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["parent"] == urn]


# --------------------------------------------------------------------------- stack config


# libyaml's parser when PyYAML was built with it: the same documents, a fifth of the time.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def stack_file(stack: str, root: pathlib.Path = ROOT) -> pathlib.Path:
    return root / f"Pulumi.{stack}.yaml"


def load_stack_config(stack: str, root: pathlib.Path = ROOT) -> tuple[dict[str, str], list[str]]:
    """Read ``Pulumi.<stack>.yaml`` as the CLI would hand it to the program.

    Values become strings (objects and lists as JSON); ``secure:`` values, which only
    the CLI can decrypt, become placeholders that stay secret.
    """
    path = stack_file(stack, root)
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise UsageError(f"no stack {stack!r}: {path.name} does not exist (stacks here: {', '.join(known) or 'none'})")
    text = path.read_text()
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        try:  # the pure-Python parser's message quotes the offending line
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UsageError(f"{path.name} is not valid YAML: {exc}") from None
        raise
    if data is None:
        raise UsageError(f"{path.name} is empty: a stack file is a mapping with the stack's settings under `config:`")
    if not isinstance(data, dict):
        raise UsageError(f"{path.name} holds {_yaml_kind(data)}: a stack file is a mapping with the stack's settings under `config:`")
    raw = data.get("config") or {}
    if not isinstance(raw, dict):
        raise UsageError(f"{path.name}: `config` must be a mapping")
    return flatten_config(raw)


def _yaml_kind(data: Any) -> str:
    return "a list" if isinstance(data, list) else "a string" if isinstance(data, str) else f"a single {type(data).__name__} value"


def flatten_config(raw: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        key = str(key)
        if ":" not in key:
            key = f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = f"offline-placeholder-for-{key.replace(':', '-')}"
            secret_keys.append(key)
        elif isinstance(value, str):
            config[key] = value
        else:
            config[key] = json.dumps(value)
    return config, secret_keys


# --------------------------------------------------------------------------- URNs


def qualified_type(urn: str) -> str:
    """The ``parent$…$type`` part of a URN (``urn:pulumi:<stack>::<project>::<qualified type>::<name>``)."""
    return urn.split("::")[2]


def engine_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """The URN the Pulumi engine gives a resource (``generateURN`` in pulumi/pkg).

    The root stack's type is left out; any other parent contributes its whole qualified
    type, so a grandchild's URN names every ancestor component. (The SDK's mock monitor
    keeps only the last parent type and prefixes top-level resources with the stack type:
    URNs that ``pulumi stack --show-urns``, ``--target`` and aliases would not match.)
    """
    parent_type = qualified_type(parent) if parent else ""
    if parent_type == ROOT_STACK_TYPE:
        parent_type = ""
    return f"urn:pulumi:{stack}::{project}::{parent_type + '$' if parent_type else ''}{type_}::{name}"


# --------------------------------------------------------------------------- wire values


def _plain(value: Any, secret_paths: list[str], path: str) -> Any:
    """Turn a wire value (protobuf Struct as python) into plain JSON, secrets as the marker."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            secret_paths.append(path)
            # A secret whose value is not known yet (a first preview's generated password) is unknown to analyzers too.
            return UNKNOWN_MARKER if value.get("value") == _UNKNOWN else SECRET_MARKER
        if sig == _RESOURCE_SIG:
            # Marshalled as the engine sends it to analyzers: the id (unknown before creation), else the URN.
            return _plain(value.get("id") or value.get("urn"), secret_paths, path)
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                secret_paths.append(path)
                return SECRET_MARKER if "value" in value and value["value"] != _UNKNOWN else UNKNOWN_MARKER
            if "value" not in value:
                return UNKNOWN_MARKER
            return _plain(value.get("value"), secret_paths, path)
        if sig in (_ASSET_SIG, _ARCHIVE_SIG):
            return {k: v for k, v in value.items() if k != _SIG and not isinstance(v, dict)}
        return {k: _plain(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, secret_paths, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN:
        return UNKNOWN_MARKER
    return value


def _unwrap(value: Any) -> Any:
    """A wire value as the mocks need it: secrets as their value, references as ids, whole numbers as ints."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig in (_SECRET_SIG, _OUTPUT_SIG):
            return _unwrap(value.get("value"))
        if sig == _RESOURCE_SIG:
            return value.get("id") or value.get("urn")
        if sig in (_ASSET_SIG, _ARCHIVE_SIG):
            return value
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _struct_to_python(struct: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    return json_format.MessageToDict(struct) if struct is not None else {}


# --------------------------------------------------------------------------- the monitor


def _make_monitor_class() -> type:
    from pulumi.runtime.mocks import MockMonitor

    class RecordingMonitor(MockMonitor):
        """The SDK's mock monitor, keeping what a real engine would receive."""

        def __init__(self, mocks: Any, root: pathlib.Path, first_preview: bool = False):
            super().__init__(mocks)
            self.records: dict[str, dict[str, Any]] = {}
            self.stack_outputs: dict[str, Any] = {}
            self._root = root
            self._first_preview = first_preview
            self._lock = threading.Lock()
            self._files: dict[str, str | None] = {}  # frame file URI -> project-relative path

        def make_urn(self, parent: str, type_: str, name: str) -> str:
            from pulumi.runtime.settings import get_project, get_stack

            return engine_urn(get_stack(), get_project(), parent, type_, name)

        def _source(self, request: Any) -> dict[str, Any] | None:
            """The first frame of the project's own code that declared the resource."""
            positions = [frame.pc for frame in request.stackTrace.frames] or [request.sourcePosition]
            for pos in positions:
                if not pos.uri:
                    continue
                if pos.uri not in self._files:
                    self._files[pos.uri] = self._project_file(pos.uri)
                rel = self._files[pos.uri]
                if rel is not None:
                    return {"file": rel, "line": pos.line}
            return None

        def _project_file(self, uri: str) -> str | None:
            """The project-relative path of a frame's file, None outside the project's own code."""
            path = pathlib.Path(uri.removeprefix("file://")).resolve()
            try:
                rel = path.relative_to(self._root)
            except ValueError:
                return None
            if rel.parts and rel.parts[0] in (".venv", "venv") or "site-packages" in rel.parts:
                return None
            return rel.as_posix()

        def RegisterResource(self, request: Any) -> Any:
            """Record the request and answer with its inputs plus the mocks' computed outputs.

            The inputs go back on the wire as they came (secrets stay wrapped, resource
            references stay references), so nothing needs re-serializing: unlike the
            SDK's MockMonitor this never re-enters the event loop, which lets the
            engine run every RPC inline. In a first preview the answer is what the
            engine gives for a resource it has yet to create: no id, and of the
            computed outputs only those a provider's Check fills in (auto-names); the
            SDK then resolves every other output as unknown.
            """
            from google.protobuf import struct_pb2
            from pulumi.runtime.proto import resource_pb2

            urn = self.make_urn(request.parent, request.type, request.name)
            if request.type == ROOT_STACK_TYPE:
                return resource_pb2.RegisterResourceResponse(urn=urn)
            raw = _struct_to_python(request.object)
            resource_id, computed, known_at_preview = self.mocks.outputs(
                request.type, request.name, _unwrap(raw), request.provider, urn)
            if self._first_preview:
                resource_id = ""
                answered = {key: computed[key] for key in sorted(known_at_preview)}
                if isinstance(answered.get("metadata"), dict):
                    answered["metadata"] = {k: v for k, v in answered["metadata"].items() if k != "uid"}
            else:
                answered = computed
            outputs = struct_pb2.Struct()
            outputs.CopyFrom(request.object)
            for key, value in answered.items():
                outputs[key] = value
            response = resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=outputs)
            self.resources[urn] = self.ResourceRegistration(urn, resource_id, {**raw, **answered})
            secret_paths: list[str] = []
            inputs = _plain(raw, secret_paths, "")
            secret_outputs = golive_mocks.SECRET_OUTPUTS.get(request.type, frozenset()) | set(request.additionalSecretOutputs)
            record = {
                "urn": response.urn,
                "type": request.type,
                "name": request.name,
                "parent": request.parent or None,
                "custom": bool(request.custom),
                "provider": request.provider or None,
                "inputs": inputs,
                "secretInputs": sorted(secret_paths),
                "computed": {
                    key: SECRET_MARKER if key in secret_outputs else
                    _plain(answered[key], [], key) if key in answered else UNKNOWN_MARKER
                    for key in sorted(computed) if key not in raw
                },
                "propertyDependencies": {
                    prop: sorted(set(deps.urns)) for prop, deps in sorted(request.propertyDependencies.items()) if deps.urns
                },
                "options": {
                    "protect": bool(request.protect),
                    "retainOnDelete": bool(request.retainOnDelete),
                    "dependsOn": sorted(set(request.dependencies)),
                    "ignoreChanges": sorted(request.ignoreChanges),
                    "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                    "deleteBeforeReplaceDefined": bool(request.deleteBeforeReplaceDefined),
                    "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
                    "replaceOnChanges": sorted(request.replaceOnChanges),
                },
                "source": self._source(request),
            }
            with self._lock:
                if response.urn in self.records:
                    raise RuntimeError(f"duplicate resource URN {response.urn}")
                self.records[response.urn] = record
            return response

    return RecordingMonitor


# --------------------------------------------------------------------------- running


_RUN_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4096)
def _file_uri(filename: str) -> str:
    try:
        return pathlib.Path(filename).as_uri()
    except ValueError:
        return ""


def _lean_stack_trace() -> Any:
    """The SDK's ``_get_stack_trace`` without reading source lines.

    ``traceback.extract_stack`` loads the text of every frame through linecache,
    which cost a quarter of the synth time; the engine only needs file and line.
    Same frames, same order: everything older than the third ``__init__`` frame
    (Resource, Custom/ComponentResource, the concrete class), newest first.
    """
    from pulumi.runtime.proto import source_pb2

    frame = sys._getframe(1)
    frames: list[tuple[str, int, str]] = []
    while frame is not None:
        frames.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    inits = 0
    for index, (_, _, function) in enumerate(frames):  # noqa: B007 index is used after the loop
        if function == "__init__":
            inits += 1
            if inits == 3:
                break
    else:
        return source_pb2.StackTrace()
    return source_pb2.StackTrace(
        frames=[
            source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=_file_uri(filename), line=line))
            for filename, line, _ in frames[index + 1:]
            if filename and _file_uri(filename)
        ]
    )


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs the SDK's "RPCs" on the calling thread.

    Under mocks each RPC is a Python call, and handing it to a thread pool only adds
    thread switches and GIL contention (it tripled the synth time of the prod stack).
    Safe because the recording monitor never awaits: it answers synchronously.
    """

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 handed to the awaiting coroutine
            future.set_exception(exc)
        return future


def synth(
    stack: str = "prod",
    *,
    root: pathlib.Path = ROOT,
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    program: Callable[[], None] | None = None,
    first_preview: bool = False,
) -> SynthResult:
    """Run the program of ``root`` (or ``program``) under mocks and return what it registered.

    ``config`` replaces the stack file's config when given (tests use it to try
    variations); raises ``components.config.ConfigError`` for invalid config.
    ``first_preview``: run as ``pulumi preview`` of an empty stack does, where every
    output the cloud assigns (ids, ARNs, endpoints) is unknown; otherwise outputs
    are known, as when ``pulumi up`` registers each resource.
    """
    if config is None:
        config, file_secret_keys = load_stack_config(stack, root)
        secret_keys = file_secret_keys if secret_keys is None else secret_keys
    with _RUN_LOCK:
        return _run(stack, root, config, secret_keys or [], program, first_preview)


def _run(stack: str, root: pathlib.Path, config: dict[str, str], secret_keys: list[str], program: Callable[[], None] | None,
         first_preview: bool) -> SynthResult:
    import pulumi
    from pulumi.runtime import settings as pulumi_settings
    from pulumi.runtime import stack as pulumi_stack
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.sync_await import _sync_await

    from components.config import ConfigError

    region = _config_value(config, "region", "eu-west-1")
    account = _config_value(config, "accountId", "123456789012")
    mocks = golive_mocks.GoliveMocks(default_region=region, account_id=account)
    monitor = _make_monitor_class()(mocks, root, first_preview)

    from pulumi.runtime import resource as pulumi_resource

    sdk_stack_trace = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = _lean_stack_trace
    loop = asyncio.new_event_loop()
    loop.set_default_executor(_InlineExecutor(max_workers=1))
    asyncio.set_event_loop(loop)
    pulumi_settings.ROOT.set(None)
    _drop_pending_outputs(pulumi_settings)
    set_all_config(dict(config), list(secret_keys))
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=first_preview, monitor=monitor)

    added_path = False
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
        added_path = True
    cwd = os.getcwd()
    try:
        os.chdir(root)

        async def run() -> None:
            if program is not None:
                program()
            else:
                runpy.run_path(str(root / "__main__.py"), run_name="__main__")

        try:
            _sync_await(pulumi_stack.run_pulumi_func(run))
        except pulumi.RunError as err:
            cause = err.__cause__ or err.__context__
            if isinstance(cause, ConfigError):
                raise cause from None
            raise
        root_stack = pulumi_settings.get_root_resource()
        if root_stack is not None:
            outputs = getattr(root_stack, "outputs", {}) or {}
            monitor.stack_outputs = _sync_await(_resolve_outputs(outputs))
    finally:
        pulumi_resource._get_stack_trace = sdk_stack_trace
        os.chdir(cwd)
        if added_path:
            sys.path.remove(str(root))
        # A run that failed midway leaves tasks behind; end them on their own loop so
        # the next synth starts clean instead of awaiting work of a closed loop.
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        _drop_pending_outputs(pulumi_settings)
        if sys.exc_info()[0] is not None:
            _retrieve_exceptions(loop)
        loop.close()
        asyncio.set_event_loop(None)
    resources = [monitor.records[urn] for urn in sorted(monitor.records)]
    return SynthResult(stack=stack, project=PROJECT, resources=resources, outputs=monitor.stack_outputs, first_preview=first_preview)


def _retrieve_exceptions(loop: asyncio.AbstractEventLoop) -> None:
    """After a failed run, every Output of the run holds the same error: mark them seen.

    Otherwise asyncio logs "exception was never retrieved" for each one when it is
    collected, burying the one error that matters under hundreds of copies.
    """
    import gc

    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.get_loop() is loop and obj.done() and not obj.cancelled():
            obj.exception()


def _drop_pending_outputs(pulumi_settings: Any) -> None:
    """Forget outputs the SDK tracks globally (``SETTINGS.outputs`` survives ``set_mocks``)."""
    with pulumi_settings.SETTINGS.lock:
        pulumi_settings.SETTINGS.outputs.clear()


async def _resolve_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Stack exports as plain JSON; secret ones as the marker."""
    import pulumi

    resolved: dict[str, Any] = {}
    for key in sorted(outputs):
        value = outputs[key]
        output = pulumi.Output.from_input(value)
        if await output.is_secret():
            resolved[key] = SECRET_MARKER
            continue
        if not await output.is_known():
            resolved[key] = UNKNOWN_MARKER
            continue
        plain = await output.future()
        resolved[key] = _plain(json.loads(json.dumps(plain, default=str)), [], key)
    return resolved


def _config_value(config: dict[str, str], key: str, default: str) -> str:
    return config.get(f"{PROJECT}:{key}", default)
