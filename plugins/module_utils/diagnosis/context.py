# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers for the rule families: a per-pod context computed once, findings and evidence.

Every accessor is defensive: evidence comes from partial dumps, `kubectl describe` reconstructions
and old clusters, so any field may be missing, null or of the wrong type. Nothing here raises.
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import age_seconds, parse_time

# Finding ranks: the highest rank is the root cause, the others become `secondary`.
RANK = {
    "TerminatingStuck": 100,
    "NodeLost": 98,
    "DeadlineExceeded": 96,
    "Evicted": 95,
    "UnschedulableVolume": 91,
    "UnschedulableInsufficientResources": 90,
    "UnschedulableNodeAffinity": 90,
    "UnschedulableTaints": 90,
    "Unschedulable": 89,
    "SandboxCreationFailure": 82,
    "VolumeMountFailure": 81,
    "CreateContainerConfigError": 78,
    "InvalidImageName": 77,
    "ImagePullBackOff": 76,
    "OOMKilled": 74,
    "InitContainerFailure": 72,
    "RunContainerError": 70,
    "CreateContainerError": 69,
    "StartupProbeFailure": 66,
    "LivenessProbeFailure": 65,
    "CrashLoopBackOff": 60,
    "ContainerExitError": 55,
    "ReadinessProbeFailure": 40,
}

_FIELD_PATH_RE = re.compile(r"spec\.(initContainers|containers|ephemeralContainers)\{([^}]*)\}")
# Container names in kubelet event wording across releases.
_NAMED_RE = re.compile(r'[Cc]ontainer ([a-z0-9][a-z0-9.-]*) (?:failed|is unhealthy|definition)|'
                       r'container "([a-z0-9][a-z0-9.-]*)"|container=([a-z0-9][a-z0-9.-]*)|'
                       r'with id (?:docker|containerd|cri-o)://([a-z0-9][a-z0-9.-]*):')


def as_dict(value):
    return value if isinstance(value, dict) else {}


def as_list(value):
    return value if isinstance(value, list) else []


def as_str(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _text(value):
    """as_str for the hot paths: a str is returned as is without a call to as_str."""
    return value if isinstance(value, str) else as_str(value)


def as_int(value, default=None):
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float):
        return int(value)
    return default


