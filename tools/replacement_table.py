"""Generate ``golive/replacements.json``: which property changes replace a resource, for every type the stack can register.

Sources, each at the version recorded in the generated file:

- **terraform-provider-aws** (what pulumi-aws bridges): its Go source as the Go module proxy serves it. Attributes
  marked ``ForceNew`` (plugin SDK v2) or with a ``RequiresReplace*`` plan modifier (plugin framework), nested
  blocks included; ``ForceNew*`` calls in the resource's ``CustomizeDiff`` and ``RequiresReplace`` in
  ``ModifyPlan`` are recorded as conditional (the provider decides at plan time).
- **terraform-provider-random** (what pulumi-random bridges): the same for its framework resources.
- **pulumi-kubernetes**: the provider's own tables (``pkg/provider/diff.go``: immutable fields per kind, and
  ``metadata.name``/``namespace`` for every kind), the Helm v3 Release's and the provider config's rules.

``tools/replacement-table`` (Go, standard library only) parses that source; nothing of a provider is built or
run. This script maps Terraform names onto the Pulumi property names of the pinned Python SDKs (``kms_key_id``
→ ``kmsKeyId``, a list block → ``rules[]``, a one-element block → an object), failing when a replacing
attribute has no Pulumi property. The provider source is downloaded once into the Go module cache, keyed by
version (``go mod download``), so ``--check`` on a warm cache needs no network.

    .venv/bin/python tools/replacement_table.py          # regenerate
    .venv/bin/python tools/replacement_table.py --check  # exit 1 when the committed table is not current
"""

from __future__ import annotations

import argparse
import ast
import collections.abc
import importlib
import importlib.metadata
import inspect
import json
import keyword
import pathlib
import re
import subprocess
import sys
import typing
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "golive" / "replacements.json"
TOOL = ROOT / "tools" / "replacement-table"

# The provider sources. pulumi-aws 7.51.1 and pulumi-random 4.21.4 bridge these Terraform providers; the Go
# module proxy serves the repositories by pseudo-version (commit). See docs/replacements.md for how they were chosen.
SOURCES = {
    "terraform-provider-aws": ("github.com/hashicorp/terraform-provider-aws", "v1.60.1-0.20260602190131-5f2286d6d836"),
    "terraform-provider-random": ("github.com/hashicorp/terraform-provider-random", "v1.3.2-0.20260824155315-e1092b0cfc07"),
    "pulumi-kubernetes": ("github.com/pulumi/pulumi-kubernetes/provider/v4", "v4.0.0-20260115033456-f47bc2d6f199"),
}
SDKS = {"aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes", "random": "pulumi_random"}

# Pulumi type token -> Terraform type, where the name is not `aws_<module>_<name>` or `aws_<name>`.
TERRAFORM_NAMES = {
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "aws_db_instance_automated_backups_replication",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    "aws:cfg/recorder:Recorder": "aws_config_configuration_recorder",
    "aws:cfg/recorderStatus:RecorderStatus": "aws_config_configuration_recorder_status",
    "aws:cfg/deliveryChannel:DeliveryChannel": "aws_config_delivery_channel",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:ec2clientvpn/endpoint:Endpoint": "aws_ec2_client_vpn_endpoint",
    "aws:ec2clientvpn/networkAssociation:NetworkAssociation": "aws_ec2_client_vpn_network_association",
    "aws:ec2clientvpn/authorizationRule:AuthorizationRule": "aws_ec2_client_vpn_authorization_rule",
    "aws:ec2/eip:Eip": "aws_eip",
}
# Terraform attributes the bridge does not expose as inputs.
NOT_INPUTS = {"id", "timeouts", "tags_all"}
# Terraform `<name>_arn` / `_id` / `_name` references that pulumi-aws names `<name>`.
RENAMED_SUFFIXES = ("_arn", "_id", "_name")
# Pulumi names the bridge gives differently from the Terraform name (checked against the SDK below).
PROPERTY_NAMES = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": {"name": "alarm_name"},
}
KUBERNETES_PREFIX = "kubernetes:"
# Top-level inputs pulumi-aws renames outright (type -> Pulumi name -> Terraform name).
RENAMED = {"aws:lambda/function:Function": {"name": "function_name"}}


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _singulars(snake: str) -> list[str]:
    out = []
    if snake.endswith("ies"):
        out.append(snake[:-3] + "y")
    if snake.endswith("es"):
        out.append(snake[:-2])
    if snake.endswith("s"):
        out.append(snake[:-1])
    return out


