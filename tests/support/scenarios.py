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
"""

from __future__ import annotations

import datetime
import hashlib
import json
import urllib.request
import uuid

EXPECT_LABEL = "aiops.test/expect"
_UID_NS = uuid.UUID("6f1c1f9e-5c43-4b0e-9d1a-5ad0c0a1e2f3")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand alphanums
UTC = datetime.timezone.utc
DEFAULT_NOW = datetime.datetime(2026, 11, 25, 19, 0, 0, tzinfo=UTC)


def _hash(text, length, alphabet=_NAME_CHARS):
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _hex(text, length=64):
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class Builder(object):
    """Collects objects and logs for one ``now``; helpers build objects the way the cluster does."""

    def __init__(self, now=None):
        self.now = now or DEFAULT_NOW
        self.objects = []
        self.logs = {}
        self._names = set()
        self._stamps = {}

    # -- basics ------------------------------------------------------------------------------
    def ts(self, seconds_ago):
        """RFC 3339 time ``seconds_ago`` before now (memoised: fleets reuse a few offsets)."""
        stamp = self._stamps.get(seconds_ago)
        if stamp is None:
            stamp = (self.now - datetime.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._stamps[seconds_ago] = stamp
        return stamp

    @staticmethod
    def uid(*parts):
        return str(uuid.uuid5(_UID_NS, "/".join(parts)))

    def add(self, obj):
        meta = obj["metadata"]
        key = (obj["kind"], meta.get("namespace"), meta["name"])
        if key not in self._names:
            self._names.add(key)
            self.objects.append(obj)
        return obj

    def meta(self, kind, namespace, name, age, labels=None, owner=None, annotations=None):
        meta = {"name": name, "uid": self.uid(kind, namespace or "", name),
                "resourceVersion": "1", "creationTimestamp": self.ts(age)}
        if namespace:
            meta["namespace"] = namespace
        if labels:
            meta["labels"] = dict(labels)
        if annotations:
            meta["annotations"] = dict(annotations)
        if owner is not None:
            meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                        "controller": True, "blockOwnerDeletion": True}]
        return meta

    # -- cluster-scoped ---------------------------------------------------------------------
    def namespace(self, name):
        return self.add({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": dict(self.meta("Namespace", None, name, 90 * 86400),
                                          labels={"kubernetes.io/metadata.name": name}),
                         "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def node(self, name, ready=True, taints=None, labels=None, cpu="4", memory="16Gi", lost_for=None):
        heartbeat = self.ts(lost_for + 40 if lost_for else 20)
        if lost_for:
            # pkg/controller/nodelifecycle/node_lifecycle_controller.go tryUpdateNodeHealth
            status, reason, message = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."
            pressure = [(t, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
                        for t in ("MemoryPressure", "DiskPressure", "PIDPressure")]
            taints = (taints or []) + [
                {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": self.ts(lost_for)},
                {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": self.ts(lost_for)}]
        elif ready:
            # pkg/kubelet/nodestatus/setters.go ReadyCondition
            status, reason, message = "True", "KubeletReady", "kubelet is posting ready status"
            pressure = [("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available")]
        else:
            status, reason, message = "False", "KubeletNotReady", "container runtime network not ready: " \
                "NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: " \
                "cni plugin not initialized"
            pressure = []
        conditions = [{"type": t, "status": s, "reason": r, "message": m, "lastHeartbeatTime": heartbeat,
                       "lastTransitionTime": self.ts(30 * 86400)} for t, s, r, m in pressure]
        conditions.append({"type": "Ready", "status": status, "reason": reason, "message": message,
                           "lastHeartbeatTime": heartbeat,
                           "lastTransitionTime": self.ts(lost_for) if lost_for else self.ts(30 * 86400)})
        node_labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       "topology.kubernetes.io/zone": "zone-a"}
        node_labels.update(labels or {})
        spec = {"podCIDR": "10.244.%d.0/24" % (int(_hex(name, 2), 16) % 200), "providerID": "kind://docker/%s" % name}
        if taints:
            spec["taints"] = taints
        capacity = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "100Gi"}
        return self.add({
            "apiVersion": "v1", "kind": "Node",
            "metadata": self.meta("Node", None, name, 60 * 86400, labels=node_labels),
            "spec": spec,
            "status": {"capacity": capacity, "allocatable": dict(capacity, cpu=str(int(cpu) * 1000 - 100) + "m"),
                       "conditions": conditions,
                       "addresses": [{"type": "InternalIP", "address": "172.18.0.%d" % (2 + int(_hex(name, 2), 16) % 200)},
                                     {"type": "Hostname", "address": name}],
                       "nodeInfo": {"kubeletVersion": "v1.32.2", "containerRuntimeVersion": "containerd://1.7.24",
                                    "osImage": "Debian GNU/Linux 12 (bookworm)", "architecture": "amd64",
                                    "operatingSystem": "linux", "kernelVersion": "6.1.0-28-amd64"}}})

    def base_nodes(self):
        self.node("node-1")
        self.node("node-2")

    # -- workloads --------------------------------------------------------------------------
    def deployment(self, ns, name, template_spec, replicas=2, expect=None, age=7 * 86400, revision=1,
                   rs_status=None, dep_status=None):
        """A Deployment and its current ReplicaSet; returns (deployment, replicaset, pod_labels)."""
        labels = {"app": name}
        if expect:
            labels[EXPECT_LABEL] = expect
        template = {"metadata": {"labels": dict(labels)}, "spec": template_spec}
        deploy = self.add({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": dict(self.meta("Deployment", ns, name, age, labels=labels,
                                       annotations={"deployment.kubernetes.io/revision": str(revision)}),
                             generation=revision),
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template,
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                     "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
            "status": dep_status or {"observedGeneration": revision, "replicas": replicas,
                                     "updatedReplicas": replicas, "readyReplicas": replicas,
                                     "availableReplicas": replicas}})
        pod_hash = _hash("%s/%s/%d" % (ns, name, revision), 10)
        rs_labels = dict(labels, **{"pod-template-hash": pod_hash})
        rs = self.add({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": dict(self.meta("ReplicaSet", ns, "%s-%s" % (name, pod_hash), age, labels=rs_labels,
                                       owner=deploy,
                                       annotations={"deployment.kubernetes.io/revision": str(revision),
                                                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                                                    "deployment.kubernetes.io/max-replicas": str(replicas + 1)}),
                             generation=1),
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": {"app": name, "pod-template-hash": pod_hash}},
                     "template": {"metadata": {"labels": dict(rs_labels)}, "spec": template_spec}},
            "status": rs_status or {"replicas": replicas, "fullyLabeledReplicas": replicas,
                                    "readyReplicas": replicas, "availableReplicas": replicas,
                                    "observedGeneration": 1}})
        return deploy, rs, rs_labels

    def pod_name(self, owner, index):
        return "%s-%s" % (owner["metadata"]["name"], _hash("%s/%d" % (owner["metadata"]["uid"], index), 5))

    def pod(self, ns, name, spec, status, labels=None, owner=None, age=3600, annotations=None, meta_extra=None):
        meta = self.meta("Pod", ns, name, age, labels=labels, owner=owner, annotations=annotations)
        meta.update(meta_extra or {})
        spec = dict(spec)
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("tolerations", [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300}])
        status = dict(status)
        status.setdefault("qosClass", _qos(spec))
        return self.add({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status})

    def event(self, obj, reason, message, type_="Warning", component="kubelet", host=None, count=1,
              first_ago=600, last_ago=None, field_path=None):
        """A core/v1 Event as the recorder writes it (name = <object>.<16 hex>)."""
        meta = obj["metadata"]
        ns = meta.get("namespace") or "default"
        involved = {"kind": obj["kind"], "namespace": meta.get("namespace"), "name": meta["name"],
                    "uid": meta["uid"], "apiVersion": obj["apiVersion"], "resourceVersion": "1"}
        if not meta.get("namespace"):
            involved.pop("namespace")
        if field_path:
            involved["fieldPath"] = field_path
        name = "%s.%s" % (meta["name"], _hex("%s/%s/%s" % (meta["uid"], reason, message), 16))
        source = {"component": component}
        if host:
            source["host"] = host
        last_ago = first_ago if last_ago is None else last_ago
        return self.add({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "uid": self.uid("Event", ns, name),
                         "resourceVersion": "1", "creationTimestamp": self.ts(first_ago)},
            "involvedObject": involved, "reason": reason, "message": message, "source": source,
            "firstTimestamp": self.ts(first_ago), "lastTimestamp": self.ts(last_ago), "count": count,
            "type": type_, "eventTime": None, "reportingComponent": component,
            "reportingInstance": host or ""})

    def log(self, ns, pod, container, text, previous=False):
        self.logs[(ns, pod, container, bool(previous))] = text


# --------------------------------------------------------------------------------------------
# Pod status helpers
# --------------------------------------------------------------------------------------------

def _qos(spec):
    requests_set, guaranteed = False, True
    containers = spec.get("containers") or []
    for container in containers:
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        requests_set = requests_set or bool(requests or limits)
        for kind in ("cpu", "memory"):
            if kind not in limits or requests.get(kind, limits[kind]) != limits[kind]:
                guaranteed = False
    if guaranteed and containers:
        return "Guaranteed"
    return "Burstable" if requests_set else "BestEffort"


def container(name, image, memory_limit=None, cpu_request="100m", memory_request="128Mi", **extra):
    resources = {"requests": {"cpu": cpu_request, "memory": memory_request}}
    if memory_limit:
        resources["limits"] = {"memory": memory_limit}
    spec = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "resources": resources,
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                              "readOnly": True}]}
    spec.update(extra)
    return spec


def _api_volume():
    return {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}


def pod_spec(containers, node=None, init=None, volumes=None, **extra):
    spec = {"containers": containers, "volumes": [_api_volume()] + list(volumes or [])}
    if node:
        spec["nodeName"] = node
    if init:
        spec["initContainers"] = init
    spec.update(extra)
    return spec


def cstatus(b, pod_key, spec, state, last=None, restarts=0, ready=False, started=None):
    """A containerStatuses entry the kubelet would write."""
    image = spec["image"]
    item = {"name": spec["name"], "image": image, "imageID": "", "ready": ready, "restartCount": restarts,
            "state": state, "lastState": last or {}}
    if "running" in state or "terminated" in state or last:
        item["imageID"] = "%s@sha256:%s" % (image.split(":")[0], _hex("image/" + image))
        item["containerID"] = "containerd://" + _hex("%s/%s/%d" % (pod_key, spec["name"], restarts))
    item["started"] = bool(started if started is not None else "running" in state)
    return item


def running(b, seconds_ago):
    return {"running": {"startedAt": b.ts(seconds_ago)}}


def waiting(reason, message=None):
    state = {"reason": reason}
    if message:
        state["message"] = message
    return {"waiting": state}


def terminated(b, reason, exit_code, started_ago, finished_ago, key="", message=None, signal=None):
    state = {"exitCode": exit_code, "reason": reason, "startedAt": b.ts(started_ago),
             "finishedAt": b.ts(finished_ago), "containerID": "containerd://" + _hex("term/%s/%d" % (key, finished_ago))}
    if message:
        state["message"] = message
    if signal:
        state["signal"] = signal
    return {"terminated": state}


def conditions(b, ready, scheduled=True, initialized=True, age=3600, reason=None, message=None,
               sched_reason=None, sched_message=None):
    def cond(type_, ok, why=None, text=None):
        item = {"type": type_, "status": "True" if ok else "False", "lastProbeTime": None,
                "lastTransitionTime": b.ts(age - 5 if ok else min(age, 300))}
        if why:
            item["reason"] = why
        if text:
            item["message"] = text
        return item
    if not scheduled:
        return [cond("PodScheduled", False, sched_reason or "Unschedulable", sched_message)]
    return [cond("PodReadyToStartContainers", True), cond("Initialized", initialized,
                                                          None if initialized else "ContainersNotInitialized",
                                                          None if initialized else message),
            cond("Ready", ready, None if ready else reason or "ContainersNotReady", None if ready else message),
            cond("ContainersReady", ready, None if ready else reason or "ContainersNotReady",
                 None if ready else message),
            cond("PodScheduled", True)]


def pod_status(b, phase, cstatuses, ready=False, node="node-1", age=3600, init_statuses=None, initialized=True,
               not_ready_containers=None, **extra):
    names = not_ready_containers or [c["name"] for c in cstatuses if not c.get("ready")]
    message = "containers with unready status: [%s]" % " ".join(names) if names else None
    status = {"phase": phase, "conditions": conditions(b, ready, age=age, message=message, initialized=initialized),
              "hostIP": "172.18.0.%d" % (2 + int(_hex(node, 2), 16) % 200),
              "hostIPs": [{"ip": "172.18.0.%d" % (2 + int(_hex(node, 2), 16) % 200)}],
              "podIP": "10.244.%d.%d" % (int(_hex(node, 2), 16) % 200, 2 + len(b.objects) % 250),
              "startTime": b.ts(age), "containerStatuses": cstatuses}
    status["podIPs"] = [{"ip": status["podIP"]}]
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
        if not initialized:
            status["conditions"][1]["message"] = "containers with incomplete status: [%s]" % " ".join(
                s["name"] for s in init_statuses if not s.get("ready"))
    status.update(extra)
    return status


def _fmt_pod(pod):
    # pkg/kubelet/util/format/pod.go Pod: name_namespace(uid)
    meta = pod["metadata"]
    return "%s_%s(%s)" % (meta["name"], meta["namespace"], meta["uid"])


def _scheduled_events(b, pod, node, age, image=None):
    """The normal start-of-life events: Scheduled, Pulled, Created, Started."""
    meta = pod["metadata"]
    # pkg/scheduler/schedule_one.go: "Successfully assigned %v/%v to %v"
    b.event(pod, "Scheduled", "Successfully assigned %s/%s to %s" % (meta["namespace"], meta["name"], node),
            "Normal", "default-scheduler", first_ago=age)


# --------------------------------------------------------------------------------------------
# Scenarios: each adds objects to the builder and returns nothing
# --------------------------------------------------------------------------------------------

PY_TRACEBACK = """2026-11-25 18:57:02,114 INFO  starting payments-api 2.4.1 (pid 1)
2026-11-25 18:57:02,187 INFO  loading settings from /etc/payments/settings.yaml
Traceback (most recent call last):
  File "/app/payments/main.py", line 41, in <module>
    app = create_app()
          ^^^^^^^^^^^^
  File "/app/payments/main.py", line 27, in create_app
    settings = load_settings(os.environ["SETTINGS_PATH"])
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/app/payments/settings.py", line 18, in load_settings
    return Settings(**raw["database"])
                      ~~~^^^^^^^^^^^^
