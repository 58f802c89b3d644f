#!/usr/bin/env bash
# Set up everything the collection needs in this checkout, idempotently:
#   .venv/                       Python with ansible-core, kubernetes and the test tools
#   .collections/ansible_collections/kubernetes/core   (from the `ansible` wheel: no Galaxy needed)
#   .collections/ansible_collections/aiops/k8s -> this checkout (so `aiops.k8s.*` resolves)
# Re-running it only does what is missing. Override the interpreter with AIOPS_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ansible_wheel_version=12.3.0   # ships kubernetes.core 6.x for ansible-core 2.19
py=${AIOPS_PYTHON:-}
if [ -z "$py" ]; then
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      py=$cand; break
    fi
  done
fi
[ -n "$py" ] || { echo "bootstrap: Python >= 3.11 is required (set AIOPS_PYTHON)" >&2; exit 1; }

say() { printf 'bootstrap: %s\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $py"
  "$py" -m venv .venv
fi
stamp=.venv/.aiops-requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing Python requirements"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$want" > "$stamp"
fi

mkdir -p .collections/ansible_collections/aiops .cache
if [ ! -f .collections/ansible_collections/kubernetes/core/MANIFEST.json ]; then
  if [ "${AIOPS_USE_GALAXY:-0}" = 1 ]; then
    say "installing kubernetes.core from Galaxy"
    .venv/bin/ansible-galaxy collection install -r requirements.yml -p .collections
  else
    say "taking kubernetes.core from the ansible ${ansible_wheel_version} wheel on PyPI"
    .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps \
      "ansible==${ansible_wheel_version}" -d .cache/wheels 2>&1 | { grep -v "^WARNING: Location" || true; }
    .venv/bin/python - "$root" "$ansible_wheel_version" <<'PY'
import glob, sys, zipfile
root, version = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{root}/.cache/wheels/ansible-{version}-*.whl")[0]
prefix = "ansible_collections/kubernetes/core/"
with zipfile.ZipFile(wheel) as archive:
    members = [n for n in archive.namelist() if n.startswith(prefix)]
    archive.extractall(f"{root}/.collections", members=members)
PY
  fi
fi
if [ ! -e .collections/ansible_collections/aiops/k8s ]; then
  ln -s ../../.. .collections/ansible_collections/aiops/k8s
fi
say "ready: $(.venv/bin/ansible --version 2>/dev/null | sed -n 1p)"