# --------------------------------------------------------------------------- which types

_SDK_ALIASES = {"pulumi_aws": "aws", "pulumi_kubernetes": "k8s", "pulumi_random": "random"}


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _constructed(source: str) -> set[tuple[str, ...]]:
    """(sdk module path..., Class) of every SDK class a file calls, through `import pulumi_aws as aws` and `w = aws.wafv2`."""
    tree = ast.parse(source)
    aliases: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in _SDK_ALIASES:
                    aliases[a.asname or a.name] = [a.name]
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            chain = _dotted(node.value)
            if chain and chain[0] in aliases:
                aliases[node.targets[0].id] = aliases[chain[0]] + chain[1:]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            chain = _dotted(node.func)
            if chain and chain[0] in aliases and chain[-1][:1].isupper():
                out.add(tuple(aliases[chain[0]] + chain[1:]))
    return out


def _token_of(cls: type) -> str | None:
    init = getattr(cls, "_internal_init", None)
    if init is None:
        return None
    found = re.search(r"__init__\(\s*'([a-z0-9]+:[^']+)'", inspect.getsource(init))
    return found.group(1) if found else None


def registrable_types(root: pathlib.Path = ROOT) -> set[str]:
    """Every provider resource type the program can register: the classes its components construct, resolved
    through the SDKs to their type tokens (whatever the config enables), plus the explicit providers."""
    import pulumi

    types: set[str] = set()
    files = [root / "__main__.py", *sorted((root / "components").rglob("*.py"))]
    for path in files:
        for chain in _constructed(path.read_text()):
            module = importlib.import_module(chain[0])
            for part in chain[1:-1]:
                module = importlib.import_module(f"{module.__name__}.{part}")
            cls = getattr(module, chain[-1], None)
            if not (isinstance(cls, type) and issubclass(cls, pulumi.CustomResource)):
                continue
            if cls.__name__ == "Provider":
                types.add(f"pulumi:providers:{module.__name__.split('_', 1)[1].split('.')[0]}")
                continue
            token = _token_of(cls)
            if token:
                types.add(token)
    return types


# --------------------------------------------------------------------------- SDK shapes


def _main_type(annotation: Any) -> Any:
    """``Optional[Input[T]]`` -> ``T`` (the first member of the SDK's unions)."""
    while typing.get_origin(annotation) is typing.Union:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _shape(annotation: Any, module: Any) -> tuple[str, Any]:
    """("scalar" | "object" | "list" | "map", the nested Args class or element shape)."""
    t = _main_type(annotation)
    origin = typing.get_origin(t)
    if origin is collections.abc.Sequence:
        return "list", _shape(typing.get_args(t)[0], module)
    if origin is collections.abc.Mapping:
        return "map", _shape(typing.get_args(t)[1], module)
    if isinstance(t, typing.ForwardRef):
        name = t.__forward_arg__
        cls = getattr(module, name, None) or getattr(importlib.import_module(f"{module.__package__}._inputs"), name, None)
        if cls is not None:
            return "object", cls
    return "scalar", None


def sdk_properties(args_cls: type) -> dict[str, tuple[str, tuple[str, Any]]]:
    """pulumi name -> (python name, shape) of an SDK Args class."""
    module = sys.modules[args_cls.__module__]
    out = {}
    for attr, value in vars(args_cls).items():
        if isinstance(value, property) and hasattr(value.fget, "_pulumi_name"):
            out[value.fget._pulumi_name] = (attr, _shape(value.fget.__annotations__.get("return"), module))
    return out