KeyError: 'database'
"""

JAVA_OOM = """2026-11-25T18:58:40.112Z  INFO 1 --- [main] c.e.catalog.CatalogApplication : Started CatalogApplication in 9.84 seconds
2026-11-25T18:58:51.730Z  INFO 1 --- [nio-8080-exec-4] c.e.catalog.ImportJob : importing 2000000 products
2026-11-25T18:59:02.015Z  WARN 1 --- [nio-8080-exec-4] c.e.catalog.ImportJob : cache size 1843 MiB
"""


def sc_crashloop(b, ns):
    """CrashLoopBackOff: a Python app that dies on start; the previous log has the traceback."""
    spec = [container("api", "registry.example.com/shop/payments-api:2.4.1",
                      env=[{"name": "SETTINGS_PATH", "value": "/etc/payments/settings.yaml"}])]
    _d, rs, labels = b.deployment(ns, "payments-api", pod_spec(spec), replicas=1, expect="CrashLoopBackOff",
                                  rs_status={"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    status = pod_status(b, "Running", [cstatus(
        b, key, spec[0],
        # pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff: "back-off %s restarting failed container=%s pod=%s"
        waiting("CrashLoopBackOff", None), restarts=7,
        last=terminated(b, "Error", 1, 95, 93, key))], age=1500)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=1500)
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = (
        "back-off 5m0s restarting failed container=api pod=%s" % _fmt_pod(pod))
    _scheduled_events(b, pod, "node-1", 1500)
    fp = "spec.containers{api}"
    # pkg/kubelet/images/image_manager.go: "Container image %q already present on machine"
    b.event(pod, "Pulled", 'Container image "registry.example.com/shop/payments-api:2.4.1" already present on machine',
            "Normal", host="node-1", count=8, first_ago=1490, last_ago=93, field_path=fp)
    # pkg/kubelet/kuberuntime/kuberuntime_container.go: "Created container %s" / "Started container %s"
    b.event(pod, "Created", "Created container: api", "Normal", host="node-1", count=8, first_ago=1490, last_ago=95,
            field_path=fp)
    b.event(pod, "Started", "Started container api", "Normal", host="node-1", count=8, first_ago=1490, last_ago=95,
            field_path=fp)
    # pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff: "Back-off restarting failed container %s in pod %s"
    b.event(pod, "BackOff", "Back-off restarting failed container api in pod %s" % _fmt_pod(pod),
            host="node-1", count=31, first_ago=1400, last_ago=12, field_path=fp)
    b.log(ns, name, "api", PY_TRACEBACK, previous=True)


def sc_oom(b, ns):
    """OOMKilled: a JVM over its 512Mi limit, restarted 4 times."""
    spec = [container("catalog", "registry.example.com/shop/catalog:5.0.3", memory_limit="512Mi",
                      memory_request="512Mi")]
    _d, rs, labels = b.deployment(ns, "catalog", pod_spec(spec), replicas=1, expect="OOMKilled",
                                  rs_status={"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    status = pod_status(b, "Running", [cstatus(b, key, spec[0], waiting("CrashLoopBackOff"), restarts=4,
                                               last=terminated(b, "OOMKilled", 137, 42, 20, key))], age=2400)
    pod = b.pod(ns, name, pod_spec(spec, node="node-2"), status, labels=labels, owner=rs, age=2400)
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = (
        "back-off 1m20s restarting failed container=catalog pod=%s" % _fmt_pod(pod))
    _scheduled_events(b, pod, "node-2", 2400)
    b.event(pod, "BackOff", "Back-off restarting failed container catalog in pod %s" % _fmt_pod(pod),
            host="node-2", count=9, first_ago=1800, last_ago=15, field_path="spec.containers{catalog}")
    b.log(ns, name, "catalog", JAVA_OOM, previous=True)


def _image_pull(b, ns, app, image, expect, pull_error):
    spec = [container("web", image)]
    _d, rs, labels = b.deployment(ns, app, pod_spec(spec), replicas=1, expect=expect,
                                  rs_status={"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 2})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    # pkg/kubelet/images/image_manager.go: "Back-off pulling image %q"
    status = pod_status(b, "Pending", [cstatus(b, key, spec[0], waiting(
        "ImagePullBackOff", 'Back-off pulling image "%s"' % image))], age=900)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=900)
    _scheduled_events(b, pod, "node-1", 900)
    fp = "spec.containers{web}"
    b.event(pod, "Pulling", 'Pulling image "%s"' % image, "Normal", host="node-1", count=5, first_ago=895,
            last_ago=150, field_path=fp)
    # pkg/kubelet/images/image_manager.go: "Failed to pull image %q: %v"
    b.event(pod, "Failed", 'Failed to pull image "%s": %s' % (image, pull_error), host="node-1", count=5,
            first_ago=894, last_ago=149, field_path=fp)
    # pkg/kubelet/kuberuntime/kuberuntime_container.go startContainer: "Error: %v" with images.ErrImagePull
    b.event(pod, "Failed", "Error: ErrImagePull", host="node-1", count=5, first_ago=894, last_ago=149, field_path=fp)
    b.event(pod, "BackOff", 'Back-off pulling image "%s"' % image, "Normal", host="node-1", count=60,
            first_ago=880, last_ago=8, field_path=fp)
    b.event(pod, "Failed", "Error: ImagePullBackOff", host="node-1", count=60, first_ago=880, last_ago=8,
            field_path=fp)


def sc_image_not_found(b, ns):
    """ImagePullBackOff: the tag does not exist (containerd NotFound)."""
    image = "registry.example.com/shop/storefront:3.9.9"
    # containerd remotes/docker/resolver.go + cri image_pull.go wording
    _image_pull(b, ns, "storefront", image, "ImagePullBackOff",
                'rpc error: code = NotFound desc = failed to pull and unpack image "%s": failed to resolve '
                'reference "%s": %s: not found' % (image, image, image))


def sc_image_unauthorized(b, ns):
    """ImagePullBackOff: private registry without pull credentials."""
    image = "registry.example.com/private/recommender:1.2.0"
    _image_pull(b, ns, "recommender", image, "ImagePullBackOff",
                'rpc error: code = Unknown desc = failed to pull and unpack image "%s": failed to resolve '
                'reference "%s": pull access denied, repository does not exist or may require authorization: '
                'server message: insufficient_scope: authorization failed' % (image, image))


def sc_invalid_image(b, ns):
    """InvalidImageName: upper-case repository name."""
    image = "registry.example.com/Shop/Search:2.0"
    spec = [container("search", image)]
    _d, rs, labels = b.deployment(ns, "search", pod_spec(spec), replicas=1, expect="InvalidImageName",
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    # pkg/kubelet/images/image_manager.go EnsureImageExists: "Failed to apply default image tag %q: %v"
    message = ('Failed to apply default image tag "%s": couldn\'t parse image name "%s": invalid reference '
               'format: repository name (Shop/Search) must be lowercase' % (image, image))
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting("InvalidImageName", message))],
                        age=600)
    pod = b.pod(ns, name, pod_spec(spec, node="node-2"), status, labels=labels, owner=rs, age=600)
    _scheduled_events(b, pod, "node-2", 600)
    # events.FailedToInspectImage = "InspectFailed" (pkg/kubelet/events/event.go)
    b.event(pod, "InspectFailed", message, host="node-2", count=12, first_ago=598, last_ago=10,
            field_path="spec.containers{search}")
    b.event(pod, "Failed", "Error: InvalidImageName", host="node-2", count=12, first_ago=598, last_ago=10,
            field_path="spec.containers{search}")


def _config_error(b, ns, app, env, message, expect="CreateContainerConfigError", extra_objects=()):
    spec = [container("app", "registry.example.com/shop/%s:1.4.0" % app, env=env)]
    _d, rs, labels = b.deployment(ns, app, pod_spec(spec), replicas=1, expect=expect,
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    for obj in extra_objects:
        b.add(obj)
    name = b.pod_name(rs, 0)
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting(
        "CreateContainerConfigError", message))], age=700)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=700)
    _scheduled_events(b, pod, "node-1", 700)
    b.event(pod, "Pulled", 'Container image "registry.example.com/shop/%s:1.4.0" already present on machine' % app,
            "Normal", host="node-1", count=40, first_ago=698, last_ago=9, field_path="spec.containers{app}")
    # pkg/kubelet/kuberuntime/kuberuntime_container.go startContainer: "Error: %v"
    b.event(pod, "Failed", "Error: " + message, host="node-1", count=40, first_ago=698, last_ago=9,
            field_path="spec.containers{app}")


def sc_config_missing_key(b, ns):
    """CreateContainerConfigError: env var from a ConfigMap key that does not exist."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": b.meta("ConfigMap", ns, "orders-config", 86400 * 3),
          "data": {"LOG_LEVEL": "info", "DATABASE_HOST": "orders-db"}}
    # pkg/kubelet/kubelet_pods.go makeEnvironmentVariables: "couldn't find key %v in ConfigMap %v/%v"
    _config_error(b, ns, "orders", [{"name": "DATABASE_URL", "valueFrom": {"configMapKeyRef": {
        "name": "orders-config", "key": "DATABASE_URL"}}}],
        "couldn't find key DATABASE_URL in ConfigMap %s/orders-config" % ns, extra_objects=[cm])


