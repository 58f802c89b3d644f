"""A stateful, in-memory Kubernetes API server over real HTTP, for tests and benchmarks.

Standard library only (http.server + json). It speaks enough of the real API that the kubernetes
Python client (raw ApiClient and DynamicClient), kubernetes.core (k8s_info, k8s, k8s_log) and
kubectl 1.32 work against it unchanged: legacy discovery, CRUD with real Status errors, selectors,
paging, merge / strategic-merge / JSON patches, status and scale subresources, eviction, pod logs,
dry runs, finalizers, a minimal watch, bearer-token auth and fault injection.

    with KubeEmulator() as api:          # port 0 = a free port on 127.0.0.1
        api.load([...objects...])
        api.set_log("shop", "web-1", "app", "boom", previous=True)
        print(api.url)

    python -m tests.support.kube_emulator serve --port 8001 --state seed.json \
        --kubeconfig-out /tmp/emu.kubeconfig --pidfile /tmp/emu.pid

Test controls live under ``/_emulator/`` (no auth, never recorded as API requests):
``POST logs`` (seed a log), ``GET|DELETE requests`` (served requests), ``POST reset``,
``POST state`` (bulk load ``{"objects": [...], "logs": [...]}``), ``POST settle`` (wait until
bulk-loaded objects are pre-serialised, before timing a LIST), ``POST faults`` /
``DELETE faults`` (inject 401/403/500... for a method + path regex, ``times`` N).

Auth: with ``token=...`` every API request needs ``Authorization: Bearer <token>`` (else 401).
kubectl/client-go never sends a bearer token over plain HTTP, so kubectl needs auth off.

Known limits (it is not a cluster):
- No controllers, scheduler or kubelet: nothing reconciles. Tests create the Deployment ->
  ReplicaSet -> Pod chain with ownerReferences themselves and write status through the status
  subresource (a POST drops ``status``, as the real server does; ``/_emulator/state`` keeps it).
- No garbage collection: deleting an owner does not delete its dependents. Deleting a Namespace
  deletes everything in it at once. Pods are deleted immediately (no kubelet to confirm the grace
  period) unless they carry finalizers.
- core/v1 Events and events.k8s.io/v1 Events are stored apart but read as one, like the real
  server: GET/LIST/watch of either API also serve the other's events, converted. Writes (update,
  patch, delete) only reach an event through the API that created it.
- No RBAC, TLS, server-side apply field ownership (apply-patch is treated
  as a merge patch that may create), admission, or defaulting beyond uid/resourceVersion/
  creationTimestamp/generation and a Pending phase for new pods.
- Watch sends ADDED (or MODIFIED after ``resourceVersion``) for current objects, holds the stream
  for at most ``timeoutSeconds`` (capped at 2 s) and closes it; no live event delivery.
- Strategic merge patch merges lists by key only for the common pod-spec lists (see MERGE_KEYS).
- Discovery is legacy only: kubectl's aggregated-discovery Accept header is answered with the
  legacy documents, which kubectl accepts and uses. OpenAPI v3 is a skeleton that only declares
  ``fieldValidation`` support (so ``kubectl apply`` works); there are no schemas and no v2.
- JSON only: protobuf/CBOR request bodies get 415. ``kubectl get/describe/logs/apply -f/delete/
  scale/cordon/label`` work; imperative generators such as ``kubectl create deployment`` send
  protobuf and fail. ``kubectl get`` tables (Accept ``as=Table``) have kubectl's columns for pods,
  nodes and events and NAME/AGE for everything else (see make_table).
- Node, Pod, workload... objects always carry ``spec``/``status`` (``{}`` when empty), like the
  real server; list items carry no kind/apiVersion, like the real server.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import copy
import datetime
import json
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# --------------------------------------------------------------------------------------------
# Resource catalogue
# --------------------------------------------------------------------------------------------

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
READ_VERBS = ["get", "list"]
STATUS_VERBS = ["get", "patch", "update"]


class Resource(object):
    """One REST resource: where it lives, what it is called, what it supports."""

    def __init__(self, group, version, plural, kind, namespaced, short=(), subresources=(),
                 verbs=None, generation=False, categories=()):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short = list(short)
        self.subresources = tuple(subresources)
        self.verbs = verbs or ALL_VERBS
        self.generation = generation
        self.categories = list(categories)
        self.singular = kind.lower()
        self.api_version = version if not group else "%s/%s" % (group, version)
        # Messages name grouped resources as "deployments.apps", core ones as "pods".
        self.qualified = plural if not group else "%s.%s" % (plural, group)
        self.key = (group, plural)
        self.readonly = "create" not in self.verbs

    @property
    def list_kind(self):
        return self.kind + "List"


def _catalogue():
    R = Resource
    return [
        R("", "v1", "pods", "Pod", True, ["po"], ["log", "status", "eviction"], categories=["all"]),
        R("", "v1", "events", "Event", True, ["ev"]),
        R("", "v1", "nodes", "Node", False, ["no"], ["status"]),
        R("", "v1", "namespaces", "Namespace", False, ["ns"], ["status"],
          verbs=["create", "delete", "get", "list", "patch", "update", "watch"]),
        R("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
        R("", "v1", "secrets", "Secret", True),
        R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"], ["status"]),
        R("", "v1", "persistentvolumes", "PersistentVolume", False, ["pv"], ["status"]),
        R("", "v1", "services", "Service", True, ["svc"], ["status"], categories=["all"]),
        R("", "v1", "replicationcontrollers", "ReplicationController", True, ["rc"], ["scale", "status"],
          generation=True, categories=["all"]),
        R("", "v1", "resourcequotas", "ResourceQuota", True, ["quota"], ["status"]),
        R("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
        R("apps", "v1", "deployments", "Deployment", True, ["deploy"], ["scale", "status"],
          generation=True, categories=["all"]),
        R("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], ["scale", "status"],
          generation=True, categories=["all"]),
        R("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], ["scale", "status"],
          generation=True, categories=["all"]),
        R("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], ["status"], generation=True,
          categories=["all"]),
        R("apps", "v1", "controllerrevisions", "ControllerRevision", True),
        R("batch", "v1", "jobs", "Job", True, [], ["status"], generation=True, categories=["all"]),
        R("batch", "v1", "cronjobs", "CronJob", True, ["cj"], ["status"], generation=True,
          categories=["all"]),
        R("events.k8s.io", "v1", "events", "Event", True, ["ev"]),
        R("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"], ["status"],
          generation=True),
        R("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
        R("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
        R("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
        R("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
        R("apiregistration.k8s.io", "v1", "apiservices", "APIService", False, [], ["status"]),
        R("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True, verbs=READ_VERBS),
        R("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False, verbs=READ_VERBS),
    ]


# Subresource discovery entries: name -> (kind, group, version, verbs). Empty group = parent's.
SUBRESOURCE_INFO = {
    "status": (None, None, None, STATUS_VERBS),
    "scale": ("Scale", "autoscaling", "v1", STATUS_VERBS),
    "log": ("Pod", "", "v1", ["get"]),
    "eviction": ("Eviction", "policy", "v1", ["create"]),
}

# Field selectors each resource supports besides metadata.name / metadata.namespace.
FIELD_LABELS = {
    ("", "pods"): {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                   "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"},
    ("", "events"): {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                     "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                     "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
    ("events.k8s.io", "events"): {"regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
                                  "regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath",
                                  "reason", "reportingController", "type"},
    ("", "nodes"): {"spec.unschedulable"},
    ("", "namespaces"): {"status.phase"},
    ("", "secrets"): {"type"},
    ("", "replicationcontrollers"): {"status.replicas"},
    ("apps", "replicasets"): {"status.replicas"},
    ("batch", "jobs"): {"status.successful"},
}
# Field selector labels that read a different path than their name.
FIELD_ALIASES = {"source": "source.component"}

# Strategic merge patch: list fields merged by key (as in k8s.io/api patchMergeKey tags).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "ports": "containerPort", "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey", "resourceClaims": "name", "taints": "key",
    "containerStatuses": "name", "initContainerStatuses": "name",
}
# Lists of scalars merged as sets by strategic merge patch.
MERGE_SCALAR_LISTS = {"finalizers"}

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                 "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
                 "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
GENERATE_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           406: "NotAcceptable", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}
WATCH_HOLD_MAX = 2.0


# Kinds whose spec/status are structs in k8s.io/api: the server always emits them, {} when empty.
SPEC_STATUS_KINDS = {"Pod", "Node", "Namespace", "Service", "PersistentVolumeClaim", "PersistentVolume",
                     "ReplicationController", "ResourceQuota", "Deployment", "ReplicaSet", "StatefulSet",
                     "DaemonSet", "Job", "CronJob", "PodDisruptionBudget", "APIService"}


def _default_structs(obj):
    if obj.get("kind") in SPEC_STATUS_KINDS:
        if not isinstance(obj.get("spec"), dict):
            obj["spec"] = {}
        if not isinstance(obj.get("status"), dict):
            obj["status"] = {}


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Server-side printing (meta.k8s.io/v1 Table), what `kubectl get` shows without -o
# --------------------------------------------------------------------------------------------

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


class ApiError(Exception):
    """A failure the server answers with a Status object."""

    def __init__(self, code, message, reason=None, details=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details


def status_body(code, message, reason=None, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason or REASONS.get(code, "Unknown"), "code": code}
    if details:
        body["details"] = details
    return body


def _details(res, name):
    details = {"kind": res.plural}
    if name:
        details["name"] = name
    if res.group:
        details["group"] = res.group
    return details


def not_found(res, name):
    return ApiError(404, '%s "%s" not found' % (res.qualified, name), "NotFound", _details(res, name))


def invalid(res, name, field, detail, value=None, cause_type="FieldValueInvalid"):
    if value is not None:
        text = '%s: Invalid value: "%s": %s' % (field, value, detail)
    else:
        text = "%s: %s" % (field, detail)
    details = _details(res, name)
    details["kind"] = res.kind
    details["causes"] = [{"reason": cause_type, "message": text.split(": ", 1)[1], "field": field}]
    return ApiError(422, '%s "%s" is invalid: %s' % (res.kind, name, text), "Invalid", details)


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------

_SET_REQ = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


def _split_top(text):
    """Split a selector on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_label_selector(text):
    """Parse a label selector into (key, op, values) requirements; ApiError 400 when malformed."""
    requirements = []
    for part in _split_top(text or ""):
        match = _SET_REQ.match(part)
        if match:
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            requirements.append((match.group(1), match.group(2), values))
            continue
        if part.startswith("!"):
            key = part[1:].strip()
            op, values = "!", set()
        elif "!=" in part:
            key, value = part.split("!=", 1)
            op, values = "!=", {value.strip()}
        elif "==" in part:
            key, value = part.split("==", 1)
            op, values = "=", {value.strip()}
        elif "=" in part:
            key, value = part.split("=", 1)
            op, values = "=", {value.strip()}
        else:
            key, op, values = part, "exists", set()
        key = key.strip()
        if not key or not re.match(r"^[A-Za-z0-9_./-]+$", key) or any(" " in v for v in values):
            raise ApiError(400, "unable to parse requirement: invalid label selector %r" % part)
        requirements.append((key, op, values))
    return requirements


