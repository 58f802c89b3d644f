"""The documented approval paths end to end: ansible-playbook subprocesses against the emulator over HTTP.

Signed pre-approval: the bash blocks of docs/remediation.md marked ``run by tests/integration/test_approval_e2e.py``
run as written, in one shell, from a scratch directory with a scratch HOME. Two things differ from what a reader
types, both printed below: the example plan id is replaced by the id of the plan the first command just made, and
the execute command gets a 1 s validation window (the default 60 s would only make the test slow).

AWX: the block of docs/awx.md runs the same way against the AWX API emulator (``AwxApi``: the controller's
response shapes for jobs, workflow nodes and workflow approvals); only the controller URL is replaced.

Every refusal asserts zero non-dry-run write requests to the cluster.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from tests.integration.test_remediation_actions import Controller, diagnosis, node, writes
from tests.integration.test_remediation_attacks import AwxApi
from tests.support.fixtures import ansible_environment
from tests.support.local_run import local_run
from tests.support.oom_chain import oom_deployment_chain

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.path.dirname(sys.executable)
EXAMPLE_ID = "K7QM4XTAR2PZ9WDHC6VN3EBJ5G"
DEP = "/apis/apps/v1/namespaces/shop/deployments/web"
SHORT_WINDOW = " -e validation_window=1 -e poll_interval=0.2"


def doc_block(page, name):
    """The bash block that follows the marker ``<!-- run by tests/integration/test_approval_e2e.py: NAME -->``."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    match = re.search(r"<!-- run by tests/integration/test_approval_e2e\.py: %s -->\n```bash\n(.*?)```"
                      % re.escape(name), text, re.S)
    assert match, "docs/%s has no block marked %s" % (page, name)
    return match.group(1)


def limit(api):
    return api.get(DEP)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]


@pytest.fixture
def shell(kube_api, tmp_path):
    """Runs bash scripts the way a reader would: cwd a scratch directory, HOME a scratch home, no TTY."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    env = ansible_environment(kube_api.kubeconfig, {"HOME": str(home), "PATH": BIN + os.pathsep + os.environ["PATH"]})
    for name in ("ANSIBLE_CALLBACKS_ENABLED", "AIOPS_K8S_PHR_DIR", "AIOPS_K8S_STATE_DIR", "AIOPS_K8S_ALLOWED_SIGNERS",
                 "AIOPS_K8S_POLICY_FILE", "AIOPS_K8S_PLAN_KEY", "AIOPS_K8S_PLAN_KEY_FILE", "XDG_CONFIG_HOME"):
        env.pop(name, None)

    def run(script, extra_env=None):
        proc = subprocess.run(["bash", "-c", "set -e\n" + script], cwd=work, env=dict(env, **(extra_env or {})),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    run.home, run.work = home, work
    return run


def keys(shell, *names):
    """Extra approver keys (the documented setup makes alice's)."""
    for name in names:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                        str(shell.home / ".ssh" / ("aiops_" + name))], check=True)


def exports(setup):
    """Only the export lines of the setup block (to re-enter its environment in a later shell)."""
    return "\n".join(line for line in setup.splitlines() if line.startswith("export "))


def plan_id_of(shell):
    return json.loads((shell.work / "plan.json").read_text())["plan_id"]


def operations(shell):
    store = shell.home / ".local" / "state" / "aiops-k8s" / "operations"
    return [json.loads(p.read_text()) for p in sorted(store.glob("op-*.json"))]


# ------------------------------------------------------------------ signed pre-approval, as documented

