"""evidence/metrics + usage + prometheus against the emulator's metrics.k8s.io and the Prometheus stub over HTTP."""

from __future__ import annotations

import datetime
import time

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics, prometheus, usage
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from tests.support import scenario_metrics, scenarios
from tests.support.prometheus_stub import PrometheusStub

pytestmark = pytest.mark.integration
MI = 2 ** 20


def transport(kube_api):
    return k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)


def seed_oom(kube_api, node_usage=(("node-2", ("3100m", "9Gi")),)):
    """The OOM scenario with a 128Mi limit (the pod sits at 126Mi of it) on a node at 3.1 CPUs."""
    objects, logs = scenarios.build(["oom-killed", "healthy"])
    for obj in objects:
        if obj["kind"] in ("Pod", "Deployment", "ReplicaSet"):
            spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
            for container in spec["containers"]:
                if container["name"] == "catalog":
                    container["resources"] = {"requests": {"cpu": "100m", "memory": "128Mi"},
                                              "limits": {"memory": "128Mi"}}
    nodes = [o for o in objects if o["kind"] == "Node"]
    for item in nodes:
        item["status"]["allocatable"]["memory"] = "16Gi"
    kube_api.load(objects + scenario_metrics.metrics_for(objects, node_usage=dict(node_usage)), logs)
    return next(o for o in objects if o["kind"] == "Pod" and o["metadata"]["name"].startswith("catalog-"))


def test_oom_pod_usage_read_with_one_get_per_kind(kube_api):
    pod = seed_oom(kube_api)
    name = pod["metadata"]["name"]
    kube_api.clear_requests()
    reading = metrics.read_live(transport(kube_api), pod=("shop", name), nodes=["node-2"])
    assert reading["problems"] == []
    assert [r["path"] for r in kube_api.requests] == [
        "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/%s" % name, "/apis/metrics.k8s.io/v1beta1/nodes/node-2"]
    node = next(o for o in kube_api.emulator.objects("Node") if o["metadata"]["name"] == "node-2")
    found = usage.pod_usage(pod, reading, node)
    memory = found["containers"][0]["memory"]
    assert memory["text"] == "126Mi of 128Mi (98%)"
    assert memory["usage"] == pytest.approx(126 * MI, rel=0.001) and memory["limit"] == 128 * MI
    assert found["containers"][0]["cpu"]["text"] == "30m of 100m request (30%)"
    assert found["node"]["cpu"]["text"] == "3.1 of 3.9 (79%)"
    assert found["node"]["memory"]["text"] == "9Gi of 16Gi (56%)"
    assert found["timestamp"] and found["window"] == "15.01s"
    assert usage.culprit_text(found, "catalog").startswith("catalog cpu 30m of 100m request (30%); catalog memory "
                                                           "126Mi of 128Mi (98%); node node-2 cpu 3.1 of 3.9 (79%)")


def test_namespace_scan_adds_one_list_per_namespace_and_one_for_nodes(kube_api):
    seed_oom(kube_api)
    gathered = LiveSource(transport(kube_api)).gather(Target(namespace="shop"))
    kube_api.clear_requests()
    reading = metrics.read_live(transport(kube_api), namespaces=["shop"], nodes={"node-1", "node-2"})
    assert [r["path"] for r in kube_api.requests] == ["/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
                                                      "/apis/metrics.k8s.io/v1beta1/nodes"]
    assert reading["requests"] == 2
    by_pod = usage.usage_for(gathered, reading)
    lazy = usage.LazyUsage(gathered, reading)
    assert lazy.as_dict() == by_pod and lazy.get("shop/absent") is None and "shop/absent" not in lazy
    catalog = next(v for k, v in by_pod.items() if k.startswith("shop/catalog-"))
    assert catalog["containers"][0]["memory"]["percent_of_limit"] == 98
    frontends = [v for k, v in by_pod.items() if k.startswith("shop/frontend-")]
    assert len(frontends) == 2 and all(f["containers"][0]["memory"]["text"] == "64Mi of 256Mi (25%)"
                                       for f in frontends)


