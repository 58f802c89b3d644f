# The two commands a new user needs (README): `make demo` and `make test`. Both set everything up first.
SHELL := /bin/bash
VENV := .venv/bin
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: demo test setup lint sanity unit integration molecule bench clean

setup:
	@scripts/bootstrap.sh

# Diagnose the live cluster if one is configured, otherwise the bundled example dump.
demo: setup
	$(VENV)/ansible-playbook playbooks/diagnose_pod.yml $(ARGS)

# Everything CI runs (.ci/run calls exactly this).
test: setup
	@scripts/test.sh

lint: setup
	$(VENV)/ansible-lint --profile production

sanity: setup
	scripts/sanity.sh

unit: setup
	$(VENV)/python -m pytest tests/unit -q

integration: setup
	$(VENV)/python -m pytest tests/integration -q -m "not molecule"

molecule: setup
	$(VENV)/python -m pytest tests/integration -q -m molecule

bench: setup
	$(VENV)/python benchmarks/run_all.py

clean:
	rm -rf .venv .cache .collections tests/output
