"""docs/rbac/diagnose-readonly.yaml grants every (verb, resource) the live source and the bundle use, and no Secrets."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import bundle
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
from tests.unit.sources.dumpbuilder import event, node, owner, pod

pytestmark = pytest.mark.integration

MANIFEST = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "rbac", "diagnose-readonly.yaml")


def granted():
    """{(group, resource): set(verbs)} from the ClusterRole."""
    with open(MANIFEST) as handle:
        manifest = yaml.safe_load(handle)
    # One ``kind: List`` document (yamllint sanity allows a single document per file).
    assert manifest["kind"] == "List"
    roles = [d for d in manifest["items"] if d["kind"] == "ClusterRole"]
    assert len(roles) == 1
    rules = {}
    for rule in roles[0]["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                rules.setdefault((group, resource), set()).update(rule["verbs"])
    return rules


def group_of(path):
    match = re.match(r"^/apis/([^/]+)/", path)
    return match.group(1) if match else ""


def seed_every_kind(kube_api):
    cfg_env = [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "a"}}},
               {"name": "S", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}}]
    objects = [
        node("node-1"),
        owner("Deployment", "shop", "web"), owner("ReplicaSet", "shop", "web-5d9", parent=("Deployment", "web")),
        pod("shop", "web-5d9-a", rs=("ReplicaSet", "web-5d9"), crash=True),
        owner("StatefulSet", "shop", "db"),
        pod("shop", "db-0", rs=("StatefulSet", "db"), claims=("data-db-0",)),
        owner("DaemonSet", "ops", "agent"), pod("ops", "agent-x", rs=("DaemonSet", "agent")),
        owner("CronJob", "ops", "nightly"), owner("Job", "ops", "nightly-1", parent=("CronJob", "nightly")),
        pod("ops", "nightly-1-x", rs=("Job", "nightly-1"), crash=True),
        owner("ReplicationController", "legacy", "old"), pod("legacy", "old-x", rs=("ReplicationController", "old")),
        pod("shop", "cfg", waiting="CreateContainerConfigError", env=cfg_env),
        {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "metadata": {"name": "data-db-0", "namespace": "shop"}},
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "settings", "namespace": "shop"},
         "data": {"a": "1"}},
        {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "db-creds", "namespace": "shop"},
         "data": {"password": "aHVudGVyMg=="}},
        event("shop", "web-5d9-a", "BackOff", "Back-off restarting failed container app"),
        event("shop", "api-1", "FailedCreate", "exceeded quota", kind="ReplicaSet"),
    ]
    kube_api.load(objects)
    kube_api.set_log("shop", "web-5d9-a", "app", "boom\n", previous=True)


def test_manifest_covers_every_request_and_no_secrets(kube_api):
    seed_every_kind(kube_api)
    transport = k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)
    kube_api.clear_requests()
    for target in (Target(all_namespaces=True), Target(namespace="shop"), Target(name="web-5d9-a", namespace="shop"),
                   Target(name="db-0", namespace="shop"), Target(name="cfg", namespace="shop"),
                   Target(name="nightly-1-x", namespace="ops"), Target(label_selectors=["app=web"])):
        LiveSource(transport).gather(target)
    bundle.collect(transport, LiveSource(transport), with_metrics=False)  # collect_bundle's reads (metrics: role)
    rules = granted()
    used = set()
    for request in kube_api.requests:
        verb, resource, _namespace, _name = k8s_transport.describe_request(request["method"], request["path"])
        used.add((verb, group_of(request["path"]), resource))
    # the gathers above exercised the whole surface: pods, logs, owners up the chain, nodes, claims, configmaps
    resources_used = set(r for _v, _g, r in used)
    assert {"pods", "pods/log", "events", "nodes", "persistentvolumeclaims", "configmaps", "replicasets",
            "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs",
            "replicationcontrollers", "services"} <= resources_used
    missing = sorted((v, g, r) for v, g, r in used if v not in rules.get((g, r), set()))
    assert missing == [], "requests not granted by %s: %s" % (MANIFEST, missing)
    assert not [r for r in kube_api.requests if "secrets" in r["path"]]


def test_manifest_is_read_only_and_never_grants_secrets():
    rules = granted()
    assert all(verbs <= {"get", "list"} for verbs in rules.values())
    assert not [key for key in rules if key[1] in ("secrets", "*") or key[0] == "*"]
