"""Realistic pod failures, written the way kubelet, scheduler and controllers write them.

Every scenario returns plain Kubernetes JSON (Namespace, Nodes, Deployment -> ReplicaSet -> Pod
chains with ownerReferences and uids, StatefulSets, Jobs/CronJobs, PVCs, ConfigMaps, core/v1 Events
whose involvedObject.uid is the pod's uid) plus logs as ``{(ns, pod, container, previous): text}``.
The expected category is the label ``aiops.test/expect`` on the pod (or on the workload whose pods
cannot be created), so tests can assert generically. Message strings are the real ones; the
source file that formats each is cited next to it. Output is deterministic for a given ``now``
(uids and name hashes derive from names), so the bundled example dump is reproducible.

    objects, logs = build(now=NOW)                     # every scenario
    objects, logs = build(["oom-killed"], now=NOW)     # just one
    objects, logs = make_fleet(namespaces=20, pods=5000, failing_ratio=0.1, now=NOW)
    seed(kube_api, objects, logs)

The Builder and status helpers are in scenario_builder.py, the scenarios in scenario_failures.py and
scenario_workloads.py, metrics.k8s.io samples for them in scenario_metrics.py.
"""

from __future__ import annotations

import json
import urllib.request

# Builder, helpers and the scenario functions live in sibling modules; the names stay importable from here.
from tests.support.scenario_builder import (EXPECT_LABEL, Builder, _fmt_pod, conditions, container,
                                            cstatus, pod_spec, pod_status, running, terminated, waiting)
from tests.support.scenario_failures import (sc_config_missing_key, sc_config_missing_secret, sc_crashloop,
                                             sc_create_container_error, sc_image_not_found, sc_image_unauthorized,
                                             sc_init_container, sc_invalid_image, sc_liveness, sc_oom, sc_readiness,
                                             sc_run_container_error, sc_startup, sc_unschedulable_affinity,
                                             sc_unschedulable_cordoned, sc_unschedulable_cpu, sc_unschedulable_pvc,
                                             sc_unschedulable_taint, sc_volume_mount)
from tests.support.scenario_workloads import (sc_deadline, sc_evicted, sc_forbidden, sc_healthy, sc_job_exit,
                                              sc_node_lost, sc_quota, sc_sandbox, sc_terminating)

SCENARIOS = {
    "crashloop-traceback": (sc_crashloop, "shop", "CrashLoopBackOff"),
    "oom-killed": (sc_oom, "shop", "OOMKilled"),
    "image-not-found": (sc_image_not_found, "shop", "ImagePullBackOff"),
    "image-unauthorized": (sc_image_unauthorized, "shop", "ImagePullBackOff"),
    "invalid-image-name": (sc_invalid_image, "shop", "InvalidImageName"),
    "config-missing-key": (sc_config_missing_key, "shop", "CreateContainerConfigError"),
    "config-missing-secret": (sc_config_missing_secret, "shop", "CreateContainerConfigError"),
    "create-container-error": (sc_create_container_error, "shop", "CreateContainerError"),
    "run-container-error": (sc_run_container_error, "shop", "RunContainerError"),
    "unschedulable-cpu": (sc_unschedulable_cpu, "shop", "UnschedulableInsufficientResources"),
    "unschedulable-taint": (sc_unschedulable_taint, "shop", "UnschedulableTaints"),
    "unschedulable-affinity": (sc_unschedulable_affinity, "shop", "UnschedulableNodeAffinity"),
    "unschedulable-pvc": (sc_unschedulable_pvc, "shop", "UnschedulableVolume"),
    "unschedulable-cordoned": (sc_unschedulable_cordoned, "shop", "Unschedulable"),
    "volume-mount-failure": (sc_volume_mount, "shop", "VolumeMountFailure"),
    "liveness-probe": (sc_liveness, "shop", "LivenessProbeFailure"),
    "readiness-probe": (sc_readiness, "shop", "ReadinessProbeFailure"),
    "startup-probe": (sc_startup, "shop", "StartupProbeFailure"),
    "init-container": (sc_init_container, "shop", "InitContainerFailure"),
    "evicted": (sc_evicted, "shop", "Evicted"),
    "deadline-exceeded": (sc_deadline, "batch", "DeadlineExceeded"),
    "job-exit-error": (sc_job_exit, "batch", "ContainerExitError"),
    "sandbox-failure": (sc_sandbox, "shop", "SandboxCreationFailure"),
    "quota-exceeded": (sc_quota, "shop", "QuotaExceeded"),
    "pod-creation-forbidden": (sc_forbidden, "shop", "PodCreationForbidden"),
    "node-lost": (sc_node_lost, "shop", "NodeLost"),
    "terminating-stuck": (sc_terminating, "shop", "TerminatingStuck"),
    "healthy": (sc_healthy, "shop", "Healthy"),
}


