"""The emulator's HTTP server: request handling, routing, auth, faults, test controls and the CLI."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.support.emulator.api import ApiError, _catalogue, _dumps, status_body
from tests.support.emulator.discovery import DiscoveryMixin
from tests.support.emulator.logs import LogsMixin
from tests.support.emulator.store import StoreMixin
from tests.support.emulator.tables import make_table
from tests.support.emulator.watch import WatchMixin, stream_watch
from tests.support.emulator.writes import WritesMixin


class KubeEmulator(DiscoveryMixin, StoreMixin, WritesMixin, WatchMixin, LogsMixin):
    """The in-memory API server. Thread-safe: one lock around the store."""

    def __init__(self, port=0, host="127.0.0.1", token=None, user="aiops-test", latency=0.0, log_latency=0.0,
                 throttle=0, retry_after=1):
        """``latency`` seconds are added to every API request and ``log_latency`` more to pod log reads, so a
        benchmark can model a remote API server; ``throttle`` answers the first N API requests with 429 and
        ``Retry-After: retry_after`` (API priority and fairness rejecting a burst). All are off by default."""
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the emulator only listens on 127.0.0.1")
        self.host = "127.0.0.1"
        self.port = port
        self.token = token
        self.user = user
        self.latency = float(latency)
        self.log_latency = float(log_latency)
        self.throttle = int(throttle)
        self.retry_after = int(retry_after)
        self.resources = _catalogue()
        self._by_path = {}
        self._by_kind = {}
        for res in self.resources:
            self._by_path[(res.group, res.version, res.plural)] = res
            self._by_kind.setdefault((res.api_version, res.kind), res)
        self._lock = threading.RLock()
        self._server = None
        self._thread = None
        self.requests = []
        self.faults = []
        self._warmers = []
        self.reset()
        self._discovery = self._build_discovery()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self):
        handler = type("BoundHandler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="kube-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def kubeconfig(self, namespace="default", token=None):
        """A kubeconfig document (dict) pointing at this emulator.

        kubectl (client-go) never sends a bearer token over plain HTTP, so a kubectl-driven test
        must run with auth off; the Python client does send it.
        """
        token = token or self.token
        user = {"token": token} if token else {}
        return {
            "apiVersion": "v1", "kind": "Config", "current-context": "emulator", "preferences": {},
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": self.user, "user": user}],
            "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": self.user,
                                                          "namespace": namespace}}],
        }

    def write_kubeconfig(self, path, namespace="default", token=None):
        """Write the kubeconfig atomically: Molecule waits for the file and must never read half of it."""
        partial = "%s.%d.tmp" % (path, os.getpid())
        with open(partial, "w") as handle:
            json.dump(self.kubeconfig(namespace, token), handle, indent=2)
        os.chmod(partial, 0o600)
        os.replace(partial, path)
        return path

    # -- test controls (also reachable over HTTP under /_emulator/) ---------------------------
    def reset(self):
        with self._lock:
            self._store = {res.key: {} for res in self.resources}
            self._sorted = {}
            self._logs = {}
            self._rv = 1000
            self.requests = []
            self.faults = []

    def clear_requests(self):
        with self._lock:
            self.requests = []

    def add_fault(self, status, method=None, path_regex=None, times=1, message=None):
        with self._lock:
            self.faults.append({"method": (method or "").upper() or None,
                                "regex": re.compile(path_regex) if path_regex else None,
                                "status": int(status), "times": times, "message": message})

    # -- routing ----------------------------------------------------------------------------
    def route(self, parts):
        """Map path segments to (res, namespace, name, subresource) or None when not an API path."""
        if not parts:
            return None
        if parts[0] == "api" and len(parts) >= 3 and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            res = self._by_path.get((group, version, rest[2]))
            if res is not None and res.namespaced:
                ns = rest[1]
                rest = rest[2:]
        res = self._by_path.get((group, version, rest[0]))
        if res is None or len(rest) > 3:
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in res.subresources:
            return None
        return res, ns, name, sub

    # -- request entry point ----------------------------------------------------------------
    def set_options(self, latency=None, log_latency=None, throttle=None, retry_after=None):
        """Change the latency / throttling options of a running emulator (None keeps a value)."""
        with self._lock:
            if latency is not None:
                self.latency = float(latency)
            if log_latency is not None:
                self.log_latency = float(log_latency)
            if throttle is not None:
                self.throttle = int(throttle)
            if retry_after is not None:
                self.retry_after = int(retry_after)
            return {"latency": self.latency, "log_latency": self.log_latency, "throttle": self.throttle,
                    "retry_after": self.retry_after}

    def _throttled(self):
        """True while the first ``throttle`` requests are being refused (counts down)."""
        with self._lock:
            if self.throttle <= 0:
                return False
            self.throttle -= 1
            return True

    def handle(self, method, raw_path, headers, body, record_request=True):
        """Serve one API request. Returns (status, content_type, payload[, headers]) or ("watch", events, hold)."""
        split = urlsplit(raw_path)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        parts = [p for p in path.split("/") if p]
        started = time.perf_counter()
        record = {"method": method, "path": path, "query": query,
                  "content_type": (headers.get("Content-Type") or "").split(";")[0],
                  "body_size": len(body or b""), "status": 0}
        delay = self.latency + (self.log_latency if parts[-1:] == ["log"] else 0.0)
        if delay > 0:
            time.sleep(delay)
        try:
            if self.token and headers.get("Authorization", "") != "Bearer " + self.token:
                raise ApiError(401, "Unauthorized")
            if self._throttled():
                # What API priority and fairness answers; clients honour Retry-After.
                raise ApiError(429, "Too many requests, please try again later.", "TooManyRequests",
                               {"retryAfterSeconds": self.retry_after},
                               headers={"Retry-After": str(self.retry_after)})
            self._check_faults(method, path, parts)
            result = self._dispatch(method, parts, query, headers, body)
        except ApiError as err:
            result = (err.code, "application/json", _dumps(status_body(err.code, err.message, err.reason,
                                                                       err.details)))
            if err.headers:
                result = result + (dict(err.headers),)
        record["status"] = 200 if result[0] == "watch" else result[0]
        record["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        if record_request:
            with self._lock:
                self.requests.append(record)
        return result

    def _check_faults(self, method, path, parts):
        with self._lock:
            for fault in self.faults:
                if fault["times"] is not None and fault["times"] <= 0:
                    continue
                if fault["method"] and fault["method"] != method:
                    continue
                if fault["regex"] and not fault["regex"].search(path):
                    continue
                if fault["times"] is not None:
                    fault["times"] -= 1
                raise ApiError(fault["status"], fault["message"] or self._fault_message(fault["status"], method,
                                                                                        parts))

    def _fault_message(self, code, method, parts):
        if code == 401:
            return "Unauthorized"
        routed = self.route(parts)
        if code == 403 and routed:
            res, ns, name, sub = routed
            verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch",
                    "DELETE": "delete" if name else "deletecollection"}.get(method, method.lower())
            resource = res.plural + ("/" + sub if sub else "")
            head = '%s "%s"' % (res.qualified, name) if name else res.qualified
            where = 'in the namespace "%s"' % ns if ns else "at the cluster scope"
            return ('%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s'
                    % (head, self.user, verb, resource, res.group, where))
        if code == 403:
            return 'forbidden: User "%s" cannot %s path "/%s"' % (self.user, method.lower(), "/".join(parts))
        if code >= 500:
            return "Internal error occurred: injected fault"
        return "injected fault (HTTP %d)" % code

    def _dispatch(self, method, parts, query, headers, body):
        if method == "GET":
            doc = self._discovery_doc(parts)
            if doc is not None:
                return 200, "application/json", _dumps(doc)
        routed = self.route(parts)
        if routed is None:
            if method == "GET" and parts[:2] == ["openapi", "v3"]:
                doc = self._openapi_v3(parts[2:])
                if doc is not None:
                    return 200, "application/json", _dumps(doc)
            if parts[:1] in (["openapi"], ["swagger.json"]):
                raise ApiError(404, "the server could not find the requested resource")
            if parts in (["healthz"], ["readyz"], ["livez"]):
                return 200, "text/plain", b"ok"
            raise ApiError(404, "the server could not find the requested resource")
        res, ns, name, sub = routed
        dry_run = query.get("dryRun") == "All"
        if res.readonly and method != "GET":
            raise ApiError(405, "the server does not allow this method on the requested resource")
        if method == "GET":
            if sub == "log":
                return self._log(res, ns, name, query)
            table = sub is None and "as=Table" in (headers.get("Accept") or "")
            if name is None:
                if query.get("watch") in ("true", "1"):
                    return self._watch(res, ns, query, table)
                if table:
                    listed = json.loads(self._list(res, ns, query))
                    return self._json(make_table(res.kind, listed["items"], listed["metadata"],
                                                 query.get("includeObject")))
                return 200, "application/json", self._list(res, ns, query)
            obj = self._read(res, ns, name, sub)
            if table:
                return self._json(make_table(res.kind, [obj], {"resourceVersion": obj["metadata"].get(
                    "resourceVersion", "")}, query.get("includeObject")))
            return self._json(obj)
        payload = self._parse_body(body, headers, method)
        if method == "POST":
            if sub == "eviction":
                return self._evict(res, ns, name, dry_run)
            if name is not None:
                raise ApiError(405, "the server does not allow this method on the requested resource")
            return self._json(self._create(res, ns, payload, dry_run), 201)
        if name is None:
            if method == "DELETE":
                return self._json(self._delete_collection(res, ns, query, dry_run))
            raise ApiError(405, "the server does not allow this method on the requested resource")
        if method == "PUT":
            return self._json(self._replace(res, ns, name, sub, payload, dry_run))
        if method == "PATCH":
            content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
            return self._json(self._patch(res, ns, name, sub, payload, content_type, dry_run))
        if method == "DELETE":
            if sub:
                raise ApiError(405, "the server does not allow this method on the requested resource")
            options = payload if isinstance(payload, dict) else {}
            if (options.get("dryRun") or []) == ["All"]:
                dry_run = True
            return self._json(self._delete(res, ns, name, dry_run, query, options))
        raise ApiError(405, "the server does not allow this method on the requested resource")

    @staticmethod
    def _json(obj, code=200):
        return code, "application/json", _dumps(obj)

    @staticmethod
    def _parse_body(body, headers, method):
        if not body:
            return None
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type in ("application/vnd.kubernetes.protobuf", "application/cbor"):
            # 415 makes client-go (kubectl create ...) retry the request as JSON.
            raise ApiError(415, "the body of the request was in an unknown format - accepted media types include: "
                                "application/json, application/yaml, application/apply-patch+yaml",
                           "UnsupportedMediaType")
        try:
            return json.loads(body)
        except ValueError as err:
            content_type = (headers.get("Content-Type") or "").split(";")[0]
            if content_type == "application/apply-patch+yaml":
                try:
                    import yaml  # only for server-side apply bodies; PyYAML ships with ansible-core
                    return yaml.safe_load(body)
                except Exception:
                    pass
            raise ApiError(400, "the body of the request was in an unknown format - accepted media types "
                                "include: application/json, application/yaml (%s)" % err)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler; all logic lives in KubeEmulator."""

    protocol_version = "HTTP/1.1"
    server_version = "kube-emulator"
    # Headers and body go out as separate writes; without TCP_NODELAY, Nagle + delayed ACK add
    # ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    emulator = None  # bound per server

    def log_message(self, *args):  # quiet: tests read /_emulator/requests instead
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, code, content_type, payload, headers=None):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _serve(self):
        body = self._body()
        if self.path.startswith("/_emulator/") or self.path == "/_emulator":
            code, payload = _control(self.emulator, self.command, self.path, body)
            return self._send(code, "application/json", _dumps(payload))
        result = self.emulator.handle(self.command, self.path, self.headers, body)
        if result[0] == "watch":
            return stream_watch(self, result[1], result[2])
        return self._send(*result)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


