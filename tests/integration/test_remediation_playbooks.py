"""The remediation playbooks end to end: ansible-playbook subprocesses against the emulator over HTTP.

The gate must fail closed: with stdin not a terminal and no pre-approval nothing is written; a
pre-approval for another plan is refused by the module; check mode writes nothing.
"""

import json
import os
import subprocess
import time

import pytest

from tests.integration.test_remediation_actions import (
    DEP,
    WEB,
    Controller,
    diagnosis,
    seed_deployment,
    spec_of,
    writes,
)
from tests.support.fixtures import ansible_environment
from tests.support.local_run import local_run
from tests.support.site_policy import lab_site_policy

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")


def recorded_environment(kube_api, tmp_path):
    """The emulator's environment with the PHR callback on: the change playbooks refuse to run without it.

    Under the lab site policy (unsigned pre-approvals of any tier): who may approve is tested on its own.
    """
    return ansible_environment(kube_api.kubeconfig, dict(lab_site_policy(tmp_path), **{
        "ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr", "AIOPS_K8S_PHR_DIR": str(tmp_path / "phr-of-playbooks")}))


def play(kube_api, tmp_path, name, extra, *args):
    vars_file = tmp_path / ("vars-%d.json" % time.monotonic_ns())
    vars_file.write_text(json.dumps(extra))
    cmd = [PLAYBOOK, "-i", "localhost,", "aiops.k8s.%s" % name, "-e", "@%s" % vars_file] + list(args)
    proc = subprocess.run(cmd, cwd=REPO, env=recorded_environment(kube_api, tmp_path), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=180, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def plan_first(kube_api, tmp_path):
    seed_deployment(kube_api)
    plan_file = tmp_path / "plan.json"
    rc, out = play(kube_api, tmp_path, "remediate_pod", {
        "remediation_diagnosis": diagnosis("set_memory_limit", WEB, {"memory_limit": "384Mi"}),
        "remediation_stage": "plan", "plan_file": str(plan_file)})
    assert rc == 0, out
    plan = json.loads(plan_file.read_text())
    assert "REMEDIATION PLAN %s" % plan["plan_id"] in out
    assert oct(os.stat(plan_file).st_mode & 0o777) == "0o600"
    return plan


def predicted(out):
    """The memory limits on the removed and added lines of the diff that --check --diff printed."""
    def limit(sign):
        return [line.split("memory:")[1].strip().strip('"') for line in out.splitlines()
                if line.startswith(sign) and "memory:" in line]
    removed, added = limit("-"), limit("+")
    return (removed[0] if removed else None, added[0] if added else None)


def base_vars(state_dir):
    return {"remediation_diagnosis": diagnosis("set_memory_limit", WEB, {"memory_limit": "384Mi"}),
            "validation_window": 1, "poll_interval": 0.2, "state_dir": str(state_dir)}


def test_no_tty_without_preapproval_changes_nothing(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    kube_api.clear_requests()
    rc, out = play(kube_api, tmp_path, "remediate_pod", base_vars(tmp_path / "ops"))
    assert rc != 0
    assert "stdin is not a terminal" in out and "approval_plan_id=%s" % plan["plan_id"] in out
    assert "nothing was changed" in out
    assert writes(kube_api) == []
    assert not (tmp_path / "ops").exists()


def test_preapproved_executes_validates_and_rolls_back_by_id(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    before = spec_of(kube_api)
    extra = base_vars(tmp_path / "ops")
    extra.update(approval_plan_id=plan["plan_id"].lower(), approval_decision="approve", approver="alice",
                 justification="INC-7 OOM")
    with Controller(kube_api, duration=30):
        started = time.monotonic()
        rc, out = play(kube_api, tmp_path, "remediate_pod", extra)
        took = time.monotonic() - started
    assert rc == 0, out
    assert "OPERATION op-" in out and "VALIDATED" in out
    limits = spec_of(kube_api)["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["memory"] == "384Mi"
    assert "hunter2-secret" not in out       # env values in the diff/record output are redacted
    op_id = out.split("OPERATION ")[1].split(":")[0]
    assert took < 60
    applied = spec_of(kube_api)
    kube_api.clear_requests()
    rc, out = play(kube_api, tmp_path, "rollback", {"operation_id": op_id, "state_dir": str(tmp_path / "ops")},
                   "--check", "--diff")
    assert rc == 0, out
    assert predicted(out) == ("384Mi", "256Mi")              # --check --diff shows the restore it would make
    assert writes(kube_api) == [] and spec_of(kube_api) == applied
    rc, out = play(kube_api, tmp_path, "rollback", {"operation_id": op_id, "state_dir": str(tmp_path / "ops")})
    assert rc == 0, out
    assert spec_of(kube_api) == before
    rc, out = play(kube_api, tmp_path, "validate_remediation",
                   {"operation_id": op_id, "state_dir": str(tmp_path / "ops"), "checkpoint": "5m"})
    assert rc != 0 and "checkpoint is not reached" in out


def test_preapproval_for_other_plan_is_refused(kube_api, tmp_path):
    plan_first(kube_api, tmp_path)
    kube_api.clear_requests()
    extra = base_vars(tmp_path / "ops")
    extra.update(approval_plan_id="ABCDEFGH", approver="alice", justification="typo")
    rc, out = play(kube_api, tmp_path, "remediate_pod", extra)
    assert rc != 0
    assert "Approval is for plan ABCDEFGH" in out and "REFUSED" in out
    assert writes(kube_api) == []


def test_stale_preapproval_after_drift_is_refused(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    kube_api.call("PATCH", DEP, {"spec": {"replicas": 4}}, content_type="application/merge-patch+json")
    kube_api.clear_requests()
    extra = base_vars(tmp_path / "ops")
    extra.update(approval_plan_id=plan["plan_id"], approver="alice", justification="INC-7")
    rc, out = play(kube_api, tmp_path, "remediate_pod", extra)
    assert rc != 0
    assert "is for plan %s, not plan" % plan["plan_id"] in out     # re-planning gave a new id
    assert writes(kube_api) == []


def test_check_mode_writes_nothing(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    kube_api.clear_requests()
    extra = base_vars(tmp_path / "ops")
    extra.update(approval_plan_id=plan["plan_id"], approver="alice", justification="INC-7")
    rc, out = play(kube_api, tmp_path, "remediate_pod", extra, "--check", "--diff")
    assert rc == 0, out
    assert "DRY_RUN" in out and "384Mi" in out
    assert predicted(out) == ("256Mi", "384Mi")              # the diff of the change it would make
    assert "hunter2-secret" not in out   # nothing printed carries the secret env value
    assert writes(kube_api) == []


def test_awx_mode_claimed_from_extra_vars_changes_nothing(kube_api, tmp_path):
    """Attack: -e awx_job_id=1 -e awx_workflow_job_id=1 -e aiops_plan=... -e approver=anyone from a shell.

    Extra vars are not proof of an AWX approval node: the executor refuses an AWX approval it cannot
    verify with the controller API, and no write reaches the cluster.
    """
    plan = plan_first(kube_api, tmp_path)
    kube_api.clear_requests()
    awx = {"awx_job_id": 41, "awx_workflow_job_id": 77, "approver": "bob", "justification": "approved in AWX",
           "validation_window": 1, "poll_interval": 0.2, "state_dir": str(tmp_path / "ops")}
    rc, out = play(kube_api, tmp_path, "remediate_pod", dict(awx, pod="web-new-0", namespace="shop"))
    assert rc != 0 and "aiops_plan artifact is missing" in out
    assert writes(kube_api) == []
    rc, out = play(kube_api, tmp_path, "remediate_pod", dict(awx, aiops_plan=plan))
    assert rc != 0, out
    assert "extra vars are not proof" in out and "REFUSED" in out
    assert writes(kube_api) == []


def run_in_pty(kube_api, tmp_path, extra, answer, timeout=120):
    """ansible-playbook on a pseudo-terminal; types ``answer`` at the plan-id prompt."""
    import pty
    import select
    vars_file = tmp_path / "pty-vars.json"
    vars_file.write_text(json.dumps(extra))
    env = recorded_environment(kube_api, tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # child: exec at once
        os.chdir(REPO)
        os.execve(PLAYBOOK, [PLAYBOOK, "-i", "localhost,", "aiops.k8s.remediate_pod", "-e", "@%s" % vars_file], env)
    out, sent, end = b"", False, time.monotonic() + timeout
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
        if not sent and b"Type the plan id" in out:
            time.sleep(0.3)
            os.write(fd, answer.encode() + b"\r")
            sent = True
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_interactive_wrong_plan_id_changes_nothing(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    kube_api.clear_requests()
    extra = dict(base_vars(tmp_path / "ops"), justification="INC-7")
    rc, out = run_in_pty(kube_api, tmp_path, extra, plan["plan_id"][:-1] + "X")
    assert rc != 0
    assert "Not approved: the answer was not plan id %s" % plan["plan_id"] in out
    assert writes(kube_api) == []


def test_interactive_typed_plan_id_executes(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    extra = dict(base_vars(tmp_path / "ops"), justification="INC-7", approver="carol")
    with Controller(kube_api, duration=60):
        rc, out = run_in_pty(kube_api, tmp_path, extra, plan["plan_id"].lower())
    assert rc == 0, out
    assert "VALIDATED" in out and "(interactive)" in out
    assert spec_of(kube_api)["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "384Mi"


def play_env(kube_api, tmp_path, name, extra, env_extra):
    vars_file = tmp_path / ("vars-%d.json" % time.monotonic_ns())
    vars_file.write_text(json.dumps(extra))
    env = recorded_environment(kube_api, tmp_path)
    env.update(env_extra)
    proc = subprocess.run([PLAYBOOK, "-i", "localhost,", "aiops.k8s.%s" % name, "-e", "@%s" % vars_file], cwd=REPO,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_forged_trivial_plan_and_empty_policy_from_extra_vars_change_nothing(kube_api, tmp_path):
    """Attack through the playbook: -e aiops_plan=<edited to trivial, id recomputed> -e aiops_remediation_policy={rules: []}.

    The playbook takes its trivial path (no approval asked); remediate derives the tier from the live object.
    """
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import compute_plan_id
    plan = plan_first(kube_api, tmp_path)
    plan.update(risk_tier="trivial", params={"memory_limit": "64Gi", "previous_memory_limit": "256Mi"})
    plan["plan_id"] = compute_plan_id(plan)
    kube_api.clear_requests()
    extra = dict(base_vars(tmp_path / "ops"), aiops_plan=plan, aiops_remediation_policy={"rules": []})
    rc, out = play(kube_api, tmp_path, "remediate_pod", extra)
    assert rc != 0
    assert "carries no valid MAC for this site's plan key" in " ".join(out.split())    # the edit breaks the MAC
    assert writes(kube_api) == []
    # Even with a valid MAC (a key holder's edit) the tier comes from the live object, not the plan.
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity
    extra["aiops_plan"] = integrity.sign(plan, integrity.load_key())
    rc, out = play(kube_api, tmp_path, "remediate_pod", extra)
    assert rc != 0
    assert "is medium tier on the live object: it needs an approval, not the trivial path" in " ".join(out.split())
    assert writes(kube_api) == []


def test_signed_preapproval_end_to_end(kube_api, tmp_path):
    """The documented signed happy path: plan, sign with ssh-keygen -Y, execute with the signature."""
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import signatures
    key = tmp_path / "id_alice"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", str(key)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("alice %s\n" % (tmp_path / "id_alice.pub").read_text().strip())
    policy = tmp_path / "site-policy.json"
    policy.write_text(json.dumps({"approvers": {"alice": "critical"}, "unsigned_max_tier": "trivial"}))
    env = {"AIOPS_K8S_ALLOWED_SIGNERS": str(allowed), "AIOPS_K8S_POLICY_FILE": str(policy)}
    plan = plan_first(kube_api, tmp_path)
    approval = {"plan_id": plan["plan_id"], "decision": "approve", "approver": "alice",
                "justification": "INC-9 OOM", "decided_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    signature = signatures.sign(signatures.approval_message(plan["plan_id"], approval), str(key), local_run)
    extra = dict(base_vars(tmp_path / "ops"), approval_plan_id=plan["plan_id"], approver="alice",
                 justification="INC-9 OOM", approval_decided_at=approval["decided_at"])
    rc, out = play_env(kube_api, tmp_path, "remediate_pod", extra, env)        # unsigned: refused by the site policy
    assert rc != 0 and "unsigned pre-approval is accepted only up to trivial" in " ".join(out.split())
    with Controller(kube_api, duration=60):
        rc, out = play_env(kube_api, tmp_path, "remediate_pod", dict(extra, approval_signature=signature), env)
    assert rc == 0, out
    assert "VALIDATED" in out
    assert spec_of(kube_api)["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "384Mi"
