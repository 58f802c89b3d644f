"""The PHR's three headline figures measured over HTTP: the collection's own playbooks against the API
emulator, with the aiops.k8s.phr callback writing the records and phr_report / phr_verify reading them.

1. MTTD of a pod that has been failing for 3 hours is about 3 hours (not the 2 minutes since its last
   container termination), and the report shows the < 5 min target breached.
2. A pre-approval given 40 minutes after the plan was shown is late for the medium tier's 30-minute SLA:
   the gate refuses it, the record keeps latency 2400 s and sla_breached, and the report's approval tile
   does not hold.
3. A failed 5-minute follow-up turns a validated record ``regressed``; the revision chain stays linear.

Each site is configured explicitly (a random plan/record MAC key in the environment, a trusted site policy
file with ``unsigned_max_tier: critical``, its own XDG_CONFIG_HOME), so the tests do not depend on the
defaults a user's machine or a later release picks.

Time: the emulator has no clock to advance and a test cannot wait 40 or 5 minutes. Where a figure needs
elapsed time the test ages the one trusted artifact that carries it, the way the operator holding the site
key could: the plan-stage artifact's ``created_at``/``expires_at`` (not part of the plan id) or the
operation store's ``applied_at``, re-signed with the site key. Everything after that runs unchanged.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import secrets
import subprocess
import sys

import jsonschema
import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, parse_time, utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore
from tests.integration.test_remediation_actions import Controller
from tests.support.fixtures import ansible_environment
from tests.support.oom_chain import oom_deployment_chain

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
SCHEMA = json.load(open(os.path.join(REPO, "docs", "schemas", "phr-record-v1.schema.json")))
POD = "/api/v1/namespaces/shop/pods/web-new-0"
THREE_HOURS = 3 * 3600


def stamp(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_failing_since(api, started):
    """The OOM-looping web-new-0 of shop/web, failing since ``started``: its first Warning event and its
    not-ready transition are that old, while its last container termination is only two minutes old."""
    now = utcnow()
    objects = oom_deployment_chain("256Mi", {"memory": "128Mi"})
    pod = objects[-1]
    pod["metadata"]["creationTimestamp"] = pod["status"]["startTime"] = stamp(started - datetime.timedelta(minutes=5))
    pod["status"]["conditions"] = [
        {"type": "Ready", "status": "False", "lastTransitionTime": stamp(started), "reason": "ContainersNotReady"},
        {"type": "ContainersReady", "status": "False", "lastTransitionTime": stamp(started)}]
    status = pod["status"]["containerStatuses"][0]
    status["restartCount"] = 40
    status["lastState"]["terminated"].update(startedAt=stamp(now - datetime.timedelta(minutes=3)),
                                             finishedAt=stamp(now - datetime.timedelta(minutes=2)))
    objects.append({"apiVersion": "v1", "kind": "Event",
                    "metadata": {"name": "web-new-0.backoff", "namespace": "shop", "uid": "ev-backoff"},
                    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-new-0",
                                       "uid": "uid-web-new-0"},
                    "type": "Warning", "reason": "BackOff", "count": 40,
                    "message": "Back-off restarting failed container app in pod web-new-0",
                    "firstTimestamp": stamp(started), "lastTimestamp": stamp(now - datetime.timedelta(minutes=1))})
    api.load(objects)


class Site(object):
    """One operator's trusted configuration, record directory and operation store (all under tmp_path)."""

    def __init__(self, api, tmp_path):
        self.api, self.tmp = api, tmp_path
        self.records, self.ops = tmp_path / "phr", tmp_path / "operations"
        self.key = secrets.token_hex(32)
        config = tmp_path / "xdg" / "aiops-k8s"
        config.mkdir(parents=True)
        # The trusted site policy: unsigned pre-approvals are accepted up to critical on this site.
        self.policy = config / "policy.yml"
        self.policy.write_text("unsigned_max_tier: critical\n")
        key_file = config / "plan.key"
        key_file.write_text(self.key + "\n")
        key_file.chmod(0o600)
        self.env = ansible_environment(api.kubeconfig, {
            "ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr", "AIOPS_K8S_PHR_DIR": str(self.records),
            "AIOPS_K8S_STATE_DIR": str(self.ops), "AIOPS_K8S_PLAN_KEY": self.key,
            "AIOPS_K8S_PHR_KEY": secrets.token_hex(32),
            "AIOPS_K8S_POLICY_FILE": str(self.policy), "XDG_CONFIG_HOME": str(tmp_path / "xdg")})
        self.count = 0

    def play(self, name, extra, expect_ok=True):
        """ansible-playbook aiops.k8s.<name> with ``extra`` as an extra-vars file; returns stdout+stderr."""
        self.count += 1
        vars_file = self.tmp / ("vars-%d-%s.json" % (self.count, os.path.basename(name)))
        vars_file.write_text(json.dumps(extra))
        target = name if name.endswith(".yml") else "aiops.k8s.%s" % name
        proc = subprocess.run([PLAYBOOK, "-i", "localhost,", target, "-e", "@%s" % vars_file], cwd=REPO,
                              env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                              check=False)
        out = proc.stdout + proc.stderr
        if expect_ok is not None:
            assert (proc.returncode == 0) == expect_ok, out[-4000:]
        return out

    def plan_stage(self):
        """remediate_pod.yml remediation_stage=plan: the plan shown to the approver, as its file."""
        plan_file = self.tmp / "plan.json"
        out = self.play("remediate_pod", {"pod": "web-new-0", "pod_namespace": "shop", "remediation_stage": "plan",
                                          "plan_file": str(plan_file)})
        plan = json.loads(plan_file.read_text())
        assert "REMEDIATION PLAN %s" % plan["plan_id"] in out
        assert integrity.verify(plan, self.key.encode()) and plan.get("mac")  # signed with this site's key
        return plan

    def entries(self):
        with open(self.records / "index.jsonl") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def load(self, entry):
        record = json.loads((self.records / entry["file"]).read_text())
        jsonschema.Draft202012Validator(SCHEMA).validate(record)
        return record

    def latest(self, record_id):
        entry = [e for e in self.entries() if e["record_id"] == record_id][-1]
        return entry, self.load(entry)

    def report(self):
        """playbooks/phr_report.yml as shipped, then its computed report saved as JSON by a second play."""
        out_dir = self.tmp / "report"
        wrapper = self.tmp / "report.yml"
        wrapper.write_text(json.dumps([
            {"name": "The collection's report", "ansible.builtin.import_playbook": "aiops.k8s.phr_report"},
            {"name": "Keep the computed report", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": [{"name": "Save it as JSON", "ansible.builtin.copy": {
                 "content": "{{ aiops_phr_report.report | to_nice_json }}", "dest": str(out_dir / "report.json"),
                 "mode": "0600"}}]}]))
        out = self.play(str(wrapper), {"record_dir": str(self.records), "report_dir": str(out_dir),
                                       "state_dir": str(self.ops)})
        report = json.loads((out_dir / "report.json").read_text())
        return (report, (out_dir / "phr-report.md").read_text(), (out_dir / "phr-report.html").read_text(), out)

    def verify(self):
        return self.play("phr_verify", {"record_dir": str(self.records), "state_dir": str(self.ops)})

    def age_operation(self, op_id, seconds):
        """The operation store's copy of ``op_id`` as if it had been applied ``seconds`` earlier (re-signed)."""
        key = self.key.encode()
        record = opstore.load(str(self.ops), op_id, key)
        operation = record["operation"]
        for field in ("started_at", "applied_at", "finished_at"):
            when = parse_time(operation.get(field) or "")
            if when is not None:
                operation[field] = isoformat(when - datetime.timedelta(seconds=seconds))
        record.pop(integrity.FIELD, None)
        opstore.save(str(self.ops), record, key)


