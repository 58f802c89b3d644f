# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only code that touches the kubernetes client or kubernetes.core.

Everything goes through raw HTTP on the client's configured ApiClient (auth, certificates, proxy,
impersonation headers all come from kubernetes.core's auth surface) and returns plain JSON: the
typed models of kubernetes 37 validate strictly, and one odd object must never abort a scan.
Failures become the collection's one-line errors (errors.py).

Every request has a deadline: urllib3's connect/read timeouts bound each socket operation, and the
whole exchange (headers and body) runs under an overall budget, because a server that answers one
byte a second never trips a read timeout. The client is built without kubernetes.core's dynamic
client, whose discovery (``/version``, ``/apis``) runs at construction with no timeout at all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import threading
import time

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import (
    AiopsError,
    ApiError,
    Forbidden,
    InvalidInput,
    Unauthorized,
    Unreachable,
)
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.auth_spec import auth_argument_spec  # pylint: disable=unused-import  # re-exported
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.responses import (  # noqa: F401 (describe_request is API)
    describe_request,
    error_for,
    header,
    retry_after_seconds,
    seconds,
    short_reason,
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
# 429 / 503 answers retried (after their Retry-After) while the deadline allows; then the error stands.
MAX_RETRIES = 5
DEFAULT_LOG_BYTES = 65536
_CHUNK = 65536


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


class _Reply(object):
    """What one exchange produced: a 2xx ``value`` (already consumed), or a non-2xx status with its body."""

    __slots__ = ("status", "reason", "headers", "body", "value")

    def __init__(self, status, reason=None, headers=None, body=None, value=None):
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.body = body
        self.value = value


class Transport(object):
    """Raw JSON access to one API server through a configured kubernetes ApiClient.

    ``request_timeout``: seconds (or a ``(connect, read)`` pair) for each socket operation; a whole
    request (headers and body) also ends after that many seconds (connect + read for a pair).
    ``deadline``: seconds from now after which no request of this transport is sent or waited for
    (one overall budget per cluster); None for no overall limit.
    """

    def __init__(self, api_client, request_timeout=DEFAULT_TIMEOUT, deadline=None, sleep=time.sleep):
        if not HAS_K8S:
            raise AiopsError("The kubernetes Python library is required: pip install kubernetes")
        self.api_client = api_client
        if isinstance(request_timeout, (int, float)):
            self.timeout = (float(request_timeout), float(request_timeout))
            self.request_budget = float(request_timeout)
        else:
            self.timeout = tuple(float(part) for part in request_timeout)
            self.request_budget = sum(self.timeout)
        if min(self.timeout) <= 0:
            raise InvalidInput("request_timeout must be a positive number of seconds, got %r" % (request_timeout,))
        self.deadline = None if deadline is None else time.monotonic() + float(deadline)
        self._deadline_seconds = deadline
        self._sleep = sleep
        self._lock = threading.Lock()
        self._count = 0
        # Throttled answers (429) seen, retried or not: callers that run requests in parallel
        # read it to back off (evidence/live.py adaptive log concurrency).
        self.throttled = 0

    @property
    def host(self):
        return getattr(self.api_client.configuration, "host", "") or ""

    @property
    def request_count(self):
        return self._count

    # -- deadlines -------------------------------------------------------------------------

    def _budget(self, method, path):
        """Seconds this request may take: the per-request budget, cut to what is left of the deadline."""
        budget = self.request_budget
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                verb, resource = describe_request(method, path)[:2]
                raise Unreachable(self.host, "timed out: the %s s deadline for this cluster ran out before %s %s; "
                                  "raise the deadline or check why the server is slow"
                                  % (seconds(self._deadline_seconds), verb, resource))
            budget = min(budget, left)
        return budget

    def _timed_out(self, budget):
        return Unreachable(self.host, "timed out: no complete answer within %s s; raise request_timeout if the "
                           "server is only slow" % seconds(budget))

    def _run(self, work, budget):
        """Run ``work()`` in a daemon thread and give up after ``budget`` seconds.

        Socket timeouts cannot bound a response that trickles in; abandoning the thread can. The
        abandoned thread holds one pooled connection until the server lets go; the process moves on.
        """
        outcome = {}

        def target():
            try:
                outcome["value"] = work()
            except BaseException as exc:  # pylint: disable=broad-except  # re-raised in the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=target, name="aiops-k8s-request", daemon=True)
        worker.start()
        worker.join(budget)
        if worker.is_alive():
            raise self._timed_out(budget)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    # -- low level -------------------------------------------------------------------------

    def _unreachable(self, exc, socket_timeout):
        """A read that timed out is worded like the request deadline (naming the setting to raise): which of
        the two fires first on a stalled server is a race. A connect timeout keeps the host/network hint."""
        cause = getattr(exc, "reason", None) or exc
        if isinstance(cause, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):  # not a connect timeout
            return self._timed_out(max(socket_timeout) if isinstance(socket_timeout, tuple) else socket_timeout)
        return Unreachable(self.host, short_reason(exc))

    def _send(self, method, path, query_params, headers, body, consume, socket_timeout):
        """One HTTP exchange (runs in the worker thread): a 2xx is consumed there, anything else kept."""
        api = self.api_client
        try:
            if hasattr(api, "param_serialize"):  # kubernetes >= 35 (new generator)
                serialized = api.param_serialize(method, path, query_params=query_params, header_params=dict(headers),
                                                 body=body, auth_settings=["BearerToken"])
                response = api.call_api(*serialized, _request_timeout=socket_timeout)
                status = response.status
                raw = response.response
            else:  # older generator: call_api(path, method, ...) raising ApiException on non-2xx
                raw = api.call_api(path, method, query_params=query_params, header_params=dict(headers), body=body,
                                   auth_settings=["BearerToken"], _preload_content=False,
                                   _return_http_data_only=True, _request_timeout=socket_timeout)
                status = raw.status
        except ApiException as exc:
            if not getattr(exc, "status", None):
                raise self._unreachable(exc, socket_timeout)
            return _Reply(exc.status, exc.reason, getattr(exc, "headers", None), getattr(exc, "body", None))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._unreachable(exc, socket_timeout)
        try:
            if not 200 <= status <= 299:
                try:
                    data = raw.data
                finally:
                    raw.release_conn()
                return _Reply(status, raw.reason, raw.headers, data)
            return _Reply(status, raw.reason, raw.headers, value=consume(raw))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._unreachable(exc, socket_timeout)

    def _exchange(self, method, path, query=None, body=None, content_type=None, accept="application/json",
                  consume=None):
        """Send one request under its deadline, honouring 429/503 Retry-After; return what ``consume`` made."""
        query_params = [(key, value) for key, value in (query or {}).items() if value is not None]
        headers = {"Accept": accept}
        if content_type or body is not None:
            headers["Content-Type"] = content_type or "application/json"
        attempt = 0
        while True:
            budget = self._budget(method, path)
            socket_timeout = (min(self.timeout[0], budget), min(self.timeout[1], budget))
            with self._lock:
                self._count += 1
            reply = self._run(lambda: self._send(method, path, query_params, headers, body, consume, socket_timeout),
                              budget)
            if 200 <= reply.status <= 299:
                return reply.value
            wait = self._retry_wait(reply, attempt)
            if reply.status == 429:
                with self._lock:
                    self.throttled += 1
            if wait is None:
                raise self._error(method, path, reply.status, reply.reason, reply.body, reply.headers)
            self._sleep(wait)
            attempt += 1

    def _retry_wait(self, reply, attempt):
        """Seconds to wait before retrying a throttled request, or None when it must not be retried."""
        if reply.status not in (429, 503) or attempt >= MAX_RETRIES:
            return None
        asked = retry_after_seconds(header(reply.headers, "Retry-After"))
        if asked is None:
            if reply.status == 503:
                return None  # an outage, not throttling
            asked = min(2 ** attempt, 8)
        left = (self.deadline - time.monotonic()) if self.deadline is not None else self.request_budget
        if asked >= left:
            return None
        return asked

    def _error(self, method, path, status, reason, body, headers=None):
        return error_for(self.host, method, path, status, reason, body, headers)

    # -- public ----------------------------------------------------------------------------

    def get_json(self, path, query=None):
        """GET a path and return the decoded JSON (dict)."""
        return self._exchange("GET", path, query, consume=lambda raw: self._read_json(raw, "GET", path))

    def _read_json(self, raw, method, path):
        try:
            data = raw.data
        finally:
            raw.release_conn()
        if not data:
            return {}
        try:
            return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except ValueError:
            verb, resource, _namespace, _name = describe_request(method, path)
            raise ApiError(raw.status, raw.reason, "response is not JSON", what="%s %s" % (verb, resource))

    def list_items(self, path, query=None, page_size=500):
        """Every item of a LIST, following ``continue`` (one request per page). See ListResult."""
        return ListResult(self, path, query, page_size)

    def get_text(self, path, query=None, max_bytes=DEFAULT_LOG_BYTES):
        """GET a text body (logs), reading at most ``max_bytes``. Returns (text, truncated).

        Streams the response and closes the connection once the cap is hit, so a 100 MB log never
        enters memory.
        """
        def consume(raw):
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
            finally:
                if truncated:
                    raw.close()  # do not drain the rest of a huge body into the pool
                else:
                    raw.release_conn()
            return b"".join(chunks).decode("utf-8", errors="replace"), truncated

        return self._exchange("GET", path, query, accept="*/*", consume=consume)

    def request_json(self, method, path, query=None, body=None, content_type=None):
        """Any verb with a JSON body (remediation: PATCH/PUT/POST/DELETE, with dryRun in ``query``).

        PATCH defaults to a merge patch (application/merge-patch+json).
        """
        method = method.upper()
        if method == "PATCH" and content_type is None:
            content_type = "application/merge-patch+json"
        return self._exchange(method, path, query, body=body, content_type=content_type,
                              consume=lambda raw: self._read_json(raw, method, path))


def _core_get_api_client():
    """kubernetes.core's client factory; its module_utils moved between majors, so fail clearly."""
    try:
        from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
        from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    except ImportError as exc:
        raise AiopsError("Unsupported kubernetes.core layout (%s): install kubernetes.core >= 5.0, < 7.0" % exc)
    return get_api_client, AUTH_ARG_SPEC


def _kubeconfig_server(kwargs):
    """The server URL of the kubeconfig context in use, for messages; None when unknown.

    Read as plain YAML, the documented kubeconfig format: the client library's loader for this is private
    (a release may rename it) and would run exec credential plugins again just to name a server.
    """
    config = kwargs.get("kubeconfig")
    try:
        if isinstance(config, str):
            import yaml  # only on this error path
            with open(config) as handle:
                config = yaml.safe_load(handle)
        if not isinstance(config, dict):
            return None
        wanted = kwargs.get("context") or config.get("current-context")
        context = _named(config.get("contexts"), wanted, "context")
        server = _named(config.get("clusters"), context.get("cluster"), "cluster").get("server")
    except Exception:  # pylint: disable=broad-except  # unreadable or malformed: the message says "the API server"
        return None
    return server if isinstance(server, str) and server else None


def _named(entries, name, field):
    """The ``field`` mapping of the kubeconfig list entry called ``name`` ({} when absent)."""
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get(field), dict):
            return entry[field]
    return {}


