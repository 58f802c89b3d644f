#!/usr/bin/env python
"""Classifier throughput on a typical pod mix (mostly healthy, some failing), as a table.

Usage: .venv/bin/python benchmarks/bench_classify.py [--pods 1000,10000,50000]
Prints pods, wall seconds, CPU seconds and pods/s (wall and CPU). CPU time is shown because a shared
machine's load inflates wall time; the target is >= 10,000 pods/s for typical pods.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, ".collections")]

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_many  # noqa: E402
from tests.unit.classify.podbuilder import (  # noqa: E402
    container, cstatus, deployment_owners, event, evidence, http_probe, pod, term,
)

READY = [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"},
         {"type": "PodScheduled", "status": "True"}]


def _mix():
    """20 templates: 14 healthy, 6 failing (crash loop, OOM, pull, pending, config, readiness)."""
    healthy = pod(containers=[container(liveness=http_probe(), readiness=http_probe(), limits={"memory": "512Mi"}),
                              container("proxy", image="envoy:1.30")],
                  statuses=[cstatus(running=86400, ready=True), cstatus("proxy", running=86400, ready=True)],
                  conditions=READY)
    restarted = pod(statuses=[cstatus(running=80000, ready=True, restarts=3, last=term("Error", 1, ago=80010))],
                    conditions=READY)
    completed = pod(phase="Succeeded", restart_policy="Never", statuses=[cstatus(terminated=term("Completed", 0))])
    crash = pod(containers=[container(limits={"memory": "256Mi"})],
                statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off 5m0s"), restarts=9,
                                  last=term("Error", 1, ago=30))])
    oom = pod(containers=[container(limits={"memory": "256Mi"})],
              statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=9, last=term("OOMKilled", 137))])
    pull = pod(phase="Pending", statuses=[cstatus(waiting=("ImagePullBackOff", 'Back-off pulling image "x:1"'))])
    unschedulable = ("0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: "
                     "}, 4 Insufficient cpu. preemption: 0/5 nodes are available: 5 Preemption is not helpful.")
    pending = pod(phase="Pending", node=None,
                  conditions=[{"type": "PodScheduled", "status": "False", "message": unschedulable}])
    config = pod(phase="Pending", statuses=[cstatus(waiting=("CreateContainerConfigError",
                                                             'secret "db" not found'))])
    unready = pod(containers=[container(readiness=http_probe())], statuses=[cstatus(running=3000, ready=False)])
    ev_crash = [event("BackOff", "Back-off restarting failed container app", count=40, container="app")]
    ev_unready = [event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=300,
                        ago=5, container="app")]
    owners = deployment_owners(rs_rev=2)
    items = [evidence(healthy, owners=owners)] * 10 + [evidence(restarted), evidence(completed, owners=[])] * 2
    items += [evidence(crash, ev_crash, owners=owners), evidence(oom, owners=owners), evidence(pull),
              evidence(pending), evidence(config), evidence(unready, ev_unready)]
    return items


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", default="1000,10000,50000")
    args = parser.parse_args()
    templates = _mix()
    print("%8s %10s %10s %12s %12s" % ("pods", "wall_s", "cpu_s", "pods/s", "pods/s(cpu)"))
    for size in [int(x) for x in args.pods.split(",")]:
        batch = [templates[i % len(templates)] for i in range(size)]
        wall, cpu = time.perf_counter(), time.process_time()
        result = classify_many(batch, [])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert len(result["diagnoses"]) == size
        print("%8d %10.3f %10.3f %12.0f %12.0f" % (size, wall, cpu, size / wall, size / cpu if cpu else 0))
    print("categories in the last batch:", result["counts"])


if __name__ == "__main__":
    main()