def args_class(token: str) -> type:
    """The resource's own Args class (from the resource's module: a nested input type may share its name)."""
    package, rest = token.split(":", 1)
    modpath, cls_name = rest.split(":")
    sdk = importlib.import_module(SDKS[package])
    name = modpath.split("/")[0]
    name = f"{name}_" if keyword.iskeyword(name) else name  # pulumi_aws.lambda_: Python keywords get an underscore
    module = sdk if modpath.startswith("index") else importlib.import_module(f"{sdk.__name__}.{name}")
    resource = getattr(module, cls_name)
    module = sys.modules[resource.__module__]
    return getattr(module, f"{cls_name}InitArgs", None) or getattr(module, f"{cls_name}Args")


# --------------------------------------------------------------------------- Terraform -> Pulumi names


class Mapper:
    """Walks a Terraform schema beside the SDK's Args classes, recording replacing paths with Pulumi names."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.entries: list[dict[str, Any]] = []
        self.unmapped: list[str] = []
        self.sdk_only: list[str] = []  # SDK properties the recorded source does not have (a newer upstream)

    def walk(self, attrs: list[dict[str, Any]], props: dict[str, tuple[str, tuple[str, Any]]], prefix: str, tf_prefix: str) -> None:
        by_tf = {a["name"]: a for a in attrs}
        matched: set[str] = set()
        for pulumi_name, (_python_name, shape) in sorted(props.items()):
            snake = _camel_to_snake(pulumi_name)
            if not prefix and pulumi_name in RENAMED.get(self.token, {}):
                snake = RENAMED[self.token][pulumi_name]
            tf = next((by_tf[c] for c in [snake, *_singulars(snake)] if c in by_tf), None)
            if tf is None:  # pulumi-aws renames a few references (`topic_arn` -> `topic`)
                tf = next((by_tf[snake + sfx] for sfx in RENAMED_SUFFIXES if snake + sfx in by_tf and snake + sfx not in props), None)
            if tf is None and not prefix:  # and a few top-level properties (`alarm_name` -> `name`)
                tf = by_tf.get(PROPERTY_NAMES.get(self.token, {}).get(pulumi_name, ""))
            if tf is None:
                if pulumi_name != "region":  # injected by the provider for every regional resource
                    self.sdk_only.append(f"{prefix}{pulumi_name}")
                continue
            matched.add(tf["name"])
            path = f"{prefix}{pulumi_name}"
            tf_path = f"{tf_prefix}{tf['name']}"
            kind, inner = shape
            if tf.get("forceNew"):
                entry: dict[str, Any] = {"path": path, "terraform": tf_path}
                if tf.get("conditional"):
                    entry["conditional"] = tf["conditional"]
                if tf.get("computed") and not tf.get("required"):
                    entry["computed"] = True
                self.entries.append(entry)
            children = tf.get("children") or []
            if not children:
                continue
            if kind == "object":
                self.walk(children, sdk_properties(inner), f"{path}.", f"{tf_path}.0.")
            elif kind == "list" and inner[0] == "object":
                self.walk(children, sdk_properties(inner[1]), f"{path}[].", f"{tf_path}.*.")
        for a in attrs:
            if a["name"] in matched or a["name"] in NOT_INPUTS:
                continue
            if a.get("forceNew") and not (a.get("computed") and not (a.get("optional") or a.get("required"))):
                self.unmapped.append(f"{tf_prefix}{a['name']}")
            if a.get("unresolved") and a["name"] not in ("tags",):
                self.unmapped.append(f"{tf_prefix}{a['name']} (unresolved: {a['unresolved']})")


def _tf_candidates(token: str, prefix: str = "aws") -> list[str]:
    if token in TERRAFORM_NAMES:
        return [TERRAFORM_NAMES[token]]
    _, rest = token.split(":", 1)
    mod, cls = rest.split(":")
    module, member = mod.split("/")
    snake = _camel_to_snake(member)
    return [f"{prefix}_{module}_{snake}", f"{prefix}_{snake}"]


def _conditional_entries(token: str, conds: list[dict[str, Any]], props: dict[str, Any]) -> list[dict[str, Any]]:
    """CustomizeDiff/ModifyPlan paths (`encrypt_at_rest.0.enabled`) as Pulumi paths."""
    out = []
    for cond in conds:
        segments = [s for s in cond["path"].split(".") if not s.isdigit()]
        level, path, ok = props, [], True
        for i, seg in enumerate(segments):
            hit = next((name for name, (py, _) in level.items() if py == seg or _camel_to_snake(name) == seg
                        or seg in _singulars(_camel_to_snake(name))), None)
            if hit is None:
                ok = False
                break
            kind, inner = level[hit][1]
            path.append(hit + ("[]" if kind == "list" and i < len(segments) - 1 else ""))
            if kind == "object":
                level = sdk_properties(inner)
            elif kind == "list" and inner[0] == "object":
                level = sdk_properties(inner[1])
            else:
                level = {}
        if ok:
            out.append({"path": ".".join(path), "terraform": cond["path"], "conditional": f"{cond['how']} ({cond['source']})"})
    return out


# --------------------------------------------------------------------------- sources


def go_download(name: str) -> pathlib.Path:
    module, version = SOURCES[name]
    proc = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True, text=True, cwd=TOOL)
    info = json.loads(proc.stdout or "{}")
    if proc.returncode != 0 or "Dir" not in info:
        raise SystemExit(f"replacement_table: go mod download {module}@{version} failed: {info.get('Error') or proc.stderr.strip()}")
    return pathlib.Path(info["Dir"])


def run_tool(*args: str) -> dict[str, Any]:
    proc = subprocess.run(["go", "run", ".", *args], capture_output=True, text=True, cwd=TOOL)
    if proc.returncode != 0:
        raise SystemExit(f"replacement_table: tools/replacement-table {args[0]} failed:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout)


def _changelog_version(directory: pathlib.Path) -> str:
    path = directory / "CHANGELOG.md"
    if not path.exists():
        return ""
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            return line[3:].strip()
    return ""


def build() -> dict[str, Any]:
    types = registrable_types()
    aws_types = sorted(t for t in types if t.startswith("aws:"))
    random_types = sorted(t for t in types if t.startswith("random:"))
    kube_types = sorted(t for t in types if t.startswith(KUBERNETES_PREFIX))

    aws_dir = go_download("terraform-provider-aws")
    candidates = {t: _tf_candidates(t) for t in aws_types}
    aws = run_tool("aws", str(aws_dir), *sorted({c for cs in candidates.values() for c in cs}))
    random_dir = go_download("terraform-provider-random")
    rnd = run_tool("random", str(random_dir))
    kube_dir = go_download("pulumi-kubernetes")
    kube = run_tool("kubernetes", str(kube_dir))

    table: dict[str, Any] = {}
    problems: list[str] = []
    region_sources = sorted({r["source"] for r in aws["region"]})

    def terraform_entry(token: str, tf_name: str, resource: dict[str, Any], region: bool) -> None:
        props = sdk_properties(args_class(token))
        mapper = Mapper(token)
        mapper.walk(resource["attributes"], props, "", "")
        entries = mapper.entries + _conditional_entries(token, resource.get("conditionals") or [], props)
        if region and "region" in props and not any(e["path"] == "region" for e in entries):
            entries.append({"path": "region", "terraform": "region", "computed": True,
                            "note": "every regional resource (" + ", ".join(region_sources) + ")"})
        problems.extend(f"{token} ({tf_name}): {u} replaces but has no Pulumi property" for u in mapper.unmapped)
        table[token] = {
            "terraform": tf_name,
            "source": resource["source"],
            "replaceOnChanges": _dedupe(entries),
        }
        if mapper.sdk_only:
            table[token]["notInSource"] = sorted(mapper.sdk_only)

    for token in aws_types:
        tf_name = next((c for c in candidates[token] if c in aws["resources"]), None)
        if tf_name is None:
            problems.append(f"{token}: none of {candidates[token]} is a terraform-provider-aws resource")
            continue
        terraform_entry(token, tf_name, aws["resources"][tf_name], region=True)
    for token in random_types:
        tf_name = "random_" + _camel_to_snake(token.split(":")[2].removeprefix("Random"))
        if tf_name not in rnd["resources"]:
            problems.append(f"{token}: {tf_name} is not a terraform-provider-random resource")
            continue
        terraform_entry(token, tf_name, rnd["resources"][tf_name], region=False)

    metadata = [p.lstrip(".") for p in kube["metadata"]]
    for token in kube_types:
        _, gv, kind = token.split(":")
        entries = [{"path": p, "reason": "identity"} for p in metadata]
        if token == "kubernetes:helm.sh/v3:Release":
            entries = [{"path": p.lstrip("."), "reason": "identity"} for p in kube["helmRelease"]["properties"]]
            source = kube["helmRelease"]["source"]
        else:
            source = "pkg/provider/diff.go"
            entries += [{"path": _kube_path(p)} for p in kube["kinds"].get(f"{gv}:{kind}", [])]
            for branch in kube["conditional"]:
                applies = ("IsSecret" in branch["condition"] and kind == "Secret" and gv == "core/v1") or (
                    "IsConfigMap" in branch["condition"] and kind == "ConfigMap" and gv == "core/v1")
                if applies:
                    flag = "enableSecretMutable" if kind == "Secret" else "enableConfigMapMutable"
                    entries += [{"path": _kube_path(p), "unlessProvider": flag, "unlessImmutable": True,
                                 "rule": f"{branch['condition']} ({branch['source']})"} for p in branch["properties"]]
        table[token] = {"source": source, "replaceOnChanges": _dedupe(entries)}
    table["kubernetes:*"] = {"source": "pkg/provider/diff.go", "note": "any other kind, custom resources included",
                             "replaceOnChanges": [{"path": p, "reason": "identity"} for p in metadata]}
    table["pulumi:providers:kubernetes"] = {
        "source": kube["providerConfig"]["source"],
        "replacesManagedResources": True,
        "replaceOnChanges": [{"path": p} for p in kube["providerConfig"]["properties"]],
    }
    table["pulumi:providers:aws"] = {
        "source": "pulumi-terraform-bridge DiffConfig",
        "replaceOnChanges": [],
        "note": "no provider config change replaces the provider; a new `region` reaches every resource through its own `region` (replaced)",
    }
    if problems:
        raise SystemExit("replacement_table: cannot build the table:\n  " + "\n  ".join(problems))

    sources = {}
    for name, (module, version) in SOURCES.items():
        directory = {"terraform-provider-aws": aws_dir, "terraform-provider-random": random_dir, "pulumi-kubernetes": kube_dir}[name]
        sources[name] = {"module": module, "version": version, "commit": version.rsplit("-", 1)[1],
                         "changelog": _changelog_version(directory) or None}
    return {
        "generatedBy": "tools/replacement_table.py",
        "sdks": {pkg: importlib.metadata.version(pkg.replace("_", "-")) for pkg in SDKS.values()},
        "sources": sources,
        "types": dict(sorted(table.items())),
    }


def _kube_path(path: str) -> str:
    return path.lstrip(".").replace("[*]", "[]")


def _dedupe(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e["path"] in seen:
            if "conditional" in seen[e["path"]] and "conditional" not in e:
                seen[e["path"]] = e
            continue
        seen[e["path"]] = e
    return sorted(seen.values(), key=lambda e: e["path"])


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when golive/replacements.json is not what this generates")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    text = render(build())
    if args.check:
        current = OUT.read_text() if OUT.exists() else ""
        if current != text:
            print("golive/replacements.json is not current: run .venv/bin/python tools/replacement_table.py", file=sys.stderr)
            return 1
        print(f"golive/replacements.json is current ({len(json.loads(text)['types'])} types)")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(json.loads(text)['types'])} types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
