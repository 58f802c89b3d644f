"""The diagnosis text says the specific cause found in the evidence (issue 13, 'cause and fix')."""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import clip
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.logsig import find_signature
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules.scheduling import parse_fit_error
from tests.unit.classify.podbuilder import cstatus, event, evidence, pod, term


@pytest.mark.parametrize("log, kind, word", [
    ('dial tcp: lookup orders-db.shop.svc.cluster.local on 10.96.0.10:53: no such host', "dns_failure", "orders-db"),
    ("curl: (6) Could not resolve host: minio", "dns_failure", "minio"),
    ("java.net.UnknownHostException: kafka-0.kafka", "dns_failure", "kafka-0.kafka"),
    ("/docker-entrypoint.sh: line 12: syntax error near unexpected token `fi'", "shell_syntax", "line 12"),
    ('sh: 1: Syntax error: "(" unexpected', "shell_syntax", "syntax error"),
    ("Get \"https://vault:8200\": x509: certificate has expired or is not yet valid", "certificate_expired", "expired"),
])
def test_keyword_free_log_lines_carry_the_answer(log, kind, word):
    signature = find_signature("starting up\n" + log + "\n")
    assert signature["kind"] == kind
    assert word in signature["explanation"] or word in signature["line"]


def test_crash_loop_names_the_dns_failure():
    p = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=6, last=term(code=1, ago=30))])
    logs = {"app": {"previous": "connecting\ndial tcp: lookup redis-master on 10.96.0.10:53: no such host\n",
                    "current": None, "truncated": False}}
    diag = classify_pod(evidence(p, logs=logs))
    assert diag["category"] == "CrashLoopBackOff"
    assert "DNS resolution of redis-master failed" in diag["root_cause"]


def test_termination_message_is_quoted_and_explained():
    message = "config loaded\nGet https://auth: x509: certificate has expired or is not yet valid"
    p = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=4,
                              last=term(code=2, ago=30, message=message))])
    diag = classify_pod(evidence(p))
    assert "certificate" in diag["root_cause"] and "expired" in diag["root_cause"]


def test_long_messages_keep_their_decisive_clause():
    message = "failed to create containerd task: " + "x" * 600 + ': exec: "npm": executable file not found in $PATH'
    clipped = clip(message, 300)
    assert len(clipped) <= 300 and clipped.endswith("executable file not found in $PATH")
    assert clip("short", 300) == "short"


def test_old_scheduler_predicates_are_parsed():
    parsed = parse_fit_error("No nodes are available that match all of the following predicates:: Insufficient cpu "
                             "(2), CheckNodeMemoryPressure (1), MatchNodeSelector (3).")
    kinds = [(r["text"], r["kind"], r["count"]) for r in parsed["reasons"]]
    assert kinds == [("Insufficient cpu", "resources", 2), ("CheckNodeMemoryPressure", "node_condition", 1),
                     ("MatchNodeSelector", "node_affinity", 3)]
    legacy = parse_fit_error("pod (x) failed to fit in any node\nfit failure summary on nodes : Insufficient pods (2)")
    assert legacy["reasons"][0]["resource"] == "pods"


@pytest.mark.parametrize("message, down", [
    ("0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.", True),
    ("0/1 nodes are available: 1 node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate.",
     True),
    ("No nodes are available that match all of the following predicates:: CheckNodeDiskPressure (3).", False),
])
def test_node_condition_taints_are_node_health(message, down):
    p = pod(phase="Pending", node=None, statuses=[])
    diag = classify_pod(evidence(p, [event("FailedScheduling", message, count=5, component="default-scheduler")]))
    assert diag["category"] == "UnschedulableTaints"
    assert "not a taint anyone set" in diag["root_cause"]
    assert ("down" in diag["root_cause"]) is down


def test_two_scheduler_reasons_are_read_together():
    p = pod(phase="Pending", node=None, statuses=[])
    diag = classify_pod(evidence(p, [event(
        "FailedScheduling", "0/6 nodes are available: 3 Insufficient memory, 3 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }.", count=3, component="default-scheduler")]))
    assert diag["category"] == "UnschedulableInsufficientResources"
    assert "the other nodes: 3 node(s) had untolerated taint" in diag["root_cause"]
    assert "control-plane" in diag["root_cause"]


@pytest.mark.parametrize("message", [
    "Pod ephemeral local storage usage exceeds the total limit of containers 500Mi. ",
    'Usage of EmptyDir volume "cache" exceeds the limit "1Gi". ',
    'Container app exceeded its local ephemeral storage limit "2Gi". ',
])
def test_pod_level_ephemeral_eviction_is_not_node_pressure(message):
    p = pod(phase="Failed", reason="Evicted", message=message, statuses=[])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "Evicted"
    assert "not node disk pressure" in diag["root_cause"]
    assert "(ephemeral-storage pressure)" not in diag["summary"]


def test_node_pressure_eviction_prints_human_quantities():
    p = pod(phase="Failed", reason="Evicted", statuses=[], message="The node was low on resource: memory. Container "
            "app was using 1452628Ki, which exceeds its request of 512Mi. ")
    diag = classify_pod(evidence(p))
    assert "1.4Gi" in diag["root_cause"] and "1452628Ki" not in diag["root_cause"]


def test_probe_text_without_a_known_target_reads_well():
    from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules.probes import explain_probe
    assert explain_probe("Readiness probe failed: HTTP probe failed with statuscode: 503", None) == \
        "the endpoint it probes returned HTTP 503"


def test_invalid_image_without_the_reference_does_not_guess():
    p = {"metadata": {"name": "web-7d4b9c6f5-x2x9z", "namespace": "shop"}, "status": {"phase": "Pending"}}
    diag = classify_pod(evidence(p, [event("Failed", "Error: InvalidImageName", count=9, ago=30)]))
    assert diag["category"] == "InvalidImageName"
    assert "not in the evidence" in diag["root_cause"] and "empty" not in diag["root_cause"]


def test_template_is_named_before_whitespace():
    from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules.images import invalid_reason
    assert "template" in invalid_reason("shop/web: {{ .Values.tag }}")


def test_insufficient_pods_means_max_pods():
    p = pod(phase="Pending", node=None, statuses=[])
    diag = classify_pod(evidence(p, [event("FailedScheduling", "0/2 nodes are available: 2 Too many pods.",
                                           component="default-scheduler")]))
    assert diag["category"] == "UnschedulableInsufficientResources"
    assert "pod limit" in diag["root_cause"]