def tile(report, tile_id):
    return next(t for t in report["tiles"] if t["id"] == tile_id)


def md_tile(markdown, label):
    """The Markdown tile row whose label starts with ``label``: (value, holds)."""
    match = re.search(r"^\| %s[^|]*\| ([^|]*) \| ([^|]*) \|" % re.escape(label), markdown, re.M)
    assert match, markdown
    return match.group(1).strip(), match.group(2).strip()


def html_tile(html, tile_id):
    match = re.search(r'<div class="card (\w+)" id="%s">' % tile_id, html)
    assert match, html[:3000]
    return match.group(1)


def approved_run(site, plan, playbook="diagnose_and_remediate"):
    """``playbook`` pre-approved by alice for ``plan`` (the pod is diagnosed and planned again, same plan id)."""
    variables = {"pod": "web-new-0", "pod_namespace": "shop", "approval_plan_id": plan["plan_id"],
                 "approval_decision": "approve", "approver": "alice", "justification": "INC-3 OOM loop",
                 "validation_window": 2, "poll_interval": 0.5, "state_dir": str(site.ops)}
    with Controller(site.api, duration=280):  # plays the Deployment controller; stops when the run ends
        out = site.play(playbook, variables)
    match = re.search(r"PHR: record (op-\d{14}-[0-9a-f]{6}) \((\w+)\) written", out)
    assert match, out[-4000:]
    return match.group(1), match.group(2), out


