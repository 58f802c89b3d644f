"""docs/testing.md's "start an emulator by hand" block, run exactly as written from the repository root.

A reader copies these lines into a shell; if one of them stops working (a module moved, a flag renamed)
this test fails before the reader finds out.
"""

import os
import pathlib
import re
import shlex
import signal
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _emulator_block():
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        lines = [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
        if lines and "kube_emulator serve" in lines[0]:
            return lines
    raise AssertionError("docs/testing.md has no bash block that starts the emulator by hand")


@pytest.mark.integration
def test_emulator_by_hand_block_runs_as_written():
    lines = _emulator_block()
    serve, rest = lines[0], lines[1:]
    kubeconfig = pathlib.Path(re.search(r"--kubeconfig-out (\S+)", serve).group(1))
    if kubeconfig.exists():
        kubeconfig.unlink()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env.pop("KUBECONFIG", None)
    server = subprocess.Popen(shlex.split(serve), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not kubeconfig.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
        assert kubeconfig.exists(), "the emulator did not start: %s" % server.stderr.read()[-2000:]
        outputs = []
        for line in rest:
            proc = subprocess.run(["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=300, check=False)
            assert proc.returncode == 0, "%s\nfailed (rc=%s):\n%s\n%s" % (
                line, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
            outputs.append(proc.stdout)
        # kubectl lists the seeded pods, and the playbook diagnoses them.
        assert "demo" in " ".join(rest) and len(outputs[-2].splitlines()) > 5
        assert "CrashLoopBackOff" in outputs[-1] and "WARNING" not in outputs[-1]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
