"""No unrecorded change, write-ahead operations and the user-facing variables of the change playbooks.

ansible-playbook subprocesses against the emulator over HTTP: without the aiops.k8s.phr callback and without
an explicit opt-out no request reaches the cluster; an opt-out is printed and saved in the operation store;
the store says ``applying`` at the moment the PATCH arrives, and an operation a killed run left ``applying``
can still be validated. Issue 15: pod_namespace, blank survey answers, paths relative to the user's directory.
"""

import glob
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from tests.integration.test_remediation_actions import DEP, WEB, Controller, diagnosis, node, pod, seed_deployment, spec_of
from tests.integration.test_remediation_playbooks import PLAYBOOK, REPO, plan_first, recorded_environment
from tests.support.fixtures import ansible_environment
from tests.support.site_policy import lab_site_policy

pytestmark = pytest.mark.integration

OP_ID = "op-20261202000000-abcdef"


def run(kube_api, tmp_path, name, extra, env=None, cwd=REPO, args=()):
    vars_file = tmp_path / ("vars-%d.json" % time.monotonic_ns())
    vars_file.write_text(json.dumps(extra))
    env = env if env is not None else ansible_environment(kube_api.kubeconfig, lab_site_policy(tmp_path))
    proc = subprocess.run([PLAYBOOK, "-i", "localhost,", "aiops.k8s.%s" % name, "-e", "@%s" % vars_file] + list(args),
                          cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180,
                          check=False)
    return proc.returncode, proc.stdout + proc.stderr


def approved_vars(plan, state_dir, **more):
    extra = {"remediation_diagnosis": diagnosis("set_memory_limit", WEB, {"memory_limit": "384Mi"}),
             "validation_window": 1, "poll_interval": 0.2, "state_dir": str(state_dir),
             "approval_plan_id": plan["plan_id"], "approval_decision": "approve", "approver": "alice",
             "justification": "INC-12 OOM"}
    extra.update(more)
    return extra


def stored(state_dir):
    files = glob.glob(os.path.join(str(state_dir), "op-*.json"))
    assert len(files) == 1, files
    with open(files[0]) as stream:
        return json.load(stream)


@pytest.mark.parametrize("name,extra", [
    ("remediate_pod", {"pod": "web-new-0", "pod_namespace": "shop"}),
    ("diagnose_and_remediate", {"pod": "web-new-0", "pod_namespace": "shop"}),
    ("rollback", {"operation_id": OP_ID}),
    ("validate_remediation", {"operation_id": OP_ID, "rollback_on_failure": True}),
])
def test_change_playbooks_refuse_to_start_without_the_callback(kube_api, tmp_path, name, extra):
    seed_deployment(kube_api)
    kube_api.clear_requests()
    rc, out = run(kube_api, tmp_path, name, dict(extra, state_dir=str(tmp_path / "ops")))
    assert rc != 0
    flat = " ".join(out.split())
    assert "No PHR record would be kept of this change, so nothing was done" in flat
    assert "ANSIBLE_CALLBACKS_ENABLED=aiops.k8s.phr" in flat and "aiops_phr_opt_out=true" in flat
    assert kube_api.requests == []          # not one request of any kind, reads included
    assert not (tmp_path / "ops").exists()


def test_blank_opt_out_is_no_opt_out_and_read_only_runs_need_no_callback(kube_api, tmp_path):
    seed_deployment(kube_api)
    kube_api.clear_requests()
    rc, out = run(kube_api, tmp_path, "rollback", {"operation_id": OP_ID, "aiops_phr_opt_out": ""})
    assert rc != 0 and "No PHR record would be kept" in out and kube_api.requests == []
    # A follow-up check without rollback_on_failure changes nothing: it runs (and fails on the unknown id).
    rc, out = run(kube_api, tmp_path, "validate_remediation",
                  {"operation_id": OP_ID, "state_dir": str(tmp_path / "ops")})
    assert rc != 0 and "No PHR record" not in out and "Operation %s not found" % OP_ID in out