def test_mttd_of_a_three_hour_old_failure_is_three_hours(kube_api, tmp_path):
    seeded = utcnow().replace(microsecond=0)
    started = seeded - datetime.timedelta(seconds=THREE_HOURS)
    seed_failing_since(kube_api, started)
    site = Site(kube_api, tmp_path)
    plan = site.plan_stage()
    op_id, status, _out = approved_run(site, plan)
    assert status == "validated"
    _entry, record = site.latest(op_id)
    timeline = record["timeline"]
    assert parse_time(timeline["failure_started_at"]) == started, timeline
    # 3 h plus however long the test took to get to the diagnosis (seconds on a quiet machine)
    elapsed = (utcnow() - seeded).total_seconds()
    assert THREE_HOURS <= timeline["mttd_seconds"] <= THREE_HOURS + elapsed, (timeline, elapsed)
    assert abs(timeline["mttd_seconds"] - (parse_time(timeline["diagnosed_at"]) - started).total_seconds()) < 1
    assert timeline["mttd_seconds"] < timeline["mttr_seconds"] <= THREE_HOURS + elapsed, timeline

    report, markdown, html, out = site.report()
    (incident,) = report["incidents"]  # the plan stage and the operation: one incident, counted once
    assert incident["incident"] == "Deployment/shop web/OOMKilled" and incident["records"] == 2, incident
    assert THREE_HOURS <= incident["mttd_seconds"] <= THREE_HOURS + elapsed, incident
    mttd = tile(report, "mttd")
    assert mttd["state"] == "bad" and mttd["target"] == "< 5 min" and mttd["value"].startswith("3h"), mttd
    assert md_tile(markdown, "MTTD") == (mttd["value"], "**NO**")
    assert html_tile(html, "mttd") == "bad"
    assert "MTTD (failure start to diagnosis) %s: NO (target < 5 min)" % mttd["value"] in out