def test_signed_preapproval_in_three_commands_as_documented(kube_api, shell):
    kube_api.load(oom_deployment_chain("256Mi", {"memory": "128Mi"}))
    setup = doc_block("remediation.md", "signed-setup")
    commands = doc_block("remediation.md", "signed-three-commands").strip().splitlines()
    assert len(commands) == 3 and EXAMPLE_ID in commands[1]
    commands[1] = commands[1].replace(EXAMPLE_ID, '"$(python -c \'import json; print(json.load(open("plan.json"))'
                                                  '["plan_id"])\')"')
    commands[2] += SHORT_WINDOW
    with Controller(kube_api, duration=180):
        rc, out = shell(setup + "\n" + "\n".join(commands))
    assert rc == 0, out
    plan = json.loads((shell.work / "plan.json").read_text())
    assert plan["action"] == "set_memory_limit" and plan["risk_tier"] == "medium"
    # approve.yml printed the plan in full before signing: summary, before -> after, window, the plan JSON
    printed = out.split("REMEDIATION PLAN %s" % plan["plan_id"])
    assert len(printed) >= 3, out          # the plan stage's summary, then approve.yml's
    assert '"256Mi" -> "%s"' % plan["params"]["memory_limit"] in out and plan["target_spec_digest"] in out
    assert "SIGNED approval of plan %s by alice" % plan["plan_id"] in out
    assert "verified against" in out
    approval = json.loads((shell.work / "approval.json").read_text())
    assert approval["aiops_plan"] == plan and "BEGIN SSH SIGNATURE" in approval["approval_signature"]
    assert oct((shell.work / "approval.json").stat().st_mode & 0o777) == "0o600"
    assert "VALIDATED" in out and "approve by alice" in " ".join(out.split()) and "(signed)" in out
    assert limit(kube_api) == plan["params"]["memory_limit"]
    [operation] = operations(shell)
    gate = operation["operation"]["gate"]
    assert gate["approver"] == "alice" and gate["mode"] == "signed" and gate["verdict"] == "approved"
    records = shell.home / ".local" / "state" / "aiops-k8s" / "phr"
    assert any(re.search(r'"approver":\s*"alice"', p.read_text()) for p in records.rglob("*.json")), \
        "the PHR record names the signing principal"


def test_signed_refusals_wrong_key_and_principal_without_the_tier(kube_api, shell):
    """Attacks on the signed path at playbook level; each execute run writes nothing to the cluster."""
    kube_api.load(oom_deployment_chain("256Mi", {"memory": "128Mi"}))
    setup = doc_block("remediation.md", "signed-setup")
    keys(shell, "bob", "mallory")
    setup += '\necho "bob $(cat ~/.ssh/aiops_bob.pub)" >> ~/.config/aiops-k8s/allowed_signers'
    setup += "\nprintf 'approvers: {alice: critical, bob: low}\\n' > ~/.config/aiops-k8s/policy.yml"
    plan_cmd, approve_cmd, execute_cmd = doc_block("remediation.md", "signed-three-commands").strip().splitlines()
    rc, out = shell(setup + "\n" + plan_cmd)
    assert rc == 0, out
    plan_id = plan_id_of(shell)
    approve = approve_cmd.replace(EXAMPLE_ID, plan_id)
    env = exports(setup) + "\n"
    kube_api.clear_requests()

    # The approver's own shell knows the allowed_signers file: a wrong key is refused before anything is written.
    rc, out = shell(env + approve.replace("aiops_alice", "aiops_mallory"))
    assert rc != 0 and "does not verify for principal alice" in out, out
    assert not (shell.work / "approval.json").exists()
    # ... and bob's tier is checked against the plan's before signing.
    rc, out = shell(env + approve.replace("aiops_alice", "aiops_bob").replace("approver=alice", "approver=bob"))
    assert rc != 0 and "bob may approve up to low" in out, out

    # An attacker signs without that configuration; the executor refuses.
    cases = [
        ("wrong key", approve.replace("aiops_alice", "aiops_mallory"), "does not verify for alice"),
        ("principal without the tier", approve.replace("aiops_alice", "aiops_bob").replace("approver=alice",
                                                                                           "approver=bob"),
         "bob may approve up to low, this plan is medium"),
    ]
    for name, signing, message in cases:
        rc, out = shell(signing)                      # no AIOPS_K8S_* in this shell: nothing checked early
        assert rc == 0, (name, out)
        rc, out = shell(env + execute_cmd + SHORT_WINDOW)
        assert rc != 0 and message in " ".join(out.split()) and "REFUSED" in out, (name, out)
    assert writes(kube_api) == []
    assert limit(kube_api) == "256Mi"


def test_signed_approval_after_the_tier_sla_is_refused(kube_api, shell):
    kube_api.load(oom_deployment_chain("256Mi", {"memory": "128Mi"}))
    setup = doc_block("remediation.md", "signed-setup")
    # The site policy shortens the medium SLA to 3 s: the plan and its approval expire while the test waits.
    setup = setup.replace("approvers: {alice: critical}", "approvers: {alice: critical}\\ntier_sla_seconds: {medium: 3}")
    plan_cmd, approve_cmd, execute_cmd = doc_block("remediation.md", "signed-three-commands").strip().splitlines()
    rc, out = shell(setup + "\n" + plan_cmd)
    assert rc == 0, out
    rc, out = shell(exports(setup) + "\n" + approve_cmd.replace(EXAMPLE_ID, plan_id_of(shell)))
    assert rc == 0, out
    kube_api.clear_requests()
    rc, out = shell(exports(setup) + "\nsleep 4\n" + execute_cmd + SHORT_WINDOW)
    assert rc != 0 and "expired" in out and "REFUSED" in out, out
    assert writes(kube_api) == []


