"""The emulator's resource catalogue, API constants and Status errors."""

from __future__ import annotations

import datetime
import json
import re

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

class ApiError(Exception):
    """A failure the server answers with a Status object."""

    def __init__(self, code, message, reason=None, details=None, headers=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details
        self.headers = headers


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


def _strip_type(obj):
    """List items on the real server carry no apiVersion/kind."""
    return {k: v for k, v in obj.items() if k != "apiVersion" and k != "kind"}


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")