def _control(emulator, method, path, body):
    """The /_emulator/ test-control API."""
    name = urlsplit(path).path.strip("/").split("/", 1)[-1]
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        return 400, {"error": "body is not JSON"}
    try:
        if name == "requests" and method == "GET":
            with emulator._lock:
                return 200, {"requests": list(emulator.requests)}
        if name == "requests" and method == "DELETE":
            emulator.clear_requests()
            return 200, {"cleared": True}
        if name == "settle" and method == "POST":
            emulator.settle()
            return 200, {"settled": True}
        if name == "reset" and method == "POST":
            emulator.reset()
            return 200, {"reset": True}
        if name == "logs" and method == "POST":
            items = payload if isinstance(payload, list) else [payload]
            for item in items:
                emulator.set_log(item["namespace"], item["pod"], item["container"], item.get("text", ""),
                                 item.get("previous", False))
            return 200, {"logs": len(items)}
        if name == "state" and method == "POST":
            objects = payload if isinstance(payload, list) else payload.get("objects") or []
            logs = [] if isinstance(payload, list) else payload.get("logs") or []
            if not isinstance(payload, list) and payload.get("replace"):
                emulator.reset()
            return 200, {"loaded": emulator.load(objects, logs)}
        if name == "state" and method == "GET":
            return 200, {"objects": emulator.objects()}
        if name == "faults" and method == "POST":
            match = payload.get("match") or {}
            emulator.add_fault(payload["status"], match.get("method"), match.get("path_regex"),
                               payload.get("times", 1), payload.get("message"))
            return 200, {"faults": len(emulator.faults)}
        if name == "options" and method == "POST":
            return 200, emulator.set_options(payload.get("latency"), payload.get("log_latency"),
                                             payload.get("throttle"), payload.get("retry_after"))
        if name == "faults" and method == "DELETE":
            with emulator._lock:
                emulator.faults = []
            return 200, {"faults": 0}
    except ApiError as err:
        return err.code, status_body(err.code, err.message, err.reason)
    except (KeyError, TypeError, ValueError, re.error) as err:
        return 400, {"error": "bad control request: %s" % err}
    return 404, {"error": "unknown control endpoint %s %s" % (method, path)}