@pytest.mark.parametrize("status,words", [
    (404, "metrics.k8s.io is not served (HTTP 404): metrics-server is not installed"),
    (403, "reading metrics.k8s.io is forbidden (HTTP 403)"),
    (503, "metrics-server is not ready (HTTP 503"),
])
def test_absent_forbidden_or_not_ready_is_one_note_naming_the_role(kube_api, status, words):
    seed_oom(kube_api)
    kube_api.emulator.add_fault(status, "GET", r"^/apis/metrics\.k8s\.io/", times=None)
    kube_api.clear_requests()
    reading = metrics.read_live(transport(kube_api), namespaces=["shop", "batch"], nodes=None)
    assert len(reading["problems"]) == 1, reading["problems"]
    assert words in reading["problems"][0] and "aiops.k8s.metrics_server" in reading["problems"][0]
    assert reading["pods"] == {} and reading["nodes"] == {}
    # The first refusal stops the metrics reads: no request per further namespace.
    assert len(kube_api.requests) == 1


def test_single_pod_without_a_sample_is_a_note(kube_api):
    seed_oom(kube_api)
    reading = metrics.read_live(transport(kube_api), pod=("shop", "not-scraped-yet"), nodes=[])
    assert len(reading["problems"]) == 1 and "no metrics sample for pod shop/not-scraped-yet" in reading["problems"][0]


def test_prometheus_history_gives_peaks_that_exceed_the_sample(kube_api):
    pod = seed_oom(kube_api)
    name = pod["metadata"]["name"]
    reading = metrics.read_live(transport(kube_api), pod=("shop", name), nodes=[])
    now = time.time()
    with PrometheusStub(token="s3cret") as prom:
        labels = {"namespace": "shop", "pod": name, "container": "catalog"}
        prom.add_series(prometheus.MEMORY_METRIC, labels, [(now - 3000 + 60 * i, (100 + i) * MI) for i in range(40)])
        prom.add_series(prometheus.CPU_METRIC, labels, [(now - 3000, 0.02), (now - 1200, 0.45), (now - 60, 0.03)])
        prom.add_series(prometheus.MEMORY_METRIC, dict(labels, namespace="other"), [(now - 60, 999 * MI)])
        history = prometheus.read_history(prom.url, now, namespaces=["shop"], token="s3cret")
        assert history["problems"] == [] and history["requests"] == 2
        assert all(r["authorization"] == "Bearer s3cret" for r in prom.requests)
        assert 'namespace=~"shop"' in prom.requests[0]["params"]["query"]
        denied = prometheus.read_history(prom.url, now, namespaces=["shop"], token="wrong")
    assert history["peaks"] == {"shop/%s/catalog" % name: {"memory": 139.0 * MI, "cpu": 0.45}}
    assert len(denied["problems"]) == 2 and "HTTP 401 (check prometheus_token)" in denied["problems"][0]
    assert "wrong" not in " ".join(denied["problems"])
    found = usage.pod_usage(pod, reading, None, history)
    memory = found["containers"][0]["memory"]
    assert memory["peak_human"] == "139Mi" and memory["percent_of_limit"] == 109
    assert memory["text"] == "126Mi of 128Mi (98%), peak 139Mi" and found["history_window"] == "1h 00m"


def test_unreachable_prometheus_is_one_note():
    history = prometheus.read_history("http://127.0.0.1:9", time.time(), namespaces=["shop"], timeout=2)
    assert len(history["problems"]) == 1 and "cannot reach Prometheus at http://127.0.0.1:9" in history["problems"][0]


