# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to diagnose: one pod, pods by selector, a namespace or every namespace.

Validated up front so a typo fails with one clear line before any request is made.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.heap import collector_paused

_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(r"^%s$" % _LABEL)
DNS1123_SUBDOMAIN = re.compile(r"^%s(?:\.%s)*$" % (_LABEL, _LABEL))

SCOPE_POD = "pod"
SCOPE_NAMESPACE = "namespace"
SCOPE_CLUSTER = "cluster"


def validate_pod_name(name):
    """Pod names are DNS-1123 subdomains (<= 253 chars)."""
    if not isinstance(name, str) or len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        raise InvalidInput('Pod name "%s" is not a valid Kubernetes name (lowercase letters, digits, \'-\', \'.\')'
                           % (name,))
    return name


def validate_namespace(namespace):
    """Namespaces are DNS-1123 labels (<= 63 chars, no dots)."""
    if not isinstance(namespace, str) or len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        raise InvalidInput('Namespace "%s" is not a valid Kubernetes namespace name (lowercase letters, digits, '
                           '\'-\'; at most 63 characters)' % (namespace,))
    return namespace


def _selectors(values, what):
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    cleaned = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput("%s must be non-empty strings such as app=web, got %r" % (what, value))
        cleaned.append(value.strip())
    return cleaned


class Target(object):
    """The validated scope of one diagnosis run.

    With neither ``name``, ``namespace`` nor ``all_namespaces``, every namespace is scanned.
    Selectors are passed to the API server (live) or matched locally (dump).
    """

    __slots__ = ("name", "namespace", "all_namespaces", "label_selectors", "field_selectors", "include_healthy")

    def __init__(self, name=None, namespace=None, all_namespaces=False, label_selectors=None,
                 field_selectors=None, include_healthy=False):
        name = name or None
        namespace = namespace or None
        if name is not None:
            validate_pod_name(name)
            if namespace is None:
                raise InvalidInput('Pod "%s" needs a namespace: set namespace as well as name' % name)
        if namespace is not None:
            validate_namespace(namespace)
            if all_namespaces:
                raise InvalidInput("namespace=%s and all_namespaces=true are mutually exclusive: set only one"
                                   % namespace)
        self.name = name
        self.namespace = namespace
        self.all_namespaces = bool(all_namespaces) or (name is None and namespace is None)
        self.label_selectors = _selectors(label_selectors, "label_selectors")
        self.field_selectors = _selectors(field_selectors, "field_selectors")
        self.include_healthy = bool(include_healthy)

    @property
    def scope(self):
        if self.name:
            return SCOPE_POD
        return SCOPE_CLUSTER if self.all_namespaces else SCOPE_NAMESPACE

    @property
    def label_selector(self):
        """The selectors joined the way the API expects them (all must match), or None."""
        return ",".join(self.label_selectors) or None

    @property
    def field_selector(self):
        return ",".join(self.field_selectors) or None

    def describe(self):
        """Human wording for messages: "pod shop/web-1", "namespace shop", "all namespaces"."""
        if self.scope == SCOPE_POD:
            return "pod %s/%s" % (self.namespace, self.name)
        if self.scope == SCOPE_NAMESPACE:
            return "namespace %s" % self.namespace
        return "all namespaces"

    def __repr__(self):
        return "Target(%s, labels=%r, fields=%r)" % (self.describe(), self.label_selectors, self.field_selectors)


def gather(source, target):
    """``source.gather(target)`` with Python's collector paused (common/heap.py), then the source closed."""
    try:
        with collector_paused():
            return source.gather(target)
    finally:
        getattr(source, "close", lambda: None)()