def _unreachable_host(exc):
    """The host a connection failure names ("host='127.0.0.1', port=6443"), or None for other errors."""
    text = str(exc)
    if "Max retries exceeded" not in text and "NewConnectionError" not in text and "timed out" not in text:
        return None
    match = re.search(r"host='([^']+)', port=(\d+)", text)
    return "%s:%s" % match.groups() if match else "the API server"


def _core_client_parts():
    """kubernetes.core's own auth resolution (options, K8S_AUTH_* fallbacks, kubeconfig, in-cluster).

    These helpers are semi-internal; when a kubernetes.core release moves them, None makes the caller
    fall back to get_api_client under a socket deadline.
    """
    try:
        from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
            _create_auth_spec, _create_configuration, _create_headers, _set_header)
    except ImportError:
        return None
    return _create_auth_spec, _create_configuration, _create_headers, _set_header


def _bounded_retries():
    """One retry for a connection that failed or was dropped; never for a read timeout or a status."""
    return urllib3.util.Retry(total=1, connect=1, read=0, status=0, redirect=0, raise_on_status=False)


def _api_client_from_kwargs(kwargs, request_timeout):
    """A plain ApiClient configured exactly as kubernetes.core would, but with no discovery request."""
    parts = _core_client_parts()
    if parts is None:
        get_api_client, _spec = _core_get_api_client()
        # Old layout: the dynamic client reads /version while it is built; bound it with a socket default.
        import socket
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(max(request_timeout) if isinstance(request_timeout, tuple) else request_timeout)
        try:
            k8s_client = get_api_client(**kwargs)
        finally:
            socket.setdefaulttimeout(previous)
        api_client = getattr(getattr(k8s_client, "client", None), "client", None)
        if ApiClient is None or not isinstance(api_client, ApiClient):
            raise AiopsError("Unsupported kubernetes.core layout: K8SClient.client.client is not a kubernetes "
                             "ApiClient; install kubernetes.core >= 5.0, < 7.0")
        return api_client
    create_auth_spec, create_configuration, create_headers, set_header = parts
    configuration = create_configuration(create_auth_spec(None, **kwargs))
    configuration.retries = _bounded_retries()
    api_client = ApiClient(configuration)
    for name, value in create_headers(None, **kwargs).items():
        set_header(api_client, name, value)
    return api_client


