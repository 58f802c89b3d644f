#!/usr/bin/env bash
# One Molecule scenario, as docs/testing.md writes it: `scripts/molecule.sh diagnose_oom`.
# Sets what Molecule needs from this checkout (the venv on PATH, ansible.cfg, the collections path with
# kubernetes.core and aiops.k8s), so the command works as written from a fresh clone after `make setup`.
# AIOPS_MOLECULE_TARGET=kind AIOPS_MOLECULE_KUBECONFIG=~/.kube/config runs the same scenario against kind.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ $# -lt 1 ]; then
  scenarios=""
  for file in extensions/molecule/*/molecule.yml; do scenarios="$scenarios $(basename "$(dirname "$file")")"; done
  echo "usage: scripts/molecule.sh SCENARIO [molecule test options]; scenarios:$scenarios" >&2
  exit 2
fi
scenario=$1; shift
[ -f "extensions/molecule/$scenario/molecule.yml" ] || { echo "scripts/molecule.sh: no scenario $scenario in $root/extensions/molecule" >&2; exit 2; }
[ -x .venv/bin/molecule ] || scripts/bootstrap.sh
export PATH=$root/.venv/bin:$PATH ANSIBLE_CONFIG=$root/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$root/.collections \
  AIOPS_ROOT=$root PY_COLORS=${PY_COLORS:-0} ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}
exec molecule test -s "$scenario" "$@"