def sc_config_missing_secret(b, ns):
    """CreateContainerConfigError: env var from a Secret that does not exist."""
    # pkg/kubelet/kubelet_pods.go makeEnvironmentVariables -> secret manager: `secret "%s" not found`
    _config_error(b, ns, "billing", [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "billing-db-credentials", "key": "password"}}}], 'secret "billing-db-credentials" not found')


def sc_create_container_error(b, ns):
    """CreateContainerError: the runtime cannot generate the container spec (mount propagation)."""
    spec = [container("agent", "registry.example.com/ops/log-agent:0.9.1", volumeMounts=[
        {"name": "varlog", "mountPath": "/var/log/host", "mountPropagation": "HostToContainer"}])]
    _d, rs, labels = b.deployment(ns, "log-agent", pod_spec(spec, volumes=[
        {"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}}]), replicas=1, expect="CreateContainerError",
        rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    # containerd pkg/cri/opts/spec_linux.go WithMounts: "path %q is mounted on %q but it is not a shared or slave mount"
    message = ('failed to generate container "%s" spec: failed to generate spec: path "/var/log" is mounted on "/" '
               'but it is not a shared or slave mount' % _hex("cc/" + name))
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting("CreateContainerError", message))],
                        age=800)
    pod = b.pod(ns, name, pod_spec(spec, node="node-2", volumes=[
        {"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}}]), status, labels=labels, owner=rs, age=800)
    _scheduled_events(b, pod, "node-2", 800)
    b.event(pod, "Failed", "Error: " + message, host="node-2", count=25, first_ago=790, last_ago=20,
            field_path="spec.containers{agent}")


def sc_run_container_error(b, ns):
    """RunContainerError: the command does not exist in the image (runc exec: no such file)."""
    spec = [container("worker", "registry.example.com/shop/mailer:3.1.0", command=["/app/start.sh"])]
    _d, rs, labels = b.deployment(ns, "mailer", pod_spec(spec), replicas=1, expect="RunContainerError",
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    # runc libcontainer/standard_init_linux.go via containerd: "exec: %q: stat %s: no such file or directory"
    message = ('failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create '
               'failed: unable to start container process: exec: "/app/start.sh": stat /app/start.sh: no such file '
               'or directory: unknown')
    status = pod_status(b, "Running", [cstatus(
        b, key, spec[0], waiting("RunContainerError", message), restarts=5,
        last=terminated(b, "StartError", 128, 70, 70, key, message=message))], age=1200)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=1200)
    _scheduled_events(b, pod, "node-1", 1200)
    b.event(pod, "Failed", "Error: " + message, host="node-1", count=6, first_ago=1190, last_ago=70,
            field_path="spec.containers{worker}")
    b.event(pod, "BackOff", "Back-off restarting failed container worker in pod %s" % _fmt_pod(pod), host="node-1",
            count=20, first_ago=1100, last_ago=14, field_path="spec.containers{worker}")


def _unschedulable(b, ns, app, spec_extra, message, expect, template_extra_volumes=None, cpu="250m"):
    spec = [container("app", "registry.example.com/shop/%s:2.0.0" % app, cpu_request=cpu)]
    template = pod_spec(spec, volumes=template_extra_volumes, **spec_extra)
    _d, rs, labels = b.deployment(ns, app, template, replicas=1, expect=expect,
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    status = {"phase": "Pending", "conditions": conditions(b, False, scheduled=False, sched_message=message)}
    pod = b.pod(ns, name, template, status, labels=labels, owner=rs, age=1800)
    # pkg/scheduler/schedule_one.go handleSchedulingFailure records FailedScheduling with the FitError text
    b.event(pod, "FailedScheduling", message, "Warning", "default-scheduler", count=14, first_ago=1800, last_ago=40)
    return pod


# pkg/scheduler/framework/types.go FitError.Error: "0/%v nodes are available: %v."
# pkg/scheduler/framework/preemption/preemption.go: "preemption: 0/%v nodes are available: ..."
_NOT_HELPFUL = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."


def sc_unschedulable_cpu(b, ns):
    """UnschedulableInsufficientResources: asks for 8 CPUs on 4-CPU nodes."""
    # pkg/scheduler/framework/plugins/noderesources/fit.go: "Insufficient %v"
    _unschedulable(b, ns, "analytics", {}, "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are "
                   "available: 3 No preemption victims found for incoming pod.",
                   "UnschedulableInsufficientResources", cpu="8")


def sc_unschedulable_taint(b, ns):
    """UnschedulableTaints: every node carries a taint the pod does not tolerate."""
    # pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go: "node(s) had untolerated taint {%s: %s}"
    _unschedulable(b, ns, "gpu-inference", {}, "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{node.kubernetes.io/unreachable: }, 2 node(s) had untolerated taint {dedicated: batch}. "
                   + _NOT_HELPFUL, "UnschedulableTaints")


def sc_unschedulable_affinity(b, ns):
    """UnschedulableNodeAffinity: nodeSelector no node matches."""
    # pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go ErrReasonPod
    _unschedulable(b, ns, "edge-cache", {"nodeSelector": {"disktype": "nvme"}},
                   "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. " + _NOT_HELPFUL,
                   "UnschedulableNodeAffinity")


def sc_unschedulable_pvc(b, ns):
    """UnschedulableVolume: StatefulSet pod whose claim is unbound (no such StorageClass)."""
    labels = {"app": "ledger-db", EXPECT_LABEL: "UnschedulableVolume"}
    spec = [container("postgres", "docker.io/library/postgres:16.4", volumeMounts=[
        {"name": "data", "mountPath": "/var/lib/postgresql/data"}])]
    sts = b.add({"apiVersion": "apps/v1", "kind": "StatefulSet",
                 "metadata": dict(b.meta("StatefulSet", ns, "ledger-db", 3600, labels=labels), generation=1),
                 "spec": {"replicas": 1, "serviceName": "ledger-db", "selector": {"matchLabels": {"app": "ledger-db"}},
                          "podManagementPolicy": "OrderedReady",
                          "template": {"metadata": {"labels": labels}, "spec": pod_spec(spec)},
                          "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                              "accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd",
                              "resources": {"requests": {"storage": "20Gi"}}}}]},
                 "status": {"replicas": 1, "currentReplicas": 1, "updatedReplicas": 1, "availableReplicas": 0,
                            "readyReplicas": 0, "observedGeneration": 1,
                            "currentRevision": "ledger-db-" + _hash("ledger", 10),
                            "updateRevision": "ledger-db-" + _hash("ledger", 10)}})
    pvc = b.add({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "metadata": b.meta("PersistentVolumeClaim", ns, "data-ledger-db-0", 3600,
                                    labels={"app": "ledger-db"}),
                 "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd", "volumeMode": "Filesystem",
                          "resources": {"requests": {"storage": "20Gi"}}},
                 "status": {"phase": "Pending"}})
    # pkg/controller/volume/persistentvolume/pv_controller.go: "storageclass.storage.k8s.io %q not found"
    b.event(pvc, "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found', "Warning",
            "persistentvolume-controller", count=240, first_ago=3600, last_ago=5)
    # pkg/scheduler/framework/plugins/volumebinding/volume_binding.go: "pod has unbound immediate PersistentVolumeClaims"
    message = ("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. " + _NOT_HELPFUL)
    template = pod_spec(spec, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-ledger-db-0"}}],
                        hostname="ledger-db-0", subdomain="ledger-db")
    status = {"phase": "Pending", "conditions": conditions(b, False, scheduled=False, sched_message=message)}
    pod = b.pod(ns, "ledger-db-0", template, status, labels=dict(labels, **{
        "statefulset.kubernetes.io/pod-name": "ledger-db-0", "apps.kubernetes.io/pod-index": "0"}), owner=sts, age=3600)
    b.event(pod, "FailedScheduling", message, "Warning", "default-scheduler", count=61, first_ago=3600, last_ago=60)


def sc_unschedulable_cordoned(b, ns):
    """Unschedulable (generic): nodes cordoned for maintenance."""
    # pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go ErrReasonUnschedulable
    _unschedulable(b, ns, "reports", {}, "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{node.kubernetes.io/unreachable: }, 2 node(s) were unschedulable. " + _NOT_HELPFUL, "Unschedulable")


def sc_volume_mount(b, ns):
    """VolumeMountFailure: a ConfigMap volume whose ConfigMap does not exist; pod stuck ContainerCreating."""
    spec = [container("gateway", "registry.example.com/shop/gateway:1.8.2", volumeMounts=[
        {"name": "routes", "mountPath": "/etc/gateway"}])]
    volumes = [{"name": "routes", "configMap": {"name": "gateway-routes", "defaultMode": 420}}]
    _d, rs, labels = b.deployment(ns, "gateway", pod_spec(spec, volumes=volumes), replicas=1,
                                  expect="VolumeMountFailure", rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting("ContainerCreating"))], age=1300)
    status["conditions"][0]["status"] = "False"
    pod = b.pod(ns, name, pod_spec(spec, node="node-2", volumes=volumes), status, labels=labels, owner=rs, age=1300)
    _scheduled_events(b, pod, "node-2", 1300)
    # pkg/volume/util/operationexecutor/operation_generator.go: "MountVolume.SetUp failed for volume %q : %v"
    b.event(pod, "FailedMount", 'MountVolume.SetUp failed for volume "routes" : configmap "gateway-routes" not found',
            host="node-2", count=18, first_ago=1290, last_ago=25)
    # pkg/kubelet/volumemanager/volume_manager.go WaitForAttachAndMount
    b.event(pod, "FailedMount", "Unable to attach or mount volumes: unmounted volumes=[routes], unattached "
            "volumes=[], failed to process volumes=[]: timed out waiting for the condition", host="node-2", count=6,
            first_ago=1170, last_ago=50)


