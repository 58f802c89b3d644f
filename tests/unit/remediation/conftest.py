"""Shared builders for the remediation unit tests (plain dicts, as the API and pod_diagnose return them)."""

import copy
import datetime

import pytest

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 25, 20, 0, 0, tzinfo=UTC)


def deployment(generation=4, memory="256Mi", rv="1001", uid="uid-web"):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": uid, "generation": generation,
                     "resourceVersion": rv},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [
                                  {"name": "app", "image": "shop/web:1.0",
                                   "resources": {"limits": {"memory": memory}, "requests": {"memory": "128Mi"}}},
                                  {"name": "sidecar", "image": "envoy:1"}]}}},
        "status": {"observedGeneration": generation, "replicas": 2, "readyReplicas": 2},
    }


def diagnosis(tier="medium", namespace="shop", action="set_memory_limit", owner=True):
    return {
        "kind": "Pod", "namespace": namespace, "name": "web-123", "uid": "uid-pod",
        "owner": {"kind": "Deployment", "name": "web"} if owner else None,
        "category": "OOMKilled", "diagnosis_id": "3f2a9c1d7e4b",
        "remediations": [
            {"action": action,
             "target": {"api_version": "apps/v1", "kind": "Deployment", "namespace": namespace, "name": "web",
                        "container": "app"},
             "params": {"memory_limit": "384Mi", "previous_memory_limit": "256Mi"},
             "risk_tier": tier, "description": "Raise the memory limit", "reversible": True},
            {"action": "rollout_restart",
             "target": {"api_version": "apps/v1", "kind": "Deployment", "namespace": namespace, "name": "web"},
             "params": {}, "risk_tier": "low"},
        ],
    }


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def make_deployment():
    return deployment


@pytest.fixture
def make_diagnosis():
    return diagnosis


@pytest.fixture
def approve():
    def _approve(plan, **overrides):
        approval = {"plan_id": plan["plan_id"], "decision": "approve", "approver": "alice",
                    "justification": "OOM in prod, ticket INC-1", "decided_at": "2026-11-25T20:01:00Z",
                    "mode": "pre_approved"}
        approval.update(overrides)
        return approval
    return _approve


def clone(obj):
    return copy.deepcopy(obj)
