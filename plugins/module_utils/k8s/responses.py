# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How transport.py names requests and turns answers into the collection's one-line errors.

Pure functions (no kubernetes import): RBAC wording of a path, a short reason for a connection
failure, Retry-After parsing, and the error class for a status.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import json
import re
import time

from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import KINDS as KIND_TABLE
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import (
    ApiError,
    Forbidden,
    NotFound,
    Unauthorized,
)

# Kind of each resource plural, for "Pod shop/web-1 not found" style messages (from the one kind table).
KINDS = dict((plural, kind) for kind, (_version, plural, _namespaced) in KIND_TABLE.items())
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_PATH = re.compile(r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)"
                   r"(?:/namespaces/(?P<ns>[^/]+))?(?:/(?P<resource>[^/]+))?(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?")


def describe_request(method, path):
    """(verb, resource, namespace, name) of an API path, in RBAC terms.

    "/api/v1/namespaces/shop/pods" -> ("list", "pods", "shop", None);
    "/api/v1/namespaces/shop" -> ("get", "namespaces", None, "shop");
    "/api/v1/namespaces/shop/pods/web/log" -> ("get", "pods/log", "shop", "web").
    """
    match = _PATH.match(path.split("?", 1)[0])
    if not match:
        return (method.lower(), path, None, None)
    namespace, resource, name, sub = match.group("ns"), match.group("resource"), match.group("name"), match.group("sub")
    if namespace and resource is None:
        resource, name, namespace = "namespaces", namespace, None
    if sub:
        resource = "%s/%s" % (resource, sub)
    if method.upper() == "GET":
        verb = "get" if name else "list"
    else:
        verb = _VERBS.get(method.upper(), method.lower())
    return verb, resource or "", namespace, name


def short_reason(exc):
    """A few words for why a connection failed (the full urllib3 text is a paragraph)."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    lowered = text.lower()
    for needle, words in (("refused", "connection refused"),
                          ("name or service not known", "host name not found"),
                          ("nodename nor servname", "host name not found"),
                          ("temporary failure in name resolution", "host name not found"),
                          ("timed out", "timed out"), ("timeout", "timed out"),
                          ("certificate verify failed", "TLS certificate verification failed"),
                          ("wrong version number", "TLS handshake failed (is the port plain HTTP?)"),
                          ("ssl", "TLS error"),
                          ("network is unreachable", "network unreachable"),
                          ("no route to host", "no route to host"),
                          ("connection reset", "connection reset"),
                          ("remote end closed", "connection closed by the server")):
        if needle in lowered:
            return words
    return type(reason).__name__


def retry_after_seconds(value, now=None):
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def error_for(host, method, path, status, reason, body, headers=None):
    """The collection error for a non-2xx answer: names the verb, resource and what to do."""
    verb, resource, namespace, name = describe_request(method, path)
    message = None
    try:
        payload = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
        message = payload.get("message") if isinstance(payload, dict) else None
    except (TypeError, ValueError, AttributeError):
        message = None
    if status == 401:
        return Unauthorized(host)
    if status == 403:
        return Forbidden(verb, resource, namespace)
    if status == 404 and verb in ("get", "patch", "update", "delete") and name:
        return NotFound(KINDS.get(resource.split("/")[0], resource), namespace, name)
    if status in (429, 503):
        asked = retry_after_seconds(header(headers, "Retry-After"))
        message = "%s at %s%s; retry later%s" % (
            "throttled" if status == 429 else "unavailable", host or "the API server",
            " (it asked to wait %s s, beyond this request's deadline)" % seconds(asked) if asked is not None else "",
            " or raise the deadline" if asked is not None else "")
    return ApiError(status, reason, message, what="%s %s%s" % (
        verb, resource, " in namespace %s" % namespace if namespace else ""))


def header(headers, name):
    """A header's value from urllib3's HTTPHeaderDict or a plain dict (case-insensitive)."""
    if not headers:
        return None
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None and hasattr(headers, "items"):
        for key, item in headers.items():
            if str(key).lower() == name.lower():
                return item
    return value


def seconds(value):
    """3 -> "3", 2.5 -> "2.5" (for messages)."""
    if value is None:
        return "?"
    value = float(value)
    return ("%d" % value) if value == int(value) else ("%.1f" % value)
