# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only code that touches the kubernetes client or kubernetes.core.

Everything goes through raw HTTP on the client's configured ApiClient (auth, certificates, proxy,
impersonation headers all come from kubernetes.core's auth surface) and returns plain JSON: the
typed models of kubernetes 37 validate strictly, and one odd object must never abort a scan.
Failures become the collection's one-line errors (errors.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re
import threading

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import (
    AiopsError,
    ApiError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    Unreachable,
)

try:
    from kubernetes.client import ApiClient
    from kubernetes.client.exceptions import ApiException
    import urllib3
    HAS_K8S = True
    K8S_IMPORT_ERROR = None
except ImportError:  # reported by the module with missing_required_lib("kubernetes")
    import traceback
    HAS_K8S = False
    K8S_IMPORT_ERROR = traceback.format_exc()
    ApiClient = None
    urllib3 = None

    class ApiException(Exception):
        """Stand-in so the except clauses below stay valid without the library."""

DEFAULT_TIMEOUT = 30
DEFAULT_LOG_BYTES = 65536
_CHUNK = 65536

# Kinds of the core resources we read, for "Pod shop/web-1 not found" style messages.
_KINDS = {
    "pods": "Pod", "events": "Event", "nodes": "Node", "namespaces": "Namespace",
    "replicasets": "ReplicaSet", "deployments": "Deployment", "statefulsets": "StatefulSet",
    "daemonsets": "DaemonSet", "jobs": "Job", "cronjobs": "CronJob",
    "replicationcontrollers": "ReplicationController", "persistentvolumeclaims": "PersistentVolumeClaim",
    "configmaps": "ConfigMap", "services": "Service",
}
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_PATH = re.compile(r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)"
                   r"(?:/namespaces/(?P<ns>[^/]+))?(?:/(?P<resource>[^/]+))?(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?")


def describe_request(method, path):
    """(verb, resource, namespace, name) of an API path, in RBAC terms.

    "/api/v1/namespaces/shop/pods" -> ("list", "pods", "shop", None);
    "/api/v1/namespaces/shop" -> ("get", "namespaces", None, "shop");
    "/api/v1/namespaces/shop/pods/web/log" -> ("get", "pods/log", "shop", "web").
    """
    match = _PATH.match(path.split("?", 1)[0])
    if not match:
        return (method.lower(), path, None, None)
    namespace, resource, name, sub = match.group("ns"), match.group("resource"), match.group("name"), match.group("sub")
    if namespace and resource is None:
        resource, name, namespace = "namespaces", namespace, None
    if sub:
        resource = "%s/%s" % (resource, sub)
    if method.upper() == "GET":
        verb = "get" if name else "list"
    else:
        verb = _VERBS.get(method.upper(), method.lower())
    return verb, resource or "", namespace, name


