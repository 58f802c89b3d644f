"""The Kubernetes API emulator works with the real clients over HTTP.

Each test talks to a fresh in-process emulator through the kubernetes client, kubectl 1.32 or
ansible-playbook, the same way the collection's code does against a real cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import kube_emulator as emu
from tests.support.fixtures import ansible_environment

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s_client  # noqa: E402
from kubernetes import config as k8s_config  # noqa: E402
from kubernetes.dynamic import DynamicClient  # noqa: E402

pytestmark = pytest.mark.integration
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBECTL = shutil.which("kubectl")


def pod(name, namespace="shop", labels=None, containers=("app",), node="node-1", phase="Running"):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "web"}},
        "spec": {"nodeName": node, "containers": [{"name": c, "image": "registry.example/%s:1" % c}
                                                  for c in containers]},
        "status": {"phase": phase},
    }


def deployment(name="web", namespace="shop", image="registry.example/web:1"):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": image},
                                                      {"name": "proxy", "image": "envoy:1"}]}}},
    }


def api_client(kube_api):
    configuration = k8s_client.Configuration()
    k8s_config.load_kube_config(kube_api.kubeconfig, client_configuration=configuration)
    return k8s_client.ApiClient(configuration)


def raw_get(api, path, **query):
    """GET through the client's raw call_api and return the parsed JSON (no typed models)."""
    method, url, headers, body, _post = api.param_serialize("GET", path, query_params=list(query.items()),
                                                            header_params={"Accept": "application/json"},
                                                            auth_settings=["BearerToken"])
    response = api.call_api(method, url, header_params=headers, body=body)
    response.read()
    assert response.status == 200, response.data
    return json.loads(response.data)


def kubectl(kube_api, *args, check=True):
    result = subprocess.run([KUBECTL, "--kubeconfig", kube_api.kubeconfig, "--request-timeout=10s"] + list(args),
                            capture_output=True, text=True, timeout=60, check=False)
    if check and result.returncode != 0:
        raise AssertionError("kubectl %s failed: %s" % (" ".join(args), result.stderr))
    return result


# -- raw client ------------------------------------------------------------------------------

