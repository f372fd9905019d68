# golive: offline preview, tests and benchmark. `make setup` once, then the rest.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# Checkov lives in its own virtualenv: its pins conflict with pulumi's (requirements-checkov.txt).
CHECKOV_VENV ?= .venv-checkov
CHECKOV = $(CHECKOV_VENV)/bin/checkov
STACK ?= prod

.PHONY: setup tools preview synth tfplan checkov check report test plugin-test lint bench docs policy-config replacements replacements-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

setup: $(VENV)/.installed $(CHECKOV_VENV)/.installed

## promtool and amtool (Debian's prometheus, prometheus-alertmanager) for the rule and route tests; a C compiler for
## the Go race detector (the plugin's tests). Go itself is the machine's (docs/delivery.md).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
tools:
	@command -v promtool >/dev/null && command -v amtool >/dev/null && command -v gcc >/dev/null || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager gcc libc6-dev >/dev/null)

## The main job: the prod stack's resource tree and its policy verdict, offline.
preview: setup
	$(BIN)/python -m golive preview --stack $(STACK)

synth: setup
	mkdir -p build
	$(BIN)/python -m golive synth --stack $(STACK) --out build/$(STACK).synth.json

## The stack as a Terraform plan (JSON), for Checkov and other plan scanners.
tfplan: setup
	mkdir -p build
	$(BIN)/python -m golive synth --stack $(STACK) --format terraform-plan --out build/$(STACK).tfplan.json

## Checkov's report on the plan (soft-fail: it lists accepted risks too). The gate is `make test`
## (tests/policy/test_checkov.py): it fails on a finding that is neither fixed, exempted in golive's
## verdict, nor listed in policy/checkov-not-applicable.yaml.
checkov: tfplan
	$(CHECKOV) -f build/$(STACK).tfplan.json --framework terraform_plan --skip-download --compact --quiet --soft-fail

check: setup
	$(BIN)/python -m golive check --stack $(STACK)

## The whole test suite: lint, unit and policy tests, promtool/amtool suites, the traffic-router plugin's Go tests.
test: setup tools plugin-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

## The Argo Rollouts traffic-router plugin (delivery/alb-traffic-router): go vet, go test -race with moto in server mode
## (from the venv) and the plugin binary called over go-plugin RPC; modules from the Go module proxy.
plugin-test: setup
	$(MAKE) -C delivery/alb-traffic-router test MOTO_SERVER=$(abspath $(BIN))/moto_server

report: setup
	$(BIN)/python -m golive report --stack $(STACK)

## Regenerate the generated docs (config reference, delivery templates).
docs: setup
	$(BIN)/python -m components.config
	$(BIN)/python -m components.delivery

## Every policy of the pack in policy/config/$(STACK).json (existing values kept, new policies at their defaults).
policy-config: setup
	$(BIN)/python -c "import pathlib, sys; sys.path.insert(0, '.'); from golive import analyzer; analyzer.write_policy_config(pathlib.Path('policy/config/$(STACK).json'))"

## The replace-on-change table (golive/replacements.json) from the providers' source: needs Go and the Go module proxy
## on a cold module cache (about 150 MB), nothing on a warm one.
replacements: setup
	$(BIN)/python tools/replacement_table.py

replacements-check: setup
	$(BIN)/python tools/replacement_table.py --check

bench: setup
	$(BIN)/python -m golive bench --stack $(STACK)

clean:
	rm -rf build .pytest_cache .hypothesis
