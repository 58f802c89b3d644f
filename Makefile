# The two commands a new user needs (README): `make demo` and `make test`. Both set everything up first.
SHELL := /bin/bash
VENV := .venv/bin
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: demo test test-matrix setup lint sanity unit integration molecule bench docs docs-check build clean

setup:
	@scripts/bootstrap.sh

# Diagnose the live cluster if one is configured, otherwise the bundled example dump.
demo: setup
	$(VENV)/ansible-playbook playbooks/diagnose_pod.yml $(ARGS)

# Everything CI runs (.ci/run calls exactly this).
test: setup
	@scripts/test.sh

# Sanity, units and one playbook on every supported ansible-core (slow: not part of `make test`; C=2.16 for one).
test-matrix: setup
	scripts/test_matrix.sh $(C)

lint: setup
	$(VENV)/ansible-lint --profile production

sanity: setup
	scripts/sanity.sh

unit: setup
	$(VENV)/python -m pytest tests/unit -q

integration: setup
	$(VENV)/python -m pytest tests/integration -q -m "not molecule"

# Every scenario through pytest, or one as docs/testing.md writes it: make molecule S=diagnose_oom
molecule: setup
	@if [ -n "$(S)" ]; then scripts/molecule.sh $(S); else $(VENV)/python -m pytest tests/integration -q -m molecule; fi

bench: setup
	$(VENV)/python benchmarks/bench_diagnose.py
	$(VENV)/python benchmarks/bench_classify.py
	$(VENV)/python benchmarks/bench_remediation.py
	$(VENV)/python benchmarks/bench_fleet.py
	$(VENV)/python benchmarks/bench_phr.py
	$(VENV)/python benchmarks/bench_transport.py
	$(VENV)/python benchmarks/bench_bundle.py
	$(VENV)/python benchmarks/bench_module_path.py

# Regenerate docs/reference from the plugins' own documentation (tests/unit/test_docs.py fails when stale).
docs: setup
	$(VENV)/python scripts/gen_docs.py

docs-check: setup
	$(VENV)/python scripts/gen_docs.py --check

# The Galaxy / Automation Hub tarball, in build/ (galaxy.yml build_ignore keeps benchmarks, scripts and caches out).
build: setup
	$(VENV)/ansible-galaxy collection build --force --output-path build .

clean:
	rm -rf .venv .cache .collections tests/output build
