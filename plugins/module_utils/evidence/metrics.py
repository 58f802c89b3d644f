# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource usage from metrics-server (metrics.k8s.io/v1beta1), live or from a dump directory.

Live: PodMetrics by one LIST per namespace (one LIST for the whole cluster, or one GET for a single
pod) and NodeMetrics by one LIST (or one GET), through the same transport as every other read. The
metrics API is optional: a 404 (metrics-server absent), 403 (not allowed) or 503 (not ready yet) is
one problem note naming the role that installs it, never a failure, and no further metrics request
is sent after the first refusal.

Offline: ``metrics/pod-metrics.json`` / ``metrics/node-metrics.json`` (the API's list JSON) and
``metrics/top-pods.txt`` / ``metrics/top-nodes.txt`` (``kubectl top pod -A --containers`` and
``kubectl top node`` output), in the dump directory or its ``metrics/`` folder; playbooks/collect_bundle.yml
writes all four, or ``metrics/NOT-COLLECTED.txt`` (read as a problem note) when metrics.k8s.io did not serve.

A reading is a plain dict (see ``empty_reading``); ``usage.py`` joins it with pods and nodes. One
metrics-server sample is the working set over its last window (~15 s): it cannot show a peak, which
is what the optional Prometheus history (``prometheus.py``) adds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import decimal
import json
import os
import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import (
    AiopsError,
    Forbidden,
    NotFound,
    Unauthorized,
)
from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import parse_decimal, parse_quantity

ROLE = "aiops.k8s.metrics_server"
API_VERSION = "metrics.k8s.io/v1beta1"
API = "/apis/" + API_VERSION
SOURCE_LIVE = "metrics-server"
SOURCE_DUMP = "dump"
DUMP_FILES = ("pod-metrics.json", "node-metrics.json", "top-pods.txt", "top-nodes.txt")
NOTE_FILE = "NOT-COLLECTED.txt"  # collect_bundle's note when metrics-server did not serve
_SKIP = "continuing without usage figures"


def empty_reading(source=None):
    """pods: {"ns/name": {"timestamp", "window", "containers": {name: {"cpu": cores, "memory": bytes}},
    "total": {"cpu", "memory"} or None}}; nodes: {name: {"timestamp", "window", "cpu", "memory"}}."""
    return {"source": source, "pods": {}, "nodes": {}, "problems": [], "requests": 0}


def refusal_note(exc):
    """The one problem note for a metrics API that cannot be read."""
    status = getattr(exc, "status", None)
    if isinstance(exc, Forbidden) or status == 403:
        return ("reading metrics.k8s.io is forbidden (HTTP 403): allow get/list on pods and nodes of API group "
                "metrics.k8s.io (role %s installs metrics-server and that read access); %s" % (ROLE, _SKIP))
    if isinstance(exc, NotFound) or status == 404:
        return ("metrics.k8s.io is not served (HTTP 404): metrics-server is not installed; install it with the "
                "%s role; %s" % (ROLE, _SKIP))
    if status == 503:
        return ("metrics-server is not ready (HTTP 503 from metrics.k8s.io): it serves its first samples about a "
                "minute after it starts (role %s installs it); %s" % (ROLE, _SKIP))
    return "cannot read metrics.k8s.io: %s (role %s installs metrics-server); %s" % (exc, ROLE, _SKIP)


def _figures(usage):
    usage = usage or {}
    return {"cpu": parse_quantity(usage.get("cpu")), "memory": parse_quantity(usage.get("memory"))}


def parse_pod_metrics(item):
    """("ns/name", sample) of one PodMetrics object, or (None, None) when it has no name."""
    meta = (item or {}).get("metadata") or {}
    if not meta.get("name"):
        return None, None
    containers = {}
    for container in item.get("containers") or []:
        if isinstance(container, dict) and container.get("name"):
            containers[container["name"]] = _figures(container.get("usage"))
    return "%s/%s" % (meta.get("namespace") or "", meta["name"]), {
        "timestamp": item.get("timestamp"), "window": item.get("window"), "containers": containers, "total": None}


def parse_node_metrics(item):
    meta = (item or {}).get("metadata") or {}
    if not meta.get("name"):
        return None, None
    sample = _figures(item.get("usage"))
    sample.update({"timestamp": item.get("timestamp"), "window": item.get("window")})
    return meta["name"], sample


# -- live -----------------------------------------------------------------------------------

class _Refused(AiopsError):
    """metrics-server refused or is absent: stop asking it (internal signal, never shown as is)."""

    def __init__(self, message="metrics.k8s.io refused the request"):
        super(_Refused, self).__init__(message)


# metrics-server serves every sample from memory and ignores ``limit``: paging would only add requests
# against an API server that does page (and the emulator does), so ask for big pages.
PAGE_SIZE = 10000


def read_live(transport, namespaces=None, pod=None, nodes=None, page_size=PAGE_SIZE):
    """Read PodMetrics and NodeMetrics through ``transport`` (k8s/transport.Transport).

    namespaces: list of namespaces to LIST (one request each; None = one cluster-wide LIST, [] = none);
    pod: (namespace, name) to GET one pod's metrics instead; nodes: node names wanted (None = all, one
    LIST; one name = one GET; empty = no node request).
    """
    reading = empty_reading(SOURCE_LIVE)
    start = transport.request_count

    def call(function, not_found=None):
        """Run one metrics read; the first refusal becomes the one note and stops all metrics reads."""
        try:
            return function()
        except Unauthorized:
            raise
        except NotFound as exc:
            if not_found is None:
                reading["problems"].append(refusal_note(exc))
                raise _Refused()
            return not_found()
        except AiopsError as exc:  # Forbidden, ApiError (404 on a LIST, 503), Unreachable
            reading["problems"].append(refusal_note(exc))
            raise _Refused()

    def unsampled():
        # One GET cannot tell "API absent" from "not scraped yet": the note says both.
        reading["problems"].append(
            "no metrics sample for pod %s/%s: metrics-server is not installed (role %s installs it) or has not "
            "scraped the pod yet; %s" % (pod[0], pod[1], ROLE, _SKIP))
        raise _Refused()

    try:
        if pod is not None:
            item = call(lambda: transport.get_json("%s/namespaces/%s/pods/%s" % (API, pod[0], pod[1])), unsampled)
            key, sample = parse_pod_metrics(item)
            if key:
                reading["pods"][key] = sample
        else:
            paths = ["%s/pods" % API] if namespaces is None else [
                "%s/namespaces/%s/pods" % (API, ns) for ns in sorted(set(namespaces))]
            for path in paths:
                for item in call(lambda: list(transport.list_items(path, None, page_size=page_size))):
                    key, sample = parse_pod_metrics(item)
                    if key:
                        reading["pods"][key] = sample
        wanted = None if nodes is None else sorted(set(n for n in nodes if n))
        if wanted is None or len(wanted) > 1:
            items = call(lambda: list(transport.list_items("%s/nodes" % API, None, page_size=page_size)))
        elif wanted:
            items = [call(lambda: transport.get_json("%s/nodes/%s" % (API, wanted[0])), lambda: None)]
        else:
            items = []
        for item in items:
            name, sample = parse_node_metrics(item)
            if name and (wanted is None or name in wanted):
                reading["nodes"][name] = sample
    except _Refused:
        pass
    reading["requests"] = transport.request_count - start
    return reading


# -- offline --------------------------------------------------------------------------------

_TOP_HEADER = re.compile(r"^\s*(NAMESPACE\s+)?(POD\s+)?NAME\s+CPU\(cores\)")


def parse_top_pods(text, namespace=None):
    """``kubectl top pod`` text (with or without -A / --containers) -> {"ns/name": sample}.

    Without --containers only the pod's total is known: it goes to ``total``.
    """
    pods = {}
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines or not _TOP_HEADER.match(lines[0]):
        return pods
    header = lines[0].split()
    col = dict((name, index) for index, name in enumerate(header))
    for line in lines[1:]:
        cells = line.split()
        if len(cells) < len(header):
            continue
        ns = cells[col["NAMESPACE"]] if "NAMESPACE" in col else (namespace or "default")
        figures = {"cpu": parse_quantity(cells[col["CPU(cores)"]]), "memory": parse_quantity(cells[col["MEMORY(bytes)"]])}
        if "POD" in col:
            entry = pods.setdefault("%s/%s" % (ns, cells[col["POD"]]),
                                    {"timestamp": None, "window": None, "containers": {}, "total": None})
            entry["containers"][cells[col["NAME"]]] = figures
        else:
            pods["%s/%s" % (ns, cells[col["NAME"]])] = {"timestamp": None, "window": None, "containers": {},
                                                        "total": figures}
    return pods


def parse_top_nodes(text):
    """``kubectl top node`` text -> {name: sample} (the CPU%/MEMORY% columns are recomputed, not read)."""
    nodes = {}
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines or not lines[0].split()[:2] == ["NAME", "CPU(cores)"]:
        return nodes
    header = lines[0].split()
    col = dict((name, index) for index, name in enumerate(header))
    for line in lines[1:]:
        cells = line.split()
        if len(cells) < len(header) or cells[col["CPU(cores)"]] == "<unknown>":
            continue
        nodes[cells[0]] = {"cpu": parse_quantity(cells[col["CPU(cores)"]]),
                           "memory": parse_quantity(cells[col["MEMORY(bytes)"]]), "timestamp": None, "window": None}
    return nodes


# -- kubectl top texts for a bundle (the parsers above read them back) ---------------------------

def _millicores(quantity):
    """CPU in whole millicores, rounded up as kubectl top does ("12345678n" -> 13); 0 when unparseable."""
    value = parse_decimal(quantity if quantity not in (None, "") else "0")
    return int((value * 1000).to_integral_value(rounding=decimal.ROUND_CEILING)) if value is not None else 0


def _mebibytes(quantity):
    """Memory in whole Mi, rounded down as kubectl top does ("131072Ki" -> 128); 0 when unparseable."""
    value = parse_decimal(quantity if quantity not in (None, "") else "0")
    return int((value / (1 << 20)).to_integral_value(rounding=decimal.ROUND_FLOOR)) if value is not None else 0


def _columns(rows):
    """Rows aligned in columns three spaces apart, as kubectl prints tables (trailing blanks trimmed)."""
    widths = [max(len(str(row[index])) for row in rows) for index in range(len(rows[0]))]
    return "".join("   ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n"
                   for row in rows)


def _meta(item, key):
    return str(((item or {}).get("metadata") or {}).get(key) or "")


def format_top_pods(items):
    """What ``kubectl top pod -A --containers`` prints for a PodMetrics list (unnamed entries skipped: a blank cell
    would shift the columns parse_top_pods reads)."""
    rows = [["NAMESPACE", "POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]]
    for item in sorted((i for i in items or [] if isinstance(i, dict) and _meta(i, "name")),
                       key=lambda i: (_meta(i, "namespace"), _meta(i, "name"))):
        for container in item.get("containers") or []:
            if isinstance(container, dict) and container.get("name"):
                usage = container.get("usage") or {}
                rows.append([_meta(item, "namespace"), _meta(item, "name"), container["name"],
                             "%dm" % _millicores(usage.get("cpu")), "%dMi" % _mebibytes(usage.get("memory"))])
    return _columns(rows)


def format_top_nodes(items, nodes=None):
    """What ``kubectl top node`` prints for a NodeMetrics list; percentages are of the nodes' allocatable
    (``<unknown>`` when the node objects could not be read)."""
    allocatable = dict((_meta(node, "name"), (node.get("status") or {}).get("allocatable") or {})
                       for node in nodes or [] if isinstance(node, dict))
    rows = [["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]]
    for item in sorted((i for i in items or [] if isinstance(i, dict) and _meta(i, "name")),
                       key=lambda i: _meta(i, "name")):
        usage, alloc = item.get("usage") or {}, allocatable.get(_meta(item, "name")) or {}
        cpu, memory = _millicores(usage.get("cpu")), _mebibytes(usage.get("memory"))
        cpu_total, memory_total = _millicores(alloc.get("cpu")), _mebibytes(alloc.get("memory"))
        rows.append([_meta(item, "name"), "%dm" % cpu, _percent(cpu, cpu_total), "%dMi" % memory,
                     _percent(memory, memory_total)])
    return _columns(rows)


def _percent(part, total):
    if not total:
        return "<unknown>"
    return "%d%%" % int((decimal.Decimal(100 * part) / total).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def _items(doc):
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        return doc["items"]
    if isinstance(doc, list):
        return doc
    return [doc] if isinstance(doc, dict) else []


def read_dump(path):
    """Metrics files in a dump directory (see module docstring); an empty reading when there are none."""
    reading = empty_reading(None)
    if not path or not os.path.isdir(path):
        return reading
    found = {}
    for folder in (os.path.join(path, "metrics"), path):
        for name in DUMP_FILES:
            candidate = os.path.join(folder, name)
            if name not in found and os.path.isfile(candidate):
                found[name] = candidate
    if not found:
        # collect_bundle leaves this note when metrics.k8s.io was absent, forbidden or not ready.
        note = os.path.join(path, "metrics", NOTE_FILE)
        if os.path.isfile(note):
            try:
                with open(note, encoding="utf-8") as handle:
                    first = handle.readline(1024).strip()
                reading["problems"].append("the bundle has no usage: %s" % (first[:1].lower() + first[1:]))
            except (OSError, UnicodeDecodeError):
                pass
        return reading
    reading["source"] = SOURCE_DUMP
    for name in DUMP_FILES:
        if name not in found:
            continue
        try:
            with open(found[name], encoding="utf-8") as handle:
                text = handle.read(32 * 1024 * 1024)
            if name == "top-pods.txt":
                for key, sample in parse_top_pods(text).items():
                    reading["pods"].setdefault(key, sample)
            elif name == "top-nodes.txt":
                for key, sample in parse_top_nodes(text).items():
                    reading["nodes"].setdefault(key, sample)
            else:
                parse = parse_pod_metrics if name == "pod-metrics.json" else parse_node_metrics
                target = reading["pods"] if name == "pod-metrics.json" else reading["nodes"]
                for item in _items(json.loads(text)):
                    key, sample = parse(item)
                    if key:
                        target[key] = sample
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            reading["problems"].append("cannot read %s: %s; %s" % (found[name], exc, _SKIP))
    return reading
