"""The PHR callback recording the collection's real modules against the Kubernetes API emulator.

pod_diagnose reads the emulator over HTTP; remediation_plan, remediate and rollback run unchanged.
The emulator has no Deployment controller, so the rollout never completes: remediate's validation
fails and it rolls back, which is exactly the rolled-back path the record must document.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jsonschema
import pytest
import yaml

from tests.support.fixtures import ansible_environment
from tests.support.site_policy import lab_site_policy
from tests.support.oom_chain import oom_deployment_chain

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = json.load(open(os.path.join(REPO, "docs", "schemas", "phr-record-v1.schema.json")))
PLAY_VARS = {"ansible_python_interpreter": sys.executable}


def seed(api):
    """Deployment shop/web -> ReplicaSet web-new -> pod web-new-0 OOM-killed at its 256Mi limit."""
    api.load(oom_deployment_chain("256Mi", {"memory": "128Mi"}))


def playbook(tmp_path, tasks):
    path = tmp_path / "pb.yml"
    path.write_text(yaml.safe_dump([{"name": "PHR end to end", "hosts": "localhost", "connection": "local",
                                     "gather_facts": False, "vars": PLAY_VARS, "tasks": tasks}], sort_keys=False))
    return str(path)


def run(api, tmp_path, tasks, records, extra=None):
    env = ansible_environment(api.kubeconfig, {"ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr",
                                               "AIOPS_K8S_PHR_DIR": str(records),
                                               "AIOPS_K8S_STATE_DIR": str(tmp_path / "operations")})
    env.update(lab_site_policy(tmp_path))       # unsigned pre-approvals of any tier (tests/support/site_policy.py)
    env.update(extra or {})
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           playbook(tmp_path, tasks)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def all_entries(records):
    with open(os.path.join(records, "index.jsonl")) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def entries(records):
    """The records of the run, without the write-ahead bookkeeping around each mutating task."""
    return [e for e in all_entries(records) if not e["record_id"].startswith("run-")]


DIAGNOSE = {"name": "Diagnose", "aiops.k8s.pod_diagnose": {"namespace": "shop", "name": "web-new-0"},
            "register": "diag"}


def test_diagnose_only_run_with_the_real_module(kube_api, tmp_path):
    seed(kube_api)
    records = tmp_path / "phr"
    proc = run(kube_api, tmp_path, [DIAGNOSE], records)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (entry,) = entries(records)
    record = json.loads((records / entry["file"]).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["record_type"] == "diagnosis" and record["record_id"].startswith("diag-")
    primary = record["analysis"]["primary"]
    assert (primary["namespace"], primary["name"], primary["category"]) == ("shop", "web-new-0", "OOMKilled")
    assert record["pre_state"]["restarts"] == 5
    # failure start is the classifier's failure_started_at, copied (never re-derived from evidence text)
    assert record["timeline"]["failure_started_at"] == (primary.get("failure_started_at") or "unknown")
    assert "PHR: record %s (diagnosed) written" % record["record_id"] in proc.stdout


def test_approved_remediation_that_rolls_back_with_the_real_modules(kube_api, tmp_path):
    seed(kube_api)
    records = tmp_path / "phr"
    tasks = [
        DIAGNOSE,
        {"name": "Plan", "aiops.k8s.remediation_plan": {"diagnosis": "{{ diag.diagnoses[0] }}"},
         "register": "planned"},
        {"name": "Record the approval decision", "ansible.builtin.set_fact": {"aiops_approval": {
            "aiops": {"kind": "approval", "version": 1},
            "approval": {"plan_id": "{{ planned.plan.plan_id }}", "decision": "approve", "approver": "alice",
                         "justification": "INC-42 memory limit too low", "mode": "pre_approved",
                         "decided_at": "{{ now(utc=true).isoformat() }}+00:00"}}}},
        {"name": "Remediate", "aiops.k8s.remediate": {"plan": "{{ planned.plan }}",
                                                      "approval": "{{ aiops_approval.approval }}",
                                                      "validation_window": 2, "poll_interval": 0.5},
         "register": "remediation", "ignore_errors": True},
    ]
    proc = run(kube_api, tmp_path, tasks, records)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    (entry,) = entries(records)
    record = json.loads((records / entry["file"]).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    operation = record["operation"]
    assert record["record_type"] == "operation" and record["record_id"] == operation["operation_id"]
    assert operation["status"] in ("rolled_back", "validated", "applied"), operation
    assert record["decision"]["approver"] == "alice" and record["decision"]["plan"]["plan_id"]
    assert record["safety"]["pre_state_saved"] is True
    assert os.path.isfile(record["rollback"]["pre_state_ref"])
    assert record["actions"] and record["actions"][0]["diff"]
    if operation["status"] == "rolled_back":
        assert record["rollback"]["attempted"] is True and record["rollback"]["duration_seconds"] is not None
    verify = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         os.path.join(REPO, "playbooks", "phr_verify.yml"), "-e", "record_dir=%s" % records,
         "-e", "state_dir=%s" % (tmp_path / "operations")],
        cwd=REPO, env=ansible_environment(kube_api.kubeconfig), capture_output=True, text=True, timeout=300, check=False)
    assert verify.returncode == 0, verify.stdout[-3000:]
    # the write-ahead record (applying, then completed naming the operation) chained around the remediate task
    ahead = [e for e in all_entries(records) if e["record_id"].startswith("run-")]
    assert [e["status"] for e in ahead] == ["applying", "completed"] and ahead[0]["seq"] == 1
    completed = json.loads((records / ahead[1]["file"]).read_text())
    assert completed["completed_by"] == [record["record_id"]]
    assert completed["write_ahead"]["plan_id"] == record["decision"]["plan"]["plan_id"]
    assert "3 index entries, 2 records: chain intact" in " ".join(verify.stdout.split())


def play(kube_api, tmp_path, name, extra, records):
    """Run one of the collection's playbooks with the callback enabled (same shape as the remediation tests)."""
    from tests.integration.test_remediation_playbooks import PLAYBOOK

    vars_file = tmp_path / ("vars-%s.json" % name)
    vars_file.write_text(json.dumps(extra))
    env = ansible_environment(kube_api.kubeconfig, dict(lab_site_policy(tmp_path), **{
        "ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr", "AIOPS_K8S_PHR_DIR": str(records)}))
    return subprocess.run([PLAYBOOK, "-i", "localhost,", "aiops.k8s.%s" % name, "-e", "@%s" % vars_file], cwd=REPO,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)


