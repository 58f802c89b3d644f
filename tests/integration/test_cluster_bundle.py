"""aiops.k8s.cluster_bundle's collection against the Kubernetes API emulator over real HTTP (no mocked client).

What a support engineer relies on: the bundle diagnoses offline to the same root causes as the live cluster,
nothing secret leaves in it, requests do not grow with the number of namespaces, nothing is ever written to the
cluster, a refused optional kind is a note (refused pods are an error), and check mode writes nothing.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils import runner
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import Forbidden, InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import bundle, metrics
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target, gather
from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.modules import cluster_bundle
from tests.support import scenario_metrics, scenarios
from tests.support.oom_chain import oom_deployment_chain

pytestmark = pytest.mark.integration

PARAMS = {"namespace": None, "metrics": True, "log_tail_lines": 500, "log_max_bytes": 1048576,
          "log_concurrency": 8, "redact_patterns": [], "request_timeout": 30}


def run(kube_api, dest, check_mode=False, **params):
    transport = k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)
    return cluster_bundle.run(dict(PARAMS, dest=str(dest), **params), transport, check_mode=check_mode)


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), str(root)) for d, _s, names in os.walk(str(root)) for f in names)


def categories(gathered):
    result = runner.diagnose(gathered)
    return sorted((d["namespace"], d["name"], d["category"]) for d in result["diagnoses"])


def test_the_bundle_diagnoses_offline_as_the_live_cluster_does(kube_api, tmp_path):
    objects, logs = scenarios.build()
    scenarios.seed(kube_api, objects, logs)
    result = run(kube_api, tmp_path / "bundle")
    assert result["changed"] and result["problems"] == []
    assert set(result["namespaces"]) >= {"shop", "batch"}
    assert result["logs"] > 0 and any(name.endswith(".previous.log") for name in files_under(tmp_path / "bundle"))

    transport = k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)
    live = categories(gather(LiveSource(transport), Target(all_namespaces=True)))
    offline = categories(gather(DumpSource(str(tmp_path / "bundle")), Target(all_namespaces=True)))
    assert len(live) >= 25
    assert offline == live


def test_requests_do_not_grow_with_namespaces_and_nothing_is_written_to_the_cluster(kube_api, tmp_path):
    objects, logs = scenarios.make_fleet(namespaces=30, pods=300, failing_ratio=0.1)
    scenarios.seed(kube_api, objects, logs)
    kube_api.clear_requests()
    result = run(kube_api, tmp_path / "bundle")
    requests = kube_api.requests
    assert [r for r in requests if r["method"] != "GET"] == []
    lists = [r for r in requests if not r["path"].endswith("/log")]
    # Nodes, 11 kinds, PodMetrics and NodeMetrics: one LIST each for 30 namespaces (pages of 500 items).
    assert len(lists) == 14, sorted(r["path"] for r in lists)
    assert len(result["namespaces"]) == 30
    assert result["api_requests"] == len(requests) == 14 + result["logs"] + sum(
        1 for r in requests if r["path"].endswith("/log") and r["status"] != 200)
    assert len([name for name in files_under(tmp_path / "bundle") if name.endswith("/pods.json")]) == 30


def test_nothing_secret_is_written(kube_api, tmp_path):
    objs = oom_deployment_chain("128Mi", {"cpu": "100m", "memory": "128Mi"})
    pod = next(o for o in objs if o["kind"] == "Pod")
    container = pod["spec"]["containers"][0]
    container["env"] = [{"name": "DB_PASSWORD", "value": "hunter2-plain"}, {"name": "MODE", "value": "fast"}]
    container["args"] = ["--api-token=tok-abc123456789"]
    pod["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    pod["metadata"].setdefault("annotations", {})[
        "kubectl.kubernetes.io/last-applied-configuration"] = '{"env":[{"name":"DB_PASSWORD","value":"hunter2-plain"}]}'
    status = pod["status"]["containerStatuses"][0]
    status["lastState"]["terminated"]["message"] = "connect failed: password=s3cr3t-term"
    kube_api.load(objs)
    kube_api.set_log(pod["metadata"]["namespace"], pod["metadata"]["name"], "app",
                     "boot\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig-LOGSECRET\n", previous=True)
    result = run(kube_api, tmp_path / "bundle", redact_patterns=["ticket-[0-9]+"])
    assert result["logs"] >= 1
    text = "".join((tmp_path / "bundle" / name).read_text() for name in files_under(tmp_path / "bundle"))
    for secret in ("hunter2-plain", "tok-abc123456789", "s3cr3t-term", "LOGSECRET", "last-applied-configuration",
                   "managedFields"):
        assert secret not in text, secret
    assert "[REDACTED]" in text and '"fast"' in text  # masked values, ordinary ones kept


def test_a_refused_optional_kind_is_a_note_and_refused_pods_are_an_error(kube_api, tmp_path):
    kube_api.load(oom_deployment_chain("128Mi", {"cpu": "100m", "memory": "128Mi"}))
    kube_api.fault(403, "GET", r"^/apis/batch/v1/cronjobs", times=None)
    kube_api.fault(403, "GET", r"^/api/v1/services", times=None)
    result = run(kube_api, tmp_path / "bundle")
    assert any(p.startswith("cannot list cronjobs: forbidden") for p in result["problems"]), result["problems"]
    assert any(p.startswith("cannot list services: forbidden") for p in result["problems"]), result["problems"]
    names = files_under(tmp_path / "bundle")
    assert "shop/pods.json" in names and "shop/jobs.json" in names
    assert "shop/cronjobs.json" not in names and "shop/services.json" not in names
    assert "CronJob" not in result["objects"] and result["objects"]["Pod"] == 1

    kube_api.clear_faults()
    kube_api.fault(403, "GET", r"^/api/v1/pods", times=None)
    with pytest.raises(Forbidden):
        run(kube_api, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_check_mode_writes_nothing_and_a_rerun_changes_nothing(kube_api, tmp_path):
    objs = oom_deployment_chain("128Mi", {"cpu": "100m", "memory": "128Mi"})
    kube_api.load(objs + scenario_metrics.metrics_for(objs, node_usage={"node-1": ("3100m", "5Gi")}))
    dest = tmp_path / "new" / "bundle"
    preview = run(kube_api, dest, check_mode=True)
    assert preview["changed"] and "shop/pods.json" in preview["changed_files"]
    assert not (tmp_path / "new").exists()

    written = run(kube_api, dest)
    assert sorted(written["changed_files"]) == files_under(dest) == sorted(preview["changed_files"])
    assert oct(os.stat(str(dest)).st_mode & 0o777) == "0o750"
    assert oct(os.stat(str(dest / "shop" / "pods.json")).st_mode & 0o777) == "0o640"
    again = run(kube_api, dest)
    assert again["changed"] is False and again["changed_files"] == []

    # metrics-server stops serving: the old usage files go, the note says why; nothing else is removed.
    kube_api.fault(503, "GET", r"^/apis/metrics\.k8s\.io/", times=None)
    later = run(kube_api, dest)
    assert sorted(p for p in later["changed_files"] if p.startswith("metrics/")) == sorted(
        ["metrics/" + n for n in metrics.DUMP_FILES] + ["metrics/" + metrics.NOTE_FILE])
    assert sorted(os.listdir(str(dest / "metrics"))) == [metrics.NOTE_FILE]
    assert "shop/pods.json" in files_under(dest)
    assert later["metrics"]["served"] == [] and set(later["metrics"]["refused"]) == {"PodMetrics", "NodeMetrics"}


def test_usage_files_read_back_to_the_samples(kube_api, tmp_path):
    objs = oom_deployment_chain("128Mi", {"cpu": "100m", "memory": "128Mi"})
    samples = scenario_metrics.metrics_for(objs, node_usage={"node-1": ("3100m", "5Gi")})
    kube_api.load(objs + samples)
    run(kube_api, tmp_path / "bundle", namespace="shop")
    folder = tmp_path / "bundle" / "metrics"
    from_json = metrics.read_dump(str(tmp_path / "bundle"))
    from_text_pods = metrics.parse_top_pods((folder / "top-pods.txt").read_text())
    from_text_nodes = metrics.parse_top_nodes((folder / "top-nodes.txt").read_text())
    for key, sample in from_json["pods"].items():
        for name, figures in sample["containers"].items():
            text = from_text_pods[key]["containers"][name]
            assert text["memory"] == pytest.approx(figures["memory"], abs=2 ** 20)
            assert text["cpu"] == pytest.approx(figures["cpu"], abs=0.001)
    assert from_text_nodes["node-1"]["cpu"] == pytest.approx(from_json["nodes"]["node-1"]["cpu"], abs=0.001)
    pods = json.loads((folder / "pod-metrics.json").read_text())
    assert pods["apiVersion"] == "metrics.k8s.io/v1beta1" and pods["kind"] == "PodMetricsList"


def test_names_that_would_leave_the_bundle_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="not a plain relative path"):
        bundle.write(str(tmp_path), {"shop/../../escape.json": "{}"})
    with pytest.raises(InvalidInput, match="is not a directory"):
        (tmp_path / "file").write_text("x")
        bundle.write(str(tmp_path / "file"), {"a.json": "{}"})
    assert sorted(os.listdir(str(tmp_path))) == ["file"]


def test_a_bad_namespace_is_one_clear_error_before_any_request(kube_api, tmp_path):
    kube_api.clear_requests()
    with pytest.raises(InvalidInput, match="Invalid namespace 'shop/../kube-system'"):
        run(kube_api, tmp_path / "bundle", namespace="shop/../kube-system")
    assert kube_api.requests == [] and not (tmp_path / "bundle").exists()
