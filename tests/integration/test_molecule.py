"""Run every Molecule scenario under extensions/molecule/ so CI's pytest summary counts them.

Each scenario is self-contained: its create step starts what it needs (the Kubernetes API emulator, a
local artifact server) and destroy stops it, so the same scenarios run against kind on a laptop by
switching the scenario's target variable (see docs/testing.md).
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted(path.parent.name for path in (ROOT / "extensions" / "molecule").glob("*/molecule.yml"))


@pytest.mark.molecule
@pytest.mark.integration
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, tmp_path):
    env = dict(os.environ)
    bin_dir = str(pathlib.Path(sys.executable).parent)
    env.update(
        PATH=bin_dir + os.pathsep + env.get("PATH", ""),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / "ephemeral"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        AIOPS_ROOT=str(ROOT),
        PY_COLORS="0",
        ANSIBLE_FORCE_COLOR="0",
    )
    proc = subprocess.run(
        [os.path.join(bin_dir, "molecule"), "test", "-s", scenario],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, "molecule test -s %s failed (rc=%s):\n%s" % (
        scenario, proc.returncode, proc.stdout[-6000:])