def test_remediate_pod_playbook_approved_rejected_and_rolled_back(kube_api, tmp_path):
    """remediate_pod.yml (approve, then reject) and rollback.yml by id, recorded by the callback."""
    from tests.integration.test_remediation_actions import WEB, Controller, diagnosis as remediation_diagnosis
    from tests.integration.test_remediation_playbooks import base_vars, plan_first

    records, ops = tmp_path / "phr", tmp_path / "ops"
    plan = plan_first(kube_api, tmp_path)
    approved = base_vars(ops)
    approved.update(approval_plan_id=plan["plan_id"], approval_decision="approve", approver="alice",
                    justification="INC-7 OOM")
    with Controller(kube_api, duration=30):
        proc = play(kube_api, tmp_path, "remediate_pod", approved, records)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (first,) = entries(records)
    record = json.loads((records / first["file"]).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    op_id = record["record_id"]
    assert record["operation"]["status"] == "validated" and record["completeness"]["complete"] is True
    assert record["decision"]["approver"] == "alice" and record["decision"]["justification"] == "INC-7 OOM"
    assert record["safety"]["dry_run_passed"] is True
    # the gate's verdict is copied from the operation the remediate module returned
    assert record["safety"]["gate_verdict"] in ("approved", "unknown")
    assert [v["checkpoint"] for v in record["validations"]] == ["1 min"]
    assert "hunter2-secret" not in (records / first["file"]).read_text()
    assert "hunter2-secret" not in (records / first["md_file"]).read_text()
    assert "PHR: record %s (validated) written" % op_id in proc.stdout

    proc = play(kube_api, tmp_path, "rollback", {"operation_id": op_id, "state_dir": str(ops)}, records)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    first_again, second = entries(records)
    assert first_again == first and second["record_id"] == op_id and second["revision"] == 2
    revision = json.loads((records / second["file"]).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(revision)
    assert revision["rollback"]["attempted"] is True and revision["supersedes"]["sha256"] == first["sha256"]

    rejected = base_vars(ops)
    rejected["remediation_diagnosis"] = remediation_diagnosis("set_memory_limit", WEB, {"memory_limit": "512Mi"})
    rejected.update(approval_plan_id="ABCDEFGH", approval_decision="reject", approver="bob",
                    justification="not during the sale")
    proc = play(kube_api, tmp_path, "remediate_pod", rejected, records)
    assert proc.returncode != 0
    third = entries(records)[2]
    refused = json.loads((records / third["file"]).read_text())
    assert refused["decision"]["approver"] == "bob" and refused["decision"]["decision"] == "reject"
    assert refused["actions"] == [] and (refused["operation"] or {}).get("status") in (None, "refused")

    verify = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         os.path.join(REPO, "playbooks", "phr_verify.yml"), "-e", "record_dir=%s" % records,
         "-e", "state_dir=%s" % ops],
        cwd=REPO, env=ansible_environment(kube_api.kubeconfig), capture_output=True, text=True, timeout=300, check=False)
    assert verify.returncode == 0, verify.stdout[-3000:]
    assert "chain intact" in verify.stdout and len(entries(records)) == 3


