"""Probes: kills and unready containers are reported; start-up failures that recovered are not.

Texts: pkg/kubelet/prober/prober.go ("Liveness probe failed: %s", reason Unhealthy),
pkg/kubelet/kuberuntime/kuberuntime_container.go ("Container %s failed liveness probe, will be restarted").
"""

from __future__ import annotations

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from tests.unit.classify.podbuilder import container, cstatus, event, evidence, http_probe, pod, term


def test_readiness_probe_failing_now():
    c = container(readiness=http_probe("/ready", 8080))
    p = pod(containers=[c], statuses=[cstatus(running=1800, ready=False)],
            conditions=[{"type": "Ready", "status": "False"}])
    msg = 'Readiness probe failed: Get "http://10.244.1.7:8080/ready": dial tcp 10.244.1.7:8080: connect: ' \
          'connection refused'
    diag = classify_pod(evidence(p, events=[event("Unhealthy", msg, count=170, ago=5, container="app")]))
    assert diag["category"] == "ReadinessProbeFailure"
    assert "nothing is listening on /ready:8080" in diag["root_cause"]
    assert diag["severity"] == "medium"


def test_readiness_with_expired_events_falls_back_to_status():
    c = container(readiness=http_probe())
    p = pod(containers=[c], statuses=[cstatus(running=7200, ready=False)],
            conditions=[{"type": "ContainersReady", "status": "False",
                         "message": "containers with unready status: [app]"}])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "ReadinessProbeFailure"
    assert diag["confidence"] <= 0.6


def test_probe_failures_during_startup_that_recovered_are_healthy():
    c = container(readiness=http_probe(), liveness=http_probe())
    p = pod(containers=[c], statuses=[cstatus(running=600, ready=True)],
            conditions=[{"type": "Ready", "status": "True"}])
    events = [event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=3, ago=580,
                    container="app"),
              event("Unhealthy", 'Liveness probe failed: Get "http://10.0.0.1:8080/healthz": context deadline '
                    'exceeded (Client.Timeout exceeded while awaiting headers)', count=1, ago=585, container="app")]
    assert classify_pod(evidence(p, events=events))["category"] == "Healthy"


def test_unready_container_just_started_is_not_reported():
    c = container(readiness=http_probe(initialDelaySeconds=20))
    p = pod(containers=[c], statuses=[cstatus(running=15, ready=False)], created_ago=20)
    ev = evidence(p, events=[event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                                   ago=3, container="app")])
    assert classify_pod(ev)["category"] == "Healthy"


def test_liveness_kill_old_and_ready_now_is_healthy():
    c = container(liveness=http_probe())
    p = pod(containers=[c], statuses=[cstatus(running=3000, ready=True, restarts=1,
                                              last=term("Error", 137, ago=3010))])
    ev = evidence(p, events=[event("Killing", "Container app failed liveness probe, will be restarted", ago=3010,
                                   container="app")])
    assert classify_pod(ev)["category"] == "Healthy"


def test_liveness_kill_running_again_recently():
    c = container(liveness=http_probe(timeoutSeconds=1))
    p = pod(containers=[c], statuses=[cstatus(running=40, ready=False, restarts=4,
                                              last=term("Error", 143, ago=45))])
    events = [event("Unhealthy", 'Liveness probe failed: Get "http://10.0.0.1:8080/healthz": context deadline '
                    'exceeded (Client.Timeout exceeded while awaiting headers)', count=12, ago=50, container="app"),
              event("Killing", "Container app failed liveness probe, will be restarted", count=4, ago=46,
                    container="app")]
    diag = classify_pod(evidence(p, events=events))
    assert diag["category"] == "LivenessProbeFailure"
    assert "timed out after 1s" in diag["root_cause"]


def test_old_docker_liveness_kill_wording():
    c = container(liveness=http_probe())
    p = pod(containers=[c], statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=6,
                                              last=term("Error", 137, ago=30))])
    msg = "Killing container with id docker://app:Container failed liveness probe.. Container will be killed and " \
          "recreated."
    diag = classify_pod(evidence(p, events=[event("Killing", msg, count=6, container="app")]))
    assert diag["category"] == "LivenessProbeFailure"


def test_liveness_fallback_when_events_expired():
    c = container(liveness=http_probe())
    p = pod(containers=[c], statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=6,
                                              last=term("Error", 137, ago=30))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "LivenessProbeFailure"
    assert diag["confidence"] == 0.5


def test_crash_with_signature_is_not_blamed_on_liveness():
    c = container(liveness=http_probe())
    p = pod(containers=[c], statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=6,
                                              last=term("Error", 137, ago=30))])
    logs = {"app": {"previous": "panic: assignment to entry in nil map\n\ngoroutine 1 [running]:"}}
    assert classify_pod(evidence(p, logs=logs))["category"] == "CrashLoopBackOff"


def test_startup_probe_kill():
    c = container(startup=http_probe(failureThreshold=30))
    p = pod(containers=[c], statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=3, started=False,
                                              last=term("Error", 137, ago=30))])
    events = [event("Unhealthy", "Startup probe failed: HTTP probe failed with statuscode: 404", count=90,
                    container="app"),
              event("Killing", "Container app failed startup probe, will be restarted", count=3, container="app")]
    diag = classify_pod(evidence(p, events=events))
    assert diag["category"] == "StartupProbeFailure"
    assert "HTTP 404" in diag["root_cause"]


def test_events_without_field_path_in_multi_container_pod():
    # `kubectl describe` shows no fieldPath: an Unhealthy event naming no container goes to the unready one.
    c = [container(readiness=http_probe()), container("sidecar", image="envoy:1.30")]
    p = pod(containers=c, statuses=[cstatus(running=1800, ready=False), cstatus("sidecar", running=1800, ready=True)])
    ev = evidence(p, events=[event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                                   count=100, ago=5)])
    diag = classify_pod(ev)
    assert diag["category"] == "ReadinessProbeFailure"
    assert diag["culprit"]["container"] == "app"
