#!/usr/bin/env bash
# ansible-test sanity, offline: ansible-test must run from .../ansible_collections/aiops/k8s, so copy the
# files git knows about (tracked + untracked-not-ignored) there and run it in a venv of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${AIOPS_SANITY_DIR:-$root/.cache/sanity}
# The venv whose ansible-test runs (scripts/test_matrix.sh points this at one venv per ansible-core version).
venv=${AIOPS_VENV:-$root/.venv}
dest=$work/ansible_collections/aiops/k8s
# ansible-test keeps its sanity venvs and the get-pip bootstrap under ~/.ansible/test; two checkouts (or two
# `make test` runs) sharing one HOME rebuild and delete each other's venvs mid-run. Give this checkout its own.
# ansible-test passes only HOME (not PIP_*) to pip, so link the user's pip config (index, wheel dirs) and
# download cache into it; pip's cache is safe to share, ansible-test's venvs are not.
real_home=$HOME
export HOME=${AIOPS_SANITY_HOME:-$work/home}
mkdir -p "$HOME/.config" "$HOME/.cache"
for d in .config/pip .cache/pip; do
  if [ -e "$real_home/$d" ] && [ ! -e "$HOME/$d" ]; then ln -s "$real_home/$d" "$HOME/$d"; fi
done
pipver=$(grep -oP "pip='\K[0-9.]+" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
cache=$HOME/.ansible/test/cache/get_pip_${pipver//./_}.py
if [ ! -f "$cache" ]; then mkdir -p "$(dirname "$cache")"; cp scripts/get_pip_standin.py "$cache"; fi
rm -rf "$dest"; mkdir -p "$dest" "$work/ansible_collections/kubernetes"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$dest/$(dirname "$f")"; cp -p "$f" "$dest/$f"
done
rm -rf "$work/ansible_collections/kubernetes/core"
cp -r .collections/ansible_collections/kubernetes/core "$work/ansible_collections/kubernetes/core"
cd "$dest"
git init -q . && git add -A >/dev/null 2>&1   # ansible-test reads the file list from git
export PATH=$venv/bin:$PATH
exec ansible-test sanity --venv --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --color no "$@"
