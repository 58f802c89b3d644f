"""The transport adapter: RBAC wording of paths, kubernetes.core auth surface, raw JSON requests."""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import ApiError, InvalidInput, NotFound
from tests.unit.sources.dumpbuilder import owner


@pytest.mark.parametrize("method,path,expected", [
    ("GET", "/api/v1/namespaces/shop/pods", ("list", "pods", "shop", None)),
    ("GET", "/api/v1/pods", ("list", "pods", None, None)),
    ("GET", "/api/v1/namespaces/shop/pods/web-1", ("get", "pods", "shop", "web-1")),
    ("GET", "/api/v1/namespaces/shop/pods/web-1/log", ("get", "pods/log", "shop", "web-1")),
    ("GET", "/api/v1/namespaces/shop", ("get", "namespaces", None, "shop")),
    ("GET", "/api/v1/nodes", ("list", "nodes", None, None)),
    ("GET", "/apis/apps/v1/namespaces/shop/replicasets?limit=500", ("list", "replicasets", "shop", None)),
    ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", ("patch", "deployments", "shop", "web")),
    ("DELETE", "/api/v1/namespaces/shop/pods/web-1", ("delete", "pods", "shop", "web-1")),
])
def test_describe_request(method, path, expected):
    assert k8s_transport.describe_request(method, path) == expected


class _Module(object):
    """What transport_from_module reads from an AnsibleModule: its params."""

    def __init__(self, **params):
        self.params = params


@pytest.mark.integration
def test_transport_from_module_params_and_env(kube_api, monkeypatch):
    transport = k8s_transport.transport_from_module(_Module(kubeconfig=kube_api.kubeconfig))
    assert transport.host == kube_api.url
    assert transport.get_json("/api/v1/namespaces")["kind"] == "NamespaceList"
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", kube_api.kubeconfig)
    from_env = k8s_transport.transport_from_module(_Module())
    assert from_env.host == kube_api.url
    assert from_env.request_count == 0
    from_env.get_json("/api/v1/namespaces")
    assert from_env.request_count == 1


def test_transport_from_module_bad_kubeconfig(tmp_path, monkeypatch):
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
    with pytest.raises(InvalidInput) as err:
        k8s_transport.transport_from_module(_Module(kubeconfig=str(tmp_path / "missing")))
    assert "kubeconfig" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.integration
def test_list_items_pages_and_fills_kind(kube_api):
    kube_api.load([owner("Deployment", "shop", "d-%d" % i) for i in range(7)])
    transport = k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)
    listing = transport.list_items("/apis/apps/v1/namespaces/shop/deployments", page_size=3)
    items = list(listing)
    assert len(items) == 7 and listing.pages == 3 and listing.kind == "DeploymentList"
    assert all(item["kind"] == "Deployment" and item["apiVersion"] == "apps/v1" for item in items)
    assert transport.request_count == 3


@pytest.mark.integration
def test_request_json_dry_run_patch_and_errors(kube_api):
    kube_api.load([owner("Deployment", "shop", "web")])
    transport = k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)
    path = "/apis/apps/v1/namespaces/shop/deployments/web"
    patched = transport.request_json("PATCH", path, {"dryRun": "All"}, body={"metadata": {"labels": {"x": "y"}}})
    assert patched["metadata"]["labels"] == {"x": "y"}
    assert "labels" not in transport.get_json(path)["metadata"]  # dry run changed nothing
    with pytest.raises(NotFound) as err:
        transport.request_json("DELETE", "/apis/apps/v1/namespaces/shop/deployments/nope")
    assert str(err.value) == "Deployment shop/nope not found"
    kube_api.fault(500, "GET", "/deployments$", message="etcdserver: request timed out")
    with pytest.raises(ApiError) as err:
        transport.get_json("/apis/apps/v1/namespaces/shop/deployments")
    assert str(err.value) == ("Kubernetes API error 500 Internal Server Error while trying to list deployments in "
                              "namespace shop: etcdserver: request timed out")