def _probe_pod(b, ns, app, probe_kind, message, expect, restarts, last, ready=False, state=None):
    probe = {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10,
             "timeoutSeconds": 1, "failureThreshold": 3, "successThreshold": 1}
    extra = {"%sProbe" % probe_kind: probe}
    spec = [container("app", "registry.example.com/shop/%s:4.2.0" % app, ports=[
        {"containerPort": 8080, "protocol": "TCP"}], **extra)]
    _d, rs, labels = b.deployment(ns, app, pod_spec(spec), replicas=1, expect=expect,
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    status = pod_status(b, "Running", [cstatus(b, key, spec[0], state or running(b, 200), restarts=restarts,
                                               last=last and terminated(b, *last, key=key), ready=ready,
                                               started=probe_kind != "startup")], age=5400)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=5400)
    _scheduled_events(b, pod, "node-1", 5400)
    # pkg/kubelet/prober/prober.go runProbeWithRetries -> recorder: "%s probe failed: %s"
    b.event(pod, "Unhealthy", "%s probe failed: %s" % (probe_kind.capitalize(), message), host="node-1",
            count=3 * max(restarts, 1) + 40, first_ago=5300, last_ago=7, field_path="spec.containers{app}")
    return pod


def sc_liveness(b, ns):
    """LivenessProbeFailure: /healthz answers 500; the kubelet restarts the container."""
    # pkg/probe/http/http.go: "HTTP probe failed with statuscode: %d"
    pod = _probe_pod(b, ns, "cart", "liveness", "HTTP probe failed with statuscode: 500", "LivenessProbeFailure", 6,
                     ("Error", 137, 260, 230))
    # pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions: "Container %s failed %s probe, will be restarted"
    b.event(pod, "Killing", "Container app failed liveness probe, will be restarted", "Normal", host="node-1", count=6,
            first_ago=5000, last_ago=230, field_path="spec.containers{app}")
    b.log(pod["metadata"]["namespace"], pod["metadata"]["name"], "app",
          "2026-11-25T18:55:10Z INFO cart service listening on :8080\n"
          "2026-11-25T18:55:41Z ERROR redis: connection pool exhausted (size=10, waiting=245)\n"
          "2026-11-25T18:55:42Z WARN healthz: dependency redis unhealthy, returning 500\n", previous=True)