def build(names=None, now=None, namespace=None):
    """Objects and logs for the named scenarios (all by default), on a 3-node cluster.

    ``namespace`` overrides each scenario's default namespace. Returns (objects, logs).
    """
    b = Builder(now)
    b.base_nodes()
    for name in names or list(SCENARIOS):
        function, default_ns, _category = SCENARIOS[name]
        ns = namespace or default_ns
        b.namespace(ns)
        function(b, ns)
    if not any(o["kind"] == "Node" and o["metadata"]["name"] == "node-3" for o in b.objects):
        # The third node is tainted for batch work, so scheduler messages saying "0/3 nodes" hold.
        b.node("node-3", taints=[{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}])
    _sort(b.objects)
    return b.objects, b.logs


def expected(objects):
    """{(kind, namespace, name): category} the diagnosis should produce.

    Every labelled Pod, plus labelled ReplicaSets/StatefulSets/Jobs/DaemonSets/ReplicationControllers
    that own no pod (those are diagnosed on the workload: QuotaExceeded, PodCreationForbidden). The
    label also sits on Deployments and CronJobs, which are never diagnosed themselves.
    """
    owners_with_pods = set()
    for obj in objects:
        if obj.get("kind") == "Pod":
            for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
                owners_with_pods.add(ref.get("uid"))
    found = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        category = (meta.get("labels") or {}).get(EXPECT_LABEL)
        kind = obj.get("kind")
        if not category:
            continue
        if kind == "Pod" or (kind in ("ReplicaSet", "StatefulSet", "Job", "DaemonSet", "ReplicationController")
                             and meta.get("uid") not in owners_with_pods):
            found[(kind, meta.get("namespace"), meta["name"])] = category
    return found


_KIND_ORDER = {"Namespace": 0, "Node": 1, "ConfigMap": 2, "ResourceQuota": 2, "PersistentVolumeClaim": 3,
               "CronJob": 4, "Deployment": 4, "StatefulSet": 4, "Job": 5, "ReplicaSet": 5, "Pod": 6, "Event": 7}


def _sort(objects):
    objects.sort(key=lambda o: (_KIND_ORDER.get(o["kind"], 9), o["metadata"].get("namespace") or "",
                                o["metadata"]["name"]))


# --------------------------------------------------------------------------------------------
# Fleet for benchmarks
# --------------------------------------------------------------------------------------------

_FLEET_FAILURES = ("crashloop", "oom", "image", "config", "unschedulable", "liveness", "evicted")


