"""Crashes, exits, OOM kills, config and runtime errors: root cause over symptom."""

from __future__ import annotations

import pytest

# classify then propose (these tests also assert the proposals)
from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose_pod as classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules.containers import explain_exit
from tests.unit.classify.podbuilder import (
    container, cstatus, event, evidence, http_probe, pod, term,
)

BACKOFF = "back-off 5m0s restarting failed container=app pod=web-7d4b9c6f5-x2x9z_shop(uid-1)"


def crash_pod(last, restarts=7, containers=None, **kw):
    return pod(phase="Running", containers=containers or [container(limits={"memory": "256Mi"})],
               statuses=[cstatus(waiting=("CrashLoopBackOff", BACKOFF), last=last, restarts=restarts)],
               conditions=[{"type": "Ready", "status": "False"}], **kw)


def test_oom_last_state_beats_crash_loop():
    # pkg/kubelet/kuberuntime: lastState.terminated reason OOMKilled exit 137 (containerd and docker alike)
    diag = classify_pod(evidence(crash_pod(term("OOMKilled", 137, ago=40)), events=[
        event("BackOff", "Back-off restarting failed container app in pod web-7d4b9c6f5-x2x9z_shop(uid-1)",
              count=12, container="app")]))
    assert diag["category"] == "OOMKilled"
    assert diag["culprit"]["limit"] == "256Mi"
    assert "256Mi" in diag["root_cause"]
    assert any("OOMKilled" in e["detail"] for e in diag["evidence"])
    assert diag["remediations"][0]["action"] == "set_memory_limit"
    assert diag["remediations"][0]["params"]["memory_limit"] == "384Mi"


def test_exit_137_without_oom_reason_is_not_oom():
    diag = classify_pod(evidence(crash_pod(term("Error", 137, ago=40))))
    assert diag["category"] == "CrashLoopBackOff"
    assert "SIGKILL" in diag["root_cause"]
    assert "not report an OOM" in diag["root_cause"]


