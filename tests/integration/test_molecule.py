"""Run every Molecule scenario under extensions/molecule/ so CI's pytest summary counts them.

Each scenario is self-contained: its create step starts what it needs (the Kubernetes API emulator, a
local artifact server) and destroy stops it, so the same scenarios run against kind on a laptop by
switching the scenario's target variable (see docs/testing.md).
"""

import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted(path.parent.name for path in (ROOT / "extensions" / "molecule").glob("*/molecule.yml"))


def _documented_commands():
    """The bash lines of docs/testing.md's code blocks (comments and blank lines dropped)."""
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines()
            if line.split("#")[0].strip()]


def test_docs_run_scenarios_with_the_command_this_test_runs():
    """The Molecule command in docs/testing.md is exactly the one the scenario test below executes."""
    commands = _documented_commands()
    assert "scripts/molecule.sh diagnose_oom" in commands
    assert any(c.endswith("scripts/molecule.sh diagnose_oom") and "AIOPS_MOLECULE_TARGET=kind" in c for c in commands)


@pytest.mark.molecule
@pytest.mark.integration
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, tmp_path):
    """Runs ``scripts/molecule.sh <scenario>`` as docs/testing.md writes it, with a clean PATH: the script
    itself must find the venv, ansible.cfg and the collections path of this checkout."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "MOLECULE_", "VIRTUAL_ENV"))}
    env.update(
        PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p),
        # Isolation between parallel scenarios only; nothing the documented command needs.
        MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / "ephemeral"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
    )
    proc = subprocess.run(
        [str(ROOT / "scripts" / "molecule.sh"), scenario],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, "scripts/molecule.sh %s failed (rc=%s):\n%s" % (
        scenario, proc.returncode, proc.stdout[-6000:])