def test_signed_approval_replayed_after_rollback_is_refused(kube_api, shell):
    """cordon -> rollback (standing approval) -> the same approval.json again: refused by the single-use ledger."""
    node(kube_api)
    target = {"api_version": "v1", "kind": "Node", "namespace": None, "name": "node-1"}
    diag = diagnosis("cordon_node", target, tier="critical", owner=None)
    (shell.work / "diagnosis.json").write_text(json.dumps({"remediation_diagnosis": diag}))
    setup = doc_block("remediation.md", "signed-setup")
    plan_cmd, approve_cmd, execute_cmd = doc_block("remediation.md", "signed-three-commands").strip().splitlines()
    plan_cmd = plan_cmd.replace("-e pod=web-new-0 -e pod_namespace=shop", "-e @diagnosis.json")
    rc, out = shell(setup + "\n" + plan_cmd)
    assert rc == 0, out
    rc, out = shell(exports(setup) + "\n" + approve_cmd.replace(EXAMPLE_ID, plan_id_of(shell)))
    assert rc == 0, out
    rc, out = shell(exports(setup) + "\n" + execute_cmd + SHORT_WINDOW)
    assert rc == 0 and "VALIDATED" in out and "approve by alice" in " ".join(out.split()), out
    assert kube_api.get("/api/v1/nodes/node-1")["spec"]["unschedulable"] is True
    op_id = out.split("OPERATION ")[1].split(":")[0]
    rc, out = shell(exports(setup) + "\nansible-playbook aiops.k8s.rollback -e operation_id=%s" % op_id)
    assert rc == 0, out
    assert not kube_api.get("/api/v1/nodes/node-1").get("spec", {}).get("unschedulable")
    kube_api.clear_requests()
    rc, out = shell(exports(setup) + "\n" + execute_cmd + SHORT_WINDOW)
    assert rc != 0 and "already used" in out and "REFUSED" in out, out
    assert writes(kube_api) == []
    assert not kube_api.get("/api/v1/nodes/node-1").get("spec", {}).get("unschedulable")


# ------------------------------------------------------------------ AWX: the execute job template, as documented

@pytest.fixture
def awx_api():
    api = AwxApi()
    yield api
    api.close()


def test_awx_execute_job_as_documented(kube_api, shell, awx_api):
    kube_api.load(oom_deployment_chain("256Mi", {"memory": "128Mi"}))
    block = doc_block("awx.md", "awx-execute").replace("https://awx.example.com", awx_api.url)
    lines = [line for line in block.strip().splitlines() if not line.startswith("#")]
    plan_cmd, env_line, execute_cmd = lines
    job = re.search(r"JOB_ID=(\d+)", env_line).group(1)
    workflow = re.search(r"awx_workflow_job_id=(\d+)", execute_cmd).group(1)
    assert "awx_job_id=%s" % job in execute_cmd and "approver=" in execute_cmd
    # The plan key is what the AWX credential injects into both jobs (never an extra var).
    credential = {"AIOPS_K8S_PLAN_KEY": "0123456789abcdef0123456789abcdef", "ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr"}
    rc, out = shell(plan_cmd, credential)
    assert rc == 0, out
    kube_api.clear_requests()
    refusals = [
        ("denied", dict(status="failed"), "is failed (denied or pending)"),
        ("timed out", dict(status="failed", timed_out=True), "timed out"),
        ("job not launched by that workflow", dict(launched_by=55), "was not launched by workflow job %s" % workflow),
    ]
    for name, setup, message in refusals:
        awx_api.workflow(int(workflow), int(job), approver="carol", **setup)
        rc, out = shell(env_line + "\n" + execute_cmd + SHORT_WINDOW, credential)
        assert rc != 0 and message in " ".join(out.split()) and "REFUSED" in out, (name, out)
    assert writes(kube_api) == []
    assert limit(kube_api) == "256Mi"

    awx_api.workflow(int(workflow), int(job), approver="carol")
    with Controller(kube_api, duration=120):
        rc, out = shell(env_line + "\n" + execute_cmd + SHORT_WINDOW, credential)
    assert rc == 0, out
    flat = " ".join(out.split())
    assert "VALIDATED" in flat and "approve by carol" in flat and "AWX workflow job %s" % workflow in flat
    assert "carol" not in execute_cmd          # the controller's approver, not the survey's
    [operation] = operations(shell)
    assert operation["operation"]["gate"]["approver"] == "carol" and operation["operation"]["gate"]["mode"] == "awx"
    plan = json.loads((shell.work / "plan.json").read_text())
    assert limit(kube_api) == plan["params"]["memory_limit"]


