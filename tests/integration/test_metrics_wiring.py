"""Issue 14, user-facing: pod_diagnose metrics=true, usage-sized proposals and PHR pre/post metrics, over HTTP.

The modules run under ansible-playbook against the emulator, which serves metrics.k8s.io PodMetrics and
NodeMetrics seeded by tests/support/scenario_metrics.py.
"""

from __future__ import annotations

import json
import os
import copy
import subprocess
import sys
import threading
import time

import jsonschema
import pytest
import yaml

from tests.integration.test_phr_e2e import SCHEMA, entries
from tests.support import scenario_metrics
from tests.support.fixtures import ansible_environment
from tests.support.site_policy import lab_site_policy
from tests.support.oom_chain import oom_deployment_chain

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
MI = 2 ** 20


def objects():
    """Deployment shop/web -> ReplicaSet web-new -> pod web-new-0 OOM-looping under a 128Mi limit on node-1."""
    return oom_deployment_chain("128Mi", {"cpu": "100m", "memory": "128Mi"})


def seed(api, with_metrics=True):
    """The OOM pod at 126Mi of its 128Mi limit (scenario_metrics' OOM figure) on a node at 3.1 of 4 CPUs."""
    objs = objects()
    metrics = scenario_metrics.metrics_for(objs, node_usage={"node-1": ("3100m", "5Gi")}) if with_metrics else []
    api.load(objs + metrics)
    return objs