def label_match(labels, requirements):
    labels = labels or {}
    for key, op, values in requirements:
        present = key in labels
        value = labels.get(key)
        if op == "=" and (not present or value not in values):
            return False
        if op in ("!=", "notin") and present and value in values:
            return False
        if op == "in" and (not present or value not in values):
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


def parse_field_selector(res, text):
    requirements = []
    allowed = {"metadata.name", "metadata.namespace"} | FIELD_LABELS.get(res.key, set())
    for part in _split_top(text or ""):
        if "!=" in part:
            field, value = part.split("!=", 1)
            negate = True
        elif "==" in part:
            field, value = part.split("==", 1)
            negate = False
        elif "=" in part:
            field, value = part.split("=", 1)
            negate = False
        else:
            raise ApiError(400, "invalid selector: '%s'; can't understand '%s'" % (text, part))
        field = field.strip()
        if field not in allowed:
            raise ApiError(400, '"%s" is not a known field selector: only "%s"' % (
                field, '", "'.join(sorted(allowed))) if res.key in FIELD_LABELS
                else "field label not supported: %s" % field)
        path = FIELD_ALIASES.get(field, field).split(".")
        requirements.append((path, value.strip(), negate))
    return requirements


def _field_value(obj, path):
    current = obj
    for part in path:
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def field_match(obj, requirements):
    for path, value, negate in requirements:
        if (_field_value(obj, path) == value) == negate:
            return False
    return True


