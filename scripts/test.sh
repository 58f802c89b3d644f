#!/usr/bin/env bash
# Every check CI runs, fastest first; stops at the first failing stage. pytest runs last so its summary
# line ("N passed ...") closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_CONFIG=$PWD/ansible.cfg PATH=$PWD/.venv/bin:$PATH
stage() { printf '\n=== %s (%ss so far) ===\n' "$1" "$SECONDS"; }

scripts/ensure_system_deps.sh

stage "ansible-lint (production profile)"
ansible-lint --profile production

stage "ansible-test sanity"
scripts/sanity.sh

stage "pytest: unit, integration, Molecule"
exec python -m pytest tests -q -n "${AIOPS_TEST_WORKERS:-2}" --dist worksteal
