"""Server-side printing (meta.k8s.io/v1 Table): what `kubectl get` shows without -o."""

from __future__ import annotations

import datetime


def _parse_ts(value):
    try:
        return datetime.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def human_age(value):
    """apimachinery duration.HumanDuration, shortened: 45s, 12m, 5h, 3d."""
    when = _parse_ts(value)
    if when is None:
        return "<unknown>"
    seconds = int((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds())
    if seconds < 120:
        return "%ds" % max(seconds, 0)
    if seconds < 3600 * 3:
        return "%dm" % (seconds // 60)
    if seconds < 86400 * 2:
        return "%dh" % (seconds // 3600)
    return "%dd" % (seconds // 86400)


def pod_status_text(pod):
    """The STATUS column the way pkg/printers/internalversion/printers.go printPod computes it."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    spec = pod.get("spec") or {}
    inits = status.get("initContainerStatuses") or []
    initializing = False
    for index, item in enumerate(inits):
        state = item.get("state") or {}
        terminated = state.get("terminated")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            reason = "Init:" + (terminated.get("reason") or "ExitCode:%d" % terminated.get("exitCode", 0))
        elif (state.get("waiting") or {}).get("reason") not in (None, "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = "Init:%d/%d" % (index, len(spec.get("initContainers") or []))
        initializing = True
        break
    if not initializing:
        for item in reversed(status.get("containerStatuses") or []):
            state = item.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif (state.get("terminated") or {}).get("reason"):
                reason = state["terminated"]["reason"]
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _cells(kind, obj):
    meta = obj.get("metadata") or {}
    age = human_age(meta.get("creationTimestamp"))
    status = obj.get("status") or {}
    if kind == "Pod":
        statuses = status.get("containerStatuses") or []
        total = len((obj.get("spec") or {}).get("containers") or [])
        ready = sum(1 for item in statuses if item.get("ready"))
        restarts = sum(item.get("restartCount", 0) for item in statuses)
        return [meta.get("name"), "%d/%d" % (ready, total), pod_status_text(obj), restarts, age,
                status.get("podIP") or "<none>", (obj.get("spec") or {}).get("nodeName") or "<none>"]
    if kind == "Node":
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        text = {"True": "Ready", "False": "NotReady"}.get(conditions.get("Ready"), "NotReady")
        if (obj.get("spec") or {}).get("unschedulable"):
            text += ",SchedulingDisabled"
        return [meta.get("name"), text, "<none>", age, (status.get("nodeInfo") or {}).get("kubeletVersion", "")]
    if kind == "Event":
        involved = obj.get("involvedObject") or obj.get("regarding") or {}
        last = obj.get("lastTimestamp") or obj.get("deprecatedLastTimestamp") or obj.get("eventTime")
        return [human_age(last), obj.get("type"), obj.get("reason"),
                "%s/%s" % ((involved.get("kind") or "").lower(), involved.get("name")),
                obj.get("message") or obj.get("note") or ""]
    return [meta.get("name"), age]


_COLUMNS = {
    "Pod": [("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "integer", 0),
            ("Age", "string", 0), ("IP", "string", 1), ("Node", "string", 1)],
    "Node": [("Name", "string", 0), ("Status", "string", 0), ("Roles", "string", 0), ("Age", "string", 0),
             ("Version", "string", 0)],
    "Event": [("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0),
              ("Object", "string", 0), ("Message", "string", 0)],
}


def make_table(kind, items, list_meta, include_object=None):
    """A meta.k8s.io/v1 Table; rows carry PartialObjectMetadata (or the object with includeObject=Object)."""
    columns = _COLUMNS.get(kind, [("Name", "string", 0), ("Age", "string", 0)])
    rows = []
    for obj in items:
        if include_object == "None":
            row_object = None
        elif include_object == "Object":
            row_object = obj
        else:
            row_object = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                          "metadata": obj.get("metadata") or {}}
        row = {"cells": _cells(kind, obj)}
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": dict(list_meta),
            "columnDefinitions": [{"name": name, "type": type_, "format": "name" if name == "Name" else "",
                                   "description": name, "priority": priority}
                                  for name, type_, priority in columns],
            "rows": rows}