# --------------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target, patch):
    """Strategic merge patch for the list fields real Kubernetes merges by key (MERGE_KEYS)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in (result.get(field) or []) if v not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, MERGE_KEYS[key])
        elif isinstance(value, list) and key in MERGE_SCALAR_LISTS and isinstance(result.get(key), list):
            merged = list(result[key])
            merged.extend(v for v in value if v not in merged)
            result[key] = merged
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current, patch, merge_key):
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            result.append(copy.deepcopy(item))
            continue
        index = next((i for i, existing in enumerate(result)
                      if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "the server rejected our request due to an error in our request: "
                            "invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc, parts, create=False):
    current = doc
    for part in parts[:-1]:
        if isinstance(current, list):
            current = current[int(part)]
        elif isinstance(current, dict):
            if part not in current:
                raise KeyError(part)
            current = current[part]
        else:
            raise KeyError(part)
    return current, parts[-1]


def json_patch(doc, operations):
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise ApiError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in operations:
        try:
            kind = op["op"]
            parts = _pointer(op["path"])
            if kind == "test":
                parent, last = _resolve(doc, parts)
                current = parent[int(last)] if isinstance(parent, list) else parent[last]
                if current != op.get("value"):
                    raise ApiError(422, "the server rejected our request due to an error in our request: "
                                        "testing value %s failed" % op["path"])
                continue
            if kind in ("move", "copy"):
                source_parts = _pointer(op["from"])
                parent, last = _resolve(doc, source_parts)
                value = parent[int(last)] if isinstance(parent, list) else parent[last]
                if kind == "move":
                    if isinstance(parent, list):
                        parent.pop(int(last))
                    else:
                        del parent[last]
                doc = _json_add(doc, parts, copy.deepcopy(value))
                continue
            if kind == "add":
                doc = _json_add(doc, parts, copy.deepcopy(op.get("value")))
            elif kind in ("remove", "replace"):
                if not parts:
                    doc = copy.deepcopy(op.get("value"))
                    continue
                parent, last = _resolve(doc, parts)
                if isinstance(parent, list):
                    index = int(last)
                    if index >= len(parent):
                        raise IndexError(index)
                    if kind == "remove":
                        parent.pop(index)
                    else:
                        parent[index] = copy.deepcopy(op.get("value"))
                else:
                    if last not in parent:
                        raise KeyError(last)
                    if kind == "remove":
                        del parent[last]
                    else:
                        parent[last] = copy.deepcopy(op.get("value"))
            else:
                raise ApiError(422, "the server rejected our request due to an error in our request: "
                                    "Unexpected kind: %s" % kind)
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                                "jsonpatch %s operation does not apply: doc is missing path: \"%s\""
                           % (op.get("op") if isinstance(op, dict) else op,
                              op.get("path") if isinstance(op, dict) else ""))
    return doc


def _json_add(doc, parts, value):
    if not parts:
        return value
    parent, last = _resolve(doc, parts)
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            index = int(last)
            if index > len(parent):
                raise IndexError(index)
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise KeyError(last)
    return doc


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------

def _strip_type(obj):
    """List items on the real server carry no apiVersion/kind."""
    return {k: v for k, v in obj.items() if k != "apiVersion" and k != "kind"}


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _selector_string(selector):
    labels = (selector or {}).get("matchLabels") or {}
    parts = ["%s=%s" % (k, v) for k, v in sorted(labels.items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        op = expr.get("operator", "")
        key = expr.get("key", "")
        if op == "In":
            parts.append("%s in (%s)" % (key, ",".join(expr.get("values") or [])))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (key, ",".join(expr.get("values") or [])))
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append("!" + key)
    return ",".join(parts)


def core_to_events_v1(event):
    """A core/v1 Event as events.k8s.io/v1 serves it (pkg/apis/events/v1 conversion)."""
    source = event.get("source") or {}
    converted = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": event.get("metadata") or {},
                 "eventTime": event.get("eventTime"),
                 "reportingController": event.get("reportingComponent") or source.get("component") or "",
                 "reportingInstance": event.get("reportingInstance") or source.get("host") or "",
                 "action": event.get("action"), "reason": event.get("reason"),
                 "regarding": event.get("involvedObject") or {}, "related": event.get("related"),
                 "note": event.get("message"), "type": event.get("type"), "series": event.get("series"),
                 "deprecatedSource": source or None, "deprecatedFirstTimestamp": event.get("firstTimestamp"),
                 "deprecatedLastTimestamp": event.get("lastTimestamp"), "deprecatedCount": event.get("count")}
    return {k: v for k, v in converted.items() if v is not None}


def events_v1_to_core(event):
    """An events.k8s.io/v1 Event as core/v1 serves it."""
    source = dict(event.get("deprecatedSource") or {})
    if not source and event.get("reportingController"):
        source = {"component": event["reportingController"]}
        if event.get("reportingInstance"):
            source["host"] = event["reportingInstance"]
    converted = {"apiVersion": "v1", "kind": "Event", "metadata": event.get("metadata") or {},
                 "involvedObject": event.get("regarding") or {}, "reason": event.get("reason"),
                 "message": event.get("note"), "source": source or None,
                 "firstTimestamp": event.get("deprecatedFirstTimestamp"),
                 "lastTimestamp": event.get("deprecatedLastTimestamp"), "count": event.get("deprecatedCount"),
                 "type": event.get("type"), "eventTime": event.get("eventTime"), "series": event.get("series"),
                 "action": event.get("action"), "related": event.get("related"),
                 "reportingComponent": event.get("reportingController"),
                 "reportingInstance": event.get("reportingInstance")}
    return {k: v for k, v in converted.items() if v is not None}


class _Entry(object):
    """A stored object plus its list-item JSON, serialised once (that makes big LISTs cheap).

    Entries are never mutated (a write stores a new one), so the cached bytes cannot go stale and
    filling them from a warm-up thread is safe.
    """

    __slots__ = ("obj", "_item", "rv")

    def __init__(self, obj, eager=True):
        self.obj = obj
        self._item = _dumps(_strip_type(obj)) if eager else None
        self.rv = int(obj["metadata"]["resourceVersion"])

    @property
    def item(self):
        item = self._item
        if item is None:
            item = self._item = _dumps(_strip_type(self.obj))
        return item


def _warm(entries):
    for entry in entries:
        entry.item  # noqa: B018 - fills the cache


class KubeEmulator(object):
    """The in-memory API server. Thread-safe: one lock around the store."""

    def __init__(self, port=0, host="127.0.0.1", token=None, user="aiops-test"):
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the emulator only listens on 127.0.0.1")
        self.host = "127.0.0.1"
        self.port = port
        self.token = token
        self.user = user
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

    def set_log(self, namespace, pod, container, text, previous=False):
        with self._lock:
            self._logs[(namespace, pod, container, bool(previous))] = text

    def load(self, objects, logs=None):
        """Bulk-load objects as they are (status, uid, timestamps kept; missing metadata filled)."""
        count = 0
        entries = []
        stamp = now_rfc3339()
        with self._lock:
            for obj in objects:
                res = self._resource_for(obj)
                meta = obj.setdefault("metadata", {})
                if not meta.get("name"):
                    raise ApiError(400, "object of kind %s has no metadata.name" % obj.get("kind"))
                ns = meta.get("namespace") if res.namespaced else None
                if res.namespaced:
                    if not ns:
                        ns = meta["namespace"] = "default"
                    self._ensure_namespace(ns)
                else:
                    meta.pop("namespace", None)
                obj["apiVersion"] = res.api_version
                obj["kind"] = res.kind
                _default_structs(obj)
                if "uid" not in meta:
                    meta["uid"] = str(uuid.uuid4())
                if "creationTimestamp" not in meta:
                    meta["creationTimestamp"] = stamp
                if res.generation:
                    meta.setdefault("generation", 1)
                meta["resourceVersion"] = self._next_rv()
                entries.append(self._put(res, ns, meta["name"], obj, eager=False))
                count += 1
            for item in logs or []:
                if isinstance(item, dict):
                    self.set_log(item["namespace"], item["pod"], item["container"], item["text"],
                                 item.get("previous", False))
                else:
                    (namespace, pod, container, previous), text = item
                    self.set_log(namespace, pod, container, text, previous)
        # Serialise list items off the request path; a LIST that comes first fills them itself.
        warm = threading.Thread(target=_warm, args=(entries,), name="kube-emulator-warm", daemon=True)
        warm.start()
        self._warmers.append(warm)
        return count

    def settle(self, timeout=30):
        """Wait until bulk-loaded objects are serialised, so the next LIST is steady-state fast."""
        while self._warmers:
            self._warmers.pop().join(timeout)

    def objects(self, kind=None, api_version=None):
        """Every stored object (deep copies), optionally of one kind."""
        with self._lock:
            found = []
            for res in self.resources:
                if kind and res.kind != kind:
                    continue
                if api_version and res.api_version != api_version:
                    continue
                found.extend(copy.deepcopy(entry.obj) for entry in self._store[res.key].values())
            return found

    # -- store helpers ----------------------------------------------------------------------
    def _resource_for(self, obj):
        if not isinstance(obj, dict):
            raise ApiError(400, "every object must be a JSON object")
        key = (obj.get("apiVersion") or "v1", obj.get("kind"))
        res = self._by_kind.get(key)
        if res is None:
            raise ApiError(400, "no resource for apiVersion %s kind %s in the emulator" % key)
        return res

    def _next_rv(self):
        self._rv += 1
        return str(self._rv)

    def _put(self, res, ns, name, obj, eager=True):
        store = self._store[res.key]
        key = (ns or "", name)
        if key not in store:
            self._sorted.pop(res.key, None)
        entry = store[key] = _Entry(obj, eager)
        return entry

    def _remove(self, res, ns, name):
        self._store[res.key].pop((ns or "", name), None)
        self._sorted.pop(res.key, None)

    def _ensure_namespace(self, ns):
        res = self._by_path[("", "v1", "namespaces")]
        if ("", ns) in self._store[res.key]:
            return
        obj = {"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": ns, "uid": str(uuid.uuid4()), "resourceVersion": self._next_rv(),
                            "creationTimestamp": now_rfc3339(),
                            "labels": {"kubernetes.io/metadata.name": ns}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        self._put(res, None, ns, obj)

    def _sorted_keys(self, res):
        keys = self._sorted.get(res.key)
        if keys is None:
            keys = sorted(self._store[res.key])
            self._sorted[res.key] = keys
        return keys

    def _get_entry(self, res, ns, name):
        entry = self._store[res.key].get((ns or "", name))
        if entry is None:
            raise not_found(res, name)
        return entry

    # -- discovery --------------------------------------------------------------------------
    def _build_discovery(self):
        groups = {}
        for res in self.resources:
            groups.setdefault((res.group, res.version), []).append(res)
        docs = {}
        for (group, version), resources in groups.items():
            entries = []
            for res in resources:
                entry = {"name": res.plural, "singularName": res.singular, "namespaced": res.namespaced,
                         "kind": res.kind, "verbs": list(res.verbs)}
                if res.short:
                    entry["shortNames"] = res.short
                if res.categories:
                    entry["categories"] = res.categories
                entries.append(entry)
                for sub in res.subresources:
                    kind, sgroup, sversion, verbs = SUBRESOURCE_INFO[sub]
                    item = {"name": "%s/%s" % (res.plural, sub), "singularName": "", "namespaced": res.namespaced,
                            "kind": kind or res.kind, "verbs": list(verbs)}
                    if sgroup:
                        item["group"] = sgroup
                        item["version"] = sversion
                    entries.append(item)
            group_version = version if not group else "%s/%s" % (group, version)
            docs[(group, version)] = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                                      "resources": entries}
        self._group_versions = groups
        return docs

    def _api_group(self, group):
        versions = sorted({v for (g, v) in self._group_versions if g == group})
        entries = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    def _discovery_doc(self, parts):
        if parts == ["version"]:
            return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-aiops-emulator",
                    "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.4", "compiler": "gc",
                    "platform": "linux/amd64", "emulationMajor": "1", "emulationMinor": "32"}
        if parts == ["api"]:
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": "%s:%d" % (self.host, self.port)}]}
        if parts == ["api", "v1"]:
            return self._discovery[("", "v1")]
        if parts == ["apis"]:
            names = []
            for (group, _version) in self._group_versions:
                if group and group not in names:
                    names.append(group)
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._api_group(g) for g in names]}
        if len(parts) == 2 and parts[0] == "apis":
            if any(g == parts[1] for (g, _v) in self._group_versions):
                doc = self._api_group(parts[1])
                doc.update({"kind": "APIGroup", "apiVersion": "v1"})
                return doc
        if len(parts) == 3 and parts[0] == "apis" and (parts[1], parts[2]) in self._discovery:
            return self._discovery[(parts[1], parts[2])]
        return None

    def _openapi_v3(self, rest):
        """A skeleton OpenAPI v3: only enough for kubectl to see that every kind accepts the
        ``fieldValidation`` query parameter, so ``kubectl apply`` validates server-side (we accept
        and ignore it) instead of demanding schemas we do not serve."""
        if not rest:
            paths = ["api/v1" if not g else "apis/%s/%s" % (g, v) for (g, v) in self._group_versions]
            return {"paths": {path: {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (path, "0" * 16)}
                              for path in paths}}
        if rest[:2] == ["api", "v1"] and len(rest) == 2:
            group, version = "", "v1"
        elif rest[:1] == ["apis"] and len(rest) == 3:
            group, version = rest[1], rest[2]
        else:
            return None
        resources = self._group_versions.get((group, version))
        if resources is None:
            return None
        prefix = "/api/v1" if not group else "/apis/%s/%s" % (group, version)
        parameter = {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        paths = {}
        for res in resources:
            gvk = {"group": group, "version": version, "kind": res.kind}
            base = prefix + ("/namespaces/{namespace}" if res.namespaced else "") + "/" + res.plural
            operation = {"x-kubernetes-group-version-kind": gvk, "parameters": [parameter],
                         "responses": {"200": {"description": "OK"}}}
            paths[base] = {"post": dict(operation, operationId="create" + res.kind)}
            paths[base + "/{name}"] = {"patch": dict(operation, operationId="patch" + res.kind),
                                       "put": dict(operation, operationId="replace" + res.kind)}
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
                "components": {"schemas": {}}}

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
    def handle(self, method, raw_path, headers, body, record_request=True):
        """Serve one API request. Returns (status, content_type, payload) or ("watch", events, hold)."""
        split = urlsplit(raw_path)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        parts = [p for p in path.split("/") if p]
        started = time.perf_counter()
        record = {"method": method, "path": path, "query": query,
                  "content_type": (headers.get("Content-Type") or "").split(";")[0],
                  "body_size": len(body or b""), "status": 0}
        try:
            if self.token and headers.get("Authorization", "") != "Bearer " + self.token:
                raise ApiError(401, "Unauthorized")
            self._check_faults(method, path, parts)
            result = self._dispatch(method, parts, query, headers, body)
        except ApiError as err:
            result = (err.code, "application/json", _dumps(status_body(err.code, err.message, err.reason,
                                                                       err.details)))
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

    # -- reads -------------------------------------------------------------------------------
    def _read(self, res, ns, name, sub):
        with self._lock:
            other, convert = self._mirror(res)
            mirrored = other is not None and (ns or "", name) not in self._store[res.key] and \
                self._store[other.key].get((ns or "", name))
            if mirrored:
                return copy.deepcopy(convert(mirrored.obj))
            obj = copy.deepcopy(self._get_entry(res, ns, name).obj)
        if sub == "scale":
            return self._scale_of(obj)
        return obj

    @staticmethod
    def _scale_of(obj):
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        selector = spec.get("selector") or {}
        if obj["kind"] == "ReplicationController":
            selector_text = ",".join("%s=%s" % kv for kv in sorted(selector.items()))
        else:
            selector_text = _selector_string(selector)
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                  "creationTimestamp") if k in meta},
                "spec": {"replicas": spec.get("replicas", 1)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": selector_text}}

    def _mirror(self, res):
        """The other Event API and the conversion into ``res``'s shape, or (None, None)."""
        if res.key == ("", "events"):
            return self._by_path[("events.k8s.io", "v1", "events")], events_v1_to_core
        if res.key == ("events.k8s.io", "events"):
            return self._by_path[("", "v1", "events")], core_to_events_v1
        return None, None

    def _matching(self, res, ns, query):
        """(key, entry) pairs in key order that match the query's selectors (Events: both APIs)."""
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(res, query.get("fieldSelector"))
        other, convert = self._mirror(res)
        if other is None or not self._store[other.key]:
            return self._matching_store(res, ns, labels, fields, None)
        merged = dict(self._matching_store(other, ns, labels, fields, convert))
        merged.update(self._matching_store(res, ns, labels, fields, None))
        return sorted(merged.items(), key=lambda pair: pair[0])

    def _matching_store(self, res, ns, labels, fields, convert):
        store = self._store[res.key]
        keys = self._sorted_keys(res)
        if ns is not None:
            start = bisect.bisect_left(keys, (ns, ""))
            end = bisect.bisect_left(keys, (ns + "\x00", ""))
            keys = keys[start:end]
        for key in keys:
            entry = store[key]
            if convert is not None:
                entry = _Entry(convert(entry.obj))
            meta = entry.obj["metadata"]
            if labels and not label_match(meta.get("labels"), labels):
                continue
            if fields and not field_match(entry.obj, fields):
                continue
            yield key, entry

    def _list(self, res, ns, query):
        limit = int(query.get("limit") or 0)
        token = query.get("continue")
        start_after = None
        if token:
            try:
                start_after = tuple(json.loads(base64.urlsafe_b64decode(token.encode()).decode())["k"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "continue key is not valid: illegal base64 data")
        with self._lock:
            items, last_key, remaining = [], None, 0
            for key, entry in self._matching(res, ns, query):
                if start_after is not None and key <= start_after:
                    continue
                if limit and len(items) >= limit:
                    remaining += 1
                    continue
                items.append(entry.item)
                last_key = key
            rv = str(self._rv)
        meta = {"resourceVersion": rv}
        if remaining:
            meta["continue"] = base64.urlsafe_b64encode(json.dumps({"k": list(last_key)}).encode()).decode()
            meta["remainingItemCount"] = remaining
        head = _dumps({"kind": res.list_kind, "apiVersion": res.api_version, "metadata": meta})[:-1] + b',"items":['
        if not items:
            return head + b"]}"
        # One join, no intermediate copies of a multi-megabyte body.
        items[0] = head + items[0]
        items[-1] = items[-1] + b"]}"
        return b",".join(items)

    def _watch(self, res, ns, query, table=False):
        since = int(query.get("resourceVersion") or 0)
        with self._lock:
            events = []
            for _key, entry in self._matching(res, ns, query):
                if since and entry.rv <= since:
                    continue
                obj = entry.obj
                if table:
                    obj = make_table(res.kind, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]},
                                     query.get("includeObject"))
                events.append(_dumps({"type": "MODIFIED" if since else "ADDED", "object": obj}) + b"\n")
        hold = min(float(query.get("timeoutSeconds") or WATCH_HOLD_MAX), WATCH_HOLD_MAX)
        return "watch", events, hold

    def _log(self, res, ns, name, query):
        with self._lock:
            pod = self._get_entry(res, ns, name).obj
            spec = pod.get("spec") or {}
            containers = [c.get("name") for c in spec.get("containers") or []]
            inits = [c.get("name") for c in spec.get("initContainers") or []]
            container = query.get("container")
            if not container:
                if len(containers) == 1:
                    container = containers[0]
                elif not containers:
                    raise ApiError(400, "a container name must be specified for pod %s" % name)
                else:
                    # pkg/registry/core/pod/strategy.go LogLocation
                    message = "a container name must be specified for pod %s, choose one of: [%s]" % (
                        name, " ".join(containers))
                    if inits:
                        message += " or one of the init containers: [%s]" % " ".join(inits)
                    raise ApiError(400, message)
            elif container not in containers and container not in inits:
                raise ApiError(400, "container %s is not valid for pod %s" % (container, name))
            previous = query.get("previous") in ("true", "1")
            text = self._logs.get((ns, name, container, previous))
            status = pod.get("status") or {}
        if text is None:
            # pkg/kubelet/kubelet_pods.go validateContainerLogStatus: without a current log the kubelet
            # serves the last terminated container's log, or explains why there is none.
            if previous:
                raise ApiError(400, 'previous terminated container "%s" in pod "%s" not found' % (container, name))
            text = self._logs.get((ns, name, container, True))
            item = next((c for c in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses")
                                                                               or []) if c.get("name") == container), {})
            state = item.get("state") or {}
            terminated_before = bool((item.get("lastState") or {}).get("terminated"))
            if "running" in state or "terminated" in state or terminated_before:
                text = text if ("terminated" in state or terminated_before) and text is not None else ""
            elif "waiting" in state:
                reason = state["waiting"].get("reason") or "ContainerCreating"
                detail = {"ErrImagePull": "image can't be pulled",
                          "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
                raise ApiError(400, 'container "%s" in pod "%s" is waiting to start: %s' % (container, name, detail))
            else:
                text = ""
        if query.get("tailLines"):
            tail = int(query["tailLines"])
            lines = text.splitlines(True)
            text = "".join(lines[-tail:]) if tail > 0 else ""
        if query.get("timestamps") in ("true", "1"):
            stamp = now_rfc3339().replace("Z", ".000000000Z")
            text = "".join("%s %s" % (stamp, line) for line in text.splitlines(True))
        data = text.encode("utf-8")
        if query.get("limitBytes"):
            data = data[:int(query["limitBytes"])]
        return 200, "text/plain", data

    # -- writes ------------------------------------------------------------------------------
    def _validate_object(self, res, obj, name):
        if not isinstance(obj, dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        kind = obj.get("kind")
        if kind and kind != res.kind and not (res.kind == "Scale"):
            raise ApiError(400, "the kind of the provided object (%s) does not match the expected kind (%s)"
                           % (kind, res.kind))
        api_version = obj.get("apiVersion")
        if api_version and api_version != res.api_version:
            raise ApiError(400, "the API version in the data (%s) does not match the expected API version (%s)"
                           % (api_version, res.api_version))
        if res.group == "rbac.authorization.k8s.io":
            # RBAC names only need to be valid path segments (system:metrics-server is legal).
            if not name or name in (".", "..") or "/" in name or "%" in name:
                raise invalid(res, name, "metadata.name", 'may not contain "/" or "%"', value=name)
        else:
            pattern, message = (DNS1123_LABEL, LABEL_MSG) if res.kind == "Namespace" \
                else (DNS1123_SUBDOMAIN, SUBDOMAIN_MSG)
            if len(name) > 253 or not pattern.match(name):
                raise invalid(res, name, "metadata.name", message, value=name)
        if res.kind == "Pod" and not ((obj.get("spec") or {}).get("containers")):
            raise invalid(res, name, "spec.containers", "Required value", cause_type="FieldValueRequired")

    def _create(self, res, ns, obj, dry_run, keep_status=False):
        if not isinstance(obj, dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            body_ns = meta.get("namespace")
            if ns is None:
                raise ApiError(404, "the server could not find the requested resource")
            if body_ns and body_ns != ns:
                raise ApiError(400, "the namespace of the provided object does not match the namespace sent on "
                                    "the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        with self._lock:
            name = meta.get("name")
            if not name:
                if meta.get("generateName"):
                    name = meta["generateName"] + "".join(random.choice(GENERATE_NAME_CHARS) for _index in range(5))
                    meta["name"] = name
                else:
                    raise invalid(res, "", "metadata.name", "Required value: name or generateName is required",
                                  cause_type="FieldValueRequired")
            self._validate_object(res, obj, name)
            if (ns or "", name) in self._store[res.key]:
                raise ApiError(409, '%s "%s" already exists' % (res.qualified, name), "AlreadyExists",
                               _details(res, name))
            obj["apiVersion"] = res.api_version
            obj["kind"] = res.kind
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            for transient in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
                meta.pop(transient, None)
            if res.generation:
                meta["generation"] = 1
            if not keep_status and "status" in res.subresources:
                obj.pop("status", None)
                if res.kind == "Pod":
                    obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj)}
            _default_structs(obj)
            if dry_run:
                return obj
            if res.namespaced:
                self._ensure_namespace(ns)
            meta["resourceVersion"] = self._next_rv()
            self._put(res, ns, name, obj)
            return copy.deepcopy(obj)

    def _replace(self, res, ns, name, sub, obj, dry_run):
        if not isinstance(obj, dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        with self._lock:
            entry = self._get_entry(res, ns, name)
            if sub == "scale":
                return self._write_scale(res, ns, name, entry, obj, dry_run)
            body_name = (obj.get("metadata") or {}).get("name")
            if body_name and body_name != name:
                raise ApiError(400, "the name of the object (%s) does not match the name on the URL (%s)"
                               % (body_name, name))
            return self._update(res, ns, name, entry, obj, sub, dry_run, check_rv=True)

    def _patch(self, res, ns, name, sub, payload, content_type, dry_run):
        with self._lock:
            store = self._store[res.key]
            entry = store.get((ns or "", name))
            if entry is None:
                if content_type == "application/apply-patch+yaml" and sub is None:
                    obj = copy.deepcopy(payload)
                    return self._create(res, ns, obj, dry_run)
                raise not_found(res, name)
            current = self._scale_of(copy.deepcopy(entry.obj)) if sub == "scale" else copy.deepcopy(entry.obj)
            if content_type == "application/json-patch+json":
                patched = json_patch(current, payload)
            elif content_type == "application/merge-patch+json" or content_type == "application/apply-patch+yaml":
                if not isinstance(payload, dict):
                    raise ApiError(400, "the body of the request was in an unknown format")
                patched = merge_patch(current, payload)
            elif content_type == "application/strategic-merge-patch+json":
                if not isinstance(payload, dict):
                    raise ApiError(400, "the body of the request was in an unknown format")
                patched = strategic_merge_patch(current, payload)
            else:
                raise ApiError(415, 'the server does not support the media type "%s" for PATCH' % content_type)
            if sub == "scale":
                return self._write_scale(res, ns, name, entry, patched, dry_run)
            check = bool(isinstance(payload, dict) and (payload.get("metadata") or {}).get("resourceVersion"))
            return self._update(res, ns, name, entry, patched, sub, dry_run, check_rv=check)

    def _update(self, res, ns, name, entry, new, sub, dry_run, check_rv):
        old = entry.obj
        self._validate_object(res, new, name)
        new_meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        wanted_rv = new_meta.get("resourceVersion")
        if check_rv and wanted_rv and wanted_rv != old_meta["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been modified; please '
                                'apply your changes to the latest version and try again' % (res.qualified, name),
                           "Conflict", _details(res, name))
        if "status" in res.subresources:
            if sub == "status":
                # A status write changes status only (metadata labels/annotations aside).
                status = new.get("status")
                new = copy.deepcopy(old)
                if status is None:
                    new.pop("status", None)
                else:
                    new["status"] = status
                new_meta = new["metadata"]
            elif "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        for fixed in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if fixed in old_meta:
                new_meta[fixed] = old_meta[fixed]
            else:
                new_meta.pop(fixed, None)
        new_meta["name"] = name
        if res.namespaced:
            new_meta["namespace"] = ns
        new["apiVersion"] = res.api_version
        new["kind"] = res.kind
        _default_structs(new)
        if res.generation:
            generation = old_meta.get("generation", 1)
            if sub is None and new.get("spec") != old.get("spec"):
                generation += 1
            new_meta["generation"] = generation
        new_meta["resourceVersion"] = old_meta["resourceVersion"]
        if new == old:
            return copy.deepcopy(old)
        if dry_run:
            return new
        if new_meta.get("deletionTimestamp") and not new_meta.get("finalizers"):
            self._remove(res, ns, name)
            return new
        new_meta["resourceVersion"] = self._next_rv()
        self._put(res, ns, name, new)
        return copy.deepcopy(new)

    def _write_scale(self, res, ns, name, entry, scale, dry_run):
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise invalid(res, name, "spec.replicas", "must be greater than or equal to 0", value=replicas)
        wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != entry.obj["metadata"]["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been modified; please '
                                'apply your changes to the latest version and try again' % (res.qualified, name),
                           "Conflict", _details(res, name))
        new = copy.deepcopy(entry.obj)
        new.setdefault("spec", {})["replicas"] = replicas
        updated = self._update(res, ns, name, entry, new, None, dry_run, check_rv=False)
        return self._scale_of(updated)

    def _delete(self, res, ns, name, dry_run, query, options):
        with self._lock:
            entry = self._get_entry(res, ns, name)
            obj = copy.deepcopy(entry.obj)
            meta = obj["metadata"]
            precondition = (options.get("preconditions") or {})
            if precondition.get("uid") and precondition["uid"] != meta.get("uid"):
                raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": Precondition failed: UID in '
                                    'precondition: %s, UID in object meta: %s'
                               % (res.qualified, name, precondition["uid"], meta.get("uid")), "Conflict",
                               _details(res, name))
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = now_rfc3339()
                    grace = query.get("gracePeriodSeconds", options.get("gracePeriodSeconds"))
                    meta["deletionGracePeriodSeconds"] = int(grace) if grace not in (None, "") else 0
                    if not dry_run:
                        meta["resourceVersion"] = self._next_rv()
                        self._put(res, ns, name, obj)
                return copy.deepcopy(obj)
            if not dry_run:
                self._remove(res, ns, name)
                if res.kind == "Namespace":
                    for other in self.resources:
                        if other.namespaced:
                            for key in [k for k in self._store[other.key] if k[0] == name]:
                                self._remove(other, key[0], key[1])
                    for key in [k for k in self._logs if k[0] == name]:
                        del self._logs[key]
            return obj

    def _delete_collection(self, res, ns, query, dry_run):
        with self._lock:
            labels = parse_label_selector(query.get("labelSelector"))
            fields = parse_field_selector(res, query.get("fieldSelector"))
            names = [key for key, _entry in self._matching_store(res, ns, labels, fields, None)]
            deleted = [self._delete(res, key[0] or None, key[1], dry_run, query, {}) for key in names]
        return {"kind": res.list_kind, "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self._rv)}, "items": deleted}

    def _evict(self, res, ns, name, dry_run):
        with self._lock:
            pod = self._get_entry(res, ns, name).obj
            labels = pod["metadata"].get("labels") or {}
            pdbs = self._by_path[("policy", "v1", "poddisruptionbudgets")]
            for (pdb_ns, _pdb_name), entry in self._store[pdbs.key].items():
                if pdb_ns != ns:
                    continue
                selector = (entry.obj.get("spec") or {}).get("selector")
                if selector is None or not label_match(labels, parse_label_selector(_selector_string(selector))):
                    continue
                if (entry.obj.get("status") or {}).get("disruptionsAllowed", 0) <= 0:
                    # pkg/registry/core/pod/storage/eviction.go
                    raise ApiError(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                                   "TooManyRequests",
                                   {"causes": [{"reason": "DisruptionBudget",
                                                "message": "The disruption budget %s needs %s healthy pods "
                                                           "and has %s currently" % (
                                                               entry.obj["metadata"]["name"],
                                                               entry.obj.get("status", {}).get("desiredHealthy", 0),
                                                               entry.obj.get("status", {}).get("currentHealthy", 0))}]})
            self._delete(res, ns, name, dry_run, {}, {})
        return 201, "application/json", _dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                "status": "Success", "code": 201})


def _qos_class(pod):
    containers = (pod.get("spec") or {}).get("containers") or []
    requests_set = limits_set = guaranteed = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            requests_set = True
        if limits:
            limits_set = True
        for kind in ("cpu", "memory"):
            if kind not in limits or requests.get(kind, limits.get(kind)) != limits.get(kind):
                guaranteed = False
    if guaranteed and limits_set and containers:
        return "Guaranteed"
    return "Burstable" if requests_set else "BestEffort"


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

    def _send(self, code, content_type, payload):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
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
            _kind, events, hold = result
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in events:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
            time.sleep(hold)
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
            return None
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
    args = parser.parse_args(argv)
    emulator = KubeEmulator(port=args.port, token=args.token)
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


if __name__ == "__main__":
    sys.exit(main())