def sc_readiness(b, ns):
    """ReadinessProbeFailure: connection refused on the readiness port; no restarts, never Ready."""
    _probe_pod(b, ns, "checkout", "readiness", 'Get "http://10.244.61.18:8080/healthz": dial tcp 10.244.61.18:8080: '
               "connect: connection refused", "ReadinessProbeFailure", 0, None)


def sc_startup(b, ns):
    """StartupProbeFailure: the app never becomes healthy within the startup budget."""
    pod = _probe_pod(b, ns, "search-indexer", "startup", "HTTP probe failed with statuscode: 503",
                     "StartupProbeFailure", 3, ("Error", 137, 330, 300))
    b.event(pod, "Killing", "Container app failed startup probe, will be restarted", "Normal", host="node-1", count=3,
            first_ago=5000, last_ago=300, field_path="spec.containers{app}")


def sc_init_container(b, ns):
    """InitContainerFailure: a migration init container cannot reach the database."""
    init = [container("migrate", "registry.example.com/shop/inventory-migrations:7.1.0",
                      command=["/bin/sh", "-c", "alembic upgrade head"])]
    spec = [container("app", "registry.example.com/shop/inventory:7.1.0")]
    _d, rs, labels = b.deployment(ns, "inventory", pod_spec(spec, init=init), replicas=1,
                                  expect="InitContainerFailure", rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    init_status = [cstatus(b, key, init[0], waiting("CrashLoopBackOff"), restarts=5,
                           last=terminated(b, "Error", 1, 130, 128, key))]
    status = pod_status(b, "Pending", [cstatus(b, key, spec[0], waiting("PodInitializing"))], age=1700,
                        init_statuses=init_status, initialized=False)
    pod = b.pod(ns, name, pod_spec(spec, node="node-2", init=init), status, labels=labels, owner=rs, age=1700)
    pod["status"]["initContainerStatuses"][0]["state"]["waiting"]["message"] = (
        "back-off 2m40s restarting failed container=migrate pod=%s" % _fmt_pod(pod))
    _scheduled_events(b, pod, "node-2", 1700)
    b.event(pod, "BackOff", "Back-off restarting failed container migrate in pod %s" % _fmt_pod(pod),
            host="node-2", count=22, first_ago=1500, last_ago=30, field_path="spec.initContainers{migrate}")
    b.log(ns, name, "migrate", "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n"
          "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "
          "\"inventory-db\" (10.96.41.7), port 5432 failed: Connection refused\n"
          "\tIs the server running on that host and accepting TCP/IP connections?\n", previous=True)


def sc_evicted(b, ns):
    """Evicted: the kubelet evicted a pod under memory pressure (pod object left behind, phase Failed)."""
    spec = [container("renderer", "registry.example.com/shop/thumbnailer:2.2.0", memory_request="256Mi")]
    _d, rs, labels = b.deployment(ns, "thumbnailer", pod_spec(spec), replicas=1, expect=None,
                                  rs_status={"replicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                                             "observedGeneration": 1})
    labels = dict(labels, **{EXPECT_LABEL: "Evicted"})
    name = b.pod_name(rs, 7)
    key = ns + "/" + name
    # pkg/kubelet/eviction/helpers.go: nodeLowMessageFmt + thresholdMetMessageFmt + containerMessageFmt
    message = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 87364Ki. Container "
               "renderer was using 1452628Ki, request is 256Mi, has larger consumption of memory. ")
    status = {"phase": "Failed", "reason": "Evicted", "message": message, "startTime": b.ts(20000),
              "hostIP": "172.18.0.9", "conditions": [
                  # pkg/kubelet/eviction/eviction_manager.go: DisruptionTarget condition, reason TerminationByKubelet
                  {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
                   "message": message, "lastProbeTime": None, "lastTransitionTime": b.ts(7200)}],
              "containerStatuses": [cstatus(b, key, spec[0], terminated(
                  b, "ContainerStatusUnknown", 137, 20000, 7200, key,
                  message="The container could not be located when the pod was terminated"))]}
    pod = b.pod(ns, name, pod_spec(spec, node="node-2"), status, labels=labels, owner=rs, age=20000)
    b.event(pod, "Evicted", message, host="node-2", first_ago=7200)
    # pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer: "Stopping container %s"
    b.event(pod, "Killing", "Stopping container renderer", "Normal", host="node-2", first_ago=7200,
            field_path="spec.containers{renderer}")


def _job(b, ns, name, template, expect, job_status, owner=None, backoff=2, deadline=None, age=7200):
    labels = {"app": name}
    if expect:
        labels[EXPECT_LABEL] = expect
    spec = {"parallelism": 1, "completions": 1, "backoffLimit": backoff, "completionMode": "NonIndexed",
            "suspend": False, "template": {"metadata": {"labels": dict(labels)}, "spec": template}}
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    job = b.add({"apiVersion": "batch/v1", "kind": "Job",
                 "metadata": dict(b.meta("Job", ns, name, age, labels=labels, owner=owner), generation=1),
                 "spec": spec, "status": job_status})
    uid = job["metadata"]["uid"]
    job["spec"]["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    pod_labels = dict(labels, **{"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                                 "controller-uid": uid, "job-name": name})
    return job, pod_labels


def sc_deadline(b, ns):
    """DeadlineExceeded: a nightly report Job ran past activeDeadlineSeconds (CronJob -> Job -> Pod)."""
    template = pod_spec([container("report", "registry.example.com/batch/sales-report:1.0.4")], restartPolicy="Never")
    cron = b.add({"apiVersion": "batch/v1", "kind": "CronJob",
                  "metadata": dict(b.meta("CronJob", ns, "sales-report", 30 * 86400, labels={"app": "sales-report"}),
                                   generation=1),
                  "spec": {"schedule": "0 2 * * *", "concurrencyPolicy": "Forbid", "suspend": False,
                           "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                           "jobTemplate": {"spec": {"activeDeadlineSeconds": 3600, "backoffLimit": 0,
                                                    "template": {"spec": template}}}},
                  "status": {"lastScheduleTime": b.ts(5 * 3600)}})
    # pkg/controller/job/job_controller.go: "Job was active longer than specified deadline"
    job_status = {"failed": 1, "startTime": b.ts(5 * 3600), "conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "DeadlineExceeded",
         "message": "Job was active longer than specified deadline", "lastProbeTime": b.ts(4 * 3600),
         "lastTransitionTime": b.ts(4 * 3600)},
        {"type": "Failed", "status": "True", "reason": "DeadlineExceeded",
         "message": "Job was active longer than specified deadline", "lastProbeTime": b.ts(4 * 3600),
         "lastTransitionTime": b.ts(4 * 3600)}]}
    job, labels = _job(b, ns, "sales-report-29400120", template, "DeadlineExceeded", job_status, owner=cron,
                       backoff=0, deadline=3600, age=5 * 3600)
    name = b.pod_name(job, 0)
    key = ns + "/" + name
    # pkg/kubelet/active_deadline.go: reason "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
    message = "Pod was active on the node longer than the specified deadline"
    status = {"phase": "Failed", "reason": "DeadlineExceeded", "message": message, "startTime": b.ts(5 * 3600),
              "hostIP": "172.18.0.9", "conditions": conditions(b, False, age=5 * 3600, reason="PodFailed"),
              "containerStatuses": [cstatus(b, key, template["containers"][0], terminated(
                  b, "Error", 137, 5 * 3600, 4 * 3600, key))]}
    pod = b.pod(ns, name, dict(template, nodeName="node-2", activeDeadlineSeconds=3600), status, labels=labels,
                owner=job, age=5 * 3600)
    b.event(pod, "DeadlineExceeded", message, "Normal", host="node-2", first_ago=4 * 3600)
    b.event(job, "DeadlineExceeded", "Job was active longer than specified deadline", "Warning", "job-controller",
            first_ago=4 * 3600)
    b.log(ns, name, "report", "2026-11-25T14:00:03Z aggregating 184 days of orders\n"
          "2026-11-25T14:52:40Z still aggregating: 61% done\n")