def test_opt_out_runs_warns_and_is_saved_in_the_operation_store(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)           # the plan stage only reads: it needs no record
    ops = tmp_path / "ops"
    with Controller(kube_api, duration=30):
        rc, out = run(kube_api, tmp_path, "remediate_pod", approved_vars(plan, ops, aiops_phr_opt_out=True))
    assert rc == 0, out
    flat = " ".join(out.split())
    account = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    assert "PHR opt-out by %s" % account in flat
    assert "[WARNING]: PHR opt-out: %s runs this remediation without the aiops.k8s.phr record" % account in flat
    record = stored(ops)
    assert record["operation"]["phr_opt_out"] is True and record["operation"]["status"] == "validated"
    assert spec_of(kube_api)["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "384Mi"

    rc, out = run(kube_api, tmp_path, "rollback", {"operation_id": record["operation_id"], "state_dir": str(ops),
                                                   "aiops_phr_opt_out": True})
    assert rc == 0, out
    assert "PHR opt-out: %s rolls back %s" % (account, record["operation_id"]) in " ".join(out.split())
    rollback = stored(ops)["rollbacks"][-1]
    assert rollback["phr_opt_out"] is True and rollback["phr_opt_out_by"] == account and rollback["succeeded"]


def test_with_the_callback_the_run_is_not_an_opt_out(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    ops = tmp_path / "ops"
    with Controller(kube_api, duration=30):
        rc, out = run(kube_api, tmp_path, "remediate_pod", approved_vars(plan, ops, aiops_phr_opt_out=True),
                      env=recorded_environment(kube_api, tmp_path))
    assert rc == 0, out
    assert "PHR opt-out by" not in out and "[WARNING]: PHR opt-out" not in out
    assert stored(ops)["operation"]["phr_opt_out"] is False
    assert glob.glob(str(tmp_path / "phr-of-playbooks" / "*" / "op-*.json"))      # the callback wrote the record


def descendants(root):
    """Every live process under ``root`` (from /proc), children before their own children."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                parents.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, queue = [], [root]
    while queue:
        for child in parents.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


class HeldPatch:
    """Request hook on the emulator: at the real (non-dry-run) PATCH of the Deployment, copy the operation
    store as it is at that moment, then hold the request until released (the client may be killed meanwhile).
    Leaving the block releases it and waits until the server has applied it (its thread runs on after release)."""

    def __init__(self, api, state_dir):
        self.api, self.state_dir = api, state_dir
        self.seen, self.release, self.applied = threading.Event(), threading.Event(), threading.Event()
        self.store_at_patch = None
        self.original = api.emulator._dispatch

    def __call__(self, method, parts, query, headers, body):
        if method == "PATCH" and query.get("dryRun") != "All" and "/" + "/".join(parts) == DEP \
                and self.store_at_patch is None:
            self.store_at_patch = stored(self.state_dir)
            self.seen.set()
            self.release.wait(30)
            try:
                return self.original(method, parts, query, headers, body)
            finally:
                self.applied.set()
        return self.original(method, parts, query, headers, body)

    def __enter__(self):
        self.api.emulator._dispatch = self
        return self

    def __exit__(self, *exc):
        self.release.set()
        if self.seen.is_set():
            self.applied.wait(30)
        self.api.emulator._dispatch = self.original


def test_store_says_applying_when_the_patch_is_sent_and_a_killed_run_can_be_validated(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    ops = tmp_path / "ops"
    vars_file = tmp_path / "kill-vars.json"
    vars_file.write_text(json.dumps(approved_vars(plan, ops, validation_window=60)))
    with HeldPatch(kube_api, ops) as hook:
        proc = subprocess.Popen([PLAYBOOK, "-i", "localhost,", "aiops.k8s.remediate_pod", "-e", "@%s" % vars_file],
                                cwd=REPO, env=recorded_environment(kube_api, tmp_path), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            assert hook.seen.wait(120), "the PATCH never arrived"
            # Killed while its PATCH is in flight: the playbook and every process under it (the module may run
            # in a session of its own, out of reach of killpg).
            for pid in [proc.pid] + descendants(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        finally:
            proc.communicate(timeout=60)
        operation = hook.store_at_patch["operation"]
        assert operation["status"] == "applying" and operation["applied_at"]
        assert operation["gate"]["verdict"] == "approved" and operation["gate"]["approver"] == "alice"
    # The server still applied the request; the store was left "applying" by the killed run.
    assert spec_of(kube_api)["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "384Mi"
    left = stored(ops)
    assert left["operation"]["status"] == "applying"
    with Controller(kube_api, duration=30):
        rc, out = run(kube_api, tmp_path, "validate_remediation",
                      {"operation_id": left["operation_id"], "state_dir": str(ops), "validation_window": 3})
    assert rc == 0, out
    assert "Check of %s at now: passed" % left["operation_id"] in " ".join(out.split())


def test_pod_namespace_blank_answers_and_paths_relative_to_the_users_directory(kube_api, tmp_path):
    seed_deployment(kube_api)
    node(kube_api)
    kube_api.load([pod("web-new-0", restarts=5, owner=("ReplicaSet", "web-new", "rs-web-new"), oom=True)])
    workdir = tmp_path / "work"
    (workdir / "plans").mkdir(parents=True)
    blanks = {"approval_plan_id": "", "justification": "", "remediation_action": "", "remediation_index": "",
              "gate_mode": "", "context": "", "kubeconfig": "", "remediation_diagnosis": "", "k8s_namespace": ""}
    rc, out = run(kube_api, tmp_path, "remediate_pod",
                  dict(blanks, pod="web-new-0", pod_namespace="shop", remediation_stage="plan",
                       plan_file="plans/plan.json"), cwd=str(workdir), env=recorded_environment(kube_api, tmp_path))
    assert rc == 0, out
    assert "reserved name" not in out and "[WARNING]" not in out
    plan = json.loads((workdir / "plans" / "plan.json").read_text())   # the user's directory, not playbooks/
    assert not os.path.exists(os.path.join(REPO, "playbooks", "plans"))
    assert plan["namespace"] == "shop" and plan["pod"] == "web-new-0"

    # The old name still works (with Ansible's own warning about the reserved name).
    rc, out = run(kube_api, tmp_path, "remediate_pod",
                  {"pod": "web-new-0", "namespace": "shop", "remediation_stage": "plan"},
                  env=recorded_environment(kube_api, tmp_path))
    assert rc == 0, out
    assert "REMEDIATION PLAN %s" % plan["plan_id"] in out

    # A relative state_dir of the execute stage lands in the user's directory too.
    with Controller(kube_api, duration=30):
        rc, out = run(kube_api, tmp_path, "remediate_pod",
                      dict(approved_vars(plan, "state"), remediation_diagnosis="", pod="web-new-0",
                           pod_namespace="shop"),
                      cwd=str(workdir), env=recorded_environment(kube_api, tmp_path))
    assert rc == 0, out
    assert stored(workdir / "state")["operation"]["status"] == "validated"