class Rollout(threading.Thread):
    """Plays the Deployment controller and kubelet: on a new generation, replaces web-new-0 by web-fix-0 (the
    new template, Ready, no restarts) still working at 126Mi, and reports the rollout complete."""

    def __init__(self, api, duration=40.0):
        super(Rollout, self).__init__(daemon=True)
        self.api, self.duration, self.stop_event = api, duration, threading.Event()

    def run(self):
        end = time.monotonic() + self.duration
        path = "/apis/apps/v1/namespaces/shop/deployments/web"
        while time.monotonic() < end and not self.stop_event.is_set():
            code, dep = self.api.call("GET", path)
            if code == 200 and dep["metadata"]["generation"] != 3:
                old = self.api.call("GET", "/api/v1/namespaces/shop/pods/web-new-0")[1]
                self.api.call("DELETE", "/api/v1/namespaces/shop/pods/web-new-0")
                new = copy.deepcopy(old)
                new["metadata"] = {"name": "web-fix-0", "namespace": "shop", "labels": {"app": "web"},
                                   "ownerReferences": old["metadata"]["ownerReferences"]}
                new["spec"]["containers"] = dep["spec"]["template"]["spec"]["containers"]
                new["status"] = {"phase": "Running", "startTime": "2026-11-25T19:10:00Z",
                                 "conditions": [{"type": "Ready", "status": "True"}],
                                 "containerStatuses": [{"name": "app", "image": "shop/web:2.0", "restartCount": 0,
                                                        "ready": True, "state": {"running": {}}}]}
                self.api.create(new)
                self.api.load(scenario_metrics.metrics_for([new], usage=lambda pod, c: ("30m", "126Mi")))
                dep["status"] = {"observedGeneration": dep["metadata"]["generation"], "replicas": 1,
                                 "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}
                self.api.set_status(dep)
                return
            time.sleep(0.05)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.join()


def run_play(api, tmp_path, tasks, extra_env=None):
    path = tmp_path / "pb.yml"
    path.write_text(yaml.safe_dump([{"name": "metrics wiring", "hosts": "localhost", "connection": "local",
                                     "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
                                     "tasks": tasks}], sort_keys=False))
    env = ansible_environment(api.kubeconfig, extra_env)
    return subprocess.run([PLAYBOOK, "-i", "localhost,", str(path)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def save(var, dest):
    """A task writing a registered result to a local JSON file the test reads."""
    return {"name": "Save %s" % var, "ansible.builtin.copy": {"content": "{{ %s | to_json }}" % var,
                                                              "dest": str(dest), "mode": "0600"}}


def test_oom_usage_in_diagnosis_proposal_and_phr_before_and_after(kube_api, tmp_path):
    seed(kube_api)
    records = tmp_path / "phr"
    tasks = [
        {"name": "Diagnose", "aiops.k8s.pod_diagnose": {"namespace": "shop", "name": "web-new-0", "metrics": True},
         "register": "diag"},
        {"name": "Plan", "aiops.k8s.remediation_plan": {"diagnosis": "{{ diag.diagnoses[0] }}"},
         "register": "planned"},
        {"name": "Record the approval decision", "ansible.builtin.set_fact": {"aiops_approval": {
            "aiops": {"kind": "approval", "version": 1},
            "approval": {"plan_id": "{{ planned.plan.plan_id }}", "decision": "approve", "approver": "alice",
                         "justification": "INC-14 limit below the working set", "mode": "pre_approved",
                         "decided_at": "{{ now(utc=true).isoformat() }}+00:00"}}}},
        {"name": "Remediate", "aiops.k8s.remediate": {"plan": "{{ planned.plan }}",
                                                      "approval": "{{ aiops_approval.approval }}",
                                                      "validation_window": 2, "poll_interval": 0.5},
         "register": "remediation"},
    ]
    env = dict(lab_site_policy(tmp_path), ANSIBLE_CALLBACKS_ENABLED="aiops.k8s.phr", AIOPS_K8S_PHR_DIR=str(records),
               AIOPS_K8S_STATE_DIR=str(tmp_path / "operations"))
    with Rollout(kube_api):
        proc = run_play(kube_api, tmp_path, tasks, env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    (entry,) = entries(records)
    record = json.loads((records / entry["file"]).read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(record)

    # Diagnosis: the usage figures and the root cause that states them.
    diagnosis = record["analysis"]["primary"]
    assert diagnosis["category"] == "OOMKilled"
    memory = diagnosis["usage"]["containers"][0]["memory"]
    assert memory["text"] == "126Mi of 128Mi (98%)" and memory["usage"] == pytest.approx(126 * MI, rel=0.001)
    assert diagnosis["usage"]["node"]["cpu"]["text"] == "3.1 of 4 (78%)"
    assert "Measured usage: app cpu 30m of 100m request (30%); app memory 126Mi of 128Mi (98%); node node-1 cpu " \
           "3.1 of 4 (78%)" in diagnosis["root_cause"]

    # Proposal: 126Mi x 1.4 = 176.4 -> 177Mi (above the 128Mi x 1.25 = 160Mi floor), naming the sample.
    plan = record["decision"]["plan"]
    assert plan["params"] == {"memory_limit": "177Mi", "previous_memory_limit": "128Mi"}
    assert "(basis: sample 126Mi at " in plan["description"]

    # PHR: usage before the change (plan time) and at the 1-minute checkpoint, side by side.
    before = record["pre_state"]["pre_metrics"]
    assert (before["pods"], before["ready"], before["restarts"]) == (1, 0, 5)
    assert before["memory"] == "126Mi of 128Mi (98%)" and before["source"] == "metrics-server"
    assert before["node"] == "node-1: cpu 3.1 of 4 (78%), memory 5Gi of 8Gi (62%)"
    assert record["pre_state"]["metrics"]["containers"][0]["memory"]["text"] == "126Mi of 128Mi (98%)"
    assert record["operation"]["status"] == "validated", record["operation"]
    (checkpoint,) = record["validations"]
    after = checkpoint["metrics"]
    assert (after["pods"], after["ready"], after["restarts"]) == (1, 1, 0)
    assert after["source"] == "metrics-server" and after["memory"] == "126Mi of 177Mi (71%)"
    markdown = (records / entry["md_file"]).read_text()
    assert "- Usage of `app`: memory 126Mi of 128Mi (98%), CPU 30m of 100m request (30%)" in markdown
    assert "| plan (%s) | 0/1 | 5 | 126Mi of 128Mi (98%%) |" % before["at"] in markdown
    assert "| 1 min (%s) | 1/1 | 0 | 126Mi of 177Mi (71%%) |" % after["at"] in markdown


@pytest.mark.parametrize("status,words", [
    (404, "metrics.k8s.io is not served (HTTP 404)"),
    (403, "reading metrics.k8s.io is forbidden (HTTP 403)"),
    (503, "metrics-server is not ready (HTTP 503"),
])
def test_pod_diagnose_without_metrics_api_is_one_note(kube_api, tmp_path, status, words):
    seed(kube_api)
    kube_api.emulator.add_fault(status, "GET", r"^/apis/metrics\.k8s\.io/", times=None)
    out = tmp_path / "diag.json"
    proc = run_play(kube_api, tmp_path, [
        {"name": "Diagnose the namespace", "aiops.k8s.pod_diagnose": {"namespace": "shop", "metrics": True},
         "register": "diag"}, save("diag", out)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    notes = [p for p in result["problems"] if "metrics" in p]
    assert len(notes) == 1 and words in notes[0] and "aiops.k8s.metrics_server" in notes[0]
    (oom,) = result["diagnoses"]
    assert oom["category"] == "OOMKilled" and "usage" not in oom
    assert "Measured usage" not in oom["root_cause"]
    assert oom["remediations"][0]["basis"]["text"] == "no usage: +50 %"
    assert oom["remediations"][0]["params"]["memory_limit"] == "192Mi"


def test_pod_diagnose_metrics_off_by_default_and_from_a_dump(kube_api, tmp_path):
    objs = seed(kube_api)
    dump = tmp_path / "dump"
    (dump / "metrics").mkdir(parents=True)
    (dump / "objects.json").write_text(json.dumps({"kind": "List", "items": objs}))
    samples = scenario_metrics.metrics_for(objs, node_usage={"node-1": ("3100m", "5Gi")})
    (dump / "metrics" / "top-pods.txt").write_text(scenario_metrics.top_pods_text(samples, containers=True))
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "objects.json").write_text(json.dumps({"kind": "List", "items": objs}))
    kube_api.clear_requests()
    proc = run_play(kube_api, tmp_path, [
        {"name": "Live, metrics not asked for", "aiops.k8s.pod_diagnose": {"namespace": "shop"}, "register": "live"},
        {"name": "Dump with kubectl top", "aiops.k8s.pod_diagnose": {"dump_dir": str(dump), "metrics": True},
         "register": "dumped"},
        {"name": "Dump without metrics files", "aiops.k8s.pod_diagnose": {"dump_dir": str(bare), "metrics": True},
         "register": "nometrics"},
        save("live", tmp_path / "live.json"), save("dumped", tmp_path / "dumped.json"),
        save("nometrics", tmp_path / "nometrics.json")])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    live = json.loads((tmp_path / "live.json").read_text())
    assert "usage" not in live["diagnoses"][0] and not [r for r in kube_api.requests if "metrics.k8s.io" in r["path"]]
    dumped = json.loads((tmp_path / "dumped.json").read_text())["diagnoses"][0]
    assert dumped["usage"]["source"] == "dump" and dumped["usage"]["containers"][0]["memory"]["text"] == \
        "126Mi of 128Mi (98%)"
    assert dumped["remediations"][0]["params"]["memory_limit"] == "177Mi"
    assert dumped["remediations"][0]["basis"]["text"] == "sample 126Mi"  # kubectl top text has no timestamp
    nometrics = json.loads((tmp_path / "nometrics.json").read_text())
    notes = [p for p in nometrics["problems"] if "metrics" in p]
    assert len(notes) == 1 and "no metrics files in" in notes[0] and "usage" not in nometrics["diagnoses"][0]


def test_prometheus_peak_changes_the_proposed_limit(kube_api, tmp_path):
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence import prometheus
    from tests.support.prometheus_stub import PrometheusStub

    seed(kube_api)
    out = tmp_path / "diag.json"
    now = time.time()
    with PrometheusStub(token="s3cret-prom") as prom:
        labels = {"namespace": "shop", "pod": "web-new-0", "container": "app"}
        prom.add_series(prometheus.MEMORY_METRIC, labels, [(now - 3000 + 60 * i, (100 + i) * MI) for i in range(40)])
        prom.add_series(prometheus.CPU_METRIC, labels, [(now - 1200, 0.05)])
        proc = run_play(kube_api, tmp_path, [
            {"name": "Diagnose with history", "aiops.k8s.pod_diagnose": {
                "namespace": "shop", "name": "web-new-0", "metrics": True, "prometheus_url": prom.url,
                "prometheus_token": "s3cret-prom"}, "register": "diag"}, save("diag", out)])
        assert [r["authorization"] for r in prom.requests] == ["Bearer s3cret-prom"] * 2
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    (oom,) = result["diagnoses"]
    assert oom["usage"]["containers"][0]["memory"]["text"] == "126Mi of 128Mi (98%), peak 139Mi"
    proposal = oom["remediations"][0]
    # the peak, not the 126Mi sample: 139Mi x 1.4 = 194.6 -> 195Mi (the sample alone gives 177Mi)
    assert proposal["params"]["memory_limit"] == "195Mi"
    assert proposal["basis"]["text"] == "peak 139Mi over 1h 00m from Prometheus"
    assert "s3cret-prom" not in out.read_text() and "s3cret-prom" not in proc.stdout