def test_recent_oom_on_running_container_is_reported():
    # The container restarted and runs again: k8sgpt/robusta miss this; it is still an OOM problem.
    p = pod(containers=[container(limits={"memory": "1Gi"})],
            statuses=[cstatus(running=100, ready=True, restarts=2, last=term("OOMKilled", 137, ago=110))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "OOMKilled"
    assert diag["severity"] == "medium"
    assert diag["remediations"][0]["params"] == {"memory_limit": "1536Mi", "previous_memory_limit": "1Gi"}


def test_old_oom_on_ready_container_is_healthy():
    p = pod(statuses=[cstatus(running=86400, ready=True, restarts=1, last=term("OOMKilled", 137, ago=86500))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "Healthy"
    assert diag["secondary"] and diag["secondary"][0]["category"] == "OOMKilled"


@pytest.mark.parametrize("code, words", [
    (126, "cannot be executed"), (127, "command not found"), (139, "SIGSEGV"), (134, "SIGABRT"),
    (143, "SIGTERM"), (1, "application error"), (2, "invalid arguments"), (255, "255")])
def test_exit_codes_explained(code, words):
    assert words in explain_exit(code)
    diag = classify_pod(evidence(crash_pod(term("Error", code, ago=30))))
    assert diag["category"] == "CrashLoopBackOff"
    assert words in diag["root_cause"]


def test_crash_loop_exit_zero_explains_restart_policy():
    diag = classify_pod(evidence(crash_pod(term("Completed", 0, ago=30))))
    assert diag["category"] == "CrashLoopBackOff"
    assert "exits with code 0" in diag["root_cause"]


@pytest.mark.parametrize("log, kind, quoted", [
    ("Starting\nException in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n\tat Foo.bar(Foo.java:1)",
     "java_oom", "java.lang.OutOfMemoryError: Java heap space"),
    ("Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    import redis\n"
     "ModuleNotFoundError: No module named 'redis'", "python_exception", "ModuleNotFoundError: No module named 'redis'"),
    ("starting\npanic: runtime error: invalid memory address or nil pointer dereference\n"
     "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b8d1a]\n\ngoroutine 1 [running]:\nmain.main()",
     "go_panic", "panic: runtime error: invalid memory address or nil pointer dereference"),
    ("exec /usr/local/bin/server: exec format error", "exec_format", "exec format error"),
    ("standard_init_linux.go:228: exec user process caused: exec format error", "exec_format", "exec format error"),
    ("2024/05/01 10:00:00 listen tcp :8080: bind: address already in use", "address_in_use", "address already in use"),
    ("2024-05-01T10:00:00Z ERROR dial tcp 10.96.12.7:5432: connect: connection refused", "connection_refused",
     "10.96.12.7:5432"),
    ("Error: environment variable DATABASE_URL is not set", "missing_env", "DATABASE_URL"),
])
def test_log_signatures_quoted(log, kind, quoted):
    ev = evidence(crash_pod(term("Error", 1, ago=30)), logs={"app": {"previous": log, "current": None}})
    diag = classify_pod(ev)
    assert diag["category"] == "CrashLoopBackOff"
    assert diag["culprit"]["signature"] == kind
    assert any(quoted in e["detail"] for e in diag["evidence"] if e["source"].startswith("log app"))


def test_quoted_log_line_is_redacted():
    log = "FATAL could not connect: postgres://admin:hunter2@db:5432/shop connection refused"
    diag = classify_pod(evidence(crash_pod(term("Error", 1, ago=30)), logs={"app": {"previous": log}}))
    quoted = [e["detail"] for e in diag["evidence"] if e["source"].startswith("log app")]
    assert quoted and "hunter2" not in quoted[0]


def test_termination_message_used_when_logs_missing():
    last = term("Error", 1, ago=30, message="KeyError: 'API_TOKEN'")
    diag = classify_pod(evidence(crash_pod(last)))
    assert diag["culprit"]["signature"] == "missing_env"
    assert "API_TOKEN" in diag["root_cause"]


def test_init_container_crash_loop_is_init_failure():
    p = pod(phase="Pending", init=[container("migrate", image="shop/migrate:7")],
            init_statuses=[cstatus("migrate", waiting=("CrashLoopBackOff", BACKOFF), restarts=4,
                                   last=term("Error", 2, ago=20))],
            statuses=[cstatus(waiting=("PodInitializing", None))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "InitContainerFailure"
    assert diag["culprit"]["container"] == "migrate"


def test_init_container_failed_with_restart_policy_never():
    p = pod(phase="Failed", restart_policy="Never", init=[container("init-db")],
            init_statuses=[cstatus("init-db", terminated=term("Error", 1, ago=300))],
            statuses=[cstatus(waiting=("PodInitializing", None))])
    assert classify_pod(evidence(p))["category"] == "InitContainerFailure"


def test_job_pod_non_zero_exit_is_container_exit_error():
    p = pod(phase="Failed", restart_policy="Never", owner=("Job", "report"),
            statuses=[cstatus(terminated=term("Error", 3, ago=600))])
    owners = [{"kind": "Job", "name": "report", "api_version": "batch/v1", "object": {"kind": "Job", "status": {}}}]
    diag = classify_pod(evidence(p, owners=owners))
    assert diag["category"] == "ContainerExitError"
    assert diag["culprit"]["exit_code"] == 3


def test_failed_job_pod_of_a_completed_job_is_healthy():
    p = pod(phase="Failed", restart_policy="Never", owner=("Job", "report"),
            statuses=[cstatus(terminated=term("Error", 1, ago=600))])
    owners = [{"kind": "Job", "name": "report", "object": {"kind": "Job", "status": {"conditions": [
        {"type": "Complete", "status": "True"}]}}}]
    assert classify_pod(evidence(p, owners=owners))["category"] == "Healthy"


@pytest.mark.parametrize("message, kind, name, key", [
    ('configmap "app-config" not found', "ConfigMap", "app-config", None),             # kubelet_pods.go
    ('secret "db-credentials" not found', "Secret", "db-credentials", None),
    ("couldn't find key password in Secret shop/db-credentials", "Secret", "db-credentials", "password"),
    ("couldn't find key LOG_LEVEL in ConfigMap shop/app-config", "ConfigMap", "app-config", "LOG_LEVEL"),
])
def test_config_error_names_object_and_key(message, kind, name, key):
    p = pod(phase="Pending", statuses=[cstatus(waiting=("CreateContainerConfigError", message))])
    diag = classify_pod(evidence(p, events=[event("Failed", "Error: " + message, count=9, container="app")]))
    assert diag["category"] == "CreateContainerConfigError"
    assert diag["culprit"]["kind"] == kind and diag["culprit"]["name"] == name
    assert diag["culprit"].get("key") == key
    manual = [r for r in diag["remediations"] if r["action"] == "manual"]
    assert manual and any(name in step for step in manual[0]["manual_steps"])


def test_config_error_run_as_non_root():
    msg = 'container has runAsNonRoot and image will run as root (pod: "web-1_shop(uid)", container: app)'
    p = pod(phase="Pending", statuses=[cstatus(waiting=("CreateContainerConfigError", msg))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "CreateContainerConfigError"
    assert diag["culprit"]["field"] == "securityContext.runAsNonRoot"


def test_config_error_without_message_uses_referenced_existence():
    p = pod(phase="Pending", statuses=[cstatus(waiting=("CreateContainerConfigError", None))])
    diag = classify_pod(evidence(p, referenced={"configmaps": {"settings": False}, "secrets": {}}))
    assert diag["culprit"]["name"] == "settings"


@pytest.mark.parametrize("last, words", [
    # containerd 1.6+ (StartError, exit 128)
    (term("StartError", 128, ago=20, message='failed to create containerd task: failed to create shim task: OCI '
          'runtime create failed: runc create failed: unable to start container process: exec: "gunicorn": '
          'executable file not found in $PATH: unknown'), "gunicorn"),
    # docker (ContainerCannotRun, exit 127)
    (term("ContainerCannotRun", 127, ago=20, message='OCI runtime create failed: container_linux.go:380: starting '
          'container process caused: exec: "/app/start.sh": permission denied: unknown'), "permission denied"),
    (term("StartError", 128, ago=20, message='failed to create shim task: OCI runtime create failed: runc create '
          'failed: unable to start container process: error during container init: error mounting '
          '"/var/lib/kubelet/pods/x/volumes/kubernetes.io~configmap/cfg" to rootfs at "/etc/app/app.yaml": not a '
          'directory: unknown'), "/etc/app/app.yaml"),
])
def test_start_errors_are_run_container_errors(last, words):
    diag = classify_pod(evidence(crash_pod(last)))
    assert diag["category"] == "RunContainerError"
    assert words in diag["root_cause"]


def test_run_container_error_waiting_reason():
    p = pod(statuses=[cstatus(waiting=("RunContainerError", 'failed to start container "abc": Error response from '
                                       'daemon: OCI runtime create failed: exec: "foo": executable file not found '
                                       'in $PATH: unknown'), restarts=1)])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "RunContainerError"
    assert diag["culprit"]["command"] == "foo"


@pytest.mark.parametrize("message, words", [
    # containerd
    ('failed to reserve container name "app_web-1_shop_uid_0": name "app_web-1_shop_uid_0" is reserved for "4c2"',
     "name conflict"),
    # CRI-O reports a missing binary at create time
    ('container create failed: time="2023-01-01T00:00:00Z" level=error msg="runc create failed: unable to start '
     'container process: exec: \\"/bin/serve\\": stat /bin/serve: no such file or directory"', "/bin/serve"),
    ("context deadline exceeded", "timed out"),
])
def test_create_container_error(message, words):
    p = pod(phase="Pending", statuses=[cstatus(waiting=("CreateContainerError", message))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "CreateContainerError"
    assert words in diag["root_cause"]


def test_flapping_running_container_with_recent_restarts():
    p = pod(statuses=[cstatus(running=20, ready=False, restarts=9, last=term("Error", 1, ago=25))])
    assert classify_pod(evidence(p))["category"] == "CrashLoopBackOff"


def test_crash_loop_without_last_state_still_reported():
    # Partial status as reconstructed from `kubectl get pod` output: no lastState at all.
    p = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", BACKOFF), restarts=5)])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "CrashLoopBackOff"
    assert diag["confidence"] < 0.9


def test_rollout_undo_offered_when_newest_revision_fails():
    owners = __import__("tests.unit.classify.podbuilder", fromlist=["x"]).deployment_owners(rs_rev=4)
    diag = classify_pod(evidence(crash_pod(term("Error", 1, ago=30)), owners=owners))
    undo = [r for r in diag["remediations"] if r["action"] == "rollout_undo"]
    assert undo and undo[0]["target"]["kind"] == "Deployment" and undo[0]["params"]["from_revision"] == 4


def test_liveness_kill_in_crash_loop_wins_over_crash():
    c = container(liveness=http_probe())
    p = crash_pod(term("Error", 137, ago=30), containers=[c])
    events = [event("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", count=9,
                    container="app"),
              event("Killing", "Container app failed liveness probe, will be restarted", count=3, container="app")]
    diag = classify_pod(evidence(p, events=events))
    assert diag["category"] == "LivenessProbeFailure"
    assert "HTTP 500" in diag["root_cause"]
    assert any(s["category"] == "CrashLoopBackOff" for s in diag["secondary"])