def _short_reason(exc):
    """A few words for why a connection failed (the full urllib3 text is a paragraph)."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    lowered = text.lower()
    for needle, words in (("refused", "connection refused"),
                          ("name or service not known", "host name not found"),
                          ("nodename nor servname", "host name not found"),
                          ("temporary failure in name resolution", "host name not found"),
                          ("timed out", "timed out"), ("timeout", "timed out"),
                          ("certificate verify failed", "TLS certificate verification failed"),
                          ("wrong version number", "TLS handshake failed (is the port plain HTTP?)"),
                          ("ssl", "TLS error"),
                          ("network is unreachable", "network unreachable"),
                          ("no route to host", "no route to host"),
                          ("connection reset", "connection reset"),
                          ("remote end closed", "connection closed by the server")):
        if needle in lowered:
            return words
    return type(reason).__name__


class ListResult(object):
    """Iterable over every item of a (paged) LIST; ``kind`` ("PodList") is known after the first page.

    Items lack kind/apiVersion in LIST responses; they are filled in from the list so downstream
    code can rely on them.
    """

    def __init__(self, transport, path, query, page_size):
        self._transport = transport
        self._path = path
        self._query = dict(query or {})
        self._page_size = page_size
        self.kind = None
        self.api_version = None
        self.pages = 0

    def __iter__(self):
        token = None
        while True:
            query = dict(self._query)
            if self._page_size:
                query["limit"] = self._page_size
            if token:
                query["continue"] = token
            data = self._transport.get_json(self._path, query)
            self.pages += 1
            if not isinstance(data, dict):
                raise ApiError(200, "OK", "unexpected LIST response (not a JSON object)",
                               what="%s %s" % describe_request("GET", self._path)[:2])
            self.kind = data.get("kind") or self.kind
            self.api_version = data.get("apiVersion") or self.api_version
            item_kind = self.kind[:-4] if self.kind and self.kind.endswith("List") else None
            for item in data.get("items") or []:
                if isinstance(item, dict):
                    if item_kind and not item.get("kind"):
                        item["kind"] = item_kind
                    if self.api_version and not item.get("apiVersion"):
                        item["apiVersion"] = self.api_version
                yield item
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                return


class Transport(object):
    """Raw JSON access to one API server through a configured kubernetes ApiClient."""

    def __init__(self, api_client, request_timeout=DEFAULT_TIMEOUT):
        if not HAS_K8S:
            raise AiopsError("The kubernetes Python library is required: pip install kubernetes")
        self.api_client = api_client
        self.timeout = (request_timeout, request_timeout) if isinstance(request_timeout, (int, float)) \
            else tuple(request_timeout)
        self._lock = threading.Lock()
        self._count = 0

    @property
    def host(self):
        return getattr(self.api_client.configuration, "host", "") or ""

    @property
    def request_count(self):
        return self._count

    # -- low level -------------------------------------------------------------------------

    def _open(self, method, path, query=None, body=None, content_type=None, accept="application/json"):
        """Send one request; return the open urllib3 response (2xx) or raise a collection error."""
        with self._lock:
            self._count += 1
        query_params = [(key, value) for key, value in (query or {}).items() if value is not None]
        headers = {"Accept": accept}
        if content_type or body is not None:
            headers["Content-Type"] = content_type or "application/json"
        api = self.api_client
        try:
            if hasattr(api, "param_serialize"):  # kubernetes >= 35 (new generator)
                serialized = api.param_serialize(method, path, query_params=query_params, header_params=headers,
                                                 body=body, auth_settings=["BearerToken"])
                response = api.call_api(*serialized, _request_timeout=self.timeout)
                status = response.status
                raw = response.response
            else:  # older generator: call_api(path, method, ...) raising ApiException on non-2xx
                raw = api.call_api(path, method, query_params=query_params, header_params=headers, body=body,
                                   auth_settings=["BearerToken"], _preload_content=False,
                                   _return_http_data_only=True, _request_timeout=self.timeout)
                status = raw.status
        except ApiException as exc:
            if not getattr(exc, "status", None):
                raise Unreachable(self.host, _short_reason(exc))
            raise self._error(method, path, exc.status, exc.reason, getattr(exc, "body", None))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(self.host, _short_reason(exc))
        if not 200 <= status <= 299:
            try:
                data = raw.data
            finally:
                raw.release_conn()
            raise self._error(method, path, status, raw.reason, data)
        return raw

    def _error(self, method, path, status, reason, body):
        verb, resource, namespace, name = describe_request(method, path)
        message = None
        try:
            payload = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
            message = payload.get("message") if isinstance(payload, dict) else None
        except (TypeError, ValueError, AttributeError):
            message = None
        if status == 401:
            return Unauthorized(self.host)
        if status == 403:
            return Forbidden(verb, resource, namespace)
        if status == 404 and verb in ("get", "patch", "update", "delete") and name:
            return NotFound(_KINDS.get(resource.split("/")[0], resource), namespace, name)
        return ApiError(status, reason, message, what="%s %s%s" % (
            verb, resource, " in namespace %s" % namespace if namespace else ""))

    # -- public ----------------------------------------------------------------------------

    def get_json(self, path, query=None):
        """GET a path and return the decoded JSON (dict)."""
        raw = self._open("GET", path, query)
        return self._read_json(raw, "GET", path)

    def _read_json(self, raw, method, path):
        try:
            data = raw.data
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(self.host, _short_reason(exc))
        finally:
            raw.release_conn()
        if not data:
            return {}
        try:
            return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except ValueError:
            verb, resource, namespace, _name = describe_request(method, path)
            raise ApiError(raw.status, raw.reason, "response is not JSON", what="%s %s" % (verb, resource))

    def list_items(self, path, query=None, page_size=500):
        """Every item of a LIST, following ``continue`` (one request per page). See ListResult."""
        return ListResult(self, path, query, page_size)

    def get_text(self, path, query=None, max_bytes=DEFAULT_LOG_BYTES):
        """GET a text body (logs), reading at most ``max_bytes``. Returns (text, truncated).

        Streams the response and closes the connection once the cap is hit, so a 100 MB log never
        enters memory.
        """
        raw = self._open("GET", path, query, accept="*/*")
        chunks = []
        size = 0
        truncated = False
        try:
            for chunk in raw.stream(_CHUNK, decode_content=True):
                if size + len(chunk) > max_bytes:
                    chunks.append(chunk[:max(0, max_bytes - size)])
                    truncated = True
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(self.host, _short_reason(exc))
        finally:
            if truncated:
                raw.close()  # do not drain the rest of a huge body into the pool
            else:
                raw.release_conn()
        text = b"".join(chunks).decode("utf-8", errors="replace")
        return text, truncated

    def request_json(self, method, path, query=None, body=None, content_type=None):
        """Any verb with a JSON body (remediation: PATCH/PUT/POST/DELETE, with dryRun in ``query``).

        PATCH defaults to a merge patch (application/merge-patch+json).
        """
        method = method.upper()
        if method == "PATCH" and content_type is None:
            content_type = "application/merge-patch+json"
        raw = self._open(method, path, query, body=body, content_type=content_type)
        return self._read_json(raw, method, path)


def auth_argument_spec(**options):
    """kubernetes.core's connection options (kubeconfig, context, host, api_key, ...) plus ``options``.

    Every cluster-facing module builds its argument_spec here, so the kubernetes.core import lives in
    this one adapter. Without kubernetes.core only ``options`` are returned; live use then fails
    clearly in transport_from_module.
    """
    try:
        from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    except ImportError:
        AUTH_ARG_SPEC = {}
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(options)
    return spec


def _core_get_api_client():
    """kubernetes.core's client factory; its module_utils moved between majors, so fail clearly."""
    try:
        from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
        from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    except ImportError as exc:
        raise AiopsError("Unsupported kubernetes.core layout (%s): install kubernetes.core >= 5.0, < 7.0" % exc)
    return get_api_client, AUTH_ARG_SPEC


