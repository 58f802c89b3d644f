"""PHR costs per record, as a table: what the aiops.k8s.phr callback adds to a remediation run.

Each step is timed on its own, then the whole path the callback takes at the end of a run
(build -> redact -> render Markdown -> write JSON + Markdown with fsync -> chain the index entry -> head
file), unkeyed and keyed, plus the write-ahead pair (provisional ``applying`` revision + final revision)
and a follow-up revision built inside the store lock. The store grows while it runs, so later writes
pay for a longer index. Target: under 20 ms per record.

    .venv/bin/python benchmarks/bench_phr.py [--records 200]
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, ".collections")]

from ansible_collections.aiops.k8s.plugins.module_utils.records import model  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.records.collect import RunCollector  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.records.store import RecordStore  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.records.verify import verify_store  # noqa: E402
from ansible_collections.aiops.k8s.plugins.plugin_utils.render import render_record_markdown  # noqa: E402

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
RUN = {"playbook": "remediate_pod.yml", "user": "bench", "controller": "ctl", "ansible_version": "2.19",
       "started_at": "2026-12-02T11:59:00Z", "finished_at": "2026-12-02T12:00:00Z", "tasks": [],
       "callback_errors": []}
LIMIT_MS = 20.0


def workload(memory):
    """A realistic Deployment: 3 containers with env, managedFields and a last-applied annotation."""
    containers = [{"name": "c%d" % n, "image": "registry.example/shop/app:1.%d" % n,
                   "env": [{"name": "VAR_%d" % k, "value": "value-%d" % k} for k in range(20)],
                   "resources": {"limits": {"memory": memory if n == 0 else "256Mi", "cpu": "500m"},
                                 "requests": {"memory": "128Mi", "cpu": "100m"}}} for n in range(3)]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "managedFields": [{"manager": "kubectl"}] * 5,
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{" + "x" * 4000 + "}"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": containers}}}}


def collector(number):
    op_id = "op-20261202120000-%06x" % number
    result = RunCollector()
    result.add("a", "Diagnose", "aiops.k8s.pod_diagnose", "localhost", "ok", {
        "aiops": {"kind": "diagnosis", "version": 1}, "diagnoses": [{
            "kind": "Pod", "namespace": "shop", "name": "web-%d" % number, "category": "OOMKilled",
            "diagnosis_id": "d%d" % number, "observed_at": "2026-12-02T11:50:00Z",
            "failure_started_at": "2026-12-02T11:40:00Z", "evidence": [{"source": "event", "detail": "x" * 200}] * 8}]})
    result.add("b", "Plan", "aiops.k8s.remediation_plan", "localhost", "ok", {
        "aiops": {"kind": "plan", "version": 1}, "plan": {
            "plan_id": "p%d" % number, "risk_tier": "medium", "created_at": "2026-12-02T11:51:00Z",
            "sla_seconds": 1800, "target": {"kind": "Deployment", "namespace": "shop", "name": "web"}}})
    result.add("c", "Remediate", "aiops.k8s.remediate", "localhost", "changed", {
        "aiops": {"kind": "operation", "version": 1}, "changed": True, "operation": {
            "operation_id": op_id, "plan_id": "p%d" % number, "diagnosis_id": "d%d" % number,
            "action": "set_memory_limit", "risk_tier": "medium", "status": "validated",
            "target": {"kind": "Deployment", "namespace": "shop", "name": "web"},
            "dry_run": {"accepted": True}, "diff": {"before": workload("256Mi"), "after": workload("384Mi")},
            "pre_state_ref": "/ops/%s.json" % op_id, "pre_state_digest": "a" * 64,
            "applied_at": "2026-12-02T11:55:00Z", "finished_at": "2026-12-02T11:56:00Z",
            "validation": {"passed": True, "checks": [], "window_seconds": 60},
            "approval": {"plan_id": "p%d" % number, "decision": "approve", "approver": "bob",
                         "justification": "INC", "decided_at": "2026-12-02T11:53:00Z"},
            "gate": {"verdict": "approved", "latency_seconds": 120, "sla_seconds": 1800, "sla_breached": False},
            "drift": {"checked": True, "drifted": False, "reason": None}}})
    return result


def timed(samples, name, func, *args):
    start = time.perf_counter()
    value = func(*args)
    samples.setdefault(name, []).append((time.perf_counter() - start) * 1000.0)
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    args = parser.parse_args()
    samples = {}
    with tempfile.TemporaryDirectory() as tmp:
        plain = RecordStore(os.path.join(tmp, "plain"), head_file=os.path.join(tmp, "anchor", "plain-head.json"))
        keyed = RecordStore(os.path.join(tmp, "keyed"), key=b"bench-key",
                            head_file=os.path.join(tmp, "anchor", "keyed-head.json"))
        ahead = RecordStore(os.path.join(tmp, "ahead"), key=b"bench-key")
        for number in range(args.records):
            start = time.perf_counter()
            (record,) = timed(samples, "build record", model.build_records, collector(number), RUN, NOW)["records"]
            clean = timed(samples, "redact record", model.redact_record, record)
            markdown = timed(samples, "render Markdown", render_record_markdown, clean)
            timed(samples, "write + chain (unkeyed, head file)", plain.write, clean, markdown, NOW)
            samples.setdefault("TOTAL per record (callback path)", []).append((time.perf_counter() - start) * 1000.0)
            timed(samples, "write + chain (keyed, head file)", keyed.write, clean, markdown, NOW)
            start = time.perf_counter()
            ahead.begin(clean, NOW)
            ahead.finish(clean, None, NOW)
            samples.setdefault("write-ahead pair (applying + final)", []).append(
                (time.perf_counter() - start) * 1000.0)
            timed(samples, "follow-up revision inside the lock", plain.revise, clean["record_id"],
                  lambda prev, entry: model.follow_up_revision(prev, "validation", {"validation": {
                      "passed": True, "checkpoint_seconds": 300}}, RUN, now=NOW, entry=entry), None, NOW)
        start = time.perf_counter()
        result = verify_store(plain.root, key=None)
        verify_ms = (time.perf_counter() - start) * 1000.0
        assert result["ok"], result["message"]
    print("PHR record costs, %d records of a 3-container Deployment change (ms)" % args.records)
    print("%-40s %8s %8s %8s %8s" % ("step", "mean", "p50", "p95", "max"))
    for name, values in samples.items():
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
        print("%-40s %8.2f %8.2f %8.2f %8.2f" % (name, statistics.mean(values), statistics.median(values), p95,
                                                 values[-1]))
    total = sorted(samples["TOTAL per record (callback path)"])
    p95 = total[int(round(0.95 * (len(total) - 1)))]
    per_entry = verify_ms / max(result["entries"], 1)
    print("verify_store over %d entries: %.1f ms (%.2f ms/entry)" % (result["entries"], verify_ms, per_entry))
    print("target < %.0f ms per record: %s (p95 %.2f ms)" % (LIMIT_MS, "met" if p95 < LIMIT_MS else "NOT met", p95))


if __name__ == "__main__":
    main()