def test_raw_list_has_list_kind_paging_and_untyped_items(kube_api):
    kube_api.load([pod("web-%02d" % i) for i in range(7)] + [pod("db-0", labels={"app": "db"})])
    api = api_client(kube_api)
    first = raw_get(api, "/api/v1/namespaces/shop/pods", limit=3)
    assert first["kind"] == "PodList" and first["apiVersion"] == "v1"
    assert [p["metadata"]["name"] for p in first["items"]] == ["db-0", "web-00", "web-01"]
    assert first["metadata"]["remainingItemCount"] == 5
    assert "kind" not in first["items"][0], "real list items carry no kind"
    names = [p["metadata"]["name"] for p in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        page = raw_get(api, "/api/v1/namespaces/shop/pods", limit=3, **{"continue": token})
        names += [p["metadata"]["name"] for p in page["items"]]
        token = page["metadata"].get("continue")
    assert names == ["db-0"] + ["web-%02d" % i for i in range(7)]


@pytest.mark.parametrize("selector,expected", [
    ("app=db", ["db-0"]),
    ("app==db", ["db-0"]),
    ("app!=db", ["cache-0", "web-0"]),
    ("app in (db,web)", ["db-0", "web-0"]),
    ("app notin (db,web)", ["cache-0"]),
    ("tier", ["web-0"]),
    ("!tier", ["cache-0", "db-0"]),
    ("app=web,tier=front", ["web-0"]),
])
def test_label_selectors(kube_api_module, selector, expected):
    if not kube_api_module.objects("Pod"):
        kube_api_module.load([pod("web-0", labels={"app": "web", "tier": "front"}),
                              pod("db-0", labels={"app": "db"}), pod("cache-0", labels={"app": "cache"})])
    listed = kube_api_module.get("/api/v1/pods?labelSelector=" + urllib.request.quote(selector))
    assert sorted(p["metadata"]["name"] for p in listed["items"]) == expected


def test_field_selectors_and_unknown_field(kube_api):
    kube_api.load([pod("a", node="node-1"), pod("b", node="node-2", phase="Pending"),
                   pod("c", namespace="other", node="node-1")])
    api = api_client(kube_api)
    by_node = raw_get(api, "/api/v1/pods", fieldSelector="spec.nodeName=node-1")
    assert sorted(p["metadata"]["name"] for p in by_node["items"]) == ["a", "c"]
    not_running = raw_get(api, "/api/v1/namespaces/shop/pods", fieldSelector="status.phase!=Running")
    assert [p["metadata"]["name"] for p in not_running["items"]] == ["b"]
    core = k8s_client.CoreV1Api(api)
    with pytest.raises(k8s_client.ApiException) as err:
        core.list_namespaced_pod("shop", field_selector="spec.bogus=1")
    assert err.value.status == 400 and "spec.bogus" in json.loads(err.value.body)["message"]


def test_status_objects_and_namespace_lifecycle(kube_api):
    core = k8s_client.CoreV1Api(api_client(kube_api))
    with pytest.raises(k8s_client.ApiException) as err:
        core.read_namespace("shop")
    assert err.value.status == 404
    kube_api.create(pod("web-1"))
    assert core.read_namespace("shop").status.phase == "Active"
    with pytest.raises(k8s_client.ApiException) as err:
        core.read_namespaced_pod("web-2", "shop")
    body = json.loads(err.value.body)
    assert (body["kind"], body["status"], body["reason"], body["code"]) == ("Status", "Failure", "NotFound", 404)
    assert body["message"] == 'pods "web-2" not found'
    with pytest.raises(k8s_client.ApiException) as err:
        core.create_namespaced_pod("shop", pod("web-1"))
    assert json.loads(err.value.body)["reason"] == "AlreadyExists"
    bad = pod("Bad_Name")
    with pytest.raises(k8s_client.ApiException) as err:
        core.create_namespaced_pod("shop", bad)
    assert err.value.status == 422 and "RFC 1123" in json.loads(err.value.body)["message"]


# -- dynamic client --------------------------------------------------------------------------

def test_dynamic_client_get_patch_replace_and_generation(kube_api):
    dyn = DynamicClient(api_client(kube_api))
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    created = deployments.create(body=deployment(), namespace="shop")
    assert created.metadata.generation == 1 and created.metadata.uid
    # Strategic merge patch merges containers by name: proxy must survive.
    patched = deployments.patch(name="web", namespace="shop", content_type="application/strategic-merge-patch+json",
                                body={"spec": {"template": {"spec": {"containers": [
                                    {"name": "app", "resources": {"limits": {"memory": "384Mi"}}}]}}}})
    containers = {c["name"]: c for c in patched.to_dict()["spec"]["template"]["spec"]["containers"]}
    assert set(containers) == {"app", "proxy"}
    assert containers["app"]["resources"]["limits"]["memory"] == "384Mi"
    assert containers["app"]["image"] == "registry.example/web:1"
    assert patched.metadata.generation == 2
    # Status writes do not bump generation; main-resource writes ignore status.
    status = dyn.request("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web/status",
                         body={"status": {"replicas": 2, "readyReplicas": 1}},
                         content_type="application/merge-patch+json")
    assert status.metadata.generation == 2 and status.status.readyReplicas == 1
    current = deployments.get(name="web", namespace="shop").to_dict()
    current["spec"]["replicas"] = 3
    current["status"] = {"replicas": 99}
    replaced = deployments.replace(body=current, namespace="shop")
    assert replaced.spec.replicas == 3 and replaced.status.replicas == 2 and replaced.metadata.generation == 3
    stale = dict(current, metadata=dict(current["metadata"]))
    with pytest.raises(kubernetes.dynamic.exceptions.ConflictError):
        deployments.replace(body=stale, namespace="shop")
    scale = dyn.request("GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale")
    assert scale.kind == "Scale" and scale.spec.replicas == 3 and scale.status.selector == "app=web"
    json_patched = deployments.patch(name="web", namespace="shop", content_type="application/json-patch+json",
                                     body=[{"op": "replace", "path": "/spec/replicas", "value": 1}])
    assert json_patched.spec.replicas == 1


def test_dry_run_writes_nothing(kube_api):
    dyn = DynamicClient(api_client(kube_api))
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    pods.create(body=pod("web-1"), namespace="shop", dry_run="All")
    assert kube_api.objects("Pod") == []
    kube_api.create(pod("web-1"))
    before = kube_api.objects("Pod")
    pods.patch(name="web-1", namespace="shop", body={"metadata": {"labels": {"x": "y"}}},
               content_type="application/merge-patch+json", dry_run="All")
    pods.delete(name="web-1", namespace="shop", dry_run="All")
    assert kube_api.objects("Pod") == before


def test_finalizers_hold_deletion_until_removed(kube_api):
    obj = pod("stuck")
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    kube_api.create(obj)
    core = k8s_client.CoreV1Api(api_client(kube_api))
    core.delete_namespaced_pod("stuck", "shop", grace_period_seconds=30)
    held = core.read_namespaced_pod("stuck", "shop")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_pod("stuck", "shop", [{"op": "remove", "path": "/metadata/finalizers"}])
    with pytest.raises(k8s_client.ApiException) as err:
        core.read_namespaced_pod("stuck", "shop")
    assert err.value.status == 404


def test_faults_and_auth(kube_api):
    kube_api.create(pod("web-1"))
    core = k8s_client.CoreV1Api(api_client(kube_api))
    kube_api.fault(403, method="GET", path_regex=r"/pods$", times=1)
    with pytest.raises(k8s_client.ApiException) as err:
        core.list_namespaced_pod("shop")
    body = json.loads(err.value.body)
    assert err.value.status == 403 and body["reason"] == "Forbidden"
    assert 'cannot list resource "pods" in API group "" in the namespace "shop"' in body["message"]
    assert len(core.list_namespaced_pod("shop").items) == 1, "fault fires only `times` times"
    kube_api.fault(500, method="PATCH", times=2)
    for _attempt in range(2):
        with pytest.raises(k8s_client.ApiException) as err:
            core.patch_namespaced_pod("web-1", "shop", {"metadata": {"labels": {"a": "b"}}})
        assert err.value.status == 500
    kube_api.require_auth()
    assert len(core.list_namespaced_pod("shop").items) == 1, "the kubeconfig token is accepted"
    request = urllib.request.Request(kube_api.url + "/api/v1/namespaces/shop/pods")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    assert err.value.code == 401 and json.loads(err.value.read())["reason"] == "Unauthorized"
    recorded = [(r["method"], r["status"]) for r in kube_api.requests]
    assert recorded[-5:] == [("GET", 200), ("PATCH", 500), ("PATCH", 500), ("GET", 200), ("GET", 401)]


def test_logs_options_and_real_errors(kube_api):
    kube_api.create(pod("web-1", containers=("app", "proxy")))
    kube_api.set_log("shop", "web-1", "app", "one\ntwo\nthree\n", previous=True)
    kube_api.set_log("shop", "web-1", "app", "now\n")
    core = k8s_client.CoreV1Api(api_client(kube_api))
    assert core.read_namespaced_pod_log("web-1", "shop", container="app", previous=True, tail_lines=2) == "two\nthree\n"
    assert core.read_namespaced_pod_log("web-1", "shop", container="app", limit_bytes=2) == "no"
    with pytest.raises(k8s_client.ApiException) as err:
        core.read_namespaced_pod_log("web-1", "shop")
    assert json.loads(err.value.body)["message"] == (
        "a container name must be specified for pod web-1, choose one of: [app proxy]")
    with pytest.raises(k8s_client.ApiException) as err:
        core.read_namespaced_pod_log("web-1", "shop", container="proxy", previous=True)
    assert json.loads(err.value.body)["message"] == 'previous terminated container "proxy" in pod "web-1" not found'


def test_eviction_respects_pdb(kube_api):
    kube_api.create(pod("web-1"))
    kube_api.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": {"name": "web", "namespace": "shop"},
                     "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
                     "status": {"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1}})
    core = k8s_client.CoreV1Api(api_client(kube_api))
    body = k8s_client.V1Eviction(metadata=k8s_client.V1ObjectMeta(name="web-1", namespace="shop"))
    with pytest.raises(k8s_client.ApiException) as err:
        core.create_namespaced_pod_eviction("web-1", "shop", body)
    assert err.value.status == 429
    kube_api.set_status({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                         "metadata": {"name": "web", "namespace": "shop"}, "status": {"disruptionsAllowed": 1}})
    core.create_namespaced_pod_eviction("web-1", "shop", body)
    assert kube_api.objects("Pod") == []


def test_watch_streams_current_objects(kube_api):
    kube_api.create(pod("web-1"))
    watch = kubernetes.watch.Watch()
    core = k8s_client.CoreV1Api(api_client(kube_api))
    started = time.monotonic()
    events = list(watch.stream(core.list_namespaced_pod, "shop", timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "web-1")]
    assert time.monotonic() - started < 5


# -- kubectl ---------------------------------------------------------------------------------

def _seed_crashloop(kube_api):
    created = kube_api.create(pod("web-1"))
    uid = created["metadata"]["uid"]
    kube_api.load([{"apiVersion": "v1", "kind": "Event",
                    "metadata": {"name": "web-1.1", "namespace": "shop"},
                    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-1", "uid": uid},
                    "reason": "BackOff", "type": "Warning", "count": 4,
                    "message": "Back-off restarting failed container app in pod web-1_shop(%s)" % uid,
                    "source": {"component": "kubelet", "host": "node-1"},
                    "firstTimestamp": "2026-11-25T19:00:00Z", "lastTimestamp": "2026-11-25T19:10:00Z"},
                   {"apiVersion": "v1", "kind": "Event",
                    "metadata": {"name": "other.1", "namespace": "shop"},
                    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "other", "uid": "x"},
                    "reason": "Scheduled", "type": "Normal", "message": "elsewhere",
                    "firstTimestamp": "2026-11-25T19:00:00Z", "lastTimestamp": "2026-11-25T19:00:00Z"}])
    kube_api.set_log("shop", "web-1", "app", "Traceback (most recent call last):\nValueError: boom\n", previous=True)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")
def test_kubectl_get_events_logs_describe(kube_api):
    _seed_crashloop(kube_api)
    listed = json.loads(kubectl(kube_api, "get", "pods", "-A", "-o", "json").stdout)
    assert [p["metadata"]["name"] for p in listed["items"]] == ["web-1"]
    events = json.loads(kubectl(kube_api, "get", "events", "-n", "shop", "--field-selector",
                                "involvedObject.name=web-1", "-o", "json").stdout)
    assert [e["reason"] for e in events["items"]] == ["BackOff"]
    logs = kubectl(kube_api, "logs", "-n", "shop", "web-1", "--previous").stdout
    assert "ValueError: boom" in logs
    table = kubectl(kube_api, "get", "pods", "-n", "shop").stdout.split()
    assert table[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] and table[5:8] == ["web-1", "0/1", "Running"]
    described = kubectl(kube_api, "describe", "pod", "-n", "shop", "web-1").stdout
    assert "Back-off restarting failed container app" in described
    missing = kubectl(kube_api, "get", "pod", "-n", "shop", "nope", check=False)
    assert missing.returncode != 0 and 'pods "nope" not found' in missing.stderr


def test_events_are_readable_through_both_event_apis(kube_api):
    _seed_crashloop(kube_api)
    kube_api.create({"apiVersion": "events.k8s.io/v1", "kind": "Event",
                     "metadata": {"name": "web-1.2", "namespace": "shop"}, "eventTime": "2026-11-25T19:11:00.000000Z",
                     "reportingController": "example.com/checker", "reportingInstance": "checker-0",
                     "action": "Check", "reason": "Degraded", "type": "Warning", "note": "p99 latency 4s",
                     "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-1"}})
    new_api = kube_api.get("/apis/events.k8s.io/v1/namespaces/shop/events?fieldSelector=regarding.name%3Dweb-1")
    assert new_api["kind"] == "EventList"
    by_reason = {e["reason"]: e for e in new_api["items"]}
    assert set(by_reason) == {"BackOff", "Degraded"}
    assert by_reason["BackOff"]["note"].startswith("Back-off restarting failed container app")
    assert by_reason["BackOff"]["deprecatedCount"] == 4 and by_reason["BackOff"]["reportingController"] == "kubelet"
    core = kube_api.get("/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dweb-1")
    assert {e["reason"] for e in core["items"]} == {"BackOff", "Degraded"}
    one = kube_api.get("/api/v1/namespaces/shop/events/web-1.2")
    assert one["message"] == "p99 latency 4s" and one["source"]["component"] == "example.com/checker"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")