def load_state_file(path):
    """Read a state file: a list of objects, or {"objects": [...], "logs": [...]}."""
    with open(path) as handle:
        data = json.load(handle)
    if isinstance(data, list):
        return data, []
    return data.get("objects") or [], data.get("logs") or []


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.support.kube_emulator",
                                     description="In-memory Kubernetes API emulator for tests.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve in the foreground until SIGTERM/SIGINT")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--state", help="JSON file: list of objects or {objects, logs}")
    serve.add_argument("--pidfile")
    serve.add_argument("--kubeconfig-out")
    serve.add_argument("--token", default=os.environ.get("KUBE_EMULATOR_TOKEN"))
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every API request")
    serve.add_argument("--log-latency", type=float, default=0.0, help="more seconds for each pod log read")
    serve.add_argument("--throttle", type=int, default=0, help="answer the first N API requests with 429")
    serve.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent with those 429s")
    args = parser.parse_args(argv)
    emulator = KubeEmulator(port=args.port, token=args.token, latency=args.latency, log_latency=args.log_latency,
                            throttle=args.throttle, retry_after=args.retry_after)
    if args.state:
        try:
            objects, logs = load_state_file(args.state)
            emulator.load(objects, logs)
        except (OSError, ValueError, ApiError, KeyError) as err:
            parser.exit(2, "cannot load state file %s: %s\n" % (args.state, err))
    handler = type("BoundHandler", (_Handler,), {"emulator": emulator})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    emulator.port = server.server_address[1]
    emulator._server = server
    if args.kubeconfig_out:
        emulator.write_kubeconfig(args.kubeconfig_out)
    if args.pidfile:
        with open(args.pidfile, "w") as handle:
            handle.write("%d\n" % os.getpid())

    def _stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.stdout.write("kube-emulator serving on %s\n" % emulator.url)
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if args.pidfile and os.path.exists(args.pidfile):
            os.unlink(args.pidfile)
    return 0