# ------------------------------------------------------------------ approve.yml on a terminal (no cluster needed)

def approve_on_a_terminal(shell, answers, timeout=180, extra=()):
    """ansible-playbook aiops.k8s.approve on a pseudo-terminal; answers {prompt text: typed line}."""
    import pty
    import select
    import time
    argv = [os.path.join(BIN, "ansible-playbook"), "aiops.k8s.approve", "-e", "plan_file=plan.json",
            "-e", "signing_key=~/.ssh/aiops_alice", "-e", "approver=alice"] + list(extra)
    env = ansible_environment(str(shell.work / "kubeconfig"), {"HOME": str(shell.home)})
    pid, fd = pty.fork()
    if pid == 0:  # child: exec at once
        os.chdir(str(shell.work))
        os.execve(argv[0], argv, env)
    out, pending, end = b"", list(answers.items()), time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _w, _x = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
        if pending and pending[0][0].encode() in out.split(b"TASK [Show the plan in full]")[-1]:
            time.sleep(0.3)
            os.write(fd, pending.pop(0)[1].encode() + b"\r")
    if time.monotonic() >= end:
        os.kill(pid, 9)
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_approve_on_a_terminal_prints_the_plan_then_asks(shell):
    from ansible_collections.aiops.k8s.plugins.module_utils.common.time import utcnow
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import build_plan
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.signatures import SignatureVerifier
    keys(shell, "alice")
    live = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": "u1", "generation": 3},
            "spec": {"replicas": 1}}
    diag = diagnosis("set_memory_limit", {"api_version": "apps/v1", "kind": "Deployment", "namespace": "shop",
                                          "name": "web", "container": "app"},
                     {"memory_limit": "384Mi", "previous_memory_limit": "256Mi"})
    plan = build_plan(diag, live, utcnow())
    (shell.work / "plan.json").write_text(json.dumps(plan))
    rc, out = approve_on_a_terminal(shell, {"Type the plan id": plan["plan_id"][:13] + "-" + plan["plan_id"][13:],
                                            "Justification": "INC-77 OOM"}, timeout=60)
    assert rc == 0, out
    shown = out.index("REMEDIATION PLAN %s" % plan["plan_id"])
    assert shown < out.index("Type the plan id") < out.index("Justification") < out.index("SIGNED approval")
    assert '"256Mi" -> "384Mi"' in out
    approval = json.loads((shell.work / "approval.json").read_text())
    assert approval["justification"] == "INC-77 OOM" and approval["approval_plan_id"] == plan["plan_id"]
    allowed = shell.home / "allowed_signers"
    allowed.write_text("alice %s\n" % (shell.home / ".ssh" / "aiops_alice.pub").read_text().strip())
    signed = {"plan_id": plan["plan_id"], "decision": "approve", "approver": "alice", "justification": "INC-77 OOM",
              "decided_at": approval["approval_decided_at"], "signature": approval["approval_signature"]}
    assert SignatureVerifier(str(allowed), {"alice": "critical"}, local_run)(signed, plan["plan_id"], "medium") == "alice"

    (shell.work / "approval.json").unlink()
    rc, out = approve_on_a_terminal(shell, {"Type the plan id": "NOTTHEPLAN"})
    assert rc != 0 and "Not signed: you gave plan id NOTTHEPLAN, not plan %s" % plan["plan_id"] in " ".join(out.split()), out
    assert not (shell.work / "approval.json").exists()

    # Nobody answers: the prompt ends at approval_prompt_timeout; without a terminal it returns at once.
    rc, out = approve_on_a_terminal(shell, {}, timeout=90, extra=["-e", "approval_prompt_timeout=2"])
    assert rc != 0 and "Not signed: no plan id was given for plan %s" % plan["plan_id"] in " ".join(out.split()), out
    rc, out = shell("ansible-playbook aiops.k8s.approve -e plan_file=plan.json -e signing_key=~/.ssh/aiops_alice "
                    "-e approver=alice")
    assert rc != 0 and "Without a terminal pass -e approval_plan_id=%s" % plan["plan_id"] in " ".join(out.split())
    assert not (shell.work / "approval.json").exists()
