"""docs/config.md: every ``golive:`` key with its type, default and documentation."""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any

from .loader import SECRET_KEYS
from .parser import NAMESPACE, _type_name, camel
from .stack import StackConfig


def reference() -> list[tuple[str, str, str, Any]]:
    """(key, type, documentation, default) for every setting: the source of docs/config.md."""
    rows: list[tuple[str, str, str, Any]] = []

    def walk(cls: Any, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            key = f"{prefix}{camel(f.name)}"
            if dataclasses.is_dataclass(tp):
                walk(tp, key + ".")
                continue
            item = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None
            if item is not None and dataclasses.is_dataclass(item):
                rows.append((key, "a list of objects", f.metadata.get("doc", ""), "[]"))
                walk(item, key + "[].")
                continue
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else "(required)")
            rows.append((key, _type_name(tp), f.metadata.get("doc", ""), default))

    walk(StackConfig, f"{NAMESPACE}:")
    for key, text in SECRET_KEYS.items():
        rows.append((f"{NAMESPACE}:{key}", "secret string", f"{text[0].upper()}{text[1:]}; a `secure:` value (`pulumi config set "
                     f"--secret`), required in production.", "(unset)"))
    return rows


def render_reference() -> str:
    """docs/config.md: every `golive:` key with its type, default and documentation."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from `components/config/` by `make docs` (`python -m components.config`); "
        "a test keeps it current. Keys are set in `Pulumi.<stack>.yaml` under `config:`; unknown keys are",
        "rejected, and every problem is reported at once with the key, the value given and the rule.",
        "",
        "| Key | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for key, type_name, text, default in reference():
        shown = json.dumps(list(default) if isinstance(default, tuple) else default, default=str)
        if dataclasses.is_dataclass(default):
            shown = "(object)"
        shown = shown.replace("|", "\\|")
        lines.append(f"| `{key}` | {type_name} | `{shown}` | {text.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