def sc_job_exit(b, ns):
    """ContainerExitError: a Job pod (restartPolicy Never) exits 1; the Job hits its backoff limit."""
    template = pod_spec([container("import", "registry.example.com/batch/price-import:2.3.0")], restartPolicy="Never")
    # pkg/controller/job/job_controller.go: reason "BackoffLimitExceeded", "Job has reached the specified backoff limit"
    job_status = {"failed": 3, "startTime": b.ts(3000), "conditions": [
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
         "message": "Job has reached the specified backoff limit", "lastProbeTime": b.ts(2000),
         "lastTransitionTime": b.ts(2000)}]}
    job, labels = _job(b, ns, "price-import", template, "ContainerExitError", job_status, backoff=2, age=3000)
    for index in range(3):
        name = b.pod_name(job, index)
        key = ns + "/" + name
        started = 3000 - index * 400
        status = {"phase": "Failed", "startTime": b.ts(started), "hostIP": "172.18.0.5",
                  "conditions": conditions(b, False, age=started, reason="PodFailed"),
                  "containerStatuses": [cstatus(b, key, template["containers"][0], terminated(
                      b, "Error", 1, started - 2, started - 40, key))]}
        pod = b.pod(ns, name, dict(template, nodeName="node-1"), status, labels=labels, owner=job, age=started)
        b.event(pod, "Scheduled", "Successfully assigned %s/%s to node-1" % (ns, name), "Normal", "default-scheduler",
                first_ago=started)
        b.log(ns, name, "import", "2026-11-25T18:10:02Z INFO fetching https://prices.example.com/export.csv\n"
              "2026-11-25T18:10:39Z ERROR row 18412: invalid decimal literal '12,99' in column price\n"
              "2026-11-25T18:10:39Z FATAL import aborted, 0 rows committed\n")
        # pkg/controller/job/job_controller.go: "Created pod: %v"
        b.event(job, "SuccessfulCreate", "Created pod: %s" % name, "Normal", "job-controller", first_ago=started)
    b.event(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit", "Warning", "job-controller",
            first_ago=2000)


