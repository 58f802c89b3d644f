# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's exceptions: each carries one user-facing line that names the object and what to do.

Helpers raise these; a module turns them into one ``fail_json(msg=str(exc))`` at the top, so users
never see a traceback. Messages pass through the shared redactor (a server's Status message or a
connection error can echo a URL with credentials) and are folded onto one line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact

RBAC_DOC = "docs/rbac/diagnose-readonly.yaml"

_MAX_MESSAGE = 500


def one_line(text, limit=_MAX_MESSAGE):
    """Collapse whitespace (server messages are often multi-line) and cap the length."""
    text = " ".join(str(text if text is not None else "").split())
    if len(text) > limit:
        text = text[:limit - 3].rstrip() + "..."
    return text


def _where(namespace):
    return " in namespace %s" % namespace if namespace else " cluster-wide"


class AiopsError(Exception):
    """Base class; ``message`` is the one line shown to the user."""

    def __init__(self, message):
        self.message = one_line(redact(one_line(message, limit=4 * _MAX_MESSAGE)))
        super(AiopsError, self).__init__(self.message)

    def __str__(self):
        return self.message


class InvalidInput(AiopsError):
    """A parameter or input file the user can fix."""


class NotFound(AiopsError):
    """An object that does not exist: ``NotFound("Pod", "shop", "web-1")`` -> "Pod shop/web-1 not found"."""

    def __init__(self, kind, namespace=None, name=None, message=None):
        self.kind = kind
        self.namespace = namespace
        self.name = name
        if message is None:
            if namespace and name:
                message = "%s %s/%s not found" % (kind, namespace, name)
            elif name or namespace:
                message = "%s %s not found" % (kind, name or namespace)
            else:
                message = "%s not found" % kind
        super(NotFound, self).__init__(message)


class Forbidden(AiopsError):
    """RBAC refused a request: names the verb and resource and points at the shipped read-only role."""

    def __init__(self, verb, resource, namespace=None, detail=None):
        self.verb = verb
        self.resource = resource
        self.namespace = namespace
        message = "Forbidden: the Kubernetes API refused to %s %s%s" % (verb, resource, _where(namespace))
        if detail:
            message += " (%s)" % detail
        message += "; grant the read-only role in %s to this user or service account" % RBAC_DOC
        super(Forbidden, self).__init__(message)


class Unauthorized(AiopsError):
    """401: the credentials were not accepted."""

    def __init__(self, host):
        self.host = host
        super(Unauthorized, self).__init__(
            "Unauthorized by the Kubernetes API at %s: check your credentials / kubeconfig context" % (host or "?"))


class Unreachable(AiopsError):
    """The API server could not be reached (refused, DNS, TLS, timeout)."""

    def __init__(self, host, reason):
        self.host = host
        self.reason = reason
        super(Unreachable, self).__init__(
            "Cannot reach the Kubernetes API at %s: %s; check the host, network and kubeconfig context"
            % (host or "?", reason or "connection failed"))


class ApiError(AiopsError):
    """Any other API failure: status code, reason and the server's Status message."""

    def __init__(self, status, reason, message=None, what=None):
        self.status = status
        self.reason = reason
        text = "Kubernetes API error %s %s" % (status, reason or "")
        if what:
            text = text.rstrip() + " while trying to %s" % what
        if message:
            text = text.rstrip() + ": %s" % message
        super(ApiError, self).__init__(text)


class DumpError(AiopsError):
    """An offline dump that cannot be read: names the file or directory and what to do."""

    def __init__(self, message, path=None):
        self.path = path
        super(DumpError, self).__init__(message)
