"""`python -m golive reach`: one path hop by hop (exit 0/1), the matrix (text, JSON, Markdown), usage errors (2)."""

from __future__ import annotations

import json

import pytest

from golive import __main__ as cli
from golive import check, reach, report

EXIT_OK, EXIT_NONE, EXIT_USAGE = 0, 1, 2


@pytest.fixture(scope="module")
def synth_file(tmp_path_factory, prod):
    path = tmp_path_factory.mktemp("reach") / "prod.json"
    path.write_text(prod.to_json())
    return str(path)


def run(capsys, *argv):
    code = cli.main(["reach", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_an_existing_path_exits_0_and_prints_every_hop(capsys, synth_file):
    code, out, _ = run(capsys, "--synth-file", synth_file, "--from", "nodes", "--to", "database:5432")
    assert code == EXIT_OK
    assert out.startswith("nodes → database (tcp 5432): reachable on 5432")
    for hop in ("1. security group egress: golive-node-sg", "route: golive-private-rt-", "network ACL: golive-private-nacl",
                "network ACL: golive-isolated-nacl", "security group ingress: golive-db-sg", "listener: golive-db-instance"):
        assert hop in out


def test_a_missing_path_exits_1_and_names_the_first_blocker_of_every_route(capsys, synth_file):
    code, out, _ = run(capsys, "--synth-file", synth_file, "--from", "internet", "--to", "database")
    assert code == EXIT_NONE
    assert "no path" in out
    assert out.count("blocked at public address: golive-db-instance has no public address") == 1  # grouped over 3 subnets
    assert "(and 2 more)" in out


def test_a_service_is_reached_through_the_load_balancer(capsys, synth_file):
    code, out, _ = run(capsys, "--synth-file", synth_file, "--from", "internet", "--to", "trading-api")
    assert code == EXIT_OK
    assert "reachable through golive-alb:443" in out and "golive-trading-api-rule" in out


def test_the_stack_is_synthesized_when_no_file_is_given(capsys, monkeypatch, prod):
    monkeypatch.setattr(cli, "_synth", lambda args: prod)
    code, out, _ = run(capsys, "--stack", "prod", "--from", "isolated", "--to", "internet")
    assert code == EXIT_NONE and "has no route to any internet address" in out


def test_json_answer_carries_the_hops(capsys, synth_file):
    code, out, _ = run(capsys, "--synth-file", synth_file, "--from", "alb", "--to", "nodes:8080", "--format", "json")
    answer = json.loads(out)
    assert code == EXIT_OK and answer["exists"] and answer["reachable"] == "8080"
    passing = [c for c in answer["candidates"] if c["passes"]]
    assert passing and passing[0]["hops"][0]["step"] == "security group egress"
    assert passing[0]["hops"][-1]["urn"].endswith("::golive-nodes-from-alb-8080")


def test_udp_is_asked_with_protocol(capsys, synth_file):
    code, out, _ = run(capsys, "--synth-file", synth_file, "--from", "internet", "--to", "alb:443", "--protocol", "udp")
    assert code == EXIT_NONE and "(udp 443)" in out


@pytest.mark.parametrize("argv", [
    ("--from", "printer", "--to", "alb"),
    ("--from", "vpn", "--to", "printer"),
    ("--from", "vpn", "--to", "alb:70000"),
    ("--from", "vpn"),
    ("--matrix", "--from", "vpn", "--to", "alb"),
    (),
])
def test_usage_errors_exit_2_with_one_message(capsys, synth_file, argv):
    code, out, err = run(capsys, "--synth-file", synth_file, *argv)
    assert code == EXIT_USAGE and out == "" and err.startswith("golive: ") and "Traceback" not in err


def test_an_unreadable_synth_file_is_a_usage_error(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, _, err = run(capsys, "--synth-file", str(bad), "--matrix")
    assert code == EXIT_USAGE and "cannot read synth document" in err


def test_the_text_matrix_judges_every_cell_against_the_intent(capsys, synth_file):
    code, out, _ = run(capsys, "--synth-file", synth_file, "--matrix")
    assert code == EXIT_OK
    rows = {line.split()[0]: line for line in out.splitlines()[3:14] if line.strip()}
    assert "80, 443 ✓" in rows["internet"]
    assert "5432 ✓" in rows["nodes"] and "6379 ✓" in rows["nodes"]
    assert not any("⚠" in row for row in rows.values())


def test_the_json_matrix(capsys, synth_file):
    code, out, _ = run(capsys, "--synth-file", synth_file, "--matrix", "--format", "json")
    matrix = json.loads(out)
    assert code == EXIT_OK and matrix["protocol"] == "tcp"
    assert matrix["sources"][:2] == ["internet", "vpn"]
    assert matrix["cells"]["internet"]["alb"] == {"ports": "80, 443", "through": [], "status": "intended"}
    assert matrix["cells"]["internet"]["database"]["ports"] == ""
    assert matrix["cells"]["internet"]["trading-api"]["through"] == ["golive-alb:443"]
    assert matrix["cells"]["alb"]["trading-api"] == {"ports": "8080", "through": [], "status": "intended"}


def test_the_markdown_matrix_is_a_table(capsys, synth_file, tmp_path):
    out_file = tmp_path / "matrix.md"
    code, _, _ = run(capsys, "--synth-file", synth_file, "--matrix", "--format", "markdown", "--out", str(out_file))
    text = out_file.read_text()
    assert code == EXIT_OK and text.startswith("## Reachability")
    assert "| `internet` | — | 80, 443 ✓ |" in text


def test_intent_comes_from_a_pack_config_file(capsys, synth_file, tmp_path):
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"network-reach-intent": {"deployerCidrs": ["203.0.113.0/24"]}}))
    code, out, _ = run(capsys, "--synth-file", synth_file, "--matrix", "--policy-config", str(config), "--format", "json")
    matrix = json.loads(out)
    assert "deployer" in matrix["sources"] and matrix["cells"]["deployer"]["eks-api"]["status"] == "missing"
    code, out, _ = run(capsys, "--synth-file", synth_file, "--from", "deployer", "--to", "eks-api:443",
                       "--deployer-cidr", "198.51.100.0/24")
    assert code == EXIT_NONE and "deployer 198.51.100.0/24" in out


def test_a_bad_pack_config_is_a_usage_error(capsys, synth_file, tmp_path):
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"network-reach-intent": {"required": "nodes -> database", "bogus": 1}}))
    code, _, err = run(capsys, "--synth-file", synth_file, "--matrix", "--policy-config", str(config))
    assert code == EXIT_USAGE and "required: must be a list of strings" in err and "bogus: unknown setting" in err


def test_the_readiness_report_shows_the_matrix(prod):
    text = report.render(check.check(prod), prod)
    section = text[text.index("## Reachability"):]
    assert "| from \\ to |" in section and "| `nodes` |" in section
    assert section.count("\n| `") == len(reach.matrix(reach.network(prod)).sources)
