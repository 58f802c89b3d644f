# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Usage history from Prometheus: peak working set and CPU per container over a window.

Optional and off by default. One metrics-server sample is the last ~15 s; a container that peaks at
its limit every hour looks idle in it. Two ``query_range`` calls (memory, CPU) cover every namespace
asked for; the peak is the highest point of each series over ``[now - window, now]``:

- memory: ``container_memory_working_set_bytes`` (what the kubelet's OOM and eviction decisions use);
- CPU: ``rate(container_cpu_usage_seconds_total[5m])`` in cores.

Any failure (unreachable, 401/403, 5xx, unreadable answer) is a problem note, never an abort. The
bearer token is only sent in the Authorization header and never appears in a note.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit

from ansible.module_utils.urls import open_url

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import human_duration

MEMORY_METRIC = "container_memory_working_set_bytes"
CPU_METRIC = "container_cpu_usage_seconds_total"
DEFAULT_WINDOW = 3600
DEFAULT_STEP = 60
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_url(url):
    """The Prometheus base URL, validated: http(s) with a host; InvalidInput otherwise."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("prometheus_url must be an http(s) URL such as https://prometheus.example:9090, got %r"
                           % (url,))
    return url.rstrip("/")


def queries(namespaces=None):
    """(memory query, cpu query) for the namespaces (None = every namespace)."""
    matchers = 'container!="",container!="POD"'
    if namespaces is not None:
        names = sorted(set(namespaces))
        for name in names:
            if not _DNS_LABEL.match(name):
                raise InvalidInput("namespace %r is not a valid namespace name" % (name,))
        matchers = 'namespace=~"%s",%s' % ("|".join(names), matchers)
    return ("%s{%s}" % (MEMORY_METRIC, matchers), "rate(%s{%s}[5m])" % (CPU_METRIC, matchers))


def peaks_of(payload, resource, into):
    """Fold a query_range matrix into {"ns/pod/container": {resource: peak}}; returns series read."""
    data = (payload or {}).get("data") or {}
    if payload.get("status") != "success" or data.get("resultType") != "matrix":
        raise ValueError("not a successful matrix answer")
    count = 0
    for series in data.get("result") or []:
        labels = series.get("metric") or {}
        if not (labels.get("namespace") and labels.get("pod") and labels.get("container")):
            continue
        values = []
        for point in series.get("values") or []:
            try:
                values.append(float(point[1]))
            except (TypeError, ValueError, IndexError):
                continue
        values = [v for v in values if not math.isnan(v)]
        if not values:
            continue
        key = "%s/%s/%s" % (labels["namespace"], labels["pod"], labels["container"])
        entry = into.setdefault(key, {})
        entry[resource] = max(values + [entry.get(resource) or 0.0])
        count += 1
    return count


def read_history(url, now, namespaces=None, window=DEFAULT_WINDOW, step=DEFAULT_STEP, token=None, timeout=10,
                 validate_certs=True):
    """{"window": "1h", "peaks": {"ns/pod/container": {"memory": bytes, "cpu": cores}}, "problems": [...],
    "requests": n}. ``now`` is a unix time (the evidence clock), ``window``/``step`` seconds."""
    base = check_url(url)
    history = {"window": human_duration(window), "seconds": window, "peaks": {}, "problems": [], "requests": 0}
    memory_query, cpu_query = queries(namespaces)
    for resource, query in (("memory", memory_query), ("cpu", cpu_query)):
        body = urlencode({"query": query, "start": "%.3f" % (now - window), "end": "%.3f" % now,
                          "step": "%ds" % step}).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if token:
            headers["Authorization"] = "Bearer %s" % token
        history["requests"] += 1
        try:
            # ansible's open_url: proxies, CA bundles and validate_certs handled as every module does.
            response = open_url(base + "/api/v1/query_range", data=body, headers=headers, method="POST",
                                timeout=timeout, validate_certs=validate_certs)
            try:
                raw = response.read(64 * 1024 * 1024)
            finally:
                response.close()
            peaks_of(json.loads(raw), resource, history["peaks"])
        except HTTPError as exc:
            history["problems"].append("cannot read %s history from Prometheus at %s: HTTP %s%s; peaks skipped"
                                       % (resource, base, exc.code, " (check prometheus_token)"
                                          if exc.code in (401, 403) else ""))
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            history["problems"].append("cannot reach Prometheus at %s: %s; peaks skipped" % (base, reason))
            break
        except ValueError as exc:
            history["problems"].append("cannot read %s history from Prometheus at %s: %s; peaks skipped"
                                       % (resource, base, exc))
    return history
