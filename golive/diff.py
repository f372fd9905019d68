"""What a change does to the stack, from two synth documents: no credentials, no state, no secrets shown.

Resources are matched by URN. A resource whose URN changed is matched to its
old self when the name stayed and the parent or type moved (Pulumi sees a delete
and a create: a likely replacement), or when type and inputs stayed and only the
name changed (a rename: an alias keeps the resource). Secret inputs are the
marker ``[secret]`` in both documents, so a change of a secret's *value* cannot
be seen here; what can be seen is a path becoming secret, or a secret input
appearing or disappearing. In ``--git-base`` mode the stack files' ``secure:``
ciphertexts are compared too, which catches a rotated secret config value.

A changed property that the providers replace on change (``replacements.json``, generated
from the providers' source) makes an update a replacement, with the property named. A
replacement (or deletion) of a ``protect``ed resource is a blocking finding: ``pulumi up``
would stop halfway. Replacing a data-holding resource is flagged even when unprotected.
"""

from __future__ import annotations

import difflib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import replacements
from .engine import ROOT, SECRET_MARKER, SynthResult, UsageError, stack_file

GITHUB_COMMENT_LIMIT = 65_536
DEFAULT_LIMIT = 65_000  # below GitHub's comment limit, with room for the workflow's own framing
UNKNOWN = "[unknown]"
STACK_TYPE = "pulumi:pulumi:Stack"

SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "±", "rename": "±"}
ORDER = {"replace": 0, "rename": 1, "delete": 2, "update": 3, "create": 4}

_MISSING = object()


def marker(stack: str) -> str:
    """The hidden line that identifies golive's PR comment for a stack."""
    return f"<!-- golive-diff:{stack} -->"


# --------------------------------------------------------------------------- model


@dataclass
class PropertyChange:
    path: str
    old: Any = _MISSING
    new: Any = _MISSING
    secret: str = ""  # why the values are hidden: "secret added", "became secret", ...

    @property
    def kind(self) -> str:
        if self.old is _MISSING:
            return "added"
        if self.new is _MISSING:
            return "removed"
        return "changed"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.secret:
            out["secret"] = self.secret
        else:
            if self.old is not _MISSING:
                out["old"] = self.old
            if self.new is not _MISSING:
                out["new"] = self.new
        return out


@dataclass
class ResourceChange:
    op: str  # create | update | delete | replace | rename
    urn: str  # the head URN, or the base URN of a deleted resource
    type: str
    name: str
    component: str
    custom: bool
    old_urn: str | None = None
    old_name: str | None = None
    old_type: str | None = None
    changes: list[PropertyChange] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, Any] | None = None  # what a created resource will get
    secret_paths: tuple[str, ...] = ()
    replaced_by: list[replacements.Replacement] = field(default_factory=list)  # the properties that force it
    delete_first: bool = False  # deleteBeforeReplace: the old one goes before the new one exists

    @property
    def symbol(self) -> str:
        if self.op == "replace" and self.delete_first:
            return "∓"
        return SYMBOL[self.op]

    @property
    def what(self) -> str:
        """How the change is carried out, in words."""
        words = {"create": "to create", "delete": "to delete", "update": "to update", "replace": "to replace",
                 "rename": "renamed (replaced)"}[self.op]
        return words + (" (delete first)" if self.delete_first else "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "op": self.op,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "component": self.component,
            "changes": [c.to_dict() for c in self.changes],
        }
        for key in ("old_urn", "old_name", "old_type"):
            value = getattr(self, key)
            if value is not None:
                out[_camel(key)] = value
        for key in ("reasons", "hints", "warnings"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.inputs is not None:
            out["inputs"] = self.inputs
        if self.replaced_by:
            out["replacedBy"] = [
                {k: v for k, v in {"path": r.path, "rule": r.rule, "terraform": r.terraform, "conditional": r.conditional}.items() if v}
                for r in self.replaced_by
            ]
        if self.delete_first:
            out["deleteFirst"] = True
        return out


@dataclass
class DiffFinding:
    """Something the change does that a reviewer must act on: ``blocking`` (the ``pulumi up`` fails) or ``data``."""

    level: str  # blocking | data
    urn: str
    type: str
    name: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PolicyDelta:
    verdict: str
    mandatory: int
    advisory: int
    new: list[Any]  # check.Finding of the head that the base did not have
    fixed: list[Any]  # check.Finding of the base that the head no longer has
    head: Any = None  # check.CheckResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "mandatoryViolations": self.mandatory,
            "advisoryViolations": self.advisory,
            "new": [f.__dict__ for f in self.new],
            "fixed": [f.__dict__ for f in self.fixed],
        }


@dataclass
class StackDiff:
    stack: str
    base_label: str
    head_label: str
    resources: list[ResourceChange]
    unchanged: int
    outputs: list[PropertyChange] = field(default_factory=list)
    secret_config: list[tuple[str, str]] = field(default_factory=list)  # (key, added|removed|changed)
    policy: PolicyDelta | None = None
    notes: list[str] = field(default_factory=list)
    findings: list[DiffFinding] = field(default_factory=list)
    preview: Any = None  # PreviewComparison, when a real `pulumi preview --json` was given

    @property
    def blocking(self) -> list[DiffFinding]:
        return [f for f in self.findings if f.level == "blocking"]

    def no_go(self) -> bool:
        """What a CI gate fails on: a NO-GO head, or a change that `pulumi up` cannot carry out."""
        return bool(self.blocking) or (self.policy is not None and self.policy.verdict == "NO-GO")

    def count(self, *ops: str) -> int:
        return sum(1 for r in self.resources if r.op in ops)

    def summary(self) -> str:
        """``+12 ~3 -1``, then replacements (renames included) when there are any."""
        text = f"+{self.count('create')} ~{self.count('update')} -{self.count('delete')}"
        replaced = self.count("replace", "rename")
        if replaced:
            text += f" ±{replaced}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "base": self.base_label,
            "head": self.head_label,
            "summary": {
                "create": self.count("create"),
                "update": self.count("update"),
                "delete": self.count("delete"),
                "replace": self.count("replace"),
                "rename": self.count("rename"),
                "unchanged": self.unchanged,
                "line": self.summary(),
            },
            "resources": [r.to_dict() for r in self.resources],
            "outputs": [c.to_dict() for c in self.outputs],
            "secretConfig": [{"key": k, "change": c} for k, c in self.secret_config],
            "policy": self.policy.to_dict() if self.policy else None,
            "findings": [f.to_dict() for f in self.findings],
            "blocking": len(self.blocking),
            "replacementTable": replacements.sources_line(),
            "preview": self.preview.to_dict() if self.preview else None,
            "notes": self.notes,
        }


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.title() for p in rest)


