#!/usr/bin/env bash
# The supported-versions matrix (`make test-matrix`): for each ansible-core release the collection claims in
# meta/runtime.yml, a venv of its own with that core, then ansible-test sanity, the unit tests and one playbook
# run (offline diagnosis of the bundled dump). Too slow for every CI run (each core builds its own sanity venvs);
# its last result is in docs/testing.md.
#
#   scripts/test_matrix.sh                 # every row below
#   scripts/test_matrix.sh 2.16 2.21       # only these cores
#
# Each row's output goes to .cache/matrix/<core>/log; a summary table is printed at the end. Nothing is shared
# between rows or with the main .venv (own venv, own ansible-test HOME, own sanity copy).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD

# core -> Python. ansible-core >= 2.20 needs Python >= 3.12 (pyenv has it on the project machines).
declare -A python_for=(
  [2.16]=python3.11 [2.17]=python3.11 [2.18]=python3.11 [2.19]=python3.11
  [2.20]=python3.12 [2.21]=python3.12
)
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(2.16 2.17 2.18 2.19 2.20 2.21)

find_python() {
  local want=$1 cand
  # pyenv's shims exist for every version but fail unless it is selected: try each candidate for real.
  for cand in "$HOME/.pyenv/versions/${want#python}"*/bin/python "$want"; do
    if "$cand" -c 'import sys' >/dev/null 2>&1; then command -v "$cand"; return 0; fi
  done
  return 1
}

declare -A result
for core in "${rows[@]}"; do
  py_name=${python_for[$core]:-}
  [ -n "$py_name" ] || { echo "test_matrix: no row for ansible-core $core (known: ${!python_for[*]})" >&2; exit 2; }
  dir=$root/.cache/matrix/$core
  log=$dir/log
  mkdir -p "$dir"; : > "$log"
  py=$(find_python "$py_name") || { result[$core]="skipped: $py_name not found"; continue; }
  echo "=== ansible-core $core on $($py --version 2>&1) (log: $log)"
  status=()
  if [ ! -x "$dir/venv/bin/ansible-test" ]; then
    "$py" -m venv "$dir/venv" >>"$log" 2>&1
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "ansible-core==$core.*" \
      -r requirements.txt pytest pytest-xdist hypothesis jsonschema antsibull-docs-parser >>"$log" 2>&1 \
      || { result[$core]="install failed"; continue; }
  fi
  version=$("$dir/venv/bin/ansible" --version 2>/dev/null | sed -n '1s/.*core \([0-9.]*\).*/\1/p')
  # ansible-test's venvs live under its HOME: one per row, so rows never rebuild each other's.
  if AIOPS_VENV=$dir/venv AIOPS_SANITY_DIR=$dir/sanity scripts/sanity.sh >>"$log" 2>&1; then
    status+=("sanity ok")
  else
    status+=("sanity FAILED")
  fi
  # Units that need tools only the main .venv has (ansible-lint, molecule, ansible-builder) skip themselves.
  if PATH=$dir/venv/bin:$PATH ANSIBLE_CONFIG=$root/ansible.cfg \
      "$dir/venv/bin/python" -m pytest tests/unit -q -n 2 -p no:randomly >>"$log" 2>&1; then
    status+=("units ok ($(grep -oE '[0-9]+ passed' "$log" | tail -1))")
  else
    status+=("units FAILED ($(grep -oE '[0-9]+ (passed|failed)' "$log" | tail -2 | paste -sd' '))")
  fi
  report=$dir/report
  rm -rf "$report"
  if PATH=$dir/venv/bin:$PATH ANSIBLE_CONFIG=$root/ansible.cfg "$dir/venv/bin/ansible-playbook" \
      playbooks/diagnose_pod.yml -e dump_dir=examples/cluster-dump -e report_dir="$report" >>"$log" 2>&1 \
      && [ -s "$report/diagnosis.json" ]; then
    status+=("playbook ok")
  else
    status+=("playbook FAILED")
  fi
  result[$core]="$version on $($py --version 2>&1 | cut -d' ' -f2): $(IFS=';'; echo "${status[*]}")"
done

echo
echo "| ansible-core | result |"
echo "| --- | --- |"
rc=0
for core in "${rows[@]}"; do
  echo "| $core | ${result[$core]:-not run} |"
  case ${result[$core]:-} in *FAILED*|*failed*) rc=1 ;; esac
done
exit $rc