def clip(text, limit):
    """Text shortened to `limit` characters keeping its end: runtimes and kubelets put the decisive clause
    last ('...: exec: "npm": executable file not found in $PATH: unknown'), so the middle is what goes."""
    text = as_str(text)
    if len(text) <= limit:
        return text
    head = max(limit * 2 // 5, 1)
    return text[:head].rstrip() + " … " + text[-(limit - head - 3):].lstrip()


def ev(source, detail):
    """One evidence pointer."""
    return {"source": source, "detail": clip(detail, 500)}


def finding(category, summary, root_cause, confidence, culprit=None, evidence=None, container=None,
            facts=None, severity=None, tentative=False):
    """A rule's result. `facts` carries data for proposals (limits, images, claims...)."""
    return {
        "category": category,
        "summary": summary,
        "root_cause": root_cause,
        "confidence": round(max(0.0, min(1.0, float(confidence))), 2),
        "culprit": culprit or {},
        "evidence": evidence or [],
        "container": container,
        "facts": facts or {},
        "severity": severity,
        "tentative": tentative,
        "rank": RANK.get(category, 0),
    }


class Container(object):
    """One container merged from spec and status (either may be missing)."""

    __slots__ = ("role", "name", "spec", "status", "state", "last", "waiting", "running", "terminated",
                 "last_terminated", "restarts", "ready", "started", "image", "sidecar", "index", "waiting_reason")

    def __init__(self, role, name, spec, status, index):
        # Hot path (every container of every pod): as_dict/as_str/as_int are inlined for speed.
        self.role = role
        self.name = name
        self.index = index
        self.spec = spec
        self.status = status
        state = status.get("state")
        state = self.state = state if isinstance(state, dict) else {}
        last = status.get("lastState")
        last = self.last = last if isinstance(last, dict) else {}
        waiting = running = terminated = last_terminated = None
        if state:
            if "waiting" in state:
                waiting = state["waiting"]
                waiting = waiting if isinstance(waiting, dict) else {}
            if "running" in state:
                running = state["running"]
                running = running if isinstance(running, dict) else {}
            if "terminated" in state:
                terminated = state["terminated"]
                terminated = terminated if isinstance(terminated, dict) else {}
        if last and "terminated" in last:
            last_terminated = last["terminated"]
            last_terminated = last_terminated if isinstance(last_terminated, dict) else {}
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
        self.last_terminated = last_terminated
        # Read by every rule family for every container: computed once here rather than as a property.
        self.waiting_reason = as_str(waiting.get("reason")) if waiting is not None else ""
        restarts = status.get("restartCount")
        self.restarts = restarts if isinstance(restarts, int) and not isinstance(restarts, bool) \
            else (as_int(restarts, 0) or 0)
        self.ready = status.get("ready") is True
        self.started = status.get("started")
        image = spec.get("image") or status.get("image")
        self.image = image if isinstance(image, str) else as_str(image)
        self.sidecar = role == "init" and spec.get("restartPolicy") == "Always"

    @property
    def status_path(self):
        key = {"init": "initContainerStatuses", "ephemeral": "ephemeralContainerStatuses"}.get(
            self.role, "containerStatuses")
        return "status.%s[%s]" % (key, self.name)

    @property
    def waiting_message(self):
        return as_str(self.waiting.get("message")) if self.waiting is not None else ""


_ROLE_KEYS = (("init", "initContainers", "initContainerStatuses"),
              ("app", "containers", "containerStatuses"),
              ("ephemeral", "ephemeralContainers", "ephemeralContainerStatuses"))


def _aligned(specs, statuses):
    """True when specs and statuses are dicts pairing up by name in order, names distinct."""
    names = set()
    for item, state in zip(specs, statuses):
        if not isinstance(item, dict) or not isinstance(state, dict):
            return False
        name = item.get("name")
        if name != state.get("name") or name in names:
            return False
        names.add(name)
    return True


def _containers(spec, status):
    """Containers from spec and status, including statuses whose spec is absent (partial objects)."""
    result = []
    for role, spec_key, status_key in _ROLE_KEYS:
        specs = spec.get(spec_key)
        raw_statuses = status.get(status_key)
        if not specs and not raw_statuses:
            continue    # most pods have no init or ephemeral containers
        if isinstance(specs, list) and isinstance(raw_statuses, list) and len(specs) == len(raw_statuses) and \
                _aligned(specs, raw_statuses):
            # The common case: one status per spec, same names in the same order.
            for index, item in enumerate(specs):
                name = item.get("name")
                result.append(Container(role, name if isinstance(name, str) else as_str(name), item,
                                        raw_statuses[index] or {}, index))
            continue
        statuses = {}
        order = []
        for item in as_list(raw_statuses):
            if isinstance(item, dict):
                name = item.get("name")
                name = name if isinstance(name, str) else as_str(name)
                statuses[name] = item
                order.append(name)
        seen = set()
        index = 0
        for item in as_list(specs):
            if isinstance(item, dict):
                name = item.get("name")
                name = name if isinstance(name, str) else as_str(name)
                seen.add(name)
                result.append(Container(role, name, item, statuses.get(name) or {}, index))
                index += 1
        for name in order:
            if name not in seen:
                result.append(Container(role, name, {}, statuses[name], index))
                index += 1
    return result


class PodContext(object):
    """Facts about one pod, computed once and shared by every rule family."""

    __slots__ = ("evidence", "pod", "meta", "spec", "status", "phase", "reason", "message", "as_of",
                 "events", "by_reason", "containers", "conditions", "owners", "node", "node_state",
                 "logs", "name", "namespace", "_age", "restart_policy", "notes", "_phantoms", "_has_statuses")

    def __init__(self, evidence):
        # Hot path (once per pod, 10,000+ pods/s): the as_dict/as_str helpers are inlined here.
        self.evidence = evidence
        pod = getattr(evidence, "pod", None)
        pod = self.pod = pod if isinstance(pod, dict) else {}
        meta = pod.get("metadata")
        meta = self.meta = meta if isinstance(meta, dict) else {}
        spec = pod.get("spec")
        spec = self.spec = spec if isinstance(spec, dict) else {}
        status = pod.get("status")
        status = self.status = status if isinstance(status, dict) else {}
        value = status.get("phase")
        self.phase = value if isinstance(value, str) else as_str(value)
        value = status.get("reason")
        self.reason = value if isinstance(value, str) else as_str(value)
        value = status.get("message")
        self.message = value if isinstance(value, str) else as_str(value)
        self.as_of = getattr(evidence, "as_of", None)
        value = meta.get("name")
        self.name = value if isinstance(value, str) else as_str(value)
        value = meta.get("namespace")
        self.namespace = value if isinstance(value, str) else as_str(value)
        value = spec.get("restartPolicy")
        self.restart_policy = (value if isinstance(value, str) else as_str(value)) or "Always"
        events = []
        by_reason = {}
        raw_events = getattr(evidence, "events", None)
        if raw_events and isinstance(raw_events, list):
            for event in raw_events:
                if isinstance(event, dict) and _text(event.get("kind")) in ("", "Pod"):
                    events.append(event)
                    by_reason.setdefault(_text(event.get("reason")), []).append(event)
        self.events = events
        self.by_reason = by_reason
        self.containers = _containers(spec, status)
        conditions = {}
        raw_conditions = status.get("conditions")
        if raw_conditions and isinstance(raw_conditions, list):
            for cond in raw_conditions:
                if isinstance(cond, dict) and cond.get("type"):
                    conditions[_text(cond.get("type"))] = cond
        self.conditions = conditions
        owners = getattr(evidence, "owners", None)
        self.owners = [o for o in owners if isinstance(o, dict)] if owners and isinstance(owners, list) else []
        node = getattr(evidence, "node", None)
        self.node = node if isinstance(node, dict) else None
        value = getattr(evidence, "node_state", "unknown")
        self.node_state = value if isinstance(value, str) else as_str(value)
        logs = getattr(evidence, "logs", None)
        self.logs = logs if isinstance(logs, dict) else {}
        self._age = False      # computed on first use: most pods never need it
        self.notes = []
        self._phantoms = None
        self._has_statuses = None

    @property
    def age(self):
        """Seconds since the pod was created (or started); None when unknown."""
        if self._age is False:
            self._age = self.age_of(self.meta.get("creationTimestamp") or self.status.get("startTime"))
        return self._age

    def age_of(self, value):
        """Seconds between a timestamp (str or datetime) and as_of; None when unknown."""
        try:
            if value is None or self.as_of is None:
                return None
            if not isinstance(value, str) and not hasattr(value, "tzinfo"):
                return None
            return age_seconds(value, self.as_of)
        except (TypeError, ValueError, OverflowError):
            return None

    def event_age(self, event):
        return self.age_of(event.get("last_seen") or event.get("first_seen"))

    def event_first_age(self, event):
        return self.age_of(event.get("first_seen") or event.get("last_seen"))

    def events_for(self, *reasons):
        """Events of the given reasons (a new list, event order within each reason)."""
        by_reason = self.by_reason
        if not by_reason:
            return []   # most pods: no events at all
        result = []
        for reason in reasons:
            found = by_reason.get(reason)
            if found:
                result.extend(found)
        return result

    def app_count(self):
        return sum(1 for c in self.containers if c.role == "app")

    def event_container(self, event):
        """Container name an event is about: from fieldPath, else None."""
        match = _FIELD_PATH_RE.search(as_str(event.get("field_path")))
        return match.group(2) if match else None

    def container_events(self, container, *reasons):
        """Events of the given reasons about one container.

        An event without a fieldPath (`kubectl describe` drops it) belongs to the container its message
        names; one that names no container of the pod is ambiguous and counts for every container (the
        rules then check each container's own state).
        """
        if not self.events:
            return []
        result = []
        for event in self.events_for(*reasons):
            name = self.event_container(event)
            if name is not None:
                if name == container.name:
                    result.append(event)
                continue
            named = self._names_in(as_str(event.get("message")))
            if not named or container.name in named:
                result.append(event)
        return result

    def _names_in(self, message):
        """Names of this pod's containers mentioned in an event message (by name or image)."""
        named = set()
        for other in self.containers:
            if not other.name:
                continue
            if ("container " + other.name) in message or ("container=" + other.name) in message or \
                    ('container "%s"' % other.name) in message or \
                    (other.image and ('"%s"' % other.image) in message):
                named.add(other.name)
        return named

    @property
    def has_statuses(self):
        """True when the capture holds any container status (a kubelet reported on this pod)."""
        if self._has_statuses is None:
            self._has_statuses = any(c.status for c in self.containers)
        return self._has_statuses

    def event_only_containers(self):
        """Containers known only from events, for captures without container statuses.

        `kubectl describe` pasted into a ticket often keeps the events and drops the status block. The
        names come from the events' fieldPath or from the kubelet's wording ('Container X failed ...',
        'container "X"', 'container=X'); one unnamed container stands in when no event names any. Empty
        when statuses exist: then they are the better witness.
        """
        if self._phantoms is not None:
            return self._phantoms
        phantoms = []
        if not self.has_statuses and self.phase not in ("Succeeded", "Failed"):
            known = dict((c.name, c) for c in self.containers)
            names = []
            for event in self.events:
                if event.get("type") != "Warning" and as_str(event.get("reason")) != "Killing":
                    continue
                path = _FIELD_PATH_RE.search(as_str(event.get("field_path")))
                name = path.group(2) if path else None
                role = "init" if path and path.group(1) == "initContainers" else "app"
                if name is None:
                    match = _NAMED_RE.search(as_str(event.get("message")))
                    name = next((g for g in match.groups() if g), None) if match else None
                if name and (name, role) not in names:
                    names.append((name, role))
            for index, (name, role) in enumerate(names):
                phantoms.append(known.get(name) or Container(role, name, {}, {}, index))
            if not phantoms and self.events:
                apps = [c for c in self.containers if c.role == "app"]
                phantoms = apps[:1] if len(apps) == 1 else [Container("app", "", {}, {}, 0)]
        self._phantoms = phantoms
        return phantoms

    def container_logs(self, container):
        entry = self.logs.get(container.name)
        if not isinstance(entry, dict):
            return None, None
        prev = entry.get("previous")
        cur = entry.get("current")
        return (prev if isinstance(prev, str) else None), (cur if isinstance(cur, str) else None)

    def started_age(self, container):
        if container.running is not None:
            return self.age_of(container.running.get("startedAt"))
        return None

    def term_age(self, term):
        if not term:
            return None
        return self.age_of(term.get("finishedAt") or term.get("startedAt"))

    def condition(self, ctype):
        return self.conditions.get(ctype) or {}

    @property
    def scheduled(self):
        """Bound to a node: nodeName, a True PodScheduled condition, or container states from a kubelet."""
        if self.spec.get("nodeName"):
            return True
        if as_str(as_dict(self.conditions.get("PodScheduled")).get("status")) == "True":
            return True
        return any(c.state for c in self.containers)


def event_ref(event, ctx=None):
    """Evidence source string for an event: 'event Reason xN (age)'."""
    count = as_int(event.get("count"), 1) or 1
    text = "event %s" % as_str(event.get("reason"))
    if count > 1:
        text += " x%d" % count
    if ctx is not None:
        age = ctx.event_age(event)
        if age is not None:
            text += " (%s ago)" % human_duration(age)
    return text


def human_duration(seconds):
    try:
        seconds = int(seconds)
    except (TypeError, ValueError, OverflowError):
        return "?"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return "%ds" % seconds
    if seconds < 7200:
        return "%dm" % (seconds // 60)
    if seconds < 172800:
        return "%dh" % (seconds // 3600)
    return "%dd" % (seconds // 86400)


def total_count(events):
    return sum((as_int(e.get("count"), 1) or 1) for e in events)


def newest(events):
    return events[-1] if events else None


def term_detail(term):
    """Compact text of a terminated state."""
    parts = []
    for key in ("reason", "exitCode", "signal", "finishedAt"):
        value = term.get(key)
        if value not in (None, ""):
            parts.append("%s=%s" % (key, value))
    message = as_str(term.get("message")).strip()
    if message:
        parts.append("message=%s" % clip(message, 300))
    return " ".join(parts)


def parse_ts(value):
    return parse_time(value) if isinstance(value, str) else None


def container_resources(container):
    res = as_dict(container.spec.get("resources"))
    return as_dict(res.get("limits")), as_dict(res.get("requests"))


def probe(container, kind):
    spec = container.spec.get(kind + "Probe")
    return spec if isinstance(spec, dict) else None


def probe_window(probe_spec):
    """Seconds a probe may fail during start-up before it matters."""
    if not probe_spec:
        return 0
    initial = as_int(probe_spec.get("initialDelaySeconds"), 0) or 0
    period = as_int(probe_spec.get("periodSeconds"), 10) or 10
    threshold = as_int(probe_spec.get("failureThreshold"), 3) or 3
    return initial + period * threshold


_FALLBACK_SECRETS = re.compile(
    r"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization)\s*[=:]\s*)"
    r"(?:bearer\s+)?[^\s,;'\"]+|(://[^:/@\s]+:)[^@\s]+(@)")
_REDACT = []


def _fallback_redact(text):
    """Used only while the shared redactor is not importable: masks obvious key=value secrets."""
    def repl(match):
        if match.group(1):
            return match.group(1) + "***"
        return match.group(2) + "***" + match.group(3)
    return _FALLBACK_SECRETS.sub(repl, text)


def redact_text(text):
    """Redact a quoted log line or message with the shared redactor (plugins/module_utils/common/redact.py)."""
    if not _REDACT:
        try:
            from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact
            _REDACT.append(redact)
        except ImportError:
            _REDACT.append(_fallback_redact)
    try:
        return as_str(_REDACT[0](as_str(text)))
    except Exception:  # pylint: disable=broad-except
        return _fallback_redact(as_str(text))