def test_diagnose_only_run_of_the_bundled_dump(tmp_path):
    """pod_diagnose with dump_dir (no cluster): one diag- record holding every diagnosis of the dump."""
    records = tmp_path / "phr"
    env = ansible_environment(str(tmp_path / "no-kubeconfig"), {"ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr",
                                                                "AIOPS_K8S_PHR_DIR": str(records)})
    tasks = [{"name": "Diagnose the dump", "aiops.k8s.pod_diagnose": {
        "dump_dir": os.path.join(REPO, "examples", "cluster-dump")}, "register": "diag"},
        {"name": "Count", "ansible.builtin.set_fact": {"diagnosed": "{{ diag.diagnoses | length }}"}}]
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           playbook(tmp_path, tasks), "-v"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (entry,) = entries(records)
    record = json.loads((records / entry["file"]).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["record_type"] == "diagnosis" and len(record["analysis"]["diagnoses"]) > 1
    assert record["completeness"] == {"complete": True, "missing": []}
    assert record["analysis"]["primary"]["category"] != "Healthy"
    markdown = (records / entry["md_file"]).read_text()
    assert markdown.count("\n### ") == len(record["analysis"]["diagnoses"])


def test_remediation_failing_at_the_api_is_recorded_as_failed(kube_api, tmp_path):
    """The API refuses every write to the Deployment: remediate fails and the record says why."""
    seed(kube_api)
    kube_api.fault(500, method="PATCH", path_regex=r"/deployments/web", times=20, message="etcdserver: timeout")
    kube_api.fault(500, method="PUT", path_regex=r"/deployments/web", times=20, message="etcdserver: timeout")
    records = tmp_path / "phr"
    tasks = [
        DIAGNOSE,
        {"name": "Plan", "aiops.k8s.remediation_plan": {"diagnosis": "{{ diag.diagnoses[0] }}"},
         "register": "planned"},
        {"name": "Remediate", "aiops.k8s.remediate": {
            "plan": "{{ planned.plan }}", "validation_window": 1, "poll_interval": 0.5,
            "approval": {"plan_id": "{{ planned.plan.plan_id }}", "decision": "approve", "approver": "alice",
                         "justification": "INC-9", "mode": "pre_approved",
                         "decided_at": "{{ now(utc=true).isoformat() }}+00:00"}},
         "register": "remediation", "ignore_errors": True},
    ]
    proc = run(kube_api, tmp_path, tasks, records)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    (entry,) = entries(records)
    record = json.loads((records / entry["file"]).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["operation"]["status"] in ("failed", "refused", "rollback_failed"), record["operation"]
    assert record["runs"][0]["tasks"][-1]["failed"] == 1
    assert record["safety"]["dry_run_passed"] is False  # the API refused the server-side dry run
    assert any("etcdserver: timeout" in problem for problem in record["problems"]), record["problems"]
    assert "PHR: record %s (%s) written" % (record["record_id"], record["operation"]["status"]) in proc.stdout


def _patched(api):
    """The real (not dry-run) write of the Deployment has been served."""
    return any(r["method"] in ("PATCH", "PUT") and r["path"].endswith("/deployments/web")
               and "dryRun" not in str(r.get("query") or "") for r in api.requests)


def _remediation_tasks(window):
    return [
        DIAGNOSE,
        {"name": "Plan", "aiops.k8s.remediation_plan": {"diagnosis": "{{ diag.diagnoses[0] }}"},
         "register": "planned"},
        {"name": "Remediate", "aiops.k8s.remediate": {
            "plan": "{{ planned.plan }}", "validation_window": window, "poll_interval": 0.5,
            "approval": {"plan_id": "{{ planned.plan.plan_id }}", "decision": "approve", "approver": "alice",
                         "justification": "INC-11", "mode": "pre_approved",
                         "decided_at": "{{ now(utc=true).isoformat() }}+00:00"}},
         "register": "remediation"},
    ]


@pytest.mark.parametrize("sig,left", [(signal.SIGINT, "interrupted"), (signal.SIGKILL, "applying")])
def test_killed_remediation_leaves_a_record_phr_verify_reports(kube_api, tmp_path, sig, left):
    """Killed during the validation wait, right after the PATCH: the write-ahead record stays behind."""
    seed(kube_api)
    records, ops = tmp_path / "phr", tmp_path / "operations"
    env = ansible_environment(kube_api.kubeconfig, dict(lab_site_policy(tmp_path), **{
        "ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr", "AIOPS_K8S_PHR_DIR": str(records),
        "AIOPS_K8S_STATE_DIR": str(ops)}))
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                             playbook(tmp_path, _remediation_tasks(60))], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not _patched(kube_api):
            time.sleep(0.2)
        assert _patched(kube_api), "remediate never patched"
        time.sleep(1)
        os.killpg(proc.pid, sig)  # as Ctrl-C does: the whole foreground process group
        output = proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    ahead = [e for e in all_entries(records) if e["record_id"].startswith("run-")]
    assert ahead and ahead[-1]["status"] == left, output[-3000:]
    record = json.loads((records / ahead[-1]["file"]).read_text())
    assert record["write_ahead"]["action"] == "aiops.k8s.remediate" and record["decision"]["plan"]["plan_id"]
    verify = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         os.path.join(REPO, "playbooks", "phr_verify.yml"), "-e", "record_dir=%s" % records,
         "-e", "check_operations=false"],
        cwd=REPO, env=ansible_environment(kube_api.kubeconfig), capture_output=True, text=True, timeout=300, check=False)
    assert verify.returncode != 0
    assert "1 operation(s) left applying (run interrupted after the write-ahead record): %s" % ahead[-1]["record_id"] \
        in " ".join(verify.stdout.split())
