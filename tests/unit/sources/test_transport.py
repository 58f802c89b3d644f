"""The transport adapter: RBAC wording of paths, kubernetes.core auth surface, raw JSON requests."""

from __future__ import annotations

import json
import time

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import ApiError, InvalidInput, NotFound, Unreachable
from tests.support.bad_servers import StallServer, ThrottleServer, TrickleServer
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


# -- deadlines: servers that stall, trickle or throttle (tests/support/bad_servers.py) ---------------------

def _kubeconfig(tmp_path, url):
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "bad",
        "clusters": [{"name": "bad", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": "t0ken-value"}}],
        "contexts": [{"name": "bad", "context": {"cluster": "bad", "user": "u"}}]}))
    return str(path)


def test_client_set_up_sends_nothing_and_a_stalled_server_times_out(tmp_path, monkeypatch):
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
    with StallServer(lifetime=30) as server:
        started = time.monotonic()
        transport = k8s_transport.transport_from_module(
            _Module(kubeconfig=_kubeconfig(tmp_path, server.url), request_timeout=1))
        assert time.monotonic() - started < 1 and server.requests == []  # no /version during set-up
        with pytest.raises(Unreachable) as err:
            transport.get_json("/api/v1/namespaces")
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    message = str(err.value)
    assert message.startswith("Cannot reach the Kubernetes API at %s: timed out" % server.url), message
    assert "request_timeout" in message and "\n" not in message


def test_a_trickling_answer_is_cut_by_the_request_deadline(tmp_path):
    # One byte every 0.2 s never trips the 1.5 s read timeout; only the whole-request deadline ends it.
    with TrickleServer(interval=0.2, lifetime=30) as server:
        transport = k8s_transport.transport_from_kubeconfig(_kubeconfig(tmp_path, server.url), request_timeout=1.5)
        started = time.monotonic()
        with pytest.raises(Unreachable) as err:
            transport.get_json("/api/v1/namespaces")
        elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 2.5, elapsed
    assert "timed out: no complete answer within 1.5 s" in str(err.value)


def test_the_overall_deadline_bounds_every_request_together(tmp_path):
    with StallServer(lifetime=30) as server:
        transport = k8s_transport.transport_from_kubeconfig(_kubeconfig(tmp_path, server.url), request_timeout=30,
                                                            deadline=1)
        started = time.monotonic()
        with pytest.raises(Unreachable):
            transport.get_json("/api/v1/pods")
        assert time.monotonic() - started < 2
        with pytest.raises(Unreachable) as err:
            transport.get_json("/api/v1/nodes")
        assert time.monotonic() - started < 2
    assert "the 1 s deadline for this cluster ran out before list nodes" in str(err.value)
    assert len(server.requests) == 1  # the second request was never sent


def test_429_is_retried_after_retry_after_within_the_deadline(tmp_path):
    with ThrottleServer(throttled=2, retry_after="1", lifetime=30) as server:
        transport = k8s_transport.transport_from_kubeconfig(_kubeconfig(tmp_path, server.url), request_timeout=5)
        started = time.monotonic()
        data = transport.get_json("/api/v1/namespaces")
        elapsed = time.monotonic() - started
    assert data["kind"] == "NamespaceList"
    assert len(server.requests) == 3 and transport.request_count == 3
    assert 1.9 < elapsed < 4, elapsed  # two waits of the server's Retry-After: 1


def test_429_asking_for_more_than_the_deadline_fails_at_once_with_what_to_do(tmp_path):
    with ThrottleServer(throttled=5, retry_after="120", lifetime=30) as server:
        transport = k8s_transport.transport_from_kubeconfig(_kubeconfig(tmp_path, server.url), request_timeout=5)
        started = time.monotonic()
        with pytest.raises(ApiError) as err:
            transport.get_json("/api/v1/namespaces/shop/pods")
        assert time.monotonic() - started < 1
    assert len(server.requests) == 1
    assert str(err.value) == (
        "Kubernetes API error 429 Too Many Requests while trying to list pods in namespace shop: throttled at %s "
        "(it asked to wait 120 s, beyond this request's deadline); retry later or raise the deadline" % server.url)


def test_retry_after_forms():
    assert k8s_transport.retry_after_seconds("3") == 3.0
    assert k8s_transport.retry_after_seconds("Wed, 02 Dec 2026 10:00:30 GMT", now=1796205600.0) == 30.0
    assert k8s_transport.retry_after_seconds("soon") is None
    assert k8s_transport.retry_after_seconds(None) is None


def test_socket_read_timeout_reads_like_the_deadline_connect_timeout_keeps_its_hint(tmp_path, monkeypatch):
    # On a stalled server the socket timeout and the request deadline race; both must name request_timeout.
    import urllib3
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
    transport = k8s_transport.transport_from_module(
        _Module(kubeconfig=_kubeconfig(tmp_path, "http://127.0.0.1:9"), request_timeout=1))
    read = transport._unreachable(urllib3.exceptions.ReadTimeoutError(None, "/api", "Read timed out."), (1, 1))
    assert "timed out: no complete answer within 1 s; raise request_timeout" in str(read)
    assert "timed out: no complete answer" in str(transport._unreachable(TimeoutError("timed out"), 2))
    connect = transport._unreachable(urllib3.exceptions.ConnectTimeoutError(None, "connect timed out"), (1, 1))
    assert "request_timeout" not in str(connect) and "timed out" in str(connect)
