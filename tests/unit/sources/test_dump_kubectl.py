"""A dump written by the real `kubectl cluster-info dump` (against the API emulator) reads as-is."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import NODE_PRESENT
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
from tests.support.fixtures import clear_discovery_caches
from tests.support.kube_emulator import KubeEmulator
from tests.unit.sources.dumpbuilder import event, node, owner, pod

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")]


def _states(pod_obj):
    status = pod_obj["status"]
    return status.get("phase"), [
        (c["name"], c.get("restartCount"), sorted((c.get("state") or {}).items()),
         (c.get("lastState") or {}).get("terminated", {}).get("exitCode"))
        for c in status.get("containerStatuses") or []]


def test_real_kubectl_cluster_info_dump(tmp_path):
    emulator = KubeEmulator(port=0).start()
    try:
        clear_discovery_caches(emulator.url)
        emulator.load([
            node("node-1"),
            owner("Deployment", "shop", "web"), owner("ReplicaSet", "shop", "web-5d9", parent=("Deployment", "web")),
            pod("shop", "web-5d9-a", rs=("ReplicaSet", "web-5d9"), crash=True),
            pod("shop", "web-5d9-b", rs=("ReplicaSet", "web-5d9")),
            event("shop", "web-5d9-a", "BackOff", "Back-off restarting failed container app", count=4),
        ], [])
        emulator.set_log("shop", "web-5d9-a", "app", "starting\napi_key=abc123\nfatal: cannot bind\n")
        kubeconfig = emulator.write_kubeconfig(str(tmp_path / "kubeconfig"))
        out = tmp_path / "dump"
        result = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "cluster-info", "dump", "--all-namespaces",
                                 "--output-directory", str(out)], capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        live = LiveSource(k8s_transport.transport_from_kubeconfig(kubeconfig)).gather(Target(namespace="shop"))
    finally:
        emulator.stop()
        clear_discovery_caches(emulator.url)
    assert (out / "nodes.json").exists() and (out / "shop" / "web-5d9-a" / "logs.txt").exists()
    gathered = DumpSource(str(out)).gather(Target(namespace="shop"))
    pods = dict((e.name, e) for e in gathered.pods)
    assert sorted(pods) == ["web-5d9-a", "web-5d9-b"]
    web = pods["web-5d9-a"]
    assert [(o["kind"], o["name"]) for o in web.owners] == [("ReplicaSet", "web-5d9"), ("Deployment", "web")]
    assert web.node_state == NODE_PRESENT
    assert [(e["reason"], e["count"]) for e in web.events] == [("BackOff", 4)]
    assert web.logs["app"]["current"] == "starting\napi_key=[REDACTED]\nfatal: cannot bind\n"
    # both sources give the same evidence for the same cluster
    live_pods = dict((e.name, e) for e in live.pods)
    for name, dumped in pods.items():
        other = live_pods[name]
        assert dumped.pod["metadata"] == other.pod["metadata"]
        # kubectl re-serialises typed objects (adds null/empty fields): compare what the classifier reads
        assert _states(dumped.pod) == _states(other.pod)
        assert [(e["reason"], e["count"], e["message"]) for e in dumped.events] == [
            (e["reason"], e["count"], e["message"]) for e in other.events]
        assert [(o["kind"], o["name"]) for o in dumped.owners] == [(o["kind"], o["name"]) for o in other.owners]
        assert dumped.node_state == other.node_state
        assert dumped.logs.get("app", {}).get("current") == other.logs.get("app", {}).get("current")
