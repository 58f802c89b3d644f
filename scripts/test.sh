#!/usr/bin/env bash
# Every check CI runs, in order of speed; stops at the first failing stage and says which.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_CONFIG=$PWD/ansible.cfg PATH=$PWD/.venv/bin:$PATH
stage() { printf '\n=== %s ===\n' "$1"; }
started=$(date +%s)

scripts/ensure_system_deps.sh

stage "ansible-lint (production profile)"
ansible-lint --profile production

stage "ansible-test sanity"
scripts/sanity.sh

stage "pytest: unit, integration, Molecule"
python -m pytest tests -q -n "${AIOPS_TEST_WORKERS:-2}" --dist loadgroup

printf '\nall stages passed in %ss\n' "$(( $(date +%s) - started ))"
