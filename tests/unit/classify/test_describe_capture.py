"""Pasted `kubectl describe pod` / `kubectl get events` text (kubectl 1.4-1.30 formats) -> evidence -> diagnosis."""

from __future__ import annotations

import datetime
import os

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.describe import (
    age_seconds_text, parse_describe, parse_events_table,
)

HERE = os.path.join(os.path.dirname(__file__), "captures")
CAPTURED = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)


def _read(name):
    with open(os.path.join(HERE, name)) as handle:
        return handle.read()


def _by_name(evidences):
    return dict((e.pod["metadata"]["name"], e) for e in evidences)


def test_ages():
    assert age_seconds_text("6m10s") == 370
    assert age_seconds_text("2d3h") == 183600
    assert age_seconds_text("<unknown>") is None and age_seconds_text("abc") is None


def test_describe_1_19_two_pods():
    pods = _by_name(parse_describe(_read("describe_1_19_two_pods.txt"), as_of=CAPTURED))
    assert sorted(pods) == ["web-7d4b9c6f5-x2x9z", "worker-0"]
    web = pods["web-7d4b9c6f5-x2x9z"]
    container = web.pod["spec"]["containers"][0]
    assert container["resources"]["limits"] == {"memory": "256Mi"}
    assert container["livenessProbe"]["httpGet"] == {"scheme": "HTTP", "path": "/healthz", "port": 8080}
    status = web.pod["status"]["containerStatuses"][0]
    assert status["restartCount"] == 7 and status["lastState"]["terminated"]["exitCode"] == 137
    assert web.pod["spec"]["nodeName"] == "node-1"
    assert web.pod["metadata"]["ownerReferences"][0] == {"kind": "ReplicaSet", "name": "web-7d4b9c6f5",
                                                         "controller": True}
    backoff = [e for e in web.events if e["reason"] == "BackOff"][0]
    assert backoff["count"] == 20 and backoff["component"] == "kubelet"
    assert (CAPTURED - backoff["last_seen"]).total_seconds() == 30
    assert (CAPTURED - backoff["first_seen"]).total_seconds() == 3000
    diag = classify_pod(web)
    assert diag["category"] == "OOMKilled" and "256Mi" in diag["root_cause"]
    assert any("Node object is not in the capture" in p for p in diag["problems"])
    worker = classify_pod(pods["worker-0"])
    assert worker["category"] == "UnschedulableInsufficientResources"


def test_describe_1_30_events_only_block():
    (evidence,) = parse_describe(_read("describe_1_30_partial.txt"), as_of=CAPTURED)
    assert any("no Containers section" in p for p in evidence.problems)
    diag = classify_pod(evidence)
    assert diag["category"] == "LivenessProbeFailure", diag["root_cause"]
    assert "api" in diag["root_cause"]


def test_describe_1_24_init_container_and_wrapped_message():
    (evidence,) = parse_describe(_read("describe_1_24_init_wrapped.txt"), as_of=CAPTURED)
    failed = [e for e in evidence.events if e["reason"] == "Failed"][0]
    assert failed["message"].endswith("executable file not found in $PATH: unknown")
    diag = classify_pod(evidence)
    assert diag["category"] == "InitContainerFailure"
    assert "wait-for-db" in diag["root_cause"]


def test_describe_unknown_capture_time_uses_newest_timestamp():
    (evidence,) = parse_describe(_read("describe_1_24_init_wrapped.txt"))
    assert evidence.as_of == datetime.datetime(2026, 11, 24, 8, 10, tzinfo=datetime.timezone.utc)
    assert any("capture time unknown" in p for p in evidence.problems)


def test_describe_1_4_tab_separated_events():
    (evidence,) = parse_describe(_read("describe_1_4_tabs.txt"), as_of=CAPTURED)
    assert evidence.pod["metadata"]["name"] == "nginx-ingress-controller-67y4y"
    reasons = sorted(e["reason"] for e in evidence.events)
    assert reasons == ["FailedSync", "Killing"]
    kill = [e for e in evidence.events if e["reason"] == "Killing"][0]
    assert kill["field_path"] == "spec.containers{nginx-ingress-lb}"
    assert classify_pod(evidence)["category"] == "LivenessProbeFailure"


def test_get_events_default_format_without_describe():
    (evidence,) = parse_describe("", events_text=_read("events_default.txt"), as_of=CAPTURED)
    assert evidence.pod["metadata"]["name"] == "keeper-577cccc7db-s4r4v"
    assert any("from its events alone" in p for p in evidence.problems)
    diag = classify_pod(evidence)
    assert diag["category"] == "UnschedulableTaints" and "down" in diag["root_cause"]


def test_get_events_all_namespaces_and_pre_1_14():
    raws = parse_events_table(_read("events_all_namespaces.txt"), CAPTURED)
    assert {r["involvedObject"]["namespace"] for r in raws} == {"argocd"}
    (evidence,) = parse_describe("", events_text=_read("events_all_namespaces.txt"), as_of=CAPTURED)
    assert classify_pod(evidence)["category"] == "ImagePullBackOff"
    old = parse_events_table(_read("events_1_11.txt"), CAPTURED)
    assert old[0]["involvedObject"]["name"] == "mysql-0" and old[0]["count"] == 9
    (mysql,) = parse_describe("", events_text=_read("events_1_11.txt"), as_of=CAPTURED)
    assert classify_pod(mysql)["category"] == "VolumeMountFailure"


def test_events_file_merges_into_described_pod():
    describe = _read("describe_1_30_partial.txt")
    events = ("LAST SEEN   TYPE      REASON      OBJECT                      MESSAGE\n"
              "10s         Warning   Unhealthy   pod/api-5c6d7f8b9-q8w7e     Readiness probe failed: HTTP probe "
              "failed with statuscode: 503\n")
    (evidence,) = parse_describe(describe, events_text=events, as_of=CAPTURED)
    assert "Unhealthy" in [e["reason"] for e in evidence.events if "Readiness" in e["message"]]


def test_garbage_never_raises():
    assert parse_describe("not a capture\n\tat all") == []
    assert parse_events_table("LAST SEEN TYPE\nweird") == []


def test_capture_source_gathers_like_the_other_sources(tmp_path):
    from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.describe import CaptureSource
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
    import pytest

    path = tmp_path / "describe.txt"
    path.write_text(_read("describe_1_19_two_pods.txt").replace(
        "Back-off restarting failed container", "Back-off restarting failed container password=hunter2"))
    source = CaptureSource(describe_file=str(path), as_of="2026-11-25T12:00:00Z")
    gathered = source.gather(Target(name="web-7d4b9c6f5-x2x9z", namespace="shop"))
    assert [p.pod["metadata"]["name"] for p in gathered.pods] == ["web-7d4b9c6f5-x2x9z"]
    assert gathered.source == "capture" and gathered.requests == 0
    assert not any("hunter2" in e["message"] for e in gathered.pods[0].events)
    everything = source.gather(Target(all_namespaces=True))
    assert len(everything.pods) == 2
    with pytest.raises(InvalidInput, match="describe_file"):
        CaptureSource(describe_file=str(tmp_path / "missing.txt"))
    with pytest.raises(InvalidInput):
        CaptureSource()