def test_dump_metrics_files_json_and_kubectl_top(tmp_path):
    objects, _logs = scenarios.build(["oom-killed", "healthy"])
    samples = scenario_metrics.metrics_for(objects, now=datetime.datetime(2026, 11, 25, 19, 0, tzinfo=datetime.timezone.utc))
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "top-pods.txt").write_text(scenario_metrics.top_pods_text(samples, containers=True))
    nodes = [o for o in objects if o["kind"] == "Node"]
    (folder / "top-nodes.txt").write_text(scenario_metrics.top_nodes_text(samples, nodes))
    from_text = metrics.read_dump(str(tmp_path))
    catalog = next(k for k in from_text["pods"] if k.startswith("shop/catalog-"))
    assert from_text["source"] == "dump" and from_text["problems"] == []
    assert from_text["pods"][catalog]["containers"]["catalog"] == {"cpu": 0.03, "memory": 504.0 * MI}
    assert from_text["nodes"]["node-2"]["cpu"] == pytest.approx(0.31)
    import json
    (folder / "pod-metrics.json").write_text(json.dumps({"kind": "PodMetricsList", "items": [
        s for s in samples if s["kind"] == "PodMetrics"]}))
    (folder / "node-metrics.json").write_text("{not json")
    from_json = metrics.read_dump(str(tmp_path))
    assert from_json["pods"][catalog]["timestamp"] == "2026-11-25T19:00:00Z"
    assert len(from_json["problems"]) == 1 and "node-metrics.json" in from_json["problems"][0]
    assert metrics.read_dump(str(tmp_path / "absent")) == metrics.empty_reading(None)


def test_kubectl_top_pod_without_containers_goes_to_the_single_container():
    text = "NAME                       CPU(cores)   MEMORY(bytes)\nweb-1   250m   300Mi\n"
    reading = metrics.empty_reading("dump")
    reading["pods"] = metrics.parse_top_pods(text, namespace="shop")
    pod = {"metadata": {"name": "web-1", "namespace": "shop"},
           "spec": {"containers": [{"name": "app", "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}}]}}
    found = usage.pod_usage(pod, reading)
    assert found["containers"][0]["memory"]["text"] == "300Mi of 1Gi (29%)"
    assert found["containers"][0]["cpu"]["text"] == "250m of 500m (50%)"
    assert found["containers"][0]["cpu"]["request"] == 0.5, "a missing request defaults to the limit"


def test_opt_in_live_source_puts_usage_in_the_diagnosis(kube_api):
    from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose
    pod = seed_oom(kube_api)
    kube_api.clear_requests()
    gathered = LiveSource(transport(kube_api), metrics=True).gather(Target(namespace="shop"))
    metric_paths = [r["path"] for r in kube_api.requests if "metrics.k8s.io" in r["path"]]
    assert metric_paths == ["/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods", "/apis/metrics.k8s.io/v1beta1/nodes"]
    result = diagnose(gathered)
    oom = next(d for d in result["diagnoses"] if d["name"] == pod["metadata"]["name"])
    assert oom["category"] == "OOMKilled"
    assert oom["usage"]["containers"][0]["memory"]["text"] == "126Mi of 128Mi (98%)"
    assert oom["usage"]["node"]["cpu"]["text"] == "3.1 of 3.9 (79%)"
    single = LiveSource(transport(kube_api), metrics=True).gather(Target(namespace="shop", name=pod["metadata"]["name"]))
    assert single.usage["shop/" + pod["metadata"]["name"]]["containers"][0]["memory"]["percent_of_limit"] == 98


def test_opt_in_live_source_without_metrics_server_still_diagnoses(kube_api):
    from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose
    pod = seed_oom(kube_api)
    kube_api.emulator.add_fault(404, "GET", r"^/apis/metrics\.k8s\.io/", times=None)
    gathered = LiveSource(transport(kube_api), metrics=True).gather(Target(namespace="shop"))
    result = diagnose(gathered)
    notes = [p for p in result["problems"] if "metrics" in p]
    assert len(notes) == 1 and "aiops.k8s.metrics_server" in notes[0]
    oom = next(d for d in result["diagnoses"] if d["name"] == pod["metadata"]["name"])
    assert oom["category"] == "OOMKilled" and "usage" not in oom
    plain = LiveSource(transport(kube_api)).gather(Target(namespace="shop"))
    assert plain.usage == {} and not [p for p in plain.problems if "metrics" in p]