def test_preapproval_forty_minutes_after_the_plan_breaches_the_medium_sla(kube_api, tmp_path):
    seed_failing_since(kube_api, utcnow() - datetime.timedelta(hours=1))
    site = Site(kube_api, tmp_path)
    shown = site.plan_stage()
    assert shown["risk_tier"] == "medium" and shown["sla_seconds"] == 1800
    # The plan was shown 45 minutes ago: age the artifact (created_at/expires_at are outside the plan id).
    aged = {k: v for k, v in shown.items() if k != integrity.FIELD}
    shown_at = parse_time(shown["created_at"]) - datetime.timedelta(minutes=45)
    aged.update(created_at=isoformat(shown_at), expires_at=isoformat(shown_at + datetime.timedelta(seconds=1800)))
    aged = integrity.sign(aged, site.key.encode())
    decided_at = shown_at + datetime.timedelta(minutes=40)
    kube_api.clear_requests()
    out = site.play("remediate_pod", {
        "aiops_plan": aged, "approval_plan_id": aged["plan_id"], "approval_decision": "approve", "approver": "alice",
        "justification": "INC-4 OOM loop", "approval_decided_at": isoformat(decided_at),
        "validation_window": 2, "poll_interval": 0.5, "state_dir": str(site.ops)}, expect_ok=False)
    assert "after the plan expired" in out, out[-3000:]
    assert not [r for r in kube_api.requests if r["method"] in ("PATCH", "PUT", "POST", "DELETE")]

    (entry,) = [e for e in site.entries() if e["record_id"].startswith("op-")]
    record = site.load(entry)
    decision = record["decision"]
    assert record["status"] == "refused" and decision["tier"] == "medium", decision
    assert decision["latency_seconds"] == 2400 and decision["sla_seconds"] == 1800, decision
    assert decision["sla_breached"] is True and decision["verdict"] == "refused"
    assert parse_time(decision["plan_shown_at"]) == shown_at and parse_time(decision["decided_at"]) == decided_at

    report, markdown, html, out = site.report()
    (medium,) = [t for t in report["tiers"] if t["tier"] == "medium"]
    assert medium["decisions"] == 1 and medium["breaches"] == 1 and medium["max_seconds"] == 2400, medium
    sla = tile(report, "sla")
    assert sla["state"] == "bad" and sla["value"] == "1 breached", sla
    assert md_tile(markdown, "Approvals within the tier SLA") == ("1 breached", "**NO**")
    assert "| medium | 1 | 40m 00s | 40m 00s | 40m 00s | 30m 00s | 1 |" in markdown, markdown
    assert "(SLA breached)" in markdown
    assert html_tile(html, "sla") == "bad"
    assert "Approvals within the tier SLA 1 breached: NO" in out


def test_failed_five_minute_check_turns_the_record_regressed(kube_api, tmp_path):
    seed_failing_since(kube_api, utcnow() - datetime.timedelta(minutes=30))
    site = Site(kube_api, tmp_path)
    plan = site.plan_stage()
    op_id, status, _out = approved_run(site, plan, "remediate_pod")
    assert status == "validated"
    first, record = site.latest(op_id)
    assert [(v["checkpoint"], v["passed"]) for v in record["validations"]] == [("1 min", True)]

    # The pod fails again after the fix: the kubelet reports a new OOM kill and restart.
    _code, pod = kube_api.call("GET", POD)
    status = pod["status"]["containerStatuses"][0]
    status["restartCount"] += 1
    status["lastState"] = {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                          "startedAt": stamp(utcnow() - datetime.timedelta(seconds=20)),
                                          "finishedAt": stamp(utcnow())}}
    kube_api.set_status(pod)
    site.age_operation(op_id, 300)  # five minutes have passed since the change
    out = site.play("validate_remediation", {"operation_id": op_id, "checkpoint": "5m", "state_dir": str(site.ops)},
                    expect_ok=False)
    assert "Check of %s at 5m: FAILED" % op_id in out and "OOM-killed" in out, out[-3000:]

    second, revision = site.latest(op_id)
    assert second["revision"] == 2 and revision["supersedes"]["file"] == first["file"]
    assert second["seq"] > first["seq"] and revision["supersedes"]["sha256"] == first["sha256"]
    assert [(v["checkpoint"], v["passed"]) for v in revision["validations"]] == [("1 min", True), ("5 min", False)]
    assert revision["validations"][1]["checkpoint_seconds"] == 300
    assert revision["status"] == "regressed"

    verify = " ".join(site.verify().split())
    assert "chain intact (keyed" in verify and "revision_" not in verify, verify[-3000:]
    report, markdown, html, _out = site.report()
    assert report["verification"]["ok"] is True
    (row,) = [r for r in report["rows"] if r["record_id"] == op_id]
    assert row["status"] == "regressed" and row["checks_text"] == "1 min pass, 5 min FAIL", row
    assert "| `%s` | regressed |" % op_id in markdown
    assert re.search(r'<td class="bad">regressed</td>', html)
