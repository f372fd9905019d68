"""`python -m golive` (golive/__main__.py): help that names every command and option, results that say what they are."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from golive import __main__ as cli
from golive import formats
from tests.helpers import drop


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_the_top_level_help_lists_every_command_with_its_purpose_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for name in _commands():
        assert re.search(rf"\b{name} +\w", out), f"{name} is missing from --help"
    for known in ("synth", "check", "diff", "preview", "report", "reach", "verify", "bench"):
        assert known in _commands()
    assert "Exit codes: 0 ready" in out and "2 a usage or configuration error" in out


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_option_of_every_command_says_what_it_does(command):
    undocumented = [a.option_strings or a.dest for a in _commands()[command]._actions
                    if a.help != argparse.SUPPRESS and not (a.help or "").strip()]
    assert undocumented == []


def test_a_command_line_mistake_is_a_usage_error_not_a_traceback(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["nosuchverb"])
    assert exc.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "invalid choice: 'nosuchverb'" in err and "Traceback" not in err


# --------------------------------------------------------------------------- synth


def test_synth_without_out_prints_a_summary_not_the_tree(prod, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_synth", lambda args, **_: prod)
    assert cli.main(["synth"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    lines = out.rstrip().splitlines()
    top_components = [r for r in prod.resources if not r["custom"] and r["parent"] not in {x["urn"] for x in prod.resources}]
    assert len(lines) <= len(top_components) + 3
    assert lines[0].startswith(f"stack prod · project golive · {len(prod.resources)} resources")
    for component in top_components:
        assert any(line.split() == [component["type"], component["name"], *line.split()[2:]] for line in lines)
    assert "golive:network:Network" in out and "aws:ec2/subnet:Subnet" not in out  # components, not their children


def test_synth_prints_the_document_only_when_asked(prod, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "_synth", lambda args, **_: prod)
    assert cli.main(["synth", "--format", "synth"]) == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out) == json.loads(prod.to_json())
    out = tmp_path / "prod.json"
    assert cli.main(["synth", "--out", str(out)]) == cli.EXIT_OK
    assert out.read_text() == prod.to_json()
    assert f"wrote {len(prod.resources)} resources" in capsys.readouterr().err


# --------------------------------------------------------------------------- check


@pytest.fixture(scope="module")
def synth_files(prod, tmp_path_factory):
    folder = tmp_path_factory.mktemp("check")
    ready, broken = folder / "prod.json", folder / "broken.json"
    ready.write_text(prod.to_json())
    broken.write_text(drop(prod, lambda r: r["type"] == "aws:ec2/flowLog:FlowLog").to_json())
    return ready, broken


def test_check_text_ends_with_the_verdict_line_as_preview_does(synth_files, capsys):
    ready, broken = synth_files
    assert cli.main(["check", "--synth-file", str(ready)]) == cli.EXIT_OK
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[-1].startswith("verdict: GO — 0 mandatory violations")
    assert "readiness by category:" in lines
    assert cli.main(["check", "--synth-file", str(broken), "--format", "text"]) == cli.EXIT_VIOLATION
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last.startswith("verdict: NO-GO — ") and "network-vpc-flow-logs" in last


def test_check_markdown_is_the_whole_readiness_report(synth_files, prod, prod_check, tmp_path):
    ready, _ = synth_files
    out = tmp_path / "readiness.md"
    assert cli.main(["check", "--synth-file", str(ready), "--format", "markdown", "--out", str(out)]) == cli.EXIT_OK
    text = out.read_text()
    policy_part = formats.render_markdown(prod_check, prod)
    assert text.startswith(policy_part.rstrip("\n"))  # the policy part first, in full
    # the sections `report` documents (golive/report.py), past the policy part
    for section in ("## By category", "## Inventory", "## Encryption", "## Protected from deletion", "## Backup coverage",
                    "## Monitoring", "## Restore tests", "## Game days", "## Reachability"):
        assert f"\n{section}\n" in text, section
    assert "## Inventory" not in policy_part