def sc_sandbox(b, ns):
    """SandboxCreationFailure: the CNI plugin cannot set up networking."""
    spec = [container("app", "registry.example.com/shop/notifications:1.0.2")]
    _d, rs, labels = b.deployment(ns, "notifications", pod_spec(spec), replicas=1, expect="SandboxCreationFailure",
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting("ContainerCreating"))], age=900)
    status["conditions"][0]["status"] = "False"
    status.pop("podIP")
    status.pop("podIPs")
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=900)
    _scheduled_events(b, pod, "node-1", 900)
    # pkg/kubelet/kuberuntime/kuberuntime_manager.go SyncPod: "Failed to create pod sandbox: %v"
    b.event(pod, "FailedCreatePodSandBox", 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to '
            'setup network for sandbox "%s": plugin type="calico" failed (add): error getting ClusterInformation: '
            'connection is unauthorized: Unauthorized' % _hex("sandbox/" + name), host="node-1", count=57,
            first_ago=895, last_ago=6)


def sc_quota(b, ns):
    """QuotaExceeded: the ReplicaSet cannot create pods over the namespace's memory quota."""
    spec = [container("app", "registry.example.com/shop/reviews:2.0.1", memory_limit="512Mi")]
    deploy, rs, _labels = b.deployment(ns, "reviews", pod_spec(spec), replicas=3, expect="QuotaExceeded",
                                       rs_status={"replicas": 0, "observedGeneration": 1},
                                       dep_status={"observedGeneration": 1, "replicas": 0, "unavailableReplicas": 3})
    # plugin/pkg/admission/resourcequota/controller.go: "exceeded quota: %s, requested: %s, used: %s, limited: %s"
    forbidden = ('pods "%s-%%s" is forbidden: exceeded quota: compute-quota, requested: limits.memory=512Mi, '
                 'used: limits.memory=1792Mi, limited: limits.memory=2Gi' % rs["metadata"]["name"])
    # pkg/controller/replicaset/replica_set_utils.go: condition ReplicaFailure, reason FailedCreate
    rs["status"]["conditions"] = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                   "lastTransitionTime": b.ts(1200), "message": forbidden % _hash("quota/2", 5)}]
    # pkg/controller/deployment/progress.go: MinimumReplicasUnavailable / ReplicaFailure copied from the RS
    deploy["status"]["conditions"] = [
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
         "message": "Deployment does not have minimum availability.", "lastUpdateTime": b.ts(1200),
         "lastTransitionTime": b.ts(1200)},
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "lastUpdateTime": b.ts(1200),
         "lastTransitionTime": b.ts(1200), "message": forbidden % _hash("quota/2", 5)}]
    b.add({"apiVersion": "v1", "kind": "ResourceQuota",
           "metadata": b.meta("ResourceQuota", ns, "compute-quota", 86400 * 20),
           "spec": {"hard": {"limits.memory": "2Gi", "requests.cpu": "4"}},
           "status": {"hard": {"limits.memory": "2Gi", "requests.cpu": "4"},
                      "used": {"limits.memory": "1792Mi", "requests.cpu": "1650m"}}})
    # pkg/controller/controller_utils.go CreatePods: FailedCreate "Error creating: %v"
    for index, ago in enumerate((1200, 900, 300)):
        b.event(rs, "FailedCreate", "Error creating: " + forbidden % _hash("quota/%d" % index, 5), "Warning",
                "replicaset-controller", count=1 if index < 2 else 9, first_ago=ago, last_ago=ago if index < 2 else 20)


