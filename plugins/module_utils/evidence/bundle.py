# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An offline diagnosis bundle: what ``kubectl cluster-info dump`` writes, plus what the dump lacks.

Layout (read back by evidence/dump.py and metrics.read_dump):
  nodes.json
  <namespace>/{pods,events,replicasets,deployments,daemonsets,statefulsets,jobs,cronjobs,services,
               replicationcontrollers,persistentvolumeclaims}.json
  <namespace>/<pod>/<container>.log and <container>.previous.log (containers that crashed or exited)
  metrics/{pod-metrics.json,node-metrics.json,top-pods.txt,top-nodes.txt}, or metrics/NOT-COLLECTED.txt

Reading costs one paged LIST per kind for the whole scope (never one per namespace) and one request per
log, read concurrently; the files are written by ``write``. Every object goes through redact_obj before it
is kept (env values of secret-named variables, tokens in args and messages, managedFields and
last-applied-configuration are masked or dropped): a bundle is made to leave the cluster. Secrets and
ConfigMaps are never requested.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import (
    AiopsError,
    ApiError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from ansible_collections.aiops.k8s.plugins.module_utils.common import kinds
from ansible_collections.aiops.k8s.plugins.module_utils.common.files import replace_atomic
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact_obj
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import assemble as sc
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics

# The kinds listed, each written to <namespace>/<plural>.json (apiVersion and plural from common.kinds).
KINDS = ("Pod", "Event", "ReplicaSet", "Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob", "Service",
         "ReplicationController", "PersistentVolumeClaim")
METRICS_KINDS = (("PodMetrics", "pods", "pod-metrics.json", True), ("NodeMetrics", "nodes", "node-metrics.json", False))
DEFAULT_TAIL_LINES = 500
DEFAULT_MAX_BYTES = 1048576
DIR_MODE = 0o750
FILE_MODE = 0o640
NOT_REQUESTED = "not requested (the bundle was collected with metrics: false)"
NOT_REQUESTED_TEXT = "Usage was not requested when this bundle was collected, so it has no usage figures.\n"
NOT_COLLECTED_TEXT = (
    "metrics.k8s.io could not be read when this bundle was collected, so it has no usage figures.\n"
    "Install metrics-server with the aiops.k8s.metrics_server role (or allow get/list on pods and nodes of API\n"
    "group metrics.k8s.io; a 503 means it had not served its first samples yet, about a minute after it starts).\n")


class Collected(object):
    """What one collection read: redacted objects by kind, logs, metrics lists or refusals, problem notes."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.nodes = None          # [redacted Node], None when they could not be listed
        self.lists = {}            # kind -> [redacted object]
        self.logs = {}             # (namespace, pod, container, previous) -> redacted text
        self.metrics = {}          # "PodMetrics"/"NodeMetrics" -> [item]
        self.metrics_refused = {}  # kind -> note
        self.problems = []

    def namespaces(self):
        """The namespace asked for, else every namespace an object was found in (sorted)."""
        if self.namespace:
            return [self.namespace]
        found = set()
        for items in self.lists.values():
            found.update((item.get("metadata") or {}).get("namespace") for item in items)
        found.discard(None)
        found.discard("")
        return sorted(found)


# LISTs in flight at once: on a real network each is a round trip per page; the largest (pods, events) set the pace.
LIST_CONCURRENCY = 4


def _read_list(transport, what, path, required, page_size, patterns):
    """(redacted items, None) or, for a refused optional kind, (None, problem note): "not collected" is not "none"."""
    try:
        return [redact_obj(item, patterns) for item in transport.list_items(path, page_size=page_size)], None
    except Unauthorized:
        raise
    except Forbidden:
        if required:
            raise
        return None, "cannot list %s: forbidden (see docs/rbac); the bundle has no %s file" % (what, what)
    except (NotFound, ApiError) as exc:
        if required:
            raise
        return None, "cannot list %s: %s; the bundle has no %s file" % (what, exc, what)


def collect(transport, live_source, namespace=None, with_metrics=True, page_size=500):
    """Read everything a bundle holds through ``transport``; logs through ``live_source`` (evidence.live.LiveSource,
    which caps, redacts and reads them at its adaptive concurrency). Pods must be readable (their refusal is
    raised); any other kind that is refused becomes a problem note."""
    collected = Collected(namespace)
    patterns = live_source.patterns
    # Paths first: a bad namespace is one InvalidInput before any request (Node is cluster-scoped).
    reads = [(kind, kinds.KINDS[kind][1], kinds.collection_path(kind, namespace), kind == "Pod")
             for kind in ("Node",) + KINDS]
    with ThreadPoolExecutor(max_workers=LIST_CONCURRENCY) as pool:
        answers = list(pool.map(lambda read: _read_list(transport, read[1], read[2], read[3], page_size, patterns),
                                reads))
    for (kind, _plural, _path, _required), (items, note) in zip(reads, answers):
        if note:
            collected.problems.append(note)
        elif kind == "Node":
            collected.nodes = items
        else:
            collected.lists[kind] = items
    if with_metrics:
        _read_metrics(transport, collected, namespace)
    else:
        collected.metrics_refused = dict((kind, NOT_REQUESTED) for kind, _p, _n, _ns in METRICS_KINDS)
    jobs = [(ns, name, container, previous)
            for pod in collected.lists["Pod"]
            for ns, name in [sc.key_of(pod)]
            for container, current, previous_wanted in sc.log_requests(pod)
            for previous, wanted in ((False, current), (True, previous_wanted)) if wanted]
    if jobs:
        texts = live_source.read_log_jobs(jobs)
        collected.logs = dict((job, text) for job, text in zip(jobs, texts) if text is not None)
        collected.problems.extend(note for note in live_source.problems if note not in collected.problems)
    return collected


def _read_metrics(transport, collected, namespace):
    """PodMetrics and NodeMetrics LISTs; absent (404), forbidden (403) or not ready (503) is a note per kind."""
    for kind, plural, _name, namespaced in METRICS_KINDS:
        path = ("%s/namespaces/%s/%s" % (metrics.API, namespace, plural) if namespace and namespaced
                else "%s/%s" % (metrics.API, plural))
        try:
            collected.metrics[kind] = list(transport.list_items(path, page_size=metrics.PAGE_SIZE))
        except Unauthorized:
            raise
        except AiopsError as exc:
            collected.metrics_refused[kind] = metrics.refusal_note(exc)


# -- rendering ---------------------------------------------------------------------------------------------

def _list_text(kind, api_version, items):
    """The list as JSON with one object per line: json's C encoder (indent= falls back to pure Python, several
    times slower on a large cluster), and still easy to grep or page through."""
    head = '{"apiVersion": %s, "kind": %s, "items": [' % (json.dumps(api_version), json.dumps(kind + "List"))
    if not items:
        return head + "]}\n"
    return head + "\n" + ",\n".join(json.dumps(item, sort_keys=True) for item in items) + "\n]}\n"


def render(collected):
    """{relative path: text} of every file of the bundle (pure: no I/O)."""
    files = {} if collected.nodes is None else {"nodes.json": _list_text("Node", "v1", collected.nodes)}
    namespaces = collected.namespaces()
    for kind in KINDS:
        api_version, plural, _namespaced = kinds.KINDS[kind]
        items = collected.lists.get(kind)
        if items is None:
            continue
        by_namespace = dict((ns, []) for ns in namespaces)
        for item in items:
            by_namespace.setdefault((item.get("metadata") or {}).get("namespace") or "", []).append(item)
        for ns, members in by_namespace.items():
            if ns:
                files["%s/%s.json" % (ns, plural)] = _list_text(kind, api_version, members)
    for (ns, pod, container, previous), text in collected.logs.items():
        files["%s/%s/%s%s.log" % (ns, pod, container, ".previous" if previous else "")] = text
    for kind, _plural, name, _namespaced in METRICS_KINDS:
        if kind in collected.metrics:
            files["metrics/" + name] = _list_text(kind, metrics.API_VERSION, collected.metrics[kind])
    if "PodMetrics" in collected.metrics:
        files["metrics/top-pods.txt"] = metrics.format_top_pods(collected.metrics["PodMetrics"])
    if "NodeMetrics" in collected.metrics:
        files["metrics/top-nodes.txt"] = metrics.format_top_nodes(collected.metrics["NodeMetrics"], collected.nodes)
    if collected.metrics_refused:
        lines = ["%s: %s" % (kind, collected.metrics_refused[kind]) for kind, _p, _n, _ns in METRICS_KINDS
                 if kind in collected.metrics_refused]
        lead = NOT_REQUESTED_TEXT if set(collected.metrics_refused.values()) == {NOT_REQUESTED} else NOT_COLLECTED_TEXT
        files["metrics/" + metrics.NOTE_FILE] = lead + "\n".join(lines) + "\n"
    return files


# -- writing -----------------------------------------------------------------------------------------------

def _safe_relative(path):
    """Names come from the API (namespace, pod, container): never let one leave the bundle directory."""
    parts = path.split("/")
    if any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts):
        raise InvalidInput("refusing to write %r: not a plain relative path inside the bundle" % (path,))
    return os.path.join(*parts)


def _same_content(path, data):
    try:
        with open(path, "rb") as handle:
            return handle.read() == data
    except (IOError, OSError):
        return False


def write(dest, files, check_mode=False):
    """Write ``files`` under ``dest``; returns the relative paths whose content changed (or would, in check mode).

    Files of an earlier bundle in ``dest`` are left alone, except the metrics files this collection did not write
    (usage files and NOT-COLLECTED.txt must agree). Nothing else is ever deleted.
    """
    dest = os.path.abspath(dest)
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise InvalidInput("Bundle directory %s exists and is not a directory: choose another directory (dest, or "
                           "-e bundle_dir for collect_bundle)" % dest)
    changed = []
    # metrics/ tells one story: usage files or the note of this collection, never an earlier bundle's.
    for name in metrics.DUMP_FILES + (metrics.NOTE_FILE,):
        old = os.path.join(dest, "metrics", name)
        if "metrics/" + name not in files and os.path.isfile(old):
            changed.append("metrics/" + name)
            if not check_mode:
                os.unlink(old)
    for relative in sorted(files):
        path = os.path.join(dest, _safe_relative(relative))
        data = files[relative].encode("utf-8")
        if _same_content(path, data):
            continue
        changed.append(relative)
        if check_mode:
            continue
        try:
            _make_dirs(os.path.dirname(path))
            replace_atomic(path, data, FILE_MODE)
        except (IOError, OSError) as exc:
            raise AiopsError("Cannot write %s: %s; choose a directory you can write to (dest, or -e bundle_dir for "
                             "collect_bundle)" % (path, exc.strerror or exc))
    return changed


def _make_dirs(directory):
    """Create ``directory`` and its missing parents with DIR_MODE (umask applies)."""
    missing = []
    while not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, DIR_MODE)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
