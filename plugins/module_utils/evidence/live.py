# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence from a live cluster through the transport adapter (k8s_transport.Transport).

One pod: GET pod, one filtered LIST of its events, owners/node/claims by GET, logs.
A namespace, selectors or every namespace: LIST calls only, never a GET per pod: pods (paged, the
selectors go to the server), events (one LIST), then only the owner kinds actually referenced, nodes
once, claims once; logs only for containers that crashed or exited, with bounded concurrency.
Secrets are never requested: the kubelet's message already names a missing secret or key.

A 403 on an optional read (nodes, owners, claims, logs) is a problem note, not a failure; a 403 on
the pods themselves is a Forbidden error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import model as ev
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import assemble as sc
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import (
    AiopsError,
    ApiError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import SCOPE_CLUSTER, SCOPE_POD
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import capacity as capacity_source
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics as metrics_source
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.usage import LazyUsage

DEFAULT_CONCURRENCY = 8
# Log reads start at log_concurrency and grow by one per answer while the server keeps up, up to this
# bound; a throttled answer (429) halves the limit. 32 stays well inside the default priority-and-fairness
# share of a client (kube-apiserver --max-requests-inflight 400) and keeps one process's sockets modest.
MAX_LOG_CONCURRENCY = 32
DEFAULT_PAGE_SIZE = 500

# Pod-level reasons that already are the cause: the containers were stopped from outside, their logs
# do not say why.
_POD_LEVEL_CAUSES = ("Evicted", "NodeLost", "Shutdown", "NodeShutdown", "Terminated", "UnexpectedAdmissionError",
                     "NodeAffinity", "OutOfcpu", "OutOfmemory", "OutOfpods")
# Exits of a process the kubelet killed (SIGKILL / SIGTERM).
_KILL_EXITS = (137, 143)
_PROBE_KILL = re.compile(r"failed (?:liveness|startup) probe|(?:Liveness|Startup) probe failed|is unhealthy, it will be "
                         r"killed", re.I)
_FIELD_CONTAINER = re.compile(r"^spec\.(?:initContainers|containers|ephemeralContainers)\{([^}]+)\}$")

# Controller events that make the controller itself worth a diagnosis (assemble.workload_keys decides).
_WORKLOAD_REASONS = ("FailedCreate", "DeadlineExceeded", "BackoffLimitExceeded")

# What is skipped when an optional read is refused, for the problem note.
_SKIPPED = {
    "events": "diagnosis without events",
    "nodes": "node checks skipped",
    "persistentvolumeclaims": "claim checks skipped",
    "configmaps": "ConfigMap checks skipped",
    "pods/log": "logs skipped",
}


def _collection(kind_or_plural, namespace=None):
    """API path of a collection: core (/api/v1) or grouped (/apis/g/v), namespaced or cluster-wide."""
    if kind_or_plural in sc.OWNER_KINDS:
        api_version, plural = sc.OWNER_KINDS[kind_or_plural]
    else:
        api_version, plural = "v1", kind_or_plural
    base = "/api/v1" if api_version == "v1" else "/apis/%s" % api_version
    if namespace:
        return "%s/namespaces/%s/%s" % (base, namespace, plural)
    return "%s/%s" % (base, plural)


class LiveSource(object):
    """``gather(target) -> Gathered`` from the API server behind ``transport``."""

    def __init__(self, transport, log_tail_lines=None, log_max_bytes=None, redact_patterns=None,
                 log_concurrency=DEFAULT_CONCURRENCY, page_size=DEFAULT_PAGE_SIZE, clock=None, metrics=False):
        self.transport = transport
        # Opt-in: usage from metrics.k8s.io (one LIST per namespace, or one GET per pod, plus nodes).
        self.metrics = bool(metrics)
        self.tail_lines, self.max_bytes, self.patterns = sc.caps(log_tail_lines, log_max_bytes, redact_patterns)
        if not isinstance(log_concurrency, int) or log_concurrency < 1:
            raise InvalidInput("log_concurrency must be a whole number >= 1, got %r" % (log_concurrency,))
        if not isinstance(page_size, int) or page_size < 1:
            raise InvalidInput("page_size must be a whole number >= 1, got %r" % (page_size,))
        self.log_concurrency = log_concurrency
        self.page_size = page_size
        self.clock = clock or (lambda: datetime.datetime.now(ev.UTC))
        self.problems = []
        self._local = threading.local()  # .notes: the problem notes of the read running in this thread
        self._notes_lock = threading.Lock()

    # -- helpers ----------------------------------------------------------------------------

    def _note(self, message):
        notes = getattr(self._local, "notes", None)
        notes = self.problems if notes is None else notes
        with self._notes_lock:
            if message not in notes:
                notes.append(message)

    def _side_by_side(self, *calls):
        """Run independent reads at once (on a real network each is a round trip); results in call order.

        Each call's problem notes are kept apart and returned with the results, so the caller can add
        them in the order the reads used to run one after another (the report reads the same either way).
        The first exception, in call order, is raised once every call has finished.
        """
        buckets = [[] for _call in calls]

        def run(index):
            self._local.notes = buckets[index]
            try:
                return calls[index]()
            finally:
                self._local.notes = None

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = [pool.submit(run, index) for index in range(len(calls))]
        return [future.result() for future in futures], buckets

    def _optional(self, what, call, default=None):
        """Run an optional read; a refusal or odd failure becomes a problem note, not an abort."""
        try:
            return call()
        except Forbidden:
            resource = what.split()[1] if len(what.split()) > 1 else what
            self._note("cannot %s: forbidden; %s" % (what, _SKIPPED.get(resource, "continuing without them")))
        except (NotFound, ApiError) as exc:
            self._note("cannot %s: %s" % (what, exc))
        return default

    def _list(self, path, query=None):
        return list(self.transport.list_items(path, query, page_size=self.page_size))

    # -- gathering --------------------------------------------------------------------------

    def gather(self, target):
        self.problems = []
        start = self.transport.request_count
        as_of = self.clock()
        snapshot = sc.Snapshot()
        if target.scope == SCOPE_POD:
            self._gather_pod(target, snapshot)
            snapshot.logs = self._read_logs(snapshot.pods, snapshot.events)
        else:
            self._gather_scope(target, snapshot)
        pods, workloads = sc.assemble(snapshot, as_of, "live")
        if target.scope == SCOPE_POD or target.label_selectors or target.field_selectors:
            workloads = []
        gathered = sc.Gathered(pods, workloads, as_of, "live", problems=list(self.problems))
        if self.metrics:
            self._read_usage(target, snapshot, gathered)
        gathered.requests = self.transport.request_count - start
        return gathered

    def _read_usage(self, target, snapshot, gathered):
        """Attach usage (evidence/usage.py) to ``gathered``; a refused metrics API is one problem note."""
        nodes = set((pod.get("spec") or {}).get("nodeName") for pod in snapshot.pods) - {None, ""}
        # A pod pending for lack of cpu/memory has no sample: its proposal sizes from node room and
        # sibling usage (evidence/capacity.py), read only when such a pod is there.
        unfiltered = not (target.label_selectors or target.field_selectors)
        capacity, capacity_note = capacity_source.read_live(
            self.transport, snapshot.pods, list((snapshot.nodes or {}).values()) if target.scope != SCOPE_POD else None,
            self.page_size, snapshot.pods if target.scope == SCOPE_CLUSTER and unfiltered else None)
        if target.scope == SCOPE_POD and capacity is None:
            reading = metrics_source.read_live(self.transport, pod=(target.namespace, target.name), nodes=nodes)
        else:
            namespaces = None if target.scope == SCOPE_CLUSTER else [target.namespace]
            reading = metrics_source.read_live(self.transport, namespaces=namespaces if snapshot.pods else [],
                                               nodes=None if capacity else nodes)
        for note in reading["problems"] + ([capacity_note] if capacity_note else []):
            if note not in gathered.problems:
                gathered.problems.append(note)
        gathered.usage = LazyUsage(gathered, reading, capacity=capacity)

    def _namespace_exists(self, namespace):
        """False only when the API says the namespace does not exist."""
        try:
            self.transport.get_json("/api/v1/namespaces/%s" % namespace)
        except NotFound:
            return False
        except (Forbidden, ApiError):
            return True
        return True

    def _gather_pod(self, target, snapshot):
        namespace, name = target.namespace, target.name
        try:
            pod = self.transport.get_json("/api/v1/namespaces/%s/pods/%s" % (namespace, name))
        except NotFound:
            if not self._namespace_exists(namespace):
                raise NotFound("Namespace", name=namespace)
            raise NotFound("Pod", namespace, name)
        if sc.check_object(pod):
            raise ApiError(200, "OK", "the API returned an unusable object for pod %s/%s" % (namespace, name))
        pod.setdefault("kind", "Pod")
        pod.setdefault("apiVersion", "v1")
        snapshot.pods = [sc.redact_pod_messages(pod, self.patterns)]
        selector = "involvedObject.name=%s,involvedObject.namespace=%s,involvedObject.kind=Pod" % (name, namespace)
        raw_events = self._optional("list events", lambda: self._list(
            _collection("events", namespace), {"fieldSelector": selector}), [])
        snapshot.events = sc.normalise_events(raw_events, self.patterns)
        self._get_owner_chain(pod, snapshot)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            snapshot.nodes = self._get_optional_object("get nodes", "/api/v1/nodes/%s" % node_name, node_name)
        claims = sc.claim_names(pod)
        if claims:
            found = {}
            for claim in claims:
                result = self._get_optional_object(
                    "get persistentvolumeclaims", _collection("persistentvolumeclaims", namespace) + "/" + claim,
                    (namespace, claim))
                if result is None:
                    found = None
                    break
                found.update(result)
            snapshot.claims = found
        self._get_configmaps([pod], snapshot)

    def _get_optional_object(self, what, path, key):
        """{key: object} or {key: None} when it does not exist; None when it could not be read."""
        try:
            return {key: self.transport.get_json(path)}
        except NotFound:
            return {key: None}
        except Forbidden:
            resource = what.split()[1]
            self._note("cannot %s: forbidden; %s" % (what, _SKIPPED.get(resource, "continuing without them")))
        except ApiError as exc:
            self._note("cannot %s: %s" % (what, exc))
        return None

    def _get_owner_chain(self, obj, snapshot):
        current = obj
        namespace = sc.meta(obj).get("namespace")
        for _depth in range(sc.MAX_OWNER_DEPTH):
            ref = sc.controller_ref(current)
            if ref is None or ref.get("kind") not in sc.OWNER_KINDS:
                return
            path = _collection(ref["kind"], namespace) + "/" + ref.get("name", "")
            what = "get %s" % sc.OWNER_KINDS[ref["kind"]][1]
            try:
                owner = self.transport.get_json(path)
            except NotFound:
                return
            except Forbidden:
                self._note("cannot %s: forbidden; owner chain stops at %s %s" % (what, ref["kind"], ref.get("name")))
                return
            except ApiError as exc:
                self._note("cannot %s: %s" % (what, exc))
                return
            if sc.check_object(owner):
                return
            owner.setdefault("kind", ref["kind"])
            snapshot.add_owner(owner, ref["kind"])
            current = owner

    def _gather_scope(self, target, snapshot):
        namespace = None if target.scope == SCOPE_CLUSTER else target.namespace
        query = {"labelSelector": target.label_selector, "fieldSelector": target.field_selector}
        pods = []
        for item in self.transport.list_items(_collection("pods", namespace), query, page_size=self.page_size):
            problem = sc.check_object(item)
            if problem:
                self._note("skipped a pod: %s" % problem)
                continue
            pods.append(sc.redact_pod_messages(item, self.patterns))
        if not pods and namespace and not self._namespace_exists(namespace):
            raise NotFound("Namespace", name=namespace)
        snapshot.pods = pods
        # Everything below depends only on the pods, or on the pods and their events: independent reads
        # run side by side (events | nodes | claims | ConfigMaps, then owners | logs).
        (raw_events, _nodes, _claims, _configmaps), early = self._side_by_side(
            lambda: self._optional("list events", lambda: self._list(_collection("events", namespace)), []),
            lambda: self._scope_nodes(pods, snapshot),
            lambda: self._scope_claims(pods, snapshot, namespace),
            lambda: self._get_configmaps(pods, snapshot))
        snapshot.events = sc.normalise_events(raw_events, self.patterns)
        (_owners, snapshot.logs), late = self._side_by_side(
            lambda: self._list_owners(pods, snapshot, namespace),
            lambda: self._read_logs(pods, snapshot.events))
        # Notes in the order of the sequential reads: events, owners, nodes, claims, ConfigMaps, logs.
        for message in early[0] + late[0] + early[1] + early[2] + early[3] + late[1]:
            self._note(message)

    def _scope_nodes(self, pods, snapshot):
        if any((pod.get("spec") or {}).get("nodeName") for pod in pods):
            nodes = self._optional("list nodes", lambda: self._list("/api/v1/nodes"))
            if nodes is not None:
                snapshot.nodes = dict((sc.key_of(node)[1], node) for node in nodes if not sc.check_object(node))

    def _scope_claims(self, pods, snapshot, namespace):
        if any(sc.claim_names(pod) for pod in pods):
            claims = self._optional("list persistentvolumeclaims",
                                    lambda: self._list(_collection("persistentvolumeclaims", namespace)))
            if claims is not None:
                snapshot.claims = dict((sc.key_of(c), c) for c in claims if not sc.check_object(c))

    def _list_owners(self, pods, snapshot, namespace):
        """LIST only the controller kinds referenced, children before parents (ReplicaSet -> Deployment)."""
        wanted = sc.referenced_owner_keys(pods)
        for event in snapshot.events:
            # A Job past its deadline has no pods left to reference it: its own event leads to it.
            if event.get("kind") in sc.WORKLOAD_KINDS and event.get("reason") in _WORKLOAD_REASONS:
                wanted[event["kind"]].add((event.get("namespace") or "", event.get("name") or ""))
        for kind, (_api_version, plural) in sc.OWNER_KINDS.items():
            if not wanted.get(kind):
                continue
            items = self._optional("list %s" % plural, lambda: self._list(_collection(kind, namespace)))
            if items is None:
                continue
            fetched = []
            for item in items:
                if sc.check_object(item):
                    continue
                item.setdefault("kind", kind)
                snapshot.add_owner(item, kind)
                fetched.append(item)
            for parent_kind, keys in sc.referenced_owner_keys(fetched).items():
                wanted[parent_kind].update(keys)

    def _get_configmaps(self, pods, snapshot):
        """Existence and key names of ConfigMaps referenced by pods stuck on configuration (values dropped)."""
        wanted = set()
        for pod in pods:
            if sc.needs_config_refs(pod):
                namespace = sc.key_of(pod)[0]
                for name in sc.config_references(pod)[0]:
                    wanted.add((namespace, name))
        if not wanted:
            return
        # One GET each (a LIST would return every value of every ConfigMap); over a real network they are
        # round trips, so they run side by side like the log reads. Outcomes are read in sorted order: the
        # first refusal decides, as when they ran one by one.
        keys = sorted(wanted)
        if len(keys) == 1:
            outcomes = [self._get_configmap(keys[0])]
        else:
            with ThreadPoolExecutor(max_workers=min(DEFAULT_CONCURRENCY, len(keys))) as pool:
                outcomes = list(pool.map(self._get_configmap, keys))
        found = {}
        for key, (configmap, refusal) in zip(keys, outcomes):
            if refusal is not None:
                self._note(refusal)
                return
            if configmap is not None:
                found[key] = configmap
        snapshot.configmaps = found

    def _get_configmap(self, key):
        """(stripped ConfigMap or None when it does not exist, refusal note or None)."""
        namespace, name = key
        try:
            return sc.strip_configmap(self.transport.get_json(_collection("configmaps", namespace) + "/" + name)), None
        except NotFound:
            return None, None
        except Forbidden:
            return None, "cannot get configmaps: forbidden; %s" % _SKIPPED["configmaps"]
        except ApiError as exc:
            return None, "cannot get configmaps: %s" % exc

    # -- logs -------------------------------------------------------------------------------

    def _read_logs(self, pods, events=()):
        probe_killed = _probe_killed(events)
        jobs = []
        fallback = set()   # current reads skipped because the previous log should hold the same text
        for pod in pods:
            namespace, name = sc.key_of(pod)
            pod_jobs = log_jobs(pod, probe_killed)
            jobs.extend(pod_jobs)
            fallback.update((namespace, name, container) for container, current, _previous in sc.log_requests(pod)
                            if current and (namespace, name, container, False) not in pod_jobs)
        if not jobs:
            return {}
        results = self._read_many(jobs)
        # A previous log the runtime no longer has: try the current one, as before the skip.
        retry = [(namespace, name, container, False) for (namespace, name, container, previous), (text, _cut)
                 in zip(jobs, results) if previous and text is None and (namespace, name, container) in fallback]
        if retry:
            jobs, results = jobs + retry, results + self._read_many(retry)
        logs = {}
        for (namespace, name, container, previous), (text, truncated) in zip(jobs, results):
            entry = logs.setdefault((namespace, name, container), {"current": None, "previous": None,
                                                                   "truncated": False})
            entry["previous" if previous else "current"] = text
            entry["truncated"] = entry["truncated"] or truncated
        return dict((key, entry) for key, entry in logs.items()
                    if entry["current"] is not None or entry["previous"] is not None)

    def read_log_jobs(self, jobs):
        """Capped, redacted text of each (namespace, pod, container, previous) log in order; None where the
        runtime has no such log. Refusals become ``problems``. Used by the bundle, which keeps every log."""
        self.problems = []
        return [text for text, _truncated in self._read_many(jobs)] if jobs else []

    def _read_many(self, jobs):
        """_read_log for each job, in order, at the adaptive concurrency."""
        if len(jobs) == 1 or self.log_concurrency == 1:
            return [self._read_log(job) for job in jobs]
        limit = _AdaptiveLimit(self.transport, self.log_concurrency, max(self.log_concurrency, MAX_LOG_CONCURRENCY))
        notes = getattr(self._local, "notes", None)

        def read(job):
            self._local.notes = notes  # the caller's notes, when it runs beside other reads
            with limit:
                return self._read_log(job)

        with ThreadPoolExecutor(max_workers=min(limit.maximum, len(jobs))) as pool:
            return list(pool.map(read, jobs))

    def _read_log(self, job):
        namespace, name, container, previous = job
        query = {"container": container, "tailLines": self.tail_lines}
        if previous:
            query["previous"] = "true"
        try:
            text, truncated = self.transport.get_text("/api/v1/namespaces/%s/pods/%s/log" % (namespace, name), query,
                                                      max_bytes=self.max_bytes)
        except Forbidden:
            self._note("cannot get pods/log: forbidden; %s" % _SKIPPED["pods/log"])
            return None, False
        except Unauthorized:
            raise
        except (NotFound, ApiError):
            # 400 "previous terminated container not found" / "waiting to start": no such log.
            return None, False
        except AiopsError as exc:
            self._note("cannot read logs of %s/%s: %s" % (namespace, name, exc))
            return None, False
        return sc.clean_log(text, truncated, self.tail_lines, self.max_bytes, self.patterns)


# -- which logs add evidence --------------------------------------------------------------------

def _probe_killed(events):
    """{(namespace, pod, container)} the kubelet killed because a liveness/startup probe failed."""
    killed = set()
    for event in events or ():
        if event.get("kind") != "Pod" or event.get("reason") not in ("Killing", "Unhealthy"):
            continue
        if not _PROBE_KILL.search(event.get("message") or ""):
            continue
        match = _FIELD_CONTAINER.match(event.get("field_path") or "")
        killed.add((event.get("namespace"), event.get("name"), match.group(1) if match else None))
    return killed


def log_jobs(pod, probe_killed=frozenset()):
    """[(namespace, pod, container, previous)] log reads that can add evidence for ``pod``.

    assemble.log_requests names every container that crashed or exited; over a real network each log read
    costs a kubelet round trip, so reads whose answer is already known are dropped:
    - the pod was stopped from outside (Evicted, NodeLost, ...): the pod's own status is the cause;
    - the container left a termination message: its own last words (with FallbackToLogsOnError, its log tail);
    - the kubelet killed it after failed liveness/startup probes (kill exit code and probe events);
    - it waits to restart after a termination: the kubelet answers the "current" read with the previous
      container's log (kubelet validateContainerLogStatus), so only the previous one is read;
    - it was OOM-killed: only the log of the instance that was killed.
    """
    status = pod.get("status") or {}
    namespace, name = sc.key_of(pod)
    if status.get("reason") in _POD_LEVEL_CAUSES:
        return []
    by_name = {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for item in status.get(key) or []:
            if isinstance(item, dict) and item.get("name"):
                by_name[item["name"]] = item
    jobs = []
    for container, current, previous in sc.log_requests(pod):
        item = by_name.get(container) or {}
        state, last = item.get("state") or {}, item.get("lastState") or {}
        now_term, last_term = state.get("terminated") or {}, last.get("terminated") or {}
        if any(str(term.get("message") or "").strip() for term in (now_term, last_term)):
            continue
        killed = ev_int(last_term.get("exitCode")) in _KILL_EXITS or ev_int(now_term.get("exitCode")) in _KILL_EXITS
        if killed and ((namespace, name, container) in probe_killed or (namespace, name, None) in probe_killed):
            continue
        if state.get("waiting") and last_term:
            current = False
        if last_term.get("reason") == "OOMKilled" and not now_term:
            current = False
        if now_term.get("reason") == "OOMKilled":
            previous = False
        if current:
            jobs.append((namespace, name, container, False))
        if previous:
            jobs.append((namespace, name, container, True))
    return jobs


def ev_int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _AdaptiveLimit(object):
    """How many log reads run at once: +1 per answer up to ``maximum``, halved when the server throttles.

    Log reads are latency-bound (API server -> kubelet -> back), so more in flight finishes sooner until
    the server pushes back with 429; Transport already waits the Retry-After and retries, and counts it.
    """

    def __init__(self, transport, start, maximum):
        self.transport = transport
        self.maximum = maximum
        self.limit = float(max(1, min(start, maximum)))
        self.active = 0
        self._seen = getattr(transport, "throttled", 0)
        self._cond = threading.Condition()

    def __enter__(self):
        with self._cond:
            while self.active >= int(self.limit):
                self._cond.wait()
            self.active += 1
        return self

    def __exit__(self, *_exc):
        with self._cond:
            self.active -= 1
            throttled = getattr(self.transport, "throttled", 0)
            if throttled > self._seen:
                self._seen = throttled
                self.limit = max(1.0, self.limit / 2)
            else:
                self.limit = min(float(self.maximum), self.limit + 1)
            self._cond.notify_all()
        return False
