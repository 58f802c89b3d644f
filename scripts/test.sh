#!/usr/bin/env bash
# Every check CI runs. ansible-test sanity keeps one core busy for minutes while the other waits, so it runs
# in the background beside ansible-lint and pytest (its output is printed when it ends); every stage runs
# even when an earlier one fails, and the exit status is non-zero if any failed. pytest's summary line
# ("N passed ...") is printed again last so it closes the output.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
export ANSIBLE_CONFIG=$PWD/ansible.cfg PATH=$PWD/.venv/bin:$PATH
stage() { printf '\n=== %s (%ss so far) ===\n' "$1" "$SECONDS"; }

scripts/ensure_system_deps.sh || exit

logs=$(mktemp -d "${TMPDIR:-/tmp}/aiops-k8s-test.XXXXXX")
# Started first: it copies the checkout before the tests write anything.
scripts/sanity.sh >"$logs/sanity" 2>&1 &
sanity_pid=$!
trap 'kill "$sanity_pid" 2>/dev/null; rm -rf "$logs"' EXIT

stage "ansible-lint (production profile)"
ansible-lint --profile production
lint_rc=$?

stage "pytest: unit, integration, Molecule (ansible-test sanity runs beside it)"
# --tb=native: CPython 3.11 can crash pytest's own traceback formatting (an AST race between threads), which
# aborts the run and hides the failing test's name; the interpreter's traceback does not parse source.
python -m pytest tests -q -n "${AIOPS_TEST_WORKERS:-2}" --dist worksteal --tb=native -rf 2>&1 | tee "$logs/pytest"
pytest_rc=${PIPESTATUS[0]}

wait "$sanity_pid"
sanity_rc=$?
stage "ansible-test sanity (finished in the background)"
cat "$logs/sanity"

printf '\n=== results (%ss): ansible-lint rc=%s, ansible-test sanity rc=%s, pytest rc=%s ===\n' \
  "$SECONDS" "$lint_rc" "$sanity_rc" "$pytest_rc"
grep -E '^(=+ )?[0-9]+ (passed|failed|errors?|skipped|deselected)' "$logs/pytest" | tail -n 1
[ "$lint_rc" -eq 0 ] && [ "$sanity_rc" -eq 0 ] && [ "$pytest_rc" -eq 0 ]