def test_kubectl_apply_client_dry_run_and_apply(kube_api, tmp_path):
    manifest = tmp_path / "cm.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "settings", "namespace": "shop"}, "data": {"a": "1"}}))
    assert "created (dry run)" in kubectl(kube_api, "apply", "--dry-run=client", "-f", str(manifest)).stdout
    assert kube_api.objects("ConfigMap") == []
    kubectl(kube_api, "apply", "-f", str(manifest))
    manifest.write_text(manifest.read_text().replace('"1"', '"2"'))
    assert "configured" in kubectl(kube_api, "apply", "-f", str(manifest)).stdout
    [stored] = kube_api.objects("ConfigMap")
    assert stored["data"] == {"a": "2"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]


# -- ansible ---------------------------------------------------------------------------------

def test_ansible_k8s_info_against_emulator(kube_api, tmp_path):
    _seed_crashloop(kube_api)
    playbook = tmp_path / "info.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n"
        "  tasks:\n    - kubernetes.core.k8s_info:\n        kind: Pod\n        namespace: shop\n"
        "        label_selectors: [app=web]\n      register: found\n"
        "    - ansible.builtin.copy:\n        content: \"{{ found.resources | to_json }}\"\n"
        "        dest: \"%s\"\n" % (tmp_path / "out.json"))
    env = ansible_environment(kube_api.kubeconfig)
    result = subprocess.run([os.path.join(REPO_ROOT, ".venv", "bin", "ansible-playbook"), str(playbook)],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    names = [p["metadata"]["name"] for p in json.loads((tmp_path / "out.json").read_text())]
    assert names == ["web-1"]
    assert any(r["path"] == "/api/v1/namespaces/shop/pods" and r["query"].get("labelSelector") == "app=web"
               for r in kube_api.requests)


# -- scenarios, dump writer, CLI, speed --------------------------------------------------------

def test_every_category_has_a_scenario_that_loads_and_reads_back(kube_api):
    from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import CATEGORIES
    from tests.support import scenarios

    objects, logs = scenarios.build()
    expected = scenarios.expected(objects)
    assert set(CATEGORIES) <= set(expected.values())
    assert scenarios.seed(kube_api, objects, logs) == len(objects)
    listed = kube_api.get("/api/v1/pods?labelSelector=aiops.test/expect%3DOOMKilled")
    [oom] = listed["items"]
    assert oom["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] == "OOMKilled"
    owner = oom["metadata"]["ownerReferences"][0]
    assert kube_api.get("/apis/apps/v1/namespaces/shop/replicasets/%s" % owner["name"])["metadata"]["uid"] == owner["uid"]
    events = kube_api.get("/api/v1/namespaces/shop/events?fieldSelector=involvedObject.uid%3D" + oom["metadata"]["uid"])
    assert "BackOff" in {e["reason"] for e in events["items"]}
    crash = kube_api.get("/api/v1/pods?labelSelector=aiops.test/expect%3DCrashLoopBackOff")["items"][0]
    log = kube_api.get("/api/v1/namespaces/shop/pods/%s/log?previous=true" % crash["metadata"]["name"])
    assert "Traceback (most recent call last)" in log and "KeyError" in log


def test_scenarios_are_deterministic_and_relative_to_now():
    import datetime

    from tests.support import scenarios

    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    first, _first_extra = scenarios.build(["oom-killed"], now=now)
    again, _again_extra = scenarios.build(["oom-killed"], now=now)
    assert first == again
    pod = next(o for o in first if o["kind"] == "Pod")
    finished = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["finishedAt"]
    assert finished.startswith("2029-12-31T23:59")


def test_write_dump_matches_cluster_info_layout(tmp_path):
    from tests.support import dumpwriter, scenarios

    objects, logs = scenarios.build(["crashloop-traceback", "image-not-found", "unschedulable-pvc"])
    files = dumpwriter.write_dump(str(tmp_path), objects, logs)
    for plural in ("events", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets", "pods"):
        assert "shop/%s.json" % plural in files
    assert "shop/statefulsets.json" in files and "shop/jobs.json" not in files
    nodes = json.loads((tmp_path / "nodes.json").read_text())
    assert nodes["kind"] == "NodeList" and len(nodes["items"]) == 3
    text = (tmp_path / "shop" / "pods.json").read_text()
    assert text.startswith('{\n    "kind": "PodList",\n    "apiVersion": "v1",')
    pods = json.loads(text)["items"]
    assert pods and all("kind" not in p for p in pods)
    crash = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("payments-api"))
    logs_txt = (tmp_path / "shop" / crash / "logs.txt").read_text()
    assert logs_txt.startswith("==== START logs for container api of pod shop/%s ====\n" % crash)
    assert logs_txt.endswith("==== END logs for container api of pod shop/%s ====\n" % crash)
    assert "KeyError" in (tmp_path / "shop" / crash / "api.previous.log").read_text()
    pulling = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("storefront"))
    assert "Request log error: container \"web\" in pod \"%s\" is waiting to start: trying and failing to pull image" \
        % pulling in (tmp_path / "shop" / pulling / "logs.txt").read_text()


def test_bundled_example_dump_is_current():
    result = subprocess.run([os.path.join(REPO_ROOT, ".venv", "bin", "python"),
                             os.path.join(REPO_ROOT, "scripts", "make_example_dump.py"), "--check"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _s, fs in os.walk(os.path.join(REPO_ROOT, "examples",
                                                                                         "cluster-dump")) for f in fs)
    assert size < 300 * 1024


def test_cli_serves_state_and_stops_on_sigterm(tmp_path):
    import signal

    from tests.support import scenarios

    objects, logs = scenarios.build(["healthy"])
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"objects": objects, "logs": scenarios.logs_as_list(logs)}))
    kubeconfig, pidfile = tmp_path / "kubeconfig", tmp_path / "pid"
    process = subprocess.Popen([os.path.join(REPO_ROOT, ".venv", "bin", "python"), "-m", "tests.support.kube_emulator",
                                "serve", "--port", "0", "--state", str(state), "--kubeconfig-out", str(kubeconfig),
                                "--pidfile", str(pidfile)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("kube-emulator serving on http://127.0.0.1:"), line
        url = line.split()[-1]
        assert json.loads(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == url
        assert int(pidfile.read_text()) == process.pid
        with urllib.request.urlopen(url + "/api/v1/namespaces/shop/pods", timeout=10) as response:
            assert len(json.loads(response.read())["items"]) == 3
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not pidfile.exists()


def test_fleet_of_5000_pods_lists_fast(kube_api):
    from tests.support import scenarios

    started = time.perf_counter()
    objects, logs = scenarios.make_fleet(namespaces=20, pods=5000, failing_ratio=0.1)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    kube_api.load(objects, logs, copy_objects=False)
    loaded = time.perf_counter() - started
    pods = [o for o in objects if o["kind"] == "Pod"]
    failing = [p for p in pods if p["metadata"]["labels"][scenarios.EXPECT_LABEL] != "Healthy"]
    assert len(pods) == 5000 and len(failing) == 500
    kube_api.settle()  # pre-serialisation runs off the load path
    api = api_client(kube_api)
    kube_api.clear_requests()
    listed = raw_get(api, "/api/v1/pods")
    assert len(listed["items"]) == 5000
    [request] = kube_api.requests
    # Targets are 100 ms (LIST) and 2 s (load); the bounds leave room for a busy CI machine.
    assert request["duration_ms"] < 1000, request
    assert generated < 10 and loaded < 10, (generated, loaded)


# -- properties of the pure helpers ------------------------------------------------------------

_names = st.text(alphabet="abcdefgh", min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_names, _names, max_size=4), _names, st.sets(_names, min_size=1, max_size=3))
def test_set_selectors_agree_with_their_definition(labels, key, values):
    text = ",".join(sorted(values))
    assert emu.label_match(labels, emu.parse_label_selector("%s in (%s)" % (key, text))) == (labels.get(key) in values)
    assert emu.label_match(labels, emu.parse_label_selector("%s notin (%s)" % (key, text))) == (
        labels.get(key) not in values)
    assert emu.label_match(labels, emu.parse_label_selector(key)) == (key in labels)
    assert emu.label_match(labels, emu.parse_label_selector("!" + key)) == (key not in labels)


@settings(max_examples=60, deadline=None)
@given(st.lists(_names, min_size=1, max_size=5, unique=True), st.data())
def test_strategic_merge_keeps_unpatched_containers(names, data):
    current = {"spec": {"containers": [{"name": n, "image": "%s:1" % n} for n in names]}}
    patched_names = data.draw(st.lists(st.sampled_from(names), unique=True))
    patch = {"spec": {"containers": [{"name": n, "image": "%s:2" % n} for n in patched_names]}}
    result = emu.strategic_merge_patch(current, patch)
    images = {c["name"]: c["image"] for c in result["spec"]["containers"]}
    assert list(images) == names
    assert all(images[n] == "%s:%d" % (n, 2 if n in patched_names else 1) for n in names)
    assert current["spec"]["containers"][0]["image"].endswith(":1"), "the stored object is not modified"


@pytest.mark.parametrize("source", ["live", "dump"])
def test_scenarios_are_diagnosed_as_labelled(kube_api, tmp_path, source):
    """End to end: every scenario, read by the collection's live or dump source, gets its label's category."""
    from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose
    from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import transport_from_kubeconfig
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
    from tests.support import dumpwriter, scenarios

    objects, logs = scenarios.build()
    expected = scenarios.expected(objects)
    if source == "live":
        scenarios.seed(kube_api, objects, logs)
        reader = LiveSource(transport_from_kubeconfig(kube_api.kubeconfig))
    else:
        dumpwriter.write_dump(str(tmp_path / "dump"), objects, logs)
        reader = DumpSource(str(tmp_path / "dump"))
    result = diagnose(reader.gather(Target(all_namespaces=True)), include_healthy=True)
    diagnoses = result["diagnoses"] if isinstance(result, dict) else result
    got = {(d["kind"], d["namespace"], d["name"]): d["category"] for d in diagnoses}
    wrong = {key: (want, got.get(key)) for key, want in expected.items() if got.get(key) != want}
    assert len(expected) >= 30 and not wrong


# -- options for benchmarks and retry tests ----------------------------------------------------

def _timed_get(url):
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null"), \
                time.perf_counter() - started
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read()), time.perf_counter() - started


def test_latency_applies_to_every_request_and_more_to_log_reads():
    with emu.KubeEmulator(latency=0.05, log_latency=0.15) as server:
        server.load([pod("web-0")])
        server.set_log("shop", "web-0", "app", "hello\n")
        status, _h, _b, plain = _timed_get(server.url + "/api/v1/namespaces/shop/pods/web-0")
        assert status == 200 and 0.05 <= plain < 0.15
        started = time.perf_counter()
        with urllib.request.urlopen(server.url + "/api/v1/namespaces/shop/pods/web-0/log", timeout=10) as response:
            assert response.read() == b"hello\n"
        assert time.perf_counter() - started >= 0.2
        server.set_options(latency=0, log_latency=0)
        assert _timed_get(server.url + "/api/v1/namespaces/shop/pods/web-0")[3] < 0.05


def test_throttle_answers_first_requests_with_429_and_retry_after_then_serves():
    with emu.KubeEmulator(throttle=2, retry_after=3) as server:
        server.load([pod("web-0")])
        first = _timed_get(server.url + "/api/v1/namespaces/shop/pods")
        second = _timed_get(server.url + "/api/v1/namespaces/shop/pods")
        third = _timed_get(server.url + "/api/v1/namespaces/shop/pods")
        assert [first[0], second[0], third[0]] == [429, 429, 200]
        assert first[1]["Retry-After"] == "3"
        assert first[2]["reason"] == "TooManyRequests" and first[2]["details"]["retryAfterSeconds"] == 3
        assert len(third[2]["items"]) == 1
        # The request log counts refused requests too, so a test can assert how many retries a client made.
        assert [r["status"] for r in server.requests] == [429, 429, 200]


def test_options_control_endpoint_sets_throttle(kube_api):
    kube_api.load([pod("web-0")])
    request = urllib.request.Request(kube_api.url + "/_emulator/options", data=json.dumps({"throttle": 1}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["throttle"] == 1
    assert _timed_get(kube_api.url + "/api/v1/namespaces/shop/pods/web-0")[0] == 429
    assert _timed_get(kube_api.url + "/api/v1/namespaces/shop/pods/web-0")[0] == 200


# -- metrics.k8s.io ---------------------------------------------------------------------------

@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_top_reads_seeded_metrics_and_our_parser_reads_kubectl(kube_api):
    """kubectl 1.32 accepts the emulator's PodMetrics/NodeMetrics shapes, and evidence/metrics parses what it prints."""
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics
    from tests.support import scenario_metrics, scenarios

    objects, _logs = scenarios.build(["oom-killed", "healthy"])
    kube_api.load(objects + scenario_metrics.metrics_for(objects, node_usage={"node-2": ("3100m", "9Gi")}))
    pods = metrics.parse_top_pods(kubectl(kube_api, "top", "pod", "-A", "--containers").stdout)
    catalog = next(key for key in pods if key.startswith("shop/catalog-"))
    assert pods[catalog]["containers"]["catalog"] == {"cpu": 0.03, "memory": 504.0 * 2 ** 20}
    assert len(pods) == 3
    totals = metrics.parse_top_pods(kubectl(kube_api, "top", "pod", "-n", "shop").stdout, namespace="shop")
    assert totals[catalog]["total"] == {"cpu": 0.03, "memory": 504.0 * 2 ** 20}
    top_nodes = kubectl(kube_api, "top", "node").stdout
    assert ["node-2", "3100m", "79%", "9216Mi", "56%"] in [line.split() for line in top_nodes.splitlines()]
    node_2 = metrics.parse_top_nodes(top_nodes)["node-2"]
    assert node_2 == {"cpu": 3.1, "memory": 9.0 * 2 ** 30, "timestamp": None, "window": None}
    listed = kube_api.get("/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods")
    assert listed["kind"] == "PodMetricsList" and listed["items"][0]["window"] == "15.01s"