def _kubeconfig_server(kwargs):
    """The server URL of the kubeconfig context in use, for messages; None when unknown."""
    try:
        from kubernetes.config.kube_config import KubeConfigLoader, _get_kube_config_loader_for_yaml_file
        path = kwargs.get("kubeconfig")
        if not isinstance(path, str):
            return None
        loader = _get_kube_config_loader_for_yaml_file(path, active_context=kwargs.get("context"))
        if isinstance(loader, KubeConfigLoader):
            return loader._cluster["server"]  # pylint: disable=protected-access
    except Exception:  # pylint: disable=broad-except
        return None
    return None


def _unreachable_host(exc):
    """The host a connection failure names ("host='127.0.0.1', port=6443"), or None for other errors."""
    text = str(exc)
    if "Max retries exceeded" not in text and "NewConnectionError" not in text and "timed out" not in text:
        return None
    match = re.search(r"host='([^']+)', port=(\d+)", text)
    return "%s:%s" % match.groups() if match else "the API server"


def transport_from_module(module, request_timeout=DEFAULT_TIMEOUT):
    """Build a Transport from a module's kubernetes.core connection options (and K8S_AUTH_* env vars).

    The options are handed to kubernetes.core's get_api_client as keyword arguments, so a plain
    AnsibleModule works (get_api_client(module=...) expects kubernetes.core's own module class); unset
    options fall back to K8S_AUTH_* variables, kubeconfig and in-cluster config exactly as in
    kubernetes.core.
    """
    if not HAS_K8S:
        raise AiopsError("The kubernetes Python library is required: pip install kubernetes")
    get_api_client, auth_spec = _core_get_api_client()
    params = getattr(module, "params", None) or {}
    kwargs = dict((key, params.get(key)) for key in auth_spec if params.get(key) is not None)
    try:
        k8s_client = get_api_client(**kwargs)
    except Exception as exc:  # ConfigException, CoreException, missing kubeconfig file ...
        status = getattr(exc, "status", None)
        if status is None:
            match = re.search(r"\((401|403)\)", str(exc))
            status = int(match.group(1)) if match else None
        server = kwargs.get("host") or _kubeconfig_server(kwargs) or "the API server"
        if status == 401:
            raise Unauthorized(server)
        if status == 403:
            # kubernetes.core reads /version while building the client.
            raise Forbidden("get", "the server version (/version)", detail="at %s" % server)
        host = _unreachable_host(exc)
        if host:
            # kubernetes.core asks the server for its version while building the client.
            raise Unreachable(host, _short_reason(exc))
        raise InvalidInput("Could not load the Kubernetes connection settings (%s): check kubeconfig, context and "
                           "the K8S_AUTH_* variables" % (exc,))
    dynamic = getattr(k8s_client, "client", None)
    api_client = getattr(dynamic, "client", None)
    if ApiClient is None or not isinstance(api_client, ApiClient):
        raise AiopsError("Unsupported kubernetes.core layout: K8SClient.client.client is not a kubernetes "
                         "ApiClient; install kubernetes.core >= 5.0, < 7.0")
    timeout = params.get("request_timeout") or request_timeout
    return Transport(api_client, request_timeout=timeout)


def transport_from_kubeconfig(path=None, context=None, request_timeout=DEFAULT_TIMEOUT):
    """A Transport from a kubeconfig file, for scripts and benchmarks (no Ansible)."""
    if not HAS_K8S:
        raise AiopsError("The kubernetes Python library is required: pip install kubernetes")
    from kubernetes import config
    try:
        api_client = config.new_client_from_config(config_file=path, context=context, persist_config=False)
    except Exception as exc:
        raise InvalidInput("Could not load kubeconfig %s%s: %s" % (
            path or "(default)", " context %s" % context if context else "", exc))
    return Transport(api_client, request_timeout=request_timeout)
