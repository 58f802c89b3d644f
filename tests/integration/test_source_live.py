"""source_live against the Kubernetes API emulator over real HTTP (no mocked client)."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import (
    Forbidden,
    NotFound,
    Unauthorized,
    Unreachable,
)
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import NODE_MISSING, NODE_PRESENT, NODE_UNKNOWN
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target

pytestmark = pytest.mark.integration

TS = "2026-11-25T18:00:00Z"


def node(name):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": "uid-node-" + name},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def deployment(ns, name):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "uid": "uid-dep-%s-%s" % (ns, name)},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "x"}]}}}}


def replicaset(ns, name, dep):
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": ns, "uid": "uid-rs-%s-%s" % (ns, name),
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": dep,
                                              "uid": "uid-dep-%s-%s" % (ns, dep), "controller": True}]},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": dep}},
                     "template": {"metadata": {"labels": {"app": dep}},
                                  "spec": {"containers": [{"name": "app", "image": "x"}]}}}}


def pod(ns, name, rs=None, labels=None, node_name="node-1", crash=False, volumes=None, waiting=None, env=None):
    meta = {"name": name, "namespace": ns, "uid": "uid-pod-%s-%s" % (ns, name), "labels": labels or {"app": "web"},
            "creationTimestamp": TS}
    if rs:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                                    "uid": "uid-rs-%s-%s" % (ns, rs), "controller": True}]
    container = {"name": "app", "image": "registry.example/app:1"}
    if env:
        container["env"] = env
    status = {"phase": "Running", "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0,
                                                         "image": "x", "imageID": "", "state": {"running": {
                                                             "startedAt": TS}}}]}
    if crash:
        status["containerStatuses"][0].update({
            "ready": False, "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": TS}}})
    if waiting:
        status["phase"] = "Pending"
        status["containerStatuses"][0].update({"ready": False, "state": {"waiting": {"reason": waiting}}})
    spec = {"nodeName": node_name, "containers": [container]}
    if volumes:
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def event(ns, name, reason, message, kind="Pod", uid=None, count=1):
    involved = {"kind": kind, "namespace": ns, "name": name}
    if uid is not False:
        involved["uid"] = uid or "uid-pod-%s-%s" % (ns, name)
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "%s.%s" % (name, reason.lower()), "namespace": ns},
            "involvedObject": involved, "reason": reason, "message": message, "type": "Warning",
            "count": count, "firstTimestamp": TS, "lastTimestamp": TS, "source": {"component": "kubelet"}}


def transport(kube_api, **kwargs):
    return k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig, **kwargs)


def seed_shop(kube_api):
    kube_api.load([
        node("node-1"),
        deployment("shop", "web"), replicaset("shop", "web-5d9", "web"),
        pod("shop", "web-5d9-a", rs="web-5d9", crash=True),
        pod("shop", "web-5d9-b", rs="web-5d9"),
        pod("shop", "db-0", labels={"app": "db"}, node_name="node-gone",
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}]),
        event("shop", "web-5d9-a", "BackOff", "Back-off restarting failed container app", count=7),
        event("shop", "web-5d9-a", "Pulled", "Container image already present", uid=False),
        event("shop", "web-5d9-a", "Killing", "old pod with same name", uid="uid-some-older-pod"),
        event("other", "x", "BackOff", "not ours"),
    ])
    kube_api.set_log("shop", "web-5d9-a", "app", "starting\nDB_PASSWORD=hunter2\npanic: boom\n", previous=True)
    kube_api.set_log("shop", "web-5d9-a", "app", "", previous=False)


def test_single_pod_evidence(kube_api):
    seed_shop(kube_api)
    kube_api.clear_requests()
    gathered = LiveSource(transport(kube_api)).gather(Target(name="web-5d9-a", namespace="shop"))
    assert gathered.source == "live" and gathered.scanned == 1
    evidence = gathered.pods[0]
    reasons = sorted(e["reason"] for e in evidence.events)
    # uid match + name match without uid; the event of an older pod with the same name is excluded
    assert reasons == ["BackOff", "Pulled"]
    assert [e["count"] for e in evidence.events if e["reason"] == "BackOff"] == [7]
    assert [(o["kind"], o["name"]) for o in evidence.owners] == [("ReplicaSet", "web-5d9"), ("Deployment", "web")]
    assert evidence.owners[-1]["object"]["metadata"]["uid"] == "uid-dep-shop-web"
    assert evidence.node_state == NODE_PRESENT and evidence.node["metadata"]["name"] == "node-1"
    assert "panic: boom" in evidence.logs["app"]["previous"]
    assert "hunter2" not in evidence.logs["app"]["previous"]
    methods_paths = [(r["method"], r["path"]) for r in kube_api.requests]
    assert methods_paths[0] == ("GET", "/api/v1/namespaces/shop/pods/web-5d9-a")
    events_request = [r for r in kube_api.requests if r["path"].endswith("/events")][0]
    assert "involvedObject.name=web-5d9-a" in events_request["query"]["fieldSelector"]
    assert gathered.requests == len(kube_api.requests)


def test_namespace_scan_uses_lists_only(kube_api):
    seed_shop(kube_api)
    kube_api.clear_requests()
    gathered = LiveSource(transport(kube_api)).gather(Target(namespace="shop"))
    assert gathered.scanned == 3
    by_name = dict((e.name, e) for e in gathered.pods)
    assert by_name["db-0"].node_state == NODE_MISSING
    assert by_name["db-0"].claims == {"data-db-0": None}
    assert [o["kind"] for o in by_name["web-5d9-b"].owners] == ["ReplicaSet", "Deployment"]
    gets = [r["path"] for r in kube_api.requests if "/log" not in r["path"]]
    # pods first, then events, replicasets, deployments, nodes, persistentvolumeclaims (side by side, so in
    # no fixed order; owners after events, ReplicaSets before the Deployments they lead to): no GET per pod
    assert gets[0] == "/api/v1/namespaces/shop/pods"
    assert sorted(gets[1:]) == ["/api/v1/namespaces/shop/events", "/api/v1/namespaces/shop/persistentvolumeclaims",
                                "/api/v1/nodes", "/apis/apps/v1/namespaces/shop/deployments",
                                "/apis/apps/v1/namespaces/shop/replicasets"]
    assert gets.index("/api/v1/namespaces/shop/events") < gets.index("/apis/apps/v1/namespaces/shop/replicasets") \
        < gets.index("/apis/apps/v1/namespaces/shop/deployments")
    logs = [r for r in kube_api.requests if r["path"].endswith("/log")]
    # Waiting in CrashLoopBackOff: the kubelet would answer the "current" read with the previous log, so
    # only the previous one is read.
    assert [r["query"].get("previous", "false") for r in logs] == ["true"]
    assert all(r["path"] == "/api/v1/namespaces/shop/pods/web-5d9-a/log" for r in logs)


def test_all_namespaces_and_selectors(kube_api):
    seed_shop(kube_api)
    kube_api.load([pod("other", "api-1", labels={"app": "api"})])
    everything = LiveSource(transport(kube_api)).gather(Target(all_namespaces=True))
    assert sorted((e.namespace, e.name) for e in everything.pods) == [
        ("other", "api-1"), ("shop", "db-0"), ("shop", "web-5d9-a"), ("shop", "web-5d9-b")]
    kube_api.clear_requests()
    selected = LiveSource(transport(kube_api)).gather(Target(label_selectors=["app=web"], all_namespaces=True))
    assert sorted(e.name for e in selected.pods) == ["web-5d9-a", "web-5d9-b"]
    pods_request = kube_api.requests[0]
    assert pods_request["path"] == "/api/v1/pods" and pods_request["query"]["labelSelector"] == "app=web"
    by_field = LiveSource(transport(kube_api)).gather(
        Target(namespace="shop", field_selectors=["metadata.name=db-0"]))
    assert [e.name for e in by_field.pods] == ["db-0"]


def test_paging_1200_pods(kube_api):
    kube_api.load([pod("big", "p-%04d" % i, node_name="") for i in range(1200)])
    kube_api.clear_requests()
    gathered = LiveSource(transport(kube_api), page_size=500).gather(Target(namespace="big"))
    assert gathered.scanned == 1200
    pod_lists = [r for r in kube_api.requests if r["path"] == "/api/v1/namespaces/big/pods"]
    assert len(pod_lists) == 3
    assert [r["query"].get("limit") for r in pod_lists] == ["500", "500", "500"]
    assert "continue" not in pod_lists[0]["query"] and all("continue" in r["query"] for r in pod_lists[1:])
    # healthy, unscheduled pods: no owners, nodes, claims or logs to read
    assert len(kube_api.requests) == 4
    assert gathered.pods[0].node_state == NODE_UNKNOWN


def test_workload_failed_create(kube_api):
    kube_api.load([deployment("shop", "api"), replicaset("shop", "api-7f", "api"),
                   event("shop", "api-7f", "FailedCreate", 'pods "api-7f-x" is forbidden: exceeded quota: q',
                         kind="ReplicaSet", uid="uid-rs-shop-api-7f")])
    gathered = LiveSource(transport(kube_api)).gather(Target(namespace="shop"))
    assert gathered.scanned == 0
    assert [(w.kind, w.name) for w in gathered.workloads] == [("ReplicaSet", "api-7f")]
    workload = gathered.workloads[0]
    assert workload.events[0]["reason"] == "FailedCreate"
    assert [o["kind"] for o in workload.owners] == ["Deployment"]


def test_configmap_keys_only_and_never_secrets(kube_api):
    env = [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "a"}}},
           {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "missing-cm", "key": "b"}}},
           {"name": "C", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}}]
    kube_api.load([
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"},
         "data": {"a": "value-must-not-leak"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-creds", "namespace": "shop"},
         "data": {"password": "aHVudGVyMg=="}},
        pod("shop", "cfg", waiting="CreateContainerConfigError", env=env, node_name=""),
    ])
    kube_api.clear_requests()
    for target in (Target(namespace="shop"), Target(name="cfg", namespace="shop"), Target(all_namespaces=True)):
        evidence = LiveSource(transport(kube_api)).gather(target).pods[0]
        assert evidence.referenced["configmaps"] == {"settings": True, "missing-cm": False}
        assert evidence.referenced["secrets"] == {"db-creds": None}
        assert evidence.referenced["configmap_keys"] == {"settings": ["a"]}
        assert "value-must-not-leak" not in repr(evidence.referenced)
    assert kube_api.requests
    assert not [r for r in kube_api.requests if "secrets" in r["path"]]


def test_not_found_messages(kube_api):
    seed_shop(kube_api)
    with pytest.raises(NotFound) as err:
        LiveSource(transport(kube_api)).gather(Target(name="web-1", namespace="shop"))
    assert str(err.value) == "Pod shop/web-1 not found"
    with pytest.raises(NotFound) as err:
        LiveSource(transport(kube_api)).gather(Target(name="web-1", namespace="nope"))
    assert str(err.value) == "Namespace nope not found"
    with pytest.raises(NotFound) as err:
        LiveSource(transport(kube_api)).gather(Target(namespace="nope"))
    assert str(err.value) == "Namespace nope not found"


def test_unauthorized_names_host(kube_api, tmp_path):
    kube_api.require_auth()
    config = kube_api.emulator.kubeconfig()
    config["users"][0]["user"]["token"] = "wrong-token"
    path = tmp_path / "bad-kubeconfig"
    import json
    path.write_text(json.dumps(config))
    source = LiveSource(k8s_transport.transport_from_kubeconfig(str(path)))
    with pytest.raises(Unauthorized) as err:
        source.gather(Target(namespace="shop"))
    assert kube_api.url in str(err.value) and "credentials" in str(err.value)
    assert "wrong-token" not in str(err.value)


def test_forbidden_pods_is_an_error_naming_verb_and_resource(kube_api):
    seed_shop(kube_api)
    kube_api.fault(403, "GET", r"/namespaces/shop/pods$", times=None)
    with pytest.raises(Forbidden) as err:
        LiveSource(transport(kube_api)).gather(Target(namespace="shop"))
    message = str(err.value)
    assert "list pods in namespace shop" in message
    assert "docs/rbac/diagnose-readonly.yaml" in message
    assert "\n" not in message


def test_forbidden_optional_reads_become_problems(kube_api):
    seed_shop(kube_api)
    kube_api.fault(403, "GET", r"^/api/v1/nodes", times=None)
    kube_api.fault(403, "GET", r"/replicasets$", times=None)
    gathered = LiveSource(transport(kube_api)).gather(Target(namespace="shop"))
    assert gathered.scanned == 3
    assert "cannot list nodes: forbidden; node checks skipped" in gathered.problems
    assert any(p.startswith("cannot list replicasets: forbidden") for p in gathered.problems)
    web = [e for e in gathered.pods if e.name == "web-5d9-a"][0]
    assert web.node_state == NODE_UNKNOWN
    assert [o["kind"] for o in web.owners] == ["ReplicaSet"] and web.owners[0]["object"] is None


def _free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_unreachable_names_host(tmp_path):
    port = _free_port()
    path = tmp_path / "kubeconfig"
    path.write_text("""
apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: "http://127.0.0.1:%d"}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
""" % port)
    source = LiveSource(k8s_transport.transport_from_kubeconfig(str(path), request_timeout=5))
    with pytest.raises(Unreachable) as err:
        source.gather(Target(namespace="shop"))
    assert str(err.value).startswith("Cannot reach the Kubernetes API at http://127.0.0.1:%d: connection refused"
                                     % port)


def test_log_read_is_byte_capped(kube_api):
    kube_api.load([pod("shop", "noisy", crash=True, node_name="")])
    big = "".join("line %06d %s\n" % (i, "x" * 80) for i in range(20000))  # ~1.8 MB
    kube_api.set_log("shop", "noisy", "app", big, previous=True)
    source = LiveSource(transport(kube_api), log_tail_lines=100000, log_max_bytes=4096)
    logs = source.gather(Target(name="noisy", namespace="shop")).pods[0].logs["app"]
    assert logs["truncated"] is True
    assert 0 < len(logs["previous"].encode()) <= 4096


def test_throttled_requests_are_retried_and_counted(kube_api):
    """429 + Retry-After (priority and fairness rejecting a burst): every log still arrives, throttles are counted."""
    kube_api.load([node("node-1")] + [pod("shop", "c-%d" % i, crash=True) for i in range(12)])
    for i in range(12):
        kube_api.set_log("shop", "c-%d" % i, "app", "panic: %d\n" % i, previous=True)
    source = LiveSource(transport(kube_api), log_concurrency=4)
    kube_api.emulator.set_options(throttle=5, retry_after=0)
    gathered = source.gather(Target(namespace="shop"))
    assert source.transport.throttled == 5
    assert sorted(e.logs["app"]["previous"].strip() for e in gathered.pods) == sorted("panic: %d" % i for i in range(12))


def test_missing_previous_log_falls_back_to_the_current_read(kube_api):
    """Waiting to restart: previous is read first; when the runtime no longer has it, current is tried."""
    kube_api.load([node("node-1"), pod("shop", "c-0", crash=True)])
    kube_api.set_log("shop", "c-0", "app", "fatal: cannot bind\n", previous=False)
    kube_api.clear_requests()
    gathered = LiveSource(transport(kube_api)).gather(Target(namespace="shop"))
    assert gathered.pods[0].logs["app"]["current"] == "fatal: cannot bind\n"
    reads = [r["query"].get("previous", "false") for r in kube_api.requests if r["path"].endswith("/log")]
    assert reads == ["true", "false"]