# --------------------------------------------------------------------------- value diff


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _as_json_container(value: Any) -> Any:
    """Policy documents and manifests travel as JSON strings; diff inside them."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, (dict, list)) else None
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def diff_values(
    old: Any,
    new: Any,
    path: str = "",
    old_secrets: frozenset[str] = frozenset(),
    new_secrets: frozenset[str] = frozenset(),
) -> list[PropertyChange]:
    """Leaf-level differences between two JSON values; secret paths never show values."""
    out: list[PropertyChange] = []
    _diff(old, new, path, old_secrets, new_secrets, out)
    return out


def _diff(old: Any, new: Any, path: str, old_s: frozenset[str], new_s: frozenset[str], out: list[PropertyChange]) -> None:
    old_secret, new_secret = path in old_s, path in new_s
    if old_secret or new_secret:
        if old_secret and new_secret:
            return  # both "[secret]": a value change is invisible offline
        if old is _MISSING:
            out.append(PropertyChange(path, new=SECRET_MARKER, secret="secret added"))
        elif new is _MISSING:
            out.append(PropertyChange(path, old=SECRET_MARKER, secret="secret removed"))
        else:
            reason = "became secret" if new_secret else "no longer secret"
            out.append(PropertyChange(path, old=SECRET_MARKER, new=SECRET_MARKER, secret=reason))
        return
    if old is _MISSING or new is _MISSING:
        if _canon(old) != _canon(new):
            out.append(PropertyChange(path, old=old, new=new))
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _diff(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, key), old_s, new_s, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        _diff_lists(old, new, path, old_s, new_s, out)
        return
    if _canon(old) == _canon(new):
        return
    old_doc, new_doc = _as_json_container(old), _as_json_container(new)
    if old_doc is not None and new_doc is not None:
        _diff(old_doc, new_doc, f"{path}<json>", frozenset(), frozenset(), out)
        return
    out.append(PropertyChange(path, old=old, new=new))


def _diff_lists(old: list, new: list, path: str, old_s: frozenset[str], new_s: frozenset[str], out: list[PropertyChange]) -> None:
    if len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(a, b, f"{path}[{i}]", old_s, new_s, out)
        return
    matcher = difflib.SequenceMatcher(a=[_canon(v) for v in old], b=[_canon(v) for v in new], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                _diff(old[i1 + k], new[j1 + k], f"{path}[{j1 + k}]", old_s, new_s, out)
            continue
        for i in range(i1, i2):
            _diff(old[i], _MISSING, f"{path}[{i}]", old_s, new_s, out)
        for j in range(j1, j2):
            _diff(_MISSING, new[j], f"{path}[{j}]", old_s, new_s, out)


# --------------------------------------------------------------------------- resource matching


def _index(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in doc.get("resources", [])}


def _short(urn: str | None) -> str:
    """A URN as ``name`` (what a reviewer recognises)."""
    if not urn:
        return "(stack)"
    return urn.rsplit("::", 1)[-1]


def _component(record: dict[str, Any], index: dict[str, dict[str, Any]]) -> str:
    """The top-level component a resource belongs to (the stack's direct child), as ``name (type)``."""
    current, seen = record, set()
    while True:
        parent = index.get(current.get("parent") or "")
        if parent is None or parent["type"] == STACK_TYPE or parent["urn"] in seen:
            break
        seen.add(current["urn"])
        current = parent
    if current["custom"]:  # a resource declared at the top of the program
        return "(stack)"
    return f"{current['name']} ({current['type']})"


def _provider_urn(record: dict[str, Any]) -> str:
    ref = record.get("provider") or ""
    return ref.rsplit("::", 1)[0] if "::" in ref else ref


def _name_core(old: str, new: str) -> tuple[str, str]:
    """The part of two names that differs, without their common prefix and suffix."""
    i = 0
    while i < min(len(old), len(new)) and old[i] == new[i]:
        i += 1
    j = 0
    while j < min(len(old), len(new)) - i and old[-1 - j] == new[-1 - j]:
        j += 1
    return old[i:len(old) - j], new[i:len(new) - j]


def _similarity(old: str, new: str) -> int:
    core_old, core_new = _name_core(old, new)
    return len(old) - len(core_old) + len(new) - len(core_new)


def _own_inputs(record: dict[str, Any]) -> dict[str, Any]:
    """Inputs that do not come from other resources (those follow their sources' renames)."""
    deps = record.get("propertyDependencies") or {}
    return {k: v for k, v in (record.get("inputs") or {}).items() if k not in deps}


def _same_inputs_but_name(old: dict[str, Any], new: dict[str, Any], canon: dict[str, str]) -> bool:
    if old["type"] != new["type"] or old["custom"] != new["custom"]:
        return False
    if set(old.get("propertyDependencies") or {}) != set(new.get("propertyDependencies") or {}):
        return False
    if old.get("secretInputs") != new.get("secretInputs"):
        return False
    for r in (old, new):
        if r["urn"] not in canon:
            canon[r["urn"]] = _canon(_own_inputs(r))
    a, b = canon[old["urn"]], canon[new["urn"]]
    if a == b:
        return True
    core_old, core_new = _name_core(old["name"], new["name"])
    return bool(core_old) and a.replace(core_old, core_new) == b


def _pair(removed: list[dict[str, Any]], added: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """(old, new, kind) for resources whose URN changed: ``moved`` (same name) or ``renamed``."""
    pairs: list[tuple[dict[str, Any], dict[str, Any], str]] = []
    taken_old: set[str] = set()
    taken_new: set[str] = set()
    by_name_old: dict[str, list[dict[str, Any]]] = {}
    for r in removed:
        by_name_old.setdefault(r["name"], []).append(r)
    by_name_new: dict[str, list[dict[str, Any]]] = {}
    for r in added:
        by_name_new.setdefault(r["name"], []).append(r)
    for name, news in by_name_new.items():
        olds = by_name_old.get(name, [])
        for new in news:  # a new parent, same type
            old = next((o for o in olds if o["urn"] not in taken_old and o["type"] == new["type"]), None)
            if old is not None:
                pairs.append((old, new, "moved"))
                taken_old.add(old["urn"])
                taken_new.add(new["urn"])
        rest_old = [o for o in olds if o["urn"] not in taken_old]
        rest_new = [n for n in news if n["urn"] not in taken_new]
        if len(rest_old) == 1 and len(rest_new) == 1:  # a new type (same package, same kind)
            old, new = rest_old[0], rest_new[0]
            if old["custom"] == new["custom"] and old["type"].split(":")[0] == new["type"].split(":")[0]:
                pairs.append((old, new, "moved"))
                taken_old.add(old["urn"])
                taken_new.add(new["urn"])
    canon: dict[str, str] = {}
    by_type_old: dict[str, list[dict[str, Any]]] = {}
    for r in removed:
        if r["urn"] not in taken_old:
            by_type_old.setdefault(r["type"], []).append(r)
    for new in added:
        if new["urn"] in taken_new:
            continue
        candidates = [o for o in by_type_old.get(new["type"], []) if o["urn"] not in taken_old]
        if len(candidates) > 500:  # keep a huge change cheap; unmatched ones show as create + delete
            continue
        matches = [o for o in candidates if _same_inputs_but_name(o, new, canon)]
        # Of several equal candidates, the one whose name differs least (e.g. `a-logs-1b` -> `b-logs-1b`).
        old = max(matches, key=lambda o: _similarity(o["name"], new["name"]), default=None)
        if old is not None:
            pairs.append((old, new, "renamed"))
            taken_old.add(old["urn"])
            taken_new.add(new["urn"])
    return pairs


def _record_changes(old: dict[str, Any], new: dict[str, Any]) -> list[PropertyChange]:
    changes = diff_values(
        old.get("inputs") or {},
        new.get("inputs") or {},
        "",
        frozenset(old.get("secretInputs") or ()),
        frozenset(new.get("secretInputs") or ()),
    )
    old_opts, new_opts = old.get("options") or {}, new.get("options") or {}
    for key in sorted(set(old_opts) | set(new_opts)):
        a, b = old_opts.get(key, _MISSING), new_opts.get(key, _MISSING)
        if key == "dependsOn":
            a = [_short(u) for u in a] if isinstance(a, list) else a
            b = [_short(u) for u in b] if isinstance(b, list) else b
        if _canon(a) != _canon(b):
            changes.append(PropertyChange(f"(options).{key}", old=a, new=b))
    old_deps, new_deps = old.get("propertyDependencies") or {}, new.get("propertyDependencies") or {}
    for prop in sorted(set(old_deps) | set(new_deps)):
        a = sorted(_short(u) for u in old_deps.get(prop, []))
        b = sorted(_short(u) for u in new_deps.get(prop, []))
        if a != b:
            changes.append(PropertyChange(f"(depends on).{prop}", old=a or _MISSING, new=b or _MISSING))
    if _provider_urn(old) != _provider_urn(new):
        changes.append(PropertyChange("(provider)", old=_short(_provider_urn(old)) or None, new=_short(_provider_urn(new)) or None))
    if (old.get("parent") or None) != (new.get("parent") or None):
        changes.append(PropertyChange("(parent)", old=_short(old.get("parent")), new=_short(new.get("parent"))))
    return changes


def _alias_hint(old: dict[str, Any], new: dict[str, Any], base: dict[str, dict[str, Any]]) -> str:
    parts = []
    if old["name"] != new["name"]:
        parts.append(f'name="{old["name"]}"')
    if old["type"] != new["type"]:
        parts.append(f'type_="{old["type"]}"')
    if (old.get("parent") or None) != (new.get("parent") or None):
        parent = base.get(old.get("parent") or "")
        if parent is None or parent["type"] == STACK_TYPE:
            parts.append("parent=pulumi.ROOT_STACK_RESOURCE")
        else:
            parts.append(f"parent=<the {parent['type']} {parent['name']!r}>")
    alias = f"`opts=pulumi.ResourceOptions(aliases=[pulumi.Alias({', '.join(parts)})])`"
    if old["type"] != new["type"] and new["custom"]:
        return f"if the new type manages the same cloud resource (a provider's type migration), {alias} keeps it; otherwise it is replaced"
    return f"to keep the existing resource, add {alias}"


def _deletion_warnings(old: dict[str, Any]) -> list[str]:
    opts = old.get("options") or {}
    warnings = []
    if opts.get("protect"):
        warnings.append("protected: `pulumi up` refuses to delete it until `protect` is removed in a separate change")
    if opts.get("retainOnDelete"):
        warnings.append("retainOnDelete: the cloud resource is left behind (orphaned), not deleted")
    return warnings


def diff_documents(base: dict[str, Any], head: dict[str, Any], base_label: str = "base", head_label: str = "head") -> StackDiff:
    """Compare two synth documents (the JSON of ``python -m golive synth --out``)."""
    old_idx, new_idx = _index(base), _index(head)
    changes: list[ResourceChange] = []
    unchanged = 0
    for urn in sorted(set(old_idx) & set(new_idx)):
        old, new = old_idx[urn], new_idx[urn]
        props = _record_changes(old, new)
        if not props:
            unchanged += 1
            continue
        rc = ResourceChange(
            "update", urn, new["type"], new["name"], _component(new, new_idx), new["custom"], changes=props,
            secret_paths=tuple(new.get("secretInputs") or ()),
        )
        if old.get("options", {}).get("protect") and not new.get("options", {}).get("protect"):
            rc.warnings.append("protection removed: this resource can now be deleted")
        if any(c.path == "(provider)" for c in props):
            rc.reasons.append("its provider changed, which may force a replacement")
        if any(UNKNOWN in (c.old, c.new) for c in props):
            rc.hints.append("`[unknown]` values are computed by the cloud at apply time")
        changes.append(rc)
    removed = [old_idx[u] for u in sorted(set(old_idx) - set(new_idx))]
    added = [new_idx[u] for u in sorted(set(new_idx) - set(old_idx))]
    paired = _pair(removed, added)
    paired_old = {o["urn"] for o, _, _ in paired}
    paired_new = {n["urn"] for _, n, _ in paired}
    for old, new, _kind in paired:
        op = "rename" if old["name"] != new["name"] else "replace"
        rc = ResourceChange(
            op, new["urn"], new["type"], new["name"], _component(new, new_idx), new["custom"],
            old_urn=old["urn"], old_name=old["name"], old_type=old["type"], changes=_record_changes(old, new),
            secret_paths=tuple(new.get("secretInputs") or ()),
        )
        if old["name"] != new["name"]:
            rc.reasons.append(f"renamed from `{old['name']}`: its URN changes, so Pulumi deletes and recreates it")
        if old["type"] != new["type"]:
            rc.reasons.append(f"type changed from `{old['type']}`: its URN changes (likely replacement)")
        if (old.get("parent") or None) != (new.get("parent") or None):
            rc.reasons.append(
                f"parent changed from `{_short(old.get('parent'))}` to `{_short(new.get('parent'))}`: its URN changes (likely replacement)"
            )
        if not rc.reasons:
            rc.reasons.append("its URN changed (likely replacement)")
        rc.hints.append(_alias_hint(old, new, old_idx))
        rc.warnings.extend(_deletion_warnings(old))
        changes.append(rc)
    for new in added:
        if new["urn"] in paired_new:
            continue
        changes.append(
            ResourceChange(
                "create", new["urn"], new["type"], new["name"], _component(new, new_idx), new["custom"],
                inputs=new.get("inputs") or {}, secret_paths=tuple(new.get("secretInputs") or ()),
            )
        )
    for old in removed:
        if old["urn"] in paired_old:
            continue
        changes.append(
            ResourceChange(
                "delete", old["urn"], old["type"], old["name"], _component(old, old_idx), old["custom"],
                warnings=_deletion_warnings(old),
            )
        )
    replaced = {c.old_urn or c.urn for c in changes if c.op in ("replace", "rename", "delete")}
    for c in changes:
        if c.op != "update":
            continue
        record = new_idx[c.urn]
        follows = sorted(
            {_short(u) for prop, urns in (record.get("propertyDependencies") or {}).items() for u in urns if u in replaced}
        )
        if follows:
            c.hints.append(f"some values come from {', '.join(f'`{n}`' for n in follows)}, which is replaced or renamed")
    for c in changes:
        if c.op == "update" and c.custom:
            _judge_replacement(c, old_idx[c.urn], new_idx[c.urn], new_idx)
    changes.sort(key=lambda c: (c.component, ORDER[c.op], c.type, c.name))
    outputs = diff_values(base.get("outputs") or {}, head.get("outputs") or {})
    for out in outputs:
        if SECRET_MARKER in (out.old, out.new):
            out.secret = out.secret or "secret output"
    stack = head.get("stack") or base.get("stack") or "?"
    result = StackDiff(stack, base_label, head_label, changes, unchanged, outputs)
    result.findings = _findings(changes, old_idx)
    return result


def _judge_replacement(rc: ResourceChange, old: dict[str, Any], new: dict[str, Any], index: dict[str, dict[str, Any]]) -> None:
    """Turn an update into a replacement when a changed property is one the provider replaces on."""
    provider = index.get(_provider_urn(new)) or {}
    found, unknown = replacements.match(new["type"], rc.changes, old, new, provider.get("inputs") or {})
    what = replacements.title(new["type"])
    certain = [r for r in found if not r.conditional]
    for r in certain:
        rc.reasons.append(f"changing `{r.path}` creates a new {what}" + (f" (`{r.terraform}` forces a new resource)" if r.terraform else ""))
    for r in found:
        if r.conditional:
            rc.warnings.append(f"changing `{r.path}` may create a new {what}: the provider decides at plan time ({r.conditional})")
    for path in unknown:
        rc.hints.append(f"`{path}` is newer than the provider source the replacement table was built from: only `pulumi preview` "
                        "knows whether changing it replaces the resource")
    if certain:
        rc.op = "replace"
        rc.replaced_by = found
        rc.delete_first = bool((new.get("options") or {}).get("deleteBeforeReplace"))
        if rc.delete_first:
            rc.reasons.append("`deleteBeforeReplace`: Pulumi deletes the old one before it creates the new one (a gap in service)")
        rc.warnings.extend(w for w in _deletion_warnings(old) if w.startswith("retainOnDelete"))
    if rc.op == "update" and any(c.path == "(provider)" for c in rc.changes) and new["type"].startswith("kubernetes:"):
        rc.warnings.append("its provider changed: a Kubernetes provider for another cluster replaces every resource it manages")


def _findings(changes: list[ResourceChange], old_idx: dict[str, dict[str, Any]]) -> list[DiffFinding]:
    """Blocking findings (a protected resource that would be replaced or deleted) and data-holding replacements."""
    out: list[DiffFinding] = []
    for rc in changes:
        if rc.op not in ("replace", "rename", "delete"):
            continue
        old = old_idx.get(rc.old_urn or rc.urn) or {}
        why = (rc.reasons[0] if rc.reasons else "it is deleted") if rc.op != "delete" else "it is deleted from the program"
        data = replacements.DATA_HOLDING.get(old.get("type") or rc.type)
        anchor = data[1] if data else "protected-resources"
        doc = f"{replacements.DOC}#{anchor}"
        if (old.get("options") or {}).get("protect"):
            out.append(DiffFinding(
                "blocking", rc.urn, rc.type, rc.name,
                f"this `pulumi up` will fail: {rc.name} is protected and {why}; {replacements.remedy(old.get('type') or rc.type, rc.replaced_by)}, "
                f"see {doc}",
            ))
        elif data:
            verb = "deleting" if rc.op == "delete" else "replacing"
            out.append(DiffFinding("data", rc.urn, rc.type, rc.name, f"{verb} {rc.name} loses {data[0]} ({why}); see {doc}"))
    return out


# --------------------------------------------------------------------------- policy delta


def policy_delta(base: dict[str, Any], head: dict[str, Any], diff: StackDiff, policies: Iterable[Any] | None = None) -> PolicyDelta:
    """The head's verdict, and the violations it adds or fixes compared with the base (same policies on both)."""
    from . import check, formats

    policies = list(policies) if policies is not None else check.load_policies()
    base_result = check.check(SynthResult.from_document(base), policies)
    head_result = check.check(SynthResult.from_document(head), policies)
    moved = {c.old_urn: c.urn for c in diff.resources if c.old_urn}

    def key(f: Any, urn_map: dict[str, str]) -> tuple[str, str | None]:
        return f.policy, urn_map.get(f.urn, f.urn) if f.urn else None

    base_keys = {key(f, moved) for f in base_result.findings}
    head_keys = {key(f, {}) for f in head_result.findings}
    new = [f for f in head_result.findings if key(f, {}) not in base_keys]
    fixed = [f for f in base_result.findings if key(f, moved) not in head_keys]
    return PolicyDelta(
        verdict=formats.verdict(head_result),
        mandatory=len(head_result.mandatory),
        advisory=len(head_result.advisory),
        new=new,
        fixed=fixed,
        head=head_result,
    )


# --------------------------------------------------------------------------- rendering: text and JSON


def _show(value: Any, limit: int = 200) -> str:
    if value is _MISSING:
        return "(none)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change_text(c: PropertyChange) -> str:
    if c.secret:
        return f"{c.path}: {c.secret} (value not shown)"
    if c.kind == "added":
        return f"{c.path}: + {_show(c.new)}"
    if c.kind == "removed":
        return f"{c.path}: - {_show(c.old)}"
    return f"{c.path}: {_show(c.old)} → {_show(c.new)}"


def _flatten(value: Any, path: str, secrets: frozenset[str], out: list[tuple[str, Any]]) -> None:
    if path in secrets:
        out.append((path, SECRET_MARKER))
    elif isinstance(value, dict) and value:
        for k in sorted(value):
            _flatten(value[k], _join(path, k), secrets, out)
    elif isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            _flatten(v, f"{path}[{i}]", secrets, out)
    else:
        out.append((path, value))


def created_properties(rc: ResourceChange) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    _flatten(rc.inputs or {}, "", frozenset(rc.secret_paths), out)
    return [(p, v) for p, v in out if p]


def render_text(diff: StackDiff) -> str:
    lines = [f"golive diff · stack {diff.stack} · {diff.base_label} → {diff.head_label}", f"{diff.summary()} ({diff.unchanged} unchanged)"]
    for f in diff.findings:
        lines.append(f"{'BLOCKING' if f.level == 'blocking' else 'DATA'}: {f.message}")
    for rc in diff.resources:
        title = f"{rc.symbol} {rc.type}  {rc.name}"
        if rc.delete_first:
            title += "  (delete first)"
        if rc.old_name and rc.old_name != rc.name:
            title += f"  (was {rc.old_name})"
        lines.append(f"  {title}    [{rc.component}]")
        for text in rc.reasons:
            lines.append(f"      replacement: {text}")
        for text in rc.warnings:
            lines.append(f"      warning: {text}")
        for c in rc.changes:
            lines.append(f"      {_change_text(c)}")
        if rc.op == "create":
            for path, value in created_properties(rc):
                lines.append(f"      {path}: {_show(value)}")
        for text in rc.hints:
            lines.append(f"      hint: {text}")
    if diff.outputs:
        lines.append("  stack outputs:")
        lines.extend(f"      {_change_text(c)}" for c in diff.outputs)
    for key, change in diff.secret_config:
        lines.append(f"  secret config {key}: {change} (value not shown; offline synth uses placeholders)")
    for note in diff.notes:
        lines.append(f"  note: {note}")
    if diff.policy:
        p = diff.policy
        lines.append(f"policy verdict (head): {p.verdict} · {p.mandatory} mandatory, {p.advisory} advisory · {len(p.new)} new, {len(p.fixed)} fixed")
        lines.extend(f"  new [{f.enforcement}] {f.policy}: {_short(f.urn)}: {f.message}" for f in p.new)
        lines.extend(f"  fixed [{f.enforcement}] {f.policy}: {_short(f.urn)}" for f in p.fixed)
    if diff.preview is not None:
        lines.extend(diff.preview.text_lines())
    if diff.blocking:
        lines.append(f"blocking: {len(diff.blocking)} change{'s' if len(diff.blocking) != 1 else ''} that `pulumi up` cannot carry out")
    return "\n".join(lines)


def render_json(diff: StackDiff) -> str:
    return json.dumps(diff.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, default=str)


# --------------------------------------------------------------------------- rendering: Markdown (the PR comment)


MAX_COMPONENT_ROWS = 40
MAX_ATTENTION = 15
MAX_ROWS_PER_RESOURCE = 40
MAX_POLICY_LINES = 20
CELL = 160


def _cell(value: Any) -> str:
    from .formats import md_code

    if value is _MISSING:
        return "—"
    return md_code(_show(value, CELL))


def _html(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _resource_block(rc: ResourceChange) -> str:
    count = len(rc.changes) if rc.op != "create" else len(created_properties(rc))
    if rc.op == "create" and not count and not (rc.reasons or rc.warnings or rc.hints):
        kind = "component" if not rc.custom else "no inputs"
        return f"- <code>{rc.symbol}</code> <b>{_html(rc.name)}</b> <code>{_html(rc.type)}</code> · to create · {kind}\n\n"
    what = rc.what
    detail = f"{count} propert{'ies' if count != 1 else 'y'}" if rc.op != "delete" else "all of it"
    was = f" (was <code>{_html(rc.old_name)}</code>)" if rc.old_name and rc.old_name != rc.name else ""
    lines = [
        "<details>",
        f"<summary><code>{rc.symbol}</code> <b>{_html(rc.name)}</b>{was} <code>{_html(rc.type)}</code> · {what} · {detail}</summary>",
        "",
    ]
    for text in rc.reasons:
        lines.append(f"- **Replacement:** {text}")
    for text in rc.warnings:
        lines.append(f"- ⚠️ {text}")
    for text in rc.hints:
        lines.append(f"- *Hint:* {text}")
    if rc.reasons or rc.warnings or rc.hints:
        lines.append("")
    if rc.op == "create":
        rows = created_properties(rc)
        if rows:
            lines += ["| Property | Value |", "|---|---|"]
            for path, value in rows[:MAX_ROWS_PER_RESOURCE]:
                shown = "*secret*" if value == SECRET_MARKER and path in rc.secret_paths else _cell(value)
                lines.append(f"| {_cell_path(path)} | {shown} |")
            if len(rows) > MAX_ROWS_PER_RESOURCE:
                lines.append(f"| … | {len(rows) - MAX_ROWS_PER_RESOURCE} more |")
    elif rc.changes:
        lines += ["| Property | Base | Head |", "|---|---|---|"]
        for c in rc.changes[:MAX_ROWS_PER_RESOURCE]:
            if c.secret:
                lines.append(f"| {_cell_path(c.path)} | *{c.secret}* | *value not shown* |")
            else:
                lines.append(f"| {_cell_path(c.path)} | {_cell(c.old)} | {_cell(c.new)} |")
        if len(rc.changes) > MAX_ROWS_PER_RESOURCE:
            lines.append(f"| … | {len(rc.changes) - MAX_ROWS_PER_RESOURCE} more | |")
    if rc.op == "delete":
        from .formats import md_code

        lines.append(f"URN: {md_code(rc.urn)}")
    lines += ["", "</details>", "", ""]
    return "\n".join(lines)


def _cell_path(path: str) -> str:
    from .formats import md_code

    return md_code(path if len(path) <= CELL else path[: CELL - 1] + "…")


def _component_table(diff: StackDiff) -> list[str]:
    from .formats import md_escape

    per: dict[str, Counter] = {}
    for rc in diff.resources:
        per.setdefault(rc.component, Counter())[rc.op] += 1
    lines = ["| Component | + | ~ | - | ± |", "|---|--:|--:|--:|--:|"]
    items = sorted(per.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    for component, n in items[:MAX_COMPONENT_ROWS]:
        lines.append(f"| {md_escape(component)} | {n['create']} | {n['update']} | {n['delete']} | {n['replace'] + n['rename']} |")
    if len(items) > MAX_COMPONENT_ROWS:
        rest = Counter()
        for _, n in items[MAX_COMPONENT_ROWS:]:
            rest.update(n)
        lines.append(
            f"| … {len(items) - MAX_COMPONENT_ROWS} more components | {rest['create']} | {rest['update']} | {rest['delete']} | "
            f"{rest['replace'] + rest['rename']} |"
        )
    return lines


def _blocking_section(diff: StackDiff) -> list[str]:
    if not diff.findings:
        return []
    lines = []
    blocking = diff.blocking
    if blocking:
        lines += [f"**⛔ Blocking — {len(blocking)} change{'s' if len(blocking) != 1 else ''} that `pulumi up` cannot carry out**", ""]
        lines += [f"- **{_html(f.name)}** `{f.type}`: {_html(f.message)}" for f in blocking[:MAX_ATTENTION]]
        lines.append("")
    data = [f for f in diff.findings if f.level == "data"]
    if data:
        lines += ["**Data-holding resources replaced or deleted**", ""]
        lines += [f"- **{_html(f.name)}** `{f.type}`: {_html(f.message)}" for f in data[:MAX_ATTENTION]]
        lines.append("")
    return lines


def _attention(diff: StackDiff) -> list[str]:
    items = []
    for rc in diff.resources:
        if rc.op in ("replace", "rename") or rc.warnings or rc.reasons:
            why = "; ".join([*rc.reasons, *rc.warnings])
            items.append(f"- `{rc.symbol}` **{_html(rc.name)}** `{rc.type}` — {why}")
    if not items:
        return []
    lines = ["**Needs attention**", "", *items[:MAX_ATTENTION]]
    if len(items) > MAX_ATTENTION:
        lines.append(f"- … and {len(items) - MAX_ATTENTION} more (below)")
    return [*lines, ""]


def _policy_section(diff: StackDiff) -> list[str]:
    from .formats import md_escape, verdict_line

    p = diff.policy
    if p is None:
        return []
    lines = ["#### Policy verdict (head)", "", verdict_line(p.head) if p.head is not None else f"**{p.verdict}**", ""]
    lines.append(f"Compared with the base: **{len(p.new)} new** violation{'s' if len(p.new) != 1 else ''}, "
                 f"**{len(p.fixed)} fixed**.")
    lines.append("")

    def listing(title: str, findings: list[Any]) -> list[str]:
        if not findings:
            return []
        out = [f"{title}:", ""]
        for f in findings[:MAX_POLICY_LINES]:
            out.append(f"- `{f.enforcement}` **{f.policy}** — `{_short(f.urn)}`: {md_escape(f.message)[:300]}")
        if len(findings) > MAX_POLICY_LINES:
            out.append(f"- … and {len(findings) - MAX_POLICY_LINES} more (`python -m golive check --stack {diff.stack}`)")
        return [*out, ""]

    lines += listing("New", p.new)
    lines += listing("Fixed", p.fixed)
    return lines


def render_markdown(diff: StackDiff, limit: int = DEFAULT_LIMIT) -> str:
    """The PR comment: summary line, table by component, one collapsible block per resource, the policy verdict.

    Stays below ``limit`` characters: resource blocks that do not fit are summarized
    (counts by change and type) instead of being cut.
    """
    from .formats import md_code, md_escape

    head = [
        marker(diff.stack),
        f"### golive diff · stack `{diff.stack}`",
        "",
        f"{md_code(diff.base_label)} → {md_code(diff.head_label)}",
        "",
    ]
    if diff.resources:
        replaced = diff.count("replace", "rename")
        renamed = diff.count("rename")
        extra = f" · {replaced} to replace" + (f" ({renamed} renamed)" if renamed else "") if replaced else ""
        head += [f"**{diff.summary()}**{extra} · {diff.unchanged} unchanged", ""]
        head += _component_table(diff) + [""]
        head += _blocking_section(diff)
        head += _attention(diff)
    else:
        head += [f"**No resource changes** ({diff.unchanged} resources unchanged).", ""]
    if diff.secret_config:
        head += ["Secret config changed (values never shown; the offline synth uses placeholders, so resources that read them "
                 "show no change): " + ", ".join(f"`{k}` ({c})" for k, c in diff.secret_config), ""]
    for note in diff.notes:
        head += [f"> {md_escape(note)}", ""]

    tail: list[str] = []
    if diff.outputs:
        tail += ["<details>", f"<summary>Stack outputs · {len(diff.outputs)} changed</summary>", "", "| Output | Base | Head |", "|---|---|---|"]
        for c in diff.outputs[:MAX_ROWS_PER_RESOURCE]:
            old, new = ("*secret*", "*secret*") if c.secret else (_cell(c.old), _cell(c.new))
            tail.append(f"| {_cell_path(c.path)} | {old} | {new} |")
        tail += ["", "</details>", ""]
    tail += _policy_section(diff)
    if diff.preview is not None:
        tail += diff.preview.markdown_lines()
    tail += ["<sub>Offline structural diff of the synth documents (`python -m golive diff`): no cloud credentials, "
             "secret values never shown. Replacements are predicted from the providers' replace-on-change rules "
             f"({md_escape(replacements.sources_line())}); what only the provider sees (values it normalises, drift, "
             "its own plan-time decisions) shows in `pulumi preview`: see docs/replacements.md.</sub>"]

    head_text, tail_text = "\n".join(head) + "\n", "\n".join(tail) + "\n"
    reserve = 3_000  # for the summary of what did not fit
    budget = limit - len(head_text) - len(tail_text) - reserve
    blocks: list[str] = []
    used = 0
    shown = 0
    if diff.resources:
        blocks.append("#### Changes\n\n")
        used += len(blocks[0])
    for rc in diff.resources:
        block = _resource_block(rc)
        if used + len(block) > budget:
            break
        blocks.append(block)
        used += len(block)
        shown += 1
    rest = diff.resources[shown:]
    if rest:
        by_kind = Counter((rc.symbol, rc.type) for rc in rest)
        summary = [f"**{len(rest)} more change{'s' if len(rest) != 1 else ''} not shown** — this comment stays below GitHub's "
                   f"{GITHUB_COMMENT_LIMIT:,}-character limit. Run `python -m golive diff --format text` for all of them.", ""]
        for (symbol, type_), n in sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))[:25]:
            summary.append(f"- `{symbol}` {n} × `{type_}`")
        if len(by_kind) > 25:
            summary.append(f"- … {len(by_kind) - 25} more resource types")
        blocks.append("\n".join(summary) + "\n\n")
    text = head_text + "".join(blocks) + tail_text
    if len(text) > limit:  # only with an absurdly small limit: keep the summary and verdict
        text = head_text + tail_text
    return text


# --------------------------------------------------------------------------- git mode


def _git(root: pathlib.Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise UsageError("git is not installed") from None
    if proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def _resolve(root: pathlib.Path, rev: str) -> str:
    """The commit of ``rev``, or a usage error with git's own reason."""
    proc = subprocess.run(["git", "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}"], cwd=root,
                          capture_output=True, text=True, timeout=60)
    if proc.returncode == 0:
        return proc.stdout.strip()
    reason = (proc.stderr.strip() or proc.stdout.strip()).removeprefix("fatal: ")
    probe = subprocess.run(["git", "cat-file", "-t", "--end-of-options", rev], cwd=root, capture_output=True, text=True, timeout=60)
    if probe.returncode != 0 and probe.stderr.strip():
        reason = probe.stderr.strip().removeprefix("fatal: ")
    raise UsageError(f"--git-base {rev}: git cannot resolve that revision ({reason}); give a branch, tag or commit of this repository")


def _secure_values(path: pathlib.Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        return {}
    raw = data.get("config") or {}
    return {str(k): str(v["secure"]) for k, v in raw.items() if isinstance(v, dict) and set(v) == {"secure"}}


def secret_config_changes(base_file: pathlib.Path, head_file: pathlib.Path) -> list[tuple[str, str]]:
    """Which ``secure:`` config keys were added, removed or re-encrypted (a new value): names only."""
    old, new = _secure_values(base_file), _secure_values(head_file)
    out = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out.append((key, "added"))
        elif key not in new:
            out.append((key, "removed"))
        elif old[key] != new[key]:
            out.append((key, "changed"))
    return out


def _start_synth(project: pathlib.Path, stack: str, out: pathlib.Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "golive", "synth", "--stack", stack, "--out", str(out)],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish_synth(proc: subprocess.Popen, what: str, out: pathlib.Path, timeout: float = 600) -> dict[str, Any]:
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise UsageError(f"synthesizing {what} took longer than {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise UsageError(f"synthesizing {what} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(out.read_text())


def synth_git(rev: str, stack: str, root: pathlib.Path = ROOT) -> tuple[dict[str, Any], dict[str, Any], str, str, list[tuple[str, str]], list[str]]:
    """Synthesize ``rev`` (in a temporary worktree) and the working tree, each in its own interpreter, in parallel.

    Returns (base document, head document, base label, head label, secret config changes, notes).
    """
    root = pathlib.Path(root).resolve()
    top = pathlib.Path(_git(root, "rev-parse", "--show-toplevel")).resolve()
    prefix = root.relative_to(top)
    sha = _resolve(root, rev)
    head_sha = _git(root, "rev-parse", "--verify", "HEAD")
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no", "--", "."))
    base_label = f"{rev} ({sha[:12]})"
    head_label = f"working tree ({head_sha[:12]}{' + uncommitted changes' if dirty else ''})"
    notes: list[str] = []
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="golive-diff-"))
    worktree = tmp / "base"
    try:
        _git(root, "worktree", "add", "--detach", "--quiet", str(worktree), sha)
        base_project = worktree / prefix
        base_out, head_out = tmp / "base.json", tmp / "head.json"
        head_proc = _start_synth(root, stack, head_out)
        base_doc: dict[str, Any]
        if stack_file(stack, base_project).exists():
            base_proc = _start_synth(base_project, stack, base_out)
            try:
                base_doc = _finish_synth(base_proc, f"{rev} ({sha[:12]})", base_out)
            except BaseException:
                head_proc.kill()
                head_proc.communicate()
                raise
        else:
            base_doc = {"stack": stack, "project": "golive", "resources": [], "outputs": {}}
            notes.append(f"stack {stack} does not exist at {rev}: every resource is new")
        head_doc = _finish_synth(head_proc, "the working tree", head_out)
        secrets = secret_config_changes(stack_file(stack, base_project), stack_file(stack, root))
    finally:
        try:
            _git(root, "worktree", "remove", "--force", str(worktree))
        except UsageError:
            shutil.rmtree(worktree, ignore_errors=True)
            subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return base_doc, head_doc, base_label, head_label, secrets, notes


def diff_git(rev: str, stack: str, root: pathlib.Path = ROOT, with_policy: bool = True, policies: Iterable[Any] | None = None) -> StackDiff:
    base, head, base_label, head_label, secrets, notes = synth_git(rev, stack, root)
    result = diff_documents(base, head, base_label, head_label)
    result.secret_config = secrets
    result.notes.extend(notes)
    if with_policy:
        result.policy = policy_delta(base, head, result, policies)
    return result


def diff_files(base_path: str | pathlib.Path, head_path: str | pathlib.Path, with_policy: bool = True, policies: Iterable[Any] | None = None) -> StackDiff:
    docs = []
    for path in (base_path, head_path):
        try:
            doc = json.loads(pathlib.Path(path).read_text())
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot read synth document {path}: {err}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
            raise UsageError(f"{path} is not a synth document (no `resources` list)")
        docs.append(doc)
    result = diff_documents(docs[0], docs[1], pathlib.Path(base_path).name, pathlib.Path(head_path).name)
    if with_policy:
        result.policy = policy_delta(docs[0], docs[1], result, policies)
    return result


# --------------------------------------------------------------------------- the real `pulumi preview --json`

_REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}


@dataclass
class PreviewComparison:
    """The offline prediction beside what a real ``pulumi preview --json`` planned (provider-side diffs included)."""

    counts: dict[str, int]
    agree: list[tuple[str, str]]  # (name, real replace reasons)
    only_preview: list[tuple[str, str, str]]  # (name, type, reasons): what the offline diff could not know
    only_offline: list[tuple[str, str]]  # (name, what offline predicted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changeSummary": self.counts,
            "replacementsBoth": [{"name": n, "reasons": r} for n, r in self.agree],
            "replacementsOnlyInPreview": [{"name": n, "type": t, "reasons": r} for n, t, r in self.only_preview],
            "replacementsOnlyOffline": [{"name": n, "offline": w} for n, w in self.only_offline],
        }

    def text_lines(self) -> list[str]:
        lines = [f"pulumi preview: {', '.join(f'{k} {v}' for k, v in sorted(self.counts.items()))}"]
        lines += [f"  replace (both): {n} ({r})" for n, r in self.agree]
        lines += [f"  replace (only pulumi preview): {n} {t} ({r})" for n, t, r in self.only_preview]
        lines += [f"  replace (only offline): {n}: {w}" for n, w in self.only_offline]
        return lines

    def markdown_lines(self) -> list[str]:
        from .formats import md_escape

        lines = ["#### Real `pulumi preview`", "",
                 "Changes planned: " + (", ".join(f"{k} **{v}**" for k, v in sorted(self.counts.items())) or "none"), ""]
        if not (self.agree or self.only_preview or self.only_offline):
            return [*lines, "No replacement, offline or in the real preview.", ""]
        lines += ["| Resource | offline diff | pulumi preview |", "|---|---|---|"]
        lines += [f"| {md_escape(n)} | replace | replace ({md_escape(r) or 'no reason given'}) |" for n, r in self.agree]
        lines += [f"| {md_escape(n)} `{t}` | update or unchanged | **replace** ({md_escape(r) or 'no reason given'}) |"
                  for n, t, r in self.only_preview]
        lines += [f"| {md_escape(n)} | replace: {md_escape(w)} | not replaced |" for n, w in self.only_offline]
        return [*lines, ""]


def compare_preview(diff: StackDiff, path: str | pathlib.Path) -> PreviewComparison:
    """Read ``pulumi preview --json`` output and set it beside the offline replacements."""
    try:
        data = json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read the pulumi preview output {path}: {err}") from None
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        raise UsageError(f"{path} is not `pulumi preview --json` output (no `steps` list)")
    counts = {k: int(v) for k, v in (data.get("changeSummary") or {}).items() if k != "same" and isinstance(v, int) and v}
    real: dict[tuple[str, str], list[str]] = {}
    for step in steps:
        if not isinstance(step, dict) or step.get("op") not in _REPLACE_OPS:
            continue
        urn = str(step.get("urn") or "")
        key = (urn.rsplit("::", 1)[-1], urn.split("::")[-2].rsplit("$", 1)[-1] if urn.count("::") >= 3 else "")
        reasons = real.setdefault(key, [])
        for reason in step.get("replaceReasons") or []:
            if reason not in reasons:
                reasons.append(str(reason))
    offline = {(rc.name, rc.type): rc for rc in diff.resources if rc.op in ("replace", "rename")}
    agree = [(n, ", ".join(real[(n, t)])) for (n, t) in sorted(offline) if (n, t) in real]
    only_preview = [(n, t, ", ".join(r)) for (n, t), r in sorted(real.items()) if (n, t) not in offline]
    only_offline = [(n, "; ".join(rc.reasons)[:200]) for (n, t), rc in sorted(offline.items()) if (n, t) not in real]
    return PreviewComparison(counts, agree, only_preview, only_offline)


RENDER = {"markdown": render_markdown, "json": render_json, "text": render_text}