def sc_forbidden(b, ns):
    """PodCreationForbidden: Pod Security admission rejects a privileged template."""
    spec = [container("exporter", "registry.example.com/ops/node-exporter:1.8.2",
                      securityContext={"privileged": True})]
    _d, rs, _labels = b.deployment(ns, "metrics-exporter", pod_spec(spec, hostNetwork=True), replicas=1,
                                   expect="PodCreationForbidden", rs_status={
                                       "replicas": 0, "observedGeneration": 1, "conditions": [
                                           {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                            "lastTransitionTime": b.ts(2000), "message": "pods forbidden"}]})
    # staging/src/k8s.io/pod-security-admission/admission/admission.go: "violates PodSecurity %q: %s"
    message = ('Error creating: pods "%s-%s" is forbidden: violates PodSecurity "baseline:latest": host namespaces '
               '(hostNetwork=true), privileged (container "exporter" must not set securityContext.privileged=true)'
               % (rs["metadata"]["name"], _hash("psa", 5)))
    rs["status"]["conditions"][0]["message"] = message[len("Error creating: "):]
    b.event(rs, "FailedCreate", message, "Warning", "replicaset-controller", count=17, first_ago=2000, last_ago=45)


def sc_node_lost(b, ns):
    """NodeLost: node-3 stopped reporting; its pod is marked not ready and for deletion."""
    b.node("node-3", lost_for=1500)
    spec = [container("app", "registry.example.com/shop/sessions:3.3.0")]
    _d, rs, labels = b.deployment(ns, "sessions", pod_spec(spec), replicas=1, expect="NodeLost",
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    status = pod_status(b, "Running", [cstatus(b, key, spec[0], running(b, 80000), ready=False)], node="node-3",
                        age=80000)
    # pkg/controller/nodelifecycle/node_lifecycle_controller.go MarkPodsNotReady: Ready=False
    for cond in status["conditions"]:
        if cond["type"] in ("Ready", "ContainersReady"):
            cond.update({"status": "False", "lastTransitionTime": b.ts(1460)})
            cond.pop("reason", None)
            cond.pop("message", None)
    status["conditions"].insert(0, {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                                    "message": "Taint manager: deleting due to NoExecute taint",
                                    "lastProbeTime": None, "lastTransitionTime": b.ts(1200)})
    pod = b.pod(ns, name, pod_spec(spec, node="node-3"), status, labels=labels, owner=rs, age=80000,
                meta_extra={"deletionTimestamp": b.ts(1170), "deletionGracePeriodSeconds": 30})
    # pkg/controller/nodelifecycle/node_lifecycle_controller.go / util: RecordNodeStatusChange "NodeNotReady"
    b.event(pod, "NodeNotReady", "Node is not ready", "Warning", "node-controller", first_ago=1460)
    # pkg/controller/tainteviction/taint_eviction.go: "Marking for deletion Pod %s"
    b.event(pod, "TaintManagerEviction", "Marking for deletion Pod %s/%s" % (ns, name), "Normal",
            "taint-eviction-controller", first_ago=1200)
    node = next(o for o in b.objects if o["kind"] == "Node" and o["metadata"]["name"] == "node-3")
    b.event(node, "NodeNotReady", "Node node-3 status is now: NodeNotReady", "Normal", "node-controller",
            first_ago=1460)


def sc_terminating(b, ns):
    """TerminatingStuck: deleted 2 h ago, held by a finalizer nobody removes."""
    spec = [container("app", "registry.example.com/shop/legacy-sync:0.4.0")]
    labels = {"app": "legacy-sync", EXPECT_LABEL: "TerminatingStuck"}
    key = ns + "/legacy-sync"
    status = pod_status(b, "Running", [cstatus(b, key, spec[0], running(b, 9 * 86400), ready=True)], ready=True,
                        age=9 * 86400)
    pod = b.pod(ns, "legacy-sync", pod_spec(spec, node="node-1"), status, labels=labels, age=9 * 86400,
                meta_extra={"deletionTimestamp": b.ts(7200), "deletionGracePeriodSeconds": 30,
                            "finalizers": ["sync.example.com/drain-queue"]})
    b.event(pod, "Killing", "Stopping container app", "Normal", host="node-1", first_ago=7230,
            field_path="spec.containers{app}")


def sc_healthy(b, ns):
    """Healthy: a running 2-replica web, a Completed job pod, and a pod with old restarts."""
    spec = [container("web", "registry.example.com/shop/frontend:6.1.0", memory_limit="256Mi",
                      readinessProbe={"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5})]
    _d, rs, labels = b.deployment(ns, "frontend", pod_spec(spec), replicas=2, expect="Healthy")
    for index in range(2):
        name = b.pod_name(rs, index)
        key = ns + "/" + name
        restarts = 2 if index == 1 else 0
        last = terminated(b, "Error", 2, 6 * 86400, 6 * 86400 - 30, key) if restarts else None
        status = pod_status(b, "Running", [cstatus(b, key, spec[0], running(b, 6 * 86400 - 20), restarts=restarts,
                                                   last=last, ready=True)], ready=True, age=7 * 86400,
                            node="node-%d" % (index + 1))
        b.pod(ns, name, pod_spec(spec, node="node-%d" % (index + 1)), status, labels=labels, owner=rs, age=7 * 86400)
        b.log(ns, name, "web", '10.244.1.1 - - [25/Nov/2026:18:59:58 +0000] "GET /ready HTTP/1.1" 200 2 "-" '
              '"kube-probe/1.32"\n10.244.0.9 - - [25/Nov/2026:18:59:59 +0000] "GET /products/4711 HTTP/1.1" 200 '
              '5120 "-" "Mozilla/5.0"\n')
    template = pod_spec([container("backup", "registry.example.com/batch/db-backup:1.1.0")], restartPolicy="OnFailure")
    job_status = {"succeeded": 1, "startTime": b.ts(7000), "completionTime": b.ts(6500), "conditions": [
        {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
         "message": "Reached expected number of succeeded pods", "lastProbeTime": b.ts(6500),
         "lastTransitionTime": b.ts(6500)},
        {"type": "Complete", "status": "True", "reason": "CompletionsReached",
         "message": "Reached expected number of succeeded pods", "lastProbeTime": b.ts(6500),
         "lastTransitionTime": b.ts(6500)}]}
    job, job_labels = _job(b, ns, "db-backup-29400000", template, "Healthy", job_status, age=7000)
    name = b.pod_name(job, 0)
    key = ns + "/" + name
    status = {"phase": "Succeeded", "startTime": b.ts(7000), "hostIP": "172.18.0.5",
              "conditions": conditions(b, False, age=7000, reason="PodCompleted"),
              "containerStatuses": [cstatus(b, key, template["containers"][0], terminated(
                  b, "Completed", 0, 6990, 6510, key))]}
    b.pod(ns, name, dict(template, nodeName="node-1"), status, labels=job_labels, owner=job, age=7000)
    b.log(ns, name, "backup", "backup of orders-db written to s3://backups/orders/2026-11-25.sql.gz (412 MiB)\n")


# name -> (function, default namespace, expected category)
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
