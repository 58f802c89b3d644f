"""The aiops.k8s.phr callback in real ansible-playbook runs.

Module results are contract-shaped (docs/design/contracts.md) and returned by a tiny module written
into the test's own playbook directory, so every run outcome (approved, rejected, rolled back, failed,
follow-up) is reproducible without a cluster. The approval is a real set_fact, as the remediate
playbook builds it. test_phr_e2e.py runs the collection's real modules against the API emulator.
"""

from __future__ import annotations

import datetime
import http.server
import json
import os
import re
import subprocess
import sys
import threading

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = json.load(open(os.path.join(REPO, "docs", "schemas", "phr-record-v1.schema.json")))
OP_ID = "op-20261125190500-abcdef"
NO_PHR = {"ANSIBLE_CALLBACKS_ENABLED": None}

CONTRACT_MODULE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(result=dict(type="dict", required=True),
                                              fail=dict(type="bool", default=False)))
    result = dict(module.params["result"])
    if module.params["fail"]:
        module.fail_json(msg=result.pop("msg", "failed"), **result)
    module.exit_json(**result)


main()
'''

# Planted secrets: none of them may reach any output.
SECRETS = {
    "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLXNlY3JldA",
    "url_password": "s3cr3t-Pa55",
    "pem_body": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    "custom": "ACME-778899",
}


def diagnosis(secret=False):
    evidence = [
        {"source": "status.containerStatuses[app].lastState.terminated",
         "detail": "reason=OOMKilled exitCode=137 startedAt=2026-11-25T18:40:00Z finishedAt=2026-11-25T18:50:00Z"},
        {"source": "event BackOff x12", "detail": "Back-off restarting failed container app"},
    ]
    if secret:
        evidence.append({"source": "log app (previous)",
                         "detail": "connecting to postgres://app:%s@db:5432/shop with token %s and key "
                                   "-----BEGIN RSA PRIVATE KEY-----\n%s\n-----END RSA PRIVATE KEY----- ticket %s"
                                   % (SECRETS["url_password"], SECRETS["jwt"], SECRETS["pem_body"],
                                      SECRETS["custom"])})
    return {"kind": "Pod", "namespace": "shop", "name": "web-7d4b9c6f5-x2x9z", "uid": "u1",
            "owner": {"kind": "Deployment", "name": "web"}, "node": "node-1", "category": "OOMKilled",
            "severity": "high", "confidence": 0.95, "summary": "Container app was OOM-killed 3 times: limit 256Mi",
            "root_cause": "Container app exceeded its memory limit of 256Mi",
            "culprit": {"container": "app", "limit": "256Mi"},
            "evidence": evidence, "secondary": [], "restarts": 7, "remediations": [],
            "runbook": "runbooks/OOMKilled.md", "diagnosis_id": "3f2a9c1d7e4b",
            "observed_at": "2026-11-25T19:00:00+00:00", "problems": [],
            "failure_started_at": "2026-11-25T18:40:00Z"}


PLAN = {"plan_id": "ab12cd34", "diagnosis_id": "3f2a9c1d7e4b", "action": "set_memory_limit",
        "target": {"api_version": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web",
                   "container": "app"},
        "params": {"memory_limit": "384Mi", "previous_memory_limit": "256Mi"}, "risk_tier": "medium",
        "tier_reason": "changes resources", "target_resource_version": "4711", "target_generation": 3,
        "created_at": "2026-11-25T19:01:00+00:00", "expires_at": "2026-11-25T19:31:00+00:00",
        "sla_seconds": 1800, "namespace": "shop", "pod": "web-7d4b9c6f5-x2x9z"}


def approval(decision="approve", justification="memory limit too low, checked dashboards", decided="19:04:00"):
    return {"plan_id": "ab12cd34", "decision": decision, "approver": "alice", "justification": justification,
            "decided_at": "2026-11-25T%s+00:00" % decided, "mode": "interactive"}


def operation(status="validated", op_id=OP_ID, **extra):
    op = {"operation_id": op_id, "plan_id": "ab12cd34", "diagnosis_id": "3f2a9c1d7e4b",
          "action": "set_memory_limit", "target": PLAN["target"], "risk_tier": "medium", "approval": approval(),
          "status": status, "dry_run": {"accepted": True, "method": "PATCH"},
          "diff": {"before": {"spec": {"template": {"spec": {"containers": [
              {"name": "app", "resources": {"limits": {"memory": "256Mi"}}}]}}}},
              "after": {"spec": {"template": {"spec": {"containers": [
                  {"name": "app", "resources": {"limits": {"memory": "384Mi"}}}]}}}}},
          "pre_state_ref": "/var/lib/aiops/operations/%s.json" % op_id, "pre_state_digest": "a" * 64,
          "started_at": "2026-11-25T19:05:00+00:00", "applied_at": "2026-11-25T19:05:02+00:00",
          "finished_at": "2026-11-25T19:06:05+00:00",
          "validation": {"passed": status == "validated", "checks": [{"name": "rollout_complete", "passed": True}],
                         "window_seconds": 60},
          "rollback": {"attempted": False}, "error": None,
          "gate": {"verdict": "approved", "reason": "approval names this plan", "approver": "alice",
                   "mode": "interactive", "decided_at": "2026-11-25T19:04:00Z", "plan_shown_at": "2026-11-25T19:01:00Z",
                   "sla_seconds": 1800, "latency_seconds": 180, "sla_breached": False},
          "drift": {"checked": True, "drifted": False, "reason": None}}
    op.update(extra)
    return op


def task(name, kind, payload, changed=False, fail=False):
    result = dict(payload, changed=changed, aiops={"kind": kind, "version": 1})
    body = {"name": name, "contract_result": {"result": result}}
    if fail:
        body["contract_result"]["fail"] = True
        body["ignore_errors"] = True
    return body


def approval_fact(decision="approve", **kw):
    return {"name": "Record the approval decision",
            "ansible.builtin.set_fact": {"aiops_approval": {"approval": approval(decision, **kw),
                                                            "aiops": {"kind": "approval", "version": 1}}}}


def run_playbook(directory, tasks, record_dir, extra_env=None, name="pb.yml", check=True, args=()):
    """Write a playbook (plus the contract module) and run it with the callback enabled."""
    os.makedirs(os.path.join(directory, "library"), exist_ok=True)
    with open(os.path.join(directory, "library", "contract_result.py"), "w") as handle:
        handle.write(CONTRACT_MODULE)
    play = [{"name": "PHR test run", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": tasks}]
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        yaml.safe_dump(play, handle, sort_keys=False)
    return run(path, record_dir, extra_env, check, args)


def ansible_env(record_dir, extra_env=None):
    env = dict(os.environ)
    env.update({"ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"), "ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr",
                "AIOPS_K8S_PHR_DIR": str(record_dir), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_LOCALHOST_WARNING": "False", "PYTHONDONTWRITEBYTECODE": "1",
                # never the user's own operation store or chain key
                "AIOPS_K8S_STATE_DIR": os.path.join(os.path.dirname(str(record_dir)), "operations")})
    for name in ("AIOPS_K8S_PHR_HTTP_URL", "AIOPS_K8S_PHR_KEY", "AIOPS_K8S_PHR_KEY_FILE", "AIOPS_K8S_PHR_HEAD_FILE"):
        env.pop(name, None)
    for key, value in (extra_env or {}).items():
        if value is None:
            env.pop(key, None)  # an empty ANSIBLE_CALLBACKS_ENABLED is an error in ansible-core 2.19
        else:
            env[key] = value
    return env


def run(playbook, record_dir, extra_env=None, check=True, args=()):
    # An explicit inventory: the run must not depend on what ansible.cfg lists.
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           playbook] + list(args), cwd=REPO, env=ansible_env(record_dir, extra_env),
                          capture_output=True, text=True, timeout=300, check=False)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def index(record_dir):
    with open(os.path.join(record_dir, "index.jsonl")) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load(record_dir, entry):
    with open(os.path.join(record_dir, entry["file"])) as handle:
        return json.load(handle)


def verify(record_dir, state_dir=None, check=True):
    args = ["-e", "record_dir=%s" % record_dir]
    if state_dir:
        args += ["-e", "state_dir=%s" % state_dir]
    else:
        args += ["-e", "check_operations=false"]
    proc = run(os.path.join(REPO, "playbooks", "phr_verify.yml"), record_dir, NO_PHR, check, args)
    proc.stdout = " ".join(proc.stdout.split())  # the yaml result format wraps long messages
    return proc


def full_run_tasks(op=None, secret=False):
    return [task("Diagnose", "diagnosis", {"diagnoses": [diagnosis(secret)], "summary": {"OOMKilled": 1}}),
            task("Plan", "plan", {"plan": PLAN}),
            approval_fact(),
            task("Remediate", "operation", {"operation": op or operation()}, changed=True)]


def test_approved_and_fixed_run_writes_a_complete_valid_record(tmp_path):
    records = tmp_path / "phr"
    proc = run_playbook(tmp_path, full_run_tasks(), records)
    entries = index(records)
    assert len(entries) == 1
    entry = entries[0]
    assert re.match(r"^\d{4}-\d{2}-\d{2}/%s\.json$" % OP_ID, entry["file"])
    record = load(records, entry)
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["record_type"] == "operation" and record["operation"]["status"] == "validated"
    assert record["completeness"] == {"complete": True, "missing": []}
    assert record["decision"]["approver"] == "alice" and record["decision"]["latency_seconds"] == 180
    assert record["decision"]["sla_seconds"] == 1800 and record["decision"]["sla_breached"] is False
    assert record["safety"]["gate_verdict"] == "approved" and record["safety"]["dry_run_passed"] is True
    assert record["safety"]["drift_check"] == "passed" and record["decision"]["source"] == "gate"
    assert record["pre_state"]["restarts"] == 7
    assert record["pre_state"]["resources"] == [{"container": "app", "resources": {"limits": {"memory": "256Mi"}}}]
    assert record["timeline"]["mttd_seconds"] == 1200 and record["timeline"]["mttr_seconds"] == 1565
    tasks = {t["task"]: t for t in record["runs"][0]["tasks"]}
    assert tasks["Remediate"]["changed"] == 1 and tasks["Diagnose"]["ok"] == 1
    assert record["runs"][0]["playbook"].endswith("pb.yml") and "extra_vars" not in record["runs"][0]
    markdown = (records / entry["md_file"]).read_text()
    for heading in ("## 1. Pre-action state and metrics", "## 2. Analysis", "## 3. Decision",
                    "## 4. Safety checklist", "## 5. Actions", "## 6. Validation", "## 7. Rollback",
                    "## 9. Lessons learned"):
        assert heading in markdown
    assert re.search(r'^\+\s+"memory": "384Mi"', markdown, re.M) and record["operation"]["operation_id"] in markdown
    assert "PHR: record %s (validated) written to %s" % (OP_ID, records / entry["file"]) in proc.stdout
    summary = json.loads(re.search(r"PHR-SUMMARY: (\{.*\})", proc.stdout).group(1))
    assert summary["record_id"] == OP_ID and summary["written"] is True and summary["tier"] == "medium"
    assert "chain intact" in verify(records).stdout


def test_rejected_plan_gets_a_decision_record(tmp_path):
    records = tmp_path / "phr"
    run_playbook(tmp_path, [task("Diagnose", "diagnosis", {"diagnoses": [diagnosis()]}),
                            task("Plan", "plan", {"plan": PLAN}),
                            approval_fact("reject", justification="not during the sale", decided="19:45:00")],
                 records)
    (entry,) = index(records)
    record = load(records, entry)
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["record_type"] == "decision" and record["record_id"].startswith("plan-")
    assert record["decision"]["decision"] == "reject" and record["decision"]["justification"] == "not during the sale"
    # 44 minutes for a medium plan: the 30 minute SLA is breached.
    assert record["decision"]["latency_seconds"] == 2640 and record["decision"]["sla_breached"] is True
    assert record["actions"] == [] and record["operation"] is None


def test_refused_operation_is_recorded_without_actions(tmp_path):
    records = tmp_path / "phr"
    op = operation("refused", error="Plan ab12cd34 was rejected by alice", pre_state_ref=None, pre_state_digest=None,
                   dry_run=None, diff=None, validation=None, approval=approval("reject"),
                   gate={"verdict": "refused", "reason": "Plan ab12cd34 was rejected by alice", "approver": "alice",
                         "mode": "interactive", "decided_at": "2026-11-25T19:04:00Z",
                         "plan_shown_at": "2026-11-25T19:01:00Z", "sla_seconds": 1800, "latency_seconds": 180,
                         "sla_breached": False})
    run_playbook(tmp_path, full_run_tasks(op)[:2] + [task("Remediate", "operation", {"operation": op},
                                                          fail=True)], records)
    record = load(records, index(records)[0])
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["operation"]["status"] == "refused" and record["actions"] == []
    assert record["safety"]["gate_verdict"] == "refused" and record["decision"]["verdict_reason"].endswith("by alice")
    assert any("rejected by alice" in problem for problem in record["problems"])


def test_rolled_back_run_and_follow_up_validation_append_a_chained_revision(tmp_path):
    records = tmp_path / "phr"
    op = operation("rolled_back", rollback={"attempted": True, "succeeded": True, "reason": "validation failed",
                                            "started_at": "2026-11-25T19:06:05+00:00",
                                            "finished_at": "2026-11-25T19:07:35+00:00"})
    op["validation"]["passed"] = False
    run_playbook(tmp_path, full_run_tasks(op), records)
    (first,) = index(records)
    first_bytes = (records / first["file"]).read_bytes()
    record = load(records, first)
    assert record["rollback"]["attempted"] is True and record["rollback"]["duration_seconds"] == 90
    assert record["rollback"]["pre_state_ref"] == op["pre_state_ref"]
    assert op["pre_state_ref"] in (records / first["md_file"]).read_text()

    follow_up = {"operation_id": OP_ID, "validation": {"passed": True, "checkpoint_seconds": 300, "checks": [
        {"name": "no_restarts", "passed": True}], "finished_at": "2026-11-25T19:12:35+00:00"}}
    run_playbook(tmp_path, [task("Validate after 5 minutes", "validation", follow_up)], records, name="follow.yml")
    entries = index(records)
    assert [e["revision"] for e in entries] == [1, 2]
    second = entries[1]
    assert second["file"] == first["file"].replace(".json", ".v2.json")
    assert second["prev_hash"] == first["hash"]
    assert (records / first["file"]).read_bytes() == first_bytes
    revision = load(records, second)
    jsonschema.Draft202012Validator(SCHEMA).validate(revision)
    assert [v["checkpoint"] for v in revision["validations"]] == ["1 min", "5 min"]
    assert revision["supersedes"] == {"file": first["file"], "sha256": first["sha256"], "revision": 1,
                                      "hash": first["hash"]}
    assert len(revision["runs"]) == 2
    assert "chain intact" in verify(records).stdout


def test_failed_remediation_is_recorded(tmp_path):
    records = tmp_path / "phr"
    op = operation("failed", error="admission webhook denied the patch", validation=None)
    proc = run_playbook(tmp_path, full_run_tasks()[:3] + [
        task("Remediate", "operation", {"operation": op, "msg": "admission webhook denied the patch"}, fail=True)],
        records)
    record = load(records, index(records)[0])
    assert record["operation"]["status"] == "failed"
    assert record["runs"][0]["tasks"][-1]["failed"] == 1
    assert "operation error: admission webhook denied the patch" in record["problems"]
    assert "validation" not in record["completeness"]["missing"]
    assert "PHR: record %s (failed) written" % OP_ID in proc.stdout


def test_hash_chain_detects_a_one_byte_edit_of_an_old_record(tmp_path):
    records = tmp_path / "phr"
    run_playbook(tmp_path, full_run_tasks(), records)
    run_playbook(tmp_path, full_run_tasks(operation(op_id="op-20261125191000-bbbbbb")), records)
    first, second = index(records)
    assert second["prev_hash"] == first["hash"]
    path = records / first["file"]
    data = bytearray(path.read_bytes())
    position = data.index(b"alice")
    data[position] = ord("A")
    path.write_bytes(bytes(data))
    proc = verify(records, check=False)
    assert proc.returncode != 0
    assert "first broken link at index line 1 (record %s, file %s): file_sha256" % (OP_ID, first["file"]) in proc.stdout
    assert first["sha256"] in proc.stdout


def test_edited_index_entry_breaks_the_chain(tmp_path):
    records = tmp_path / "phr"
    for op_id in ("op-20261125190500-aaaaaa", "op-20261125190600-bbbbbb", "op-20261125190700-cccccc"):
        run_playbook(tmp_path, full_run_tasks(operation(op_id=op_id)), records)
    lines = (records / "index.jsonl").read_text().splitlines()
    lines[1] = lines[1].replace('"revision":1', '"revision":9')
    (records / "index.jsonl").write_text("\n".join(lines) + "\n")
    proc = verify(records, check=False)
    assert proc.returncode != 0
    assert "first broken link at index line 2 (record op-20261125190600-bbbbbb, file index.jsonl): entry_hash" \
        in proc.stdout


class Sink(http.server.BaseHTTPRequestHandler):
    """Collects POSTed bodies; answers 503 to the first ``fail_first`` requests to exercise retries."""

    bodies, headers, fail_first = [], [], 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).headers.append(dict(self.headers))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        type(self).bodies.append(body.decode("utf-8"))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sink():
    handler = type("SinkHandler", (Sink,), {"bodies": [], "headers": [], "fail_first": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, "http://127.0.0.1:%d/phr" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_sink_posts_the_record_with_retries_and_token(tmp_path, sink):
    handler, url = sink
    handler.fail_first = 2
    records = tmp_path / "phr"
    run_playbook(tmp_path, full_run_tasks(), records, {
        "AIOPS_K8S_PHR_SINKS": "file,http,stdout", "AIOPS_K8S_PHR_HTTP_URL": url,
        "AIOPS_K8S_PHR_HTTP_TOKEN": "sink-token-123", "AIOPS_K8S_PHR_HTTP_RETRIES": "3"})
    assert len(handler.headers) == 3 and len(handler.bodies) == 1
    assert handler.headers[-1]["Authorization"] == "Bearer sink-token-123"
    posted = json.loads(handler.bodies[0])
    (entry,) = index(records)
    # The POST carries the chain position: the receiver holds an anchor outside the record directory.
    assert posted.pop("chain") == {"seq": 1, "hash": entry["hash"], "prev_hash": entry["prev_hash"],
                                   "sha256": entry["sha256"]}
    assert posted == load(records, entry)


def test_http_only_sink_failure_reports_the_missing_record(tmp_path):
    records = tmp_path / "phr"
    proc = run_playbook(tmp_path, full_run_tasks(), records, {
        "AIOPS_K8S_PHR_SINKS": "http,stdout", "AIOPS_K8S_PHR_HTTP_URL": "http://127.0.0.1:9/none",
        "AIOPS_K8S_PHR_HTTP_RETRIES": "1", "AIOPS_K8S_PHR_HTTP_TIMEOUT": "2"})
    assert not records.exists()
    assert "PHR: record %s NOT written: HTTP sink" % OP_ID in proc.stderr
    assert "CHANGED THE CLUSTER without an audit record" in proc.stderr


def test_redaction_removes_planted_secrets_from_every_output(tmp_path, sink):
    handler, url = sink
    records = tmp_path / "phr"
    op = operation(error="retry with https://deploy:%s@git.example/repo" % SECRETS["url_password"])
    tasks = full_run_tasks(op, secret=True)
    tasks[2]["ansible.builtin.set_fact"]["aiops_approval"]["approval"]["justification"] = (
        "ok, used bearer %s" % SECRETS["jwt"])
    proc = run_playbook(tmp_path, tasks, records, {
        "AIOPS_K8S_PHR_SINKS": "file,http,stdout", "AIOPS_K8S_PHR_HTTP_URL": url,
        "AIOPS_K8S_PHR_REDACT_PATTERNS": r"ACME-\d{6}", "AIOPS_K8S_PHR_INCLUDE_EXTRA_VARS": "true"},
        args=["-e", "db_password=%s" % SECRETS["url_password"]])
    entry = index(records)[0]
    outputs = {
        "json": (records / entry["file"]).read_text(),
        "md": (records / entry["md_file"]).read_text(),
        "index": (records / "index.jsonl").read_text(),
        "http": handler.bodies[0],
        "stdout": proc.stdout + proc.stderr,
    }
    for where, text in outputs.items():
        for name, secret in SECRETS.items():
            assert secret not in text, "%s leaked into %s" % (name, where)
    record = json.loads(outputs["json"])
    assert record["runs"][0]["extra_vars"] == {"db_password": "[REDACTED]"}
    # The Markdown escapes brackets; what a reader sees is the unescaped text.
    shown = outputs["md"].replace("\\[", "[").replace("\\]", "]")
    assert "-----BEGIN RSA PRIVATE KEY----- [REDACTED] -----END RSA PRIVATE KEY-----" in shown


def test_concurrent_runs_keep_the_index_intact(tmp_path):
    records = tmp_path / "phr"
    procs = []
    for number in range(4):
        directory = tmp_path / ("run%d" % number)
        directory.mkdir()
        op = operation(op_id="op-20261125190500-%06x" % number)
        os.makedirs(directory / "library")
        (directory / "library" / "contract_result.py").write_text(CONTRACT_MODULE)
        play = [{"name": "PHR test run", "hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": sys.executable}, "tasks": full_run_tasks(op)}]
        (directory / "pb.yml").write_text(yaml.safe_dump(play, sort_keys=False))
        procs.append(subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
             str(directory / "pb.yml")], cwd=REPO, env=ansible_env(records), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
    entries = index(records)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert sorted(e["record_id"] for e in entries) == ["op-20261125190500-%06x" % n for n in range(4)]
    for previous, current in zip(entries, entries[1:]):
        assert current["prev_hash"] == previous["hash"]
    assert "4 index entries, 4 records: chain intact" in verify(records).stdout


def test_unwritable_record_dir_is_reported_as_an_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the record directory should be")
    proc = run_playbook(tmp_path, full_run_tasks(), blocker / "phr")
    assert "PHR: record %s NOT written: Cannot create the PHR record directory %s" % (OP_ID, blocker / "phr") \
        in proc.stderr
    assert "CHANGED THE CLUSTER without an audit record" in proc.stderr
    summary = json.loads(re.search(r"PHR-SUMMARY: (\{.*\})", proc.stdout).group(1))
    assert summary["written"] is False and summary["record_id"] == OP_ID


def test_verify_reports_operations_without_a_record(tmp_path):
    records, state = tmp_path / "phr", tmp_path / "operations"
    run_playbook(tmp_path, full_run_tasks(), records)
    state.mkdir()
    (state / (OP_ID + ".json")).write_text("{}")
    (state / "op-20261125200000-0000ff.json").write_text("{}")
    proc = verify(records, state, check=False)
    assert proc.returncode != 0
    assert "1 operation(s) in the operation store without a record: op-20261125200000-0000ff" in proc.stdout


def test_report_playbook_writes_markdown_and_html(tmp_path):
    records = tmp_path / "phr"
    run_playbook(tmp_path, full_run_tasks(), records)
    op = operation("rolled_back", op_id="op-20261125191000-bbbbbb", rollback={
        "attempted": True, "succeeded": True, "started_at": "2026-11-25T19:06:05+00:00",
        "finished_at": "2026-11-25T19:12:05+00:00"})
    run_playbook(tmp_path, full_run_tasks(op), records)
    out = tmp_path / "report"
    proc = run(os.path.join(REPO, "playbooks", "phr_report.yml"), records, NO_PHR,
               args=["-e", "record_dir=%s" % records, "-e", "report_dir=%s" % out, "-e", "since=1d"])
    markdown = (out / "phr-report.md").read_text()
    html = (out / "phr-report.html").read_text()
    assert "**Record chain:** 2 index entries, 2 records: chain intact (unkeyed, not anchored)" in markdown
    assert "| Medium/critical with a complete record (100%) | 100% | yes | 2/2 · 0 unrecorded |" in markdown
    assert "| Rollbacks (< 5 min, none failed) | 1 (0 failed) | **NO** | max 6m 00s · 1 over target |" in markdown
    assert "| MTTD (failure start to diagnosis) (< 5 min) | 20m 00s | **NO** | median 20m 00s · 1 incidents |" \
        in markdown
    assert "| medium | 2 | 3m 00s |" in markdown
    assert "<svg" in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'class="card bad" id="rollback"' in html
    assert "Rollbacks 1 (0 failed): NO (target < 5 min, none failed)" in proc.stdout


def test_report_range_excludes_old_records(tmp_path):
    records = tmp_path / "phr"
    run_playbook(tmp_path, full_run_tasks(), records)
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    out = tmp_path / "report"
    run(os.path.join(REPO, "playbooks", "phr_report.yml"), records, NO_PHR,
        args=["-e", "record_dir=%s" % records, "-e", "report_dir=%s" % out, "-e", "since=%s" % future])
    assert "· 0 records, 0 operations" in (out / "phr-report.md").read_text()


def test_callback_failure_still_writes_a_fallback_record(tmp_path):
    """A payload the record builder cannot handle (approval is not a mapping) must not lose the run."""
    records = tmp_path / "phr"
    op = operation(approval="yes, approved on the phone")
    proc = run_playbook(tmp_path, full_run_tasks(op)[:2] + [task("Remediate", "operation", {"operation": op},
                                                                 changed=True)], records)
    (entry,) = index(records)
    record = load(records, entry)
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["record_type"] == "run" and record["record_id"].startswith("run-")
    assert any(error.startswith("finalize: AttributeError") for error in record["runs"][0]["callback_errors"])
    assert [item["kind"] for item in record["raw_results"]] == ["diagnosis", "plan", "operation"]
    assert record["raw_results"][2]["payload"]["operation"]["operation_id"] == OP_ID
    assert "PHR: record %s (run) written to" % record["record_id"] in proc.stdout
