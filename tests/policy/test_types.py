"""The TAGGABLE list matches pulumi_aws for every AWS type the program declares."""

from __future__ import annotations

import importlib
import inspect

from policy.rules import types as t


def accepts_tags(type_token: str) -> bool:
    # "aws:ec2/vpc:Vpc" -> pulumi_aws.ec2.Vpc
    _, module_path, class_name = type_token.split(":")
    module_name = module_path.split("/")[0]
    module = importlib.import_module(f"pulumi_aws.{module_name}_" if module_name == "lambda" else f"pulumi_aws.{module_name}")
    cls = getattr(module, class_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_taggable_matches_the_sdk_for_every_declared_type(prod):
    declared = {r["type"] for r in prod.resources if r["custom"] and r["type"].startswith("aws:")}
    wrong = {typ for typ in declared if accepts_tags(typ) != (typ in t.TAGGABLE)}
    assert not wrong, f"TAGGABLE is out of step with pulumi_aws for: {sorted(wrong)}"
