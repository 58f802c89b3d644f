# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster verbs (GET, LIST, PATCH, PUT, POST, DELETE) over the one transport, with typed errors.

Paths come only from ``common.kinds.resource_path`` (validated, quoted segments), so a name such as
``../../kube-system/pods/x`` is refused before any request. Errors are the transport's typed errors
(NotFound, ApiError with its status); nothing here guesses a status from an exception's attributes.
Every call is recorded (method, path, dry run) for the audit and the RBAC review.
"""

from __future__ import absolute_import, division, print_function

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import ApiError, NotFound
from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import resource_path

__metaclass__ = type

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def is_conflict(exc):
    """409 Conflict (stale resourceVersion, failed precondition) from the transport."""
    return isinstance(exc, ApiError) and exc.status == 409


def is_invalid(exc):
    """422 (a JSON patch ``test`` op that failed, an invalid object)."""
    return isinstance(exc, ApiError) and exc.status == 422


def target_path(target, subresource=None):
    """The API path of a plan target {kind, name, namespace, api_version}; InvalidInput when a name is bad."""
    return resource_path(target.get("kind"), target.get("name"), target.get("namespace"), subresource,
                         target.get("api_version"))


def object_path(obj):
    meta = (obj or {}).get("metadata") or {}
    return resource_path(obj.get("kind"), meta.get("name"), meta.get("namespace"), version=obj.get("apiVersion"))


class Cluster(object):
    """Thin verbs over a transport exposing ``request_json``; records every call in ``calls``."""

    def __init__(self, transport):
        self.transport = transport
        self.calls = []

    def request(self, method, path, query=None, body=None, content_type=None):
        self.calls.append({"method": method, "path": path, "dry_run": bool(query and query.get("dryRun"))})
        return self.transport.request_json(method, path, query=query, body=body, content_type=content_type)

    def get(self, path):
        """The object, or None when the API says 404."""
        try:
            return self.request("GET", path)
        except NotFound:
            return None
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, path, labels=None):
        query = {"labelSelector": ",".join("%s=%s" % item for item in sorted((labels or {}).items()))} \
            if labels else None
        items = (self.request("GET", path, query=query) or {}).get("items") or []
        # Filter again: a selector the server ignored must not widen what we judge.
        return [item for item in items if matches_labels(item, labels)]

    def write(self, change, dry_run=False):
        """Send a change {method, path, body, content_type}; dry_run asks the server not to persist it."""
        return self.request(change["method"], change["path"], query={"dryRun": "All"} if dry_run else None,
                            body=change.get("body"), content_type=change.get("content_type"))


def matches_labels(obj, labels):
    have = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return all(have.get(key) == value for key, value in (labels or {}).items())


def cluster_from_module(module):
    """A Cluster over the shared transport built from the module's kubernetes.core auth options."""
    from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
    return Cluster(k8s_transport.transport_from_module(module))
