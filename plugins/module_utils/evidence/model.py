# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evidence model: what the sources produce and the classifier reads.

Both sources (live API, dump directory) build these objects, so nothing downstream knows where the
data came from. Objects stay plain Kubernetes JSON (camelCase dicts) exactly as the API served them:
the typed client models reject objects with unexpected fields, and one odd object must never abort a
scan. Time is always the evidence's own clock (``as_of``), never the wall clock, so a dump diagnosed
a week later gives the same answer.
"""

from __future__ import annotations

import datetime

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import UTC, parse_time

# Node lookup outcome for a scheduled pod.
NODE_PRESENT = "present"   # node object found
NODE_MISSING = "missing"   # looked up and not found (deleted / lost)
NODE_UNKNOWN = "unknown"   # not looked up, or the source has no node data


class PodEvidence(object):
    """Everything known about one pod at ``as_of``.

    pod        raw Pod dict (metadata, spec, status)
    events     normalised events about the pod (see normalise_event), oldest first, deduplicated
    owners     owner chain from the immediate owner to the top controller:
               [{"kind", "name", "uid", "api_version", "object": raw dict or None}]
    node       raw Node dict or None; node_state says whether it was found (NODE_*)
    claims     {claim_name: raw PersistentVolumeClaim dict, or None when it does not exist}
    logs       {container_name: {"current": str|None, "previous": str|None, "truncated": bool}}
               already capped and redacted; only for containers that crashed or exited
    referenced {"configmaps": {name: bool|None}, "secrets": {name: bool|None}} existence only
               (None = unknown), plus "configmap_keys": {name: [key names]} (names only, never
               values); Secret data is never read
    as_of      timezone-aware datetime: the evidence's clock
    source     "live" or "dump"
    problems   notes about evidence that could not be gathered (strings), shown to the user
    """

    __slots__ = ("pod", "events", "owners", "node", "node_state", "claims", "logs", "referenced",
                 "as_of", "source", "problems")

    def __init__(self, pod, events=None, owners=None, node=None, node_state=NODE_UNKNOWN,
                 claims=None, logs=None, referenced=None, as_of=None, source="live", problems=None):
        self.pod = pod or {}
        self.events = events or []
        self.owners = owners or []
        self.node = node
        self.node_state = node_state
        self.claims = claims or {}
        self.logs = logs or {}
        self.referenced = referenced or {"configmaps": {}, "secrets": {}}
        self.as_of = as_of or datetime.datetime.now(UTC)
        self.source = source
        self.problems = problems or []

    @property
    def namespace(self):
        return (self.pod.get("metadata") or {}).get("namespace") or ""

    @property
    def name(self):
        return (self.pod.get("metadata") or {}).get("name") or ""

    @property
    def top_owner(self):
        """The top controller {"kind", "name"} or None for a bare pod."""
        if not self.owners:
            return None
        top = self.owners[-1]
        return {"kind": top.get("kind"), "name": top.get("name")}


class WorkloadEvidence(object):
    """A controller (ReplicaSet, StatefulSet, Job, ...) and its events, for failures to create pods."""

    __slots__ = ("object", "events", "owners", "as_of", "source", "problems")

    def __init__(self, obj, events=None, owners=None, as_of=None, source="live", problems=None):
        self.object = obj or {}
        self.events = events or []
        self.owners = owners or []
        self.as_of = as_of or datetime.datetime.now(UTC)
        self.source = source
        self.problems = problems or []

    @property
    def kind(self):
        return self.object.get("kind") or ""

    @property
    def namespace(self):
        return (self.object.get("metadata") or {}).get("namespace") or ""

    @property
    def name(self):
        return (self.object.get("metadata") or {}).get("name") or ""


def normalise_event(raw):
    """Flatten a core/v1 or events.k8s.io/v1 Event into the one shape the classifier reads.

    Keys: type, reason, message, count, first_seen, last_seen (aware datetimes or None), component,
    kind, name, namespace, uid, field_path, event_name.
    """
    raw = raw or {}
    meta = raw.get("metadata") or {}
    involved = raw.get("involvedObject") or raw.get("regarding") or {}
    series = raw.get("series") or {}
    source = raw.get("source") or {}
    count = raw.get("count") or series.get("count") or raw.get("deprecatedCount") or 1
    first = (parse_time(raw.get("firstTimestamp")) or parse_time(raw.get("deprecatedFirstTimestamp"))
             or parse_time(raw.get("eventTime")) or parse_time(meta.get("creationTimestamp")))
    last = (parse_time(raw.get("lastTimestamp")) or parse_time(raw.get("deprecatedLastTimestamp"))
            or parse_time(series.get("lastObservedTime")) or parse_time(raw.get("eventTime")) or first)
    return {
        "type": raw.get("type") or "Normal",
        "reason": raw.get("reason") or "",
        "message": raw.get("message") or raw.get("note") or "",
        "count": count if isinstance(count, int) and count > 0 else 1,
        "first_seen": first,
        "last_seen": last,
        "component": source.get("component") or raw.get("reportingComponent") or raw.get("reportingController") or "",
        "kind": involved.get("kind") or "",
        "name": involved.get("name") or "",
        "namespace": involved.get("namespace") or meta.get("namespace") or "",
        "uid": involved.get("uid") or "",
        "field_path": involved.get("fieldPath") or "",
        "event_name": meta.get("name") or "",
    }


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def merge_events(events):
    """Deduplicate normalised events and order them oldest first.

    The same event object can appear twice (a dump and a live read, or core/v1 and events.k8s.io),
    and the kubelet repeats one message under several event names. Events with the same reason,
    message, component and involved object are merged: counts add up per distinct event object,
    first_seen is the earliest and last_seen the latest.
    """
    merged = {}
    seen_names = set()
    for event in events:
        name_key = (event.get("event_name"), event.get("uid"), event.get("reason"))
        if event.get("event_name") and name_key in seen_names:
            continue
        seen_names.add(name_key)
        key = (event.get("reason"), event.get("message"), event.get("component"),
               event.get("uid") or event.get("name"), event.get("field_path"))
        current = merged.get(key)
        if current is None:
            merged[key] = dict(event)
            continue
        current["count"] += event.get("count") or 1
        if event.get("first_seen") and (current["first_seen"] is None or event["first_seen"] < current["first_seen"]):
            current["first_seen"] = event["first_seen"]
        if event.get("last_seen") and (current["last_seen"] is None or event["last_seen"] > current["last_seen"]):
            current["last_seen"] = event["last_seen"]
    return sorted(merged.values(), key=lambda e: (e.get("last_seen") or _EPOCH, e.get("first_seen") or _EPOCH))


def events_with_reason(events, *reasons):
    """Events whose reason is one of ``reasons``, oldest first."""
    wanted = set(reasons)
    return [event for event in events if event.get("reason") in wanted]


def container_pairs(pod):
    """Yield (role, spec, status) for every init, app and ephemeral container of a pod.

    role is "init", "app" or "ephemeral"; status is {} when the kubelet has not reported one yet.
    """
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    for role, spec_key, status_key in (("init", "initContainers", "initContainerStatuses"),
                                       ("app", "containers", "containerStatuses"),
                                       ("ephemeral", "ephemeralContainers", "ephemeralContainerStatuses")):
        statuses = {s.get("name"): s for s in (status.get(status_key) or []) if isinstance(s, dict)}
        for container in spec.get(spec_key) or []:
            if isinstance(container, dict):
                yield role, container, statuses.get(container.get("name"), {})


def newest_timestamp(objects):
    """The newest timestamp found in pods/events/nodes, used as the clock of a dump."""
    newest = None
    for obj in objects:
        for value in _timestamps(obj):
            when = parse_time(value)
            if when is not None and (newest is None or when > newest):
                newest = when
    return newest


_TIME_KEYS = ("lastTimestamp", "firstTimestamp", "eventTime", "creationTimestamp", "startedAt",
              "finishedAt", "lastTransitionTime", "lastHeartbeatTime", "lastProbeTime", "startTime",
              "lastObservedTime")


def _timestamps(obj, depth=0):
    """Every value under a known timestamp key, a few levels deep (status trees are shallow)."""
    if depth > 6:
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in _TIME_KEYS and isinstance(value, str):
                yield value
            elif isinstance(value, (dict, list)):
                yield from _timestamps(value, depth + 1)
    elif isinstance(obj, list):
        for item in obj:
            yield from _timestamps(item, depth + 1)
