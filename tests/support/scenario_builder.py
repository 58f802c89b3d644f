"""Scenario building blocks: the Builder (objects with uids, owner chains, events, logs) and the pod-status
helpers that write container states the way the kubelet does. Scenarios: scenario_failures.py,
scenario_workloads.py; the catalogue and fleets: scenarios.py."""

from __future__ import annotations

import datetime
import hashlib
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