def transport_from_module(module, request_timeout=DEFAULT_TIMEOUT, deadline=None):
    """Build a Transport from a module's kubernetes.core connection options (and K8S_AUTH_* env vars).

    ``module``: an AnsibleModule, or its validated params (the pod_diagnose action plugin has no module).

    The options go through kubernetes.core's own resolution, so unset options fall back to K8S_AUTH_*
    variables, kubeconfig and in-cluster config exactly as in kubernetes.core; the ApiClient is built
    here without the dynamic client, so nothing is sent before the first (bounded) request.
    ``deadline``: seconds for every request of this transport together (see Transport).
    """
    if not HAS_K8S:
        raise AiopsError("The kubernetes Python library is required: pip install kubernetes")
    _get_api_client, auth_spec = _core_get_api_client()
    params = module if isinstance(module, dict) else getattr(module, "params", None) or {}
    kwargs = dict((key, params.get(key)) for key in auth_spec if params.get(key) is not None)
    timeout = params.get("request_timeout") or request_timeout
    try:
        api_client = _api_client_from_kwargs(kwargs, timeout)
    except AiopsError:
        raise
    except Exception as exc:  # ConfigException, CoreException, missing kubeconfig file ...
        status = getattr(exc, "status", None)
        if status is None:
            match = re.search(r"\((401|403)\)", str(exc))
            status = int(match.group(1)) if match else None
        server = kwargs.get("host") or _kubeconfig_server(kwargs) or "the API server"
        if status == 401:
            raise Unauthorized(server)
        if status == 403:
            raise Forbidden("get", "the server version (/version)", detail="at %s" % server)
        host = _unreachable_host(exc)
        if host:
            raise Unreachable(host, short_reason(exc))
        raise InvalidInput("Could not load the Kubernetes connection settings (%s): check kubeconfig, context and "
                           "the K8S_AUTH_* variables" % (exc,))
    return Transport(api_client, request_timeout=timeout, deadline=deadline)


def transport_from_kubeconfig(path=None, context=None, request_timeout=DEFAULT_TIMEOUT, deadline=None):
    """A Transport from a kubeconfig file, for scripts and benchmarks (no Ansible)."""
    if not HAS_K8S:
        raise AiopsError("The kubernetes Python library is required: pip install kubernetes")
    from kubernetes import client, config
    configuration = client.Configuration()
    try:
        config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                persist_config=False)
    except Exception as exc:
        raise InvalidInput("Could not load kubeconfig %s%s: %s" % (
            path or "(default)", " context %s" % context if context else "", exc))
    configuration.retries = _bounded_retries()
    return Transport(ApiClient(configuration), request_timeout=request_timeout, deadline=deadline)
