"""Remediation timings on the Kubernetes API emulator, as a table.

Measures, over real HTTP with the collection's own transport:
  approval -> validated fix   gate + read + drift check + save + dry run + apply + validation window
  failed fix -> rolled back   from the end of a failed validation to the verified restore
  rollback by operation id    load the record, PUT the saved object, verify

The emulator has no controller: a thread writes the rollout status as soon as it sees the new generation,
so the numbers are the collection's own overhead plus the validation window, not a real rollout's duration.

    .venv/bin/python benchmarks/bench_remediation.py [--runs 10] [--window 1]
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

from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import utcnow  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import Cluster  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import (  # noqa: E402
    execute,
    rollback_operation,
)
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import transport_from_kubeconfig  # noqa: E402
from tests.integration.test_remediation_actions import (  # noqa: E402
    WEB,
    Controller,
    approval_for,
    make_plan,
    seed_deployment,
)
from tests.support.fixtures import TOKEN, KubeApi  # noqa: E402
from tests.support.local_run import local_run  # noqa: E402
from tests.support.kube_emulator import KubeEmulator  # noqa: E402


def parse_iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def one_run(api, store, window, healthy):
    api.reset()
    seed_deployment(api, restarts=0)
    plan = make_plan(api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    approval = approval_for(plan)
    cluster = Cluster(transport_from_kubeconfig(api.kubeconfig))
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.policy import merge

    # What is timed here is apply -> validate -> rollback; authentication has its own table (bench_gate), so a
    # lab site policy accepts the unsigned pre-approval (the shipped default stops unsigned ones at low).
    options = {"state_dir": store, "check_mode": False, "validation_window": window, "poll_interval": 0.1,
               "rollback_on_failure": True, "policy": merge({"unsigned_max_tier": "critical"})}
    with Controller(api, healthy=healthy, duration=window + 10):
        started = time.monotonic()
        _changed, op, _diff = execute(cluster, plan, approval, options, utcnow)
        total = time.monotonic() - started
    return op, total


def bench_gate(runs, tmp):
    """Added latency of the gate per remediation, without the cluster: tier + approval checks, MAC, ledger, signature."""
    import subprocess
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, signatures
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import live_tier
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import check_approval
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import build_plan
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.policy import merge
    from tests.integration.test_remediation_actions import diagnosis
    from tests.unit.remediation.conftest import deployment
    key = os.path.join(tmp, "id_alice")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key], check=True)
    allowed = os.path.join(tmp, "allowed_signers")
    with open(allowed, "w") as handle, open(key + ".pub") as pub:
        handle.write("alice %s\n" % pub.read().strip())
    policy = merge({"approvers": {"alice": "critical"}})
    verifier = signatures.SignatureVerifier(allowed, policy["approvers"], local_run)
    live = deployment()
    mac_key = b"k" * 32
    timings = {"tier + approval checks": [], "plan MAC verify": [], "ledger (lock, read, append, fsync)": [],
               "ssh-keygen -Y verify": []}
    for run in range(runs):
        plan = integrity.sign(build_plan(diagnosis("set_memory_limit", WEB, {"memory_limit": "%dMi" % (300 + run)}),
                                         live, utcnow()), mac_key)
        approval = approval_for(plan, mode="signed")
        approval["signature"] = signatures.sign(signatures.approval_message(plan["plan_id"], approval), key, local_run)
        started = time.perf_counter()
        tier, _reasons, sla = live_tier(plan, live, policy)
        check_approval(plan, approval, utcnow(), tier, sla, policy["limits"])
        timings["tier + approval checks"].append(time.perf_counter() - started)
        started = time.perf_counter()
        assert integrity.verify(plan, mac_key)
        timings["plan MAC verify"].append(time.perf_counter() - started)
        started = time.perf_counter()
        opstore.consume_approval(os.path.join(tmp, "ledger"), approval, plan["plan_id"], "op-%d" % run, "now")
        timings["ledger (lock, read, append, fsync)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        verifier(approval, plan["plan_id"], tier)
        timings["ssh-keygen -Y verify"].append(time.perf_counter() - started)
    total = [sum(values) for values in zip(*timings.values())]
    print("| gate step (%d runs, no cluster) | median ms | max ms |" % runs)
    print("| --- | ---: | ---: |")
    for label, values in list(timings.items()) + [("total added per remediation", total)]:
        print("| %s | %.2f | %.2f |" % (label, 1000 * statistics.median(values), 1000 * max(values)))
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--window", type=float, default=1.0, help="validation window in seconds")
    parser.add_argument("--gate-only", action="store_true", help="only the gate latency table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_gate(max(args.runs, 20), tmp)
    if args.gate_only:
        return
    fixes, rollbacks, by_id = [], [], []
    with tempfile.TemporaryDirectory() as tmp, KubeEmulator(port=0, token=TOKEN) as emulator:
        api = KubeApi(emulator, emulator.write_kubeconfig(os.path.join(tmp, "kubeconfig")))
        store = os.path.join(tmp, "ops")
        for _run in range(args.runs):
            op, total = one_run(api, store, args.window, healthy=True)
            assert op["status"] == "validated", op
            fixes.append(total)
            record = opstore.load(store, op["operation_id"])
            started = time.monotonic()
            _changed, result = rollback_operation(Cluster(transport_from_kubeconfig(api.kubeconfig)), record,
                                                  utcnow)
            assert result["succeeded"], result
            by_id.append(time.monotonic() - started)
            op, _total = one_run(api, store, args.window, healthy=False)
            assert op["status"] == "rolled_back", op
            rb = op["rollback"]
            rollbacks.append((parse_iso(rb["finished_at"]) - parse_iso(rb["started_at"])).total_seconds())
    rows = [("approval -> validated fix (window %.1f s)" % args.window, fixes),
            ("failed validation -> verified rollback", rollbacks),
            ("rollback by operation id", by_id)]
    print("| measurement (%d runs, emulator, real HTTP) | median s | p95 s | max s |" % args.runs)
    print("| --- | ---: | ---: | ---: |")
    for label, values in rows:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
        print("| %s | %.3f | %.3f | %.3f |" % (label, statistics.median(values), p95, max(values)))


if __name__ == "__main__":
    main()