def make_fleet(namespaces=20, pods=5000, failing_ratio=0.1, now=None, pods_per_deployment=10):
    """A big cluster for benchmarks: Deployments of ``pods_per_deployment`` pods spread over
    ``namespaces``; ``failing_ratio`` of the pods fail, cycling through common classes, each with
    its events and (for crashes) previous logs. Plain dicts built directly, so 5,000 pods take well
    under a second. Returns (objects, logs)."""
    b = Builder(now)
    for index in range(1, 6):
        b.node("node-%d" % index, cpu="16", memory="64Gi")
    objects, logs = b.objects, b.logs
    failing_every = int(round(1 / failing_ratio)) if failing_ratio else 0
    per_ns = [pods // namespaces + (1 if i < pods % namespaces else 0) for i in range(namespaces)]
    counter = 0
    for ns_index in range(namespaces):
        ns = "team-%02d" % ns_index
        b.namespace(ns)
        remaining = per_ns[ns_index]
        dep_index = 0
        while remaining > 0:
            size = min(pods_per_deployment, remaining)
            app = "svc-%03d" % dep_index
            image = "registry.example.com/%s/%s:1.%d.0" % (ns, app, dep_index % 7)
            spec = [container("app", image, memory_limit="256Mi")]
            _d, rs, labels = b.deployment(ns, app, pod_spec(spec), replicas=size)
            for pod_index in range(size):
                counter += 1
                failure = None
                if failing_every and counter % failing_every == 0:
                    failure = _FLEET_FAILURES[(counter // failing_every) % len(_FLEET_FAILURES)]
                _fleet_pod(b, ns, rs, labels, spec, pod_index, failure, counter)
            remaining -= size
            dep_index += 1
    return objects, logs


def _fleet_pod(b, ns, rs, labels, spec, index, failure, counter):
    name = b.pod_name(rs, index)
    node = "node-%d" % (counter % 5 + 1)
    key = ns + "/" + name
    c = spec[0]
    expect = {"crashloop": "CrashLoopBackOff", "oom": "OOMKilled", "image": "ImagePullBackOff",
              "config": "CreateContainerConfigError", "unschedulable": "UnschedulableInsufficientResources",
              "liveness": "LivenessProbeFailure", "evicted": "Evicted"}.get(failure, "Healthy")
    pod_labels = dict(labels, **{EXPECT_LABEL: expect})
    if failure is None:
        status = pod_status(b, "Running", [cstatus(b, key, c, running(b, 86400), ready=True)], ready=True, node=node,
                            age=86400)
        b.pod(ns, name, pod_spec(spec, node=node), status, labels=pod_labels, owner=rs, age=86400)
        return
    if failure == "unschedulable":
        message = ("0/5 nodes are available: 5 Insufficient memory. preemption: 0/5 nodes are available: "
                   "5 No preemption victims found for incoming pod.")
        pod = b.pod(ns, name, pod_spec(spec), {"phase": "Pending", "conditions": conditions(
            b, False, scheduled=False, sched_message=message)}, labels=pod_labels, owner=rs, age=1800)
        b.event(pod, "FailedScheduling", message, "Warning", "default-scheduler", count=12, first_ago=1800, last_ago=60)
        return
    if failure == "evicted":
        message = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 91044Ki. Container "
                   "app was using 901244Ki, request is 128Mi, has larger consumption of memory. ")
        pod = b.pod(ns, name, pod_spec(spec, node=node), {
            "phase": "Failed", "reason": "Evicted", "message": message, "startTime": b.ts(9000),
            "containerStatuses": [cstatus(b, key, c, terminated(b, "ContainerStatusUnknown", 137, 9000, 3600, key))]},
            labels=pod_labels, owner=rs, age=9000)
        b.event(pod, "Evicted", message, host=node, first_ago=3600)
        return
    if failure == "image":
        image = c["image"].replace(":1.", ":9.")
        bad = dict(c, image=image)
        status = pod_status(b, "Pending", [cstatus(b, key, bad, waiting(
            "ImagePullBackOff", 'Back-off pulling image "%s"' % image))], node=node, age=900)
        pod = b.pod(ns, name, pod_spec([bad], node=node), status, labels=pod_labels, owner=rs, age=900)
        b.event(pod, "Failed", 'Failed to pull image "%s": rpc error: code = NotFound desc = failed to pull and unpack '
                'image "%s": failed to resolve reference "%s": %s: not found' % (image, image, image, image),
                host=node, count=5, first_ago=890, last_ago=150, field_path="spec.containers{app}")
        b.event(pod, "BackOff", 'Back-off pulling image "%s"' % image, "Normal", host=node, count=50, first_ago=880,
                last_ago=9, field_path="spec.containers{app}")
        return
    if failure == "config":
        message = "couldn't find key API_TOKEN in ConfigMap %s/%s-config" % (ns, rs["metadata"]["labels"]["app"])
        status = pod_status(b, "Pending", [cstatus(b, key, c, waiting("CreateContainerConfigError", message))],
                            node=node, age=700)
        pod = b.pod(ns, name, pod_spec(spec, node=node), status, labels=pod_labels, owner=rs, age=700)
        b.event(pod, "Failed", "Error: " + message, host=node, count=30, first_ago=690, last_ago=8,
                field_path="spec.containers{app}")
        return
    # Restarting containers: crashloop, oom, liveness.
    reason, code = {"crashloop": ("Error", 1), "oom": ("OOMKilled", 137), "liveness": ("Error", 137)}[failure]
    state = waiting("CrashLoopBackOff") if failure != "liveness" else running(b, 120)
    status = pod_status(b, "Running", [cstatus(b, key, c, state, restarts=6, last=terminated(
        b, reason, code, 400, 380, key))], node=node, age=7200)
    pod = b.pod(ns, name, pod_spec(spec, node=node), status, labels=pod_labels, owner=rs, age=7200)
    if failure == "liveness":
        b.event(pod, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", host=node,
                count=20, first_ago=7000, last_ago=130, field_path="spec.containers{app}")
        b.event(pod, "Killing", "Container app failed liveness probe, will be restarted", "Normal", host=node, count=6,
                first_ago=7000, last_ago=380, field_path="spec.containers{app}")
    else:
        b.event(pod, "BackOff", "Back-off restarting failed container app in pod %s" % _fmt_pod(pod), host=node,
                count=25, first_ago=7000, last_ago=10, field_path="spec.containers{app}")
    if failure == "crashloop":
        b.log(ns, name, "app", "Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>\n"
              "    connect(os.environ[\"DB_URL\"])\nKeyError: 'DB_URL'\n", previous=True)
    elif failure == "oom":
        b.log(ns, name, "app", "loading cache...\ncache entries: 9412331\n", previous=True)


# --------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------

def logs_as_list(logs):
    return [{"namespace": ns, "pod": pod, "container": c, "previous": prev, "text": text}
            for (ns, pod, c, prev), text in logs.items()]


def seed(target, objects, logs=None):
    """Load objects and logs into a ``kube_api`` fixture, a KubeEmulator, or an emulator URL.

    In-process targets take the dicts over without copying (fast for fleets): build them for the
    seed and do not modify them afterwards.
    """
    logs = logs or {}
    if hasattr(target, "emulator"):
        return target.load(objects, logs_as_list(logs), copy_objects=False)
    if hasattr(target, "load"):
        return target.load(objects, logs_as_list(logs))
    body = json.dumps({"objects": objects, "logs": logs_as_list(logs)}).encode()
    request = urllib.request.Request(target.rstrip("/") + "/_emulator/state", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["loaded"]
