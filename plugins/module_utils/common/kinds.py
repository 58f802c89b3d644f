# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of the Kubernetes kinds the collection reads or changes, and safe API paths for them.

Every URL is built here from validated, percent-quoted segments: a name such as
``../../kube-system/pods/x`` must be refused, not normalised by the HTTP library into another object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 module payloads are not supported, kept for sanity
    from urllib import quote  # type: ignore

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput

# kind -> (apiVersion, plural, namespaced)
KINDS = {
    "Pod": ("v1", "pods", True),
    "Node": ("v1", "nodes", False),
    "Namespace": ("v1", "namespaces", False),
    "Event": ("v1", "events", True),
    "Service": ("v1", "services", True),
    "ConfigMap": ("v1", "configmaps", True),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims", True),
    "PersistentVolume": ("v1", "persistentvolumes", False),
    "ReplicationController": ("v1", "replicationcontrollers", True),
    "ResourceQuota": ("v1", "resourcequotas", True),
    "LimitRange": ("v1", "limitranges", True),
    "Deployment": ("apps/v1", "deployments", True),
    "StatefulSet": ("apps/v1", "statefulsets", True),
    "DaemonSet": ("apps/v1", "daemonsets", True),
    "ReplicaSet": ("apps/v1", "replicasets", True),
    "Job": ("batch/v1", "jobs", True),
    "CronJob": ("batch/v1", "cronjobs", True),
    "StorageClass": ("storage.k8s.io/v1", "storageclasses", False),
}

# Controllers that own a pod template (a fix changes the template, the controller rolls it out).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
                  "CronJob")
# Workloads whose template a remediation may patch (Jobs' templates are immutable).
PATCHABLE_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
# Workloads that support a rollout restart (kubectl rollout restart).
RESTARTABLE_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
SCALABLE_WORKLOADS = ("Deployment", "StatefulSet", "ReplicaSet")

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Kinds whose names must be DNS-1123 labels; all others are DNS-1123 subdomains.
_LABEL_KINDS = ("Namespace", "Service")


def api_version(kind, default="v1"):
    entry = KINDS.get(kind)
    return entry[0] if entry else default


def is_dns_label(value):
    return isinstance(value, str) and len(value) <= 63 and bool(_LABEL.match(value))


def is_dns_subdomain(value):
    return isinstance(value, str) and len(value) <= 253 and bool(_SUBDOMAIN.match(value))


def check_name(field, value, kind=None):
    """``value`` if it is a valid name for ``kind``; else InvalidInput naming the field and the rule."""
    label = kind in _LABEL_KINDS or field in ("namespace",)
    valid = is_dns_label(value) if label else is_dns_subdomain(value)
    if not valid:
        rule = "a DNS-1123 label (lower-case letters, digits and '-', at most 63)" if label else \
            "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253)"
        raise InvalidInput("Invalid %s %r: it must be %s" % (field, value if isinstance(value, str) else str(value),
                                                             rule))
    return value


def check_container_name(field, value):
    if not is_dns_label(value):
        raise InvalidInput("Invalid %s %r: a container name is a DNS-1123 label" % (field, value))
    return value


def resource_path(kind, name=None, namespace=None, subresource=None, version=None):
    """``/apis/apps/v1/namespaces/shop/deployments/web`` from validated, quoted segments.

    Raises InvalidInput for an unknown kind, a missing namespace on a namespaced kind, or a bad name.
    """
    if kind not in KINDS:
        raise InvalidInput("Kind %s is not supported: use one of %s" % (kind, ", ".join(sorted(KINDS))))
    default_version, plural, namespaced = KINDS[kind]
    version = version or default_version
    if not re.match(r"^([a-z0-9.-]+/)?v[0-9]+((alpha|beta)[0-9]+)?$", version):
        raise InvalidInput("Invalid apiVersion %r for %s" % (version, kind))
    parts = ["api" if "/" not in version else "apis", version]
    if namespaced:
        if not namespace:
            raise InvalidInput("%s %s needs a namespace" % (kind, name or ""))
        parts += ["namespaces", check_name("namespace", namespace, "Namespace")]
    parts.append(plural)
    if name is not None:
        parts.append(check_name("%s name" % kind, name, kind))
    if subresource:
        if subresource not in ("status", "log", "scale", "eviction", "binding"):
            raise InvalidInput("Subresource %r is not supported" % subresource)
        parts.append(subresource)
    return "/" + "/".join(quote(part, safe="/." if part == version else "") for part in parts)


def collection_path(kind, namespace=None):
    """LIST path of ``kind``: in ``namespace`` (validated, quoted), or across all namespaces without one."""
    if namespace or (kind in KINDS and not KINDS[kind][2]):
        return resource_path(kind, namespace=namespace)
    if kind not in KINDS:
        return resource_path(kind)  # the unknown-kind error
    version, plural, _namespaced = KINDS[kind]
    return "/%s/%s/%s" % ("api" if "/" not in version else "apis", version, plural)
