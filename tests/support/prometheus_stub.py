"""A tiny Prometheus HTTP API stub on 127.0.0.1: ``GET|POST /api/v1/query_range`` over seeded series.

It understands the one query shape the collection sends: an optional function around one metric
selector with label matchers, e.g.
``rate(container_cpu_usage_seconds_total{namespace=~"shop|batch",container!="",container!="POD"}[5m])``
or ``container_memory_working_set_bytes{namespace="shop",container!=""}``. Functions are ignored: the
seeded values are served as they are (seed the already-rated CPU values for the rate query). Matchers
``=``, ``!=``, ``=~`` and ``!~`` work; samples outside [start, end] are dropped. Anything else answers
the API's 400 ``bad_data`` error, so a malformed query shows up in tests.

    with PrometheusStub(token="t") as prom:
        prom.add_series("container_memory_working_set_bytes",
                        {"namespace": "shop", "pod": "web-1", "container": "app"},
                        [(start + 60 * i, 100e6 + i) for i in range(30)])
        prom.url  # http://127.0.0.1:PORT
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_selector(query):
    """(metric name, [(label, op, value)]) of the first selector in ``query``; ValueError when none."""
    match = _SELECTOR.search(query or "")
    if not match:
        raise ValueError("no metric selector with label matchers in query")
    matchers, body = [], match.group(2).strip()
    position = 0
    while position < len(body):
        found = _MATCHER.match(body, position)
        if not found:
            raise ValueError("cannot parse label matchers %r" % body)
        matchers.append((found.group(1), found.group(2), found.group(3).replace('\\"', '"')))
        position = found.end()
    return match.group(1), matchers


def _matches(labels, matchers):
    for label, op, value in matchers:
        actual = labels.get(label, "")
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
        if op == "=~" and not re.fullmatch(value, actual):
            return False
        if op == "!~" and re.fullmatch(value, actual):
            return False
    return True


class PrometheusStub(object):
    """Seeded series served over HTTP; ``requests`` logs every query (for counting)."""

    def __init__(self, token=None, status=None):
        self.token = token
        self.status = status  # force an HTTP status (e.g. 503) for every query
        self.series = []
        self.requests = []
        self._server = None

    def add_series(self, metric, labels, samples):
        """Seed one series: ``samples`` are (unix seconds, value) pairs."""
        self.series.append((metric, dict(labels), [(float(t), float(v)) for t, v in samples]))

    def query_range(self, query, start, end):
        metric, matchers = parse_selector(query)
        result = []
        for name, labels, samples in self.series:
            if name != metric or not _matches(labels, matchers):
                continue
            values = [[t, repr(v)] for t, v in samples if start <= t <= end]
            if values:
                result.append({"metric": dict(labels, __name__=name), "values": values})
        return {"status": "success", "data": {"resultType": "matrix", "result": result}}

    # -- HTTP -------------------------------------------------------------------------------
    def start(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code, payload):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _serve(self):
                split = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(split.query).items()}
                if self.command == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    params.update({k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()})
                stub.requests.append({"path": split.path, "params": params,
                                      "authorization": self.headers.get("Authorization")})
                if stub.token and self.headers.get("Authorization") != "Bearer " + stub.token:
                    return self._reply(401, {"status": "error", "errorType": "unauthorized", "error": "Unauthorized"})
                if stub.status:
                    return self._reply(stub.status, {"status": "error", "errorType": "unavailable",
                                                     "error": "injected status %d" % stub.status})
                if split.path != "/api/v1/query_range":
                    return self._reply(404, {"status": "error", "errorType": "not_found", "error": "not found"})
                try:
                    payload = stub.query_range(params["query"], float(params["start"]), float(params["end"]))
                except (KeyError, ValueError, re.error) as err:
                    return self._reply(400, {"status": "error", "errorType": "bad_data", "error": str(err)})
                return self._reply(200, payload)

            do_GET = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="prometheus-stub", daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
