"""A hand-written Deployment -> ReplicaSet -> Pod chain whose pod OOM-loops: the remediation and PHR
tests' common target (fixed names and uids, so assertions can name them)."""

from __future__ import annotations


def oom_deployment_chain(limit, requests):
    """Deployment shop/web -> ReplicaSet web-new -> pod web-new-0 OOM-looping under ``limit`` on node-1."""
    template = {"metadata": {"labels": {"app": "web", "pod-template-hash": "new"}},
                "spec": {"containers": [{"name": "app", "image": "shop/web:2.0",
                                         "resources": {"limits": {"memory": limit}, "requests": dict(requests)}}]}}
    owner = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "dep-web", "controller": True}]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "uid": "ns-shop"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "uid": "node-1"},
         "status": {"conditions": [{"type": "Ready", "status": "True"}],
                    "allocatable": {"cpu": "4", "memory": "8Gi"}}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": "shop", "uid": "dep-web", "generation": 3,
                      "annotations": {"deployment.kubernetes.io/revision": "2"}, "labels": {"app": "web"}},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template},
         "status": {"observedGeneration": 3, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 0}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": "web-new", "namespace": "shop", "uid": "rs-web-new", "labels": {"app": "web"},
                      "annotations": {"deployment.kubernetes.io/revision": "2"}, "ownerReferences": owner},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "web-new-0", "namespace": "shop", "uid": "uid-web-new-0", "labels": {"app": "web"},
                      "creationTimestamp": "2026-11-25T18:00:00Z",
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-new",
                                           "uid": "rs-web-new", "controller": True}]},
         "spec": {"nodeName": "node-1", "containers": template["spec"]["containers"]},
         "status": {"phase": "Running", "startTime": "2026-11-25T18:00:00Z",
                    "conditions": [{"type": "Ready", "status": "False"}],
                    "containerStatuses": [{
                        "name": "app", "image": "shop/web:2.0", "restartCount": 5, "ready": False,
                        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}},
                        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                                     "startedAt": "2026-11-25T18:55:00Z",
                                                     "finishedAt": "2026-11-25T18:58:00Z"}}}]}},
    ]
