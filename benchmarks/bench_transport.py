"""Transport benchmark: what the per-request deadline costs, and how fast bad servers are cut off.

    .venv/bin/python benchmarks/bench_transport.py              # 300 GETs per row
    .venv/bin/python benchmarks/bench_transport.py --requests 50

Every request runs in a short-lived daemon thread so a whole-answer deadline can end a response that
trickles in (socket timeouts cannot). Measured against the API emulator on 127.0.0.1:
  GET with deadline    mean ms per GET /api/v1/namespaces through Transport (thread + deadline)
  GET direct           the same requests with the worker body called inline (no thread): the baseline
and, against tests/support/bad_servers.py, the seconds until a stalled, trickling or throttled (Retry-After
120 s) server is given up on with request_timeout=2. Printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport  # noqa: E402
from tests.support.bad_servers import StallServer, ThrottleServer, TrickleServer  # noqa: E402
from tests.support.fixtures import TOKEN  # noqa: E402
from tests.support.kube_emulator import KubeEmulator  # noqa: E402


def _kubeconfig(url, directory):
    path = os.path.join(directory, "kc-%d" % abs(hash(url)))
    with open(path, "w") as handle:
        handle.write('{"apiVersion": "v1", "kind": "Config", "current-context": "c", "clusters": [{"name": "c", '
                     '"cluster": {"server": "%s"}}], "users": [{"name": "u", "user": {"token": "%s"}}], '
                     '"contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}' % (url, TOKEN))
    return path


def per_request_ms(transport, count):
    started = time.perf_counter()
    for dummy in range(count):
        transport.get_json("/api/v1/namespaces")
    return (time.perf_counter() - started) * 1000.0 / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="aiops-bench-transport-")
    rows = []
    with KubeEmulator(token=TOKEN) as api:
        transport = k8s_transport.transport_from_kubeconfig(_kubeconfig(api.url, directory))
        transport.get_json("/api/v1/namespaces")  # warm the connection pool
        threaded = per_request_ms(transport, args.requests)
        original = k8s_transport.Transport._run
        k8s_transport.Transport._run = lambda self, work, budget: work()
        try:
            direct = per_request_ms(transport, args.requests)
        finally:
            k8s_transport.Transport._run = original
        rows.append(("GET with deadline (thread)", "%.2f ms" % threaded))
        rows.append(("GET direct (no thread)", "%.2f ms" % direct))
        rows.append(("deadline overhead per request", "%.2f ms" % (threaded - direct)))
    for label, server in (("stalled server given up after", StallServer(lifetime=60)),
                          ("trickling server (1 byte/s) given up after", TrickleServer(interval=1.0, lifetime=60)),
                          ("429 Retry-After 120 s given up after", ThrottleServer(throttled=10, retry_after="120",
                                                                                  lifetime=60))):
        with server:
            transport = k8s_transport.transport_from_kubeconfig(_kubeconfig(server.url, directory), request_timeout=2)
            started = time.perf_counter()
            try:
                transport.get_json("/api/v1/namespaces")
            except AiopsError:
                pass
            rows.append((label, "%.2f s" % (time.perf_counter() - started)))
    print("| measure (request_timeout=2 for bad servers, %d GETs) | value |" % args.requests)
    print("| --- | ---: |")
    for label, value in rows:
        print("| %s | %s |" % (label, value))


if __name__ == "__main__":
    main()
