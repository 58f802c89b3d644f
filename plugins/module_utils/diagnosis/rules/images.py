# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image pulls: why the runtime could not get the image.

Waiting reasons come from pkg/kubelet/images/types.go (ErrImagePull, ImagePullBackOff,
ErrImageNeverPull, InvalidImageName, ImageInspectError, RegistryUnavailable) and the event text from
pkg/kubelet/images/image_manager.go ('Failed to pull image "%s": %v', 'Back-off pulling image "%s"',
'Container image "%s" is not present with pull policy of Never', 'Failed to apply default image tag ...').
The runtime's error inside differs: docker ("Error response from daemon: manifest for x not found:
manifest unknown", "pull access denied for x, repository does not exist or may require 'docker login'"),
containerd ("failed to resolve reference ...: not found", "failed to authorize: failed to fetch
anonymous token: unexpected status: 401 Unauthorized", "429 Too Many Requests"), CRI-O
("reading manifest x in y: manifest unknown", "unable to retrieve auth token: invalid username/password").
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    as_str, ev, event_ref, finding, total_count,
)

PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "RegistryUnavailable",
                "ImageInspectError", "ErrImageInspect", "SignatureValidationFailed")
INVALID_REASONS = ("InvalidImageName",)

# Ordered: the first matching sub-cause wins (rate limits and TLS text also contain "denied"/"dial").
_SUBCAUSES = (
    ("rate_limited", re.compile(r"toomanyrequests|too many requests|rate limit|\b429\b", re.I)),
    ("tls", re.compile(r"x509|certificate signed by unknown authority|certificate is valid for|"
                       r"tls: failed to verify|certificate has expired|server gave HTTP response to HTTPS client",
                       re.I)),
    ("invalid_name", re.compile(r"invalid reference format|couldn't parse image (?:reference|name)|"
                                r"repository name must be lowercase|invalid image name", re.I)),
    ("never_pull", re.compile(r"pull policy of Never|ErrImageNeverPull", re.I)),
    ("platform", re.compile(r"no match for platform in manifest|no matching manifest for|"
                            r"image with reference .* was found but does not match the specified platform", re.I)),
    ("unauthorized", re.compile(r"unauthorized|authentication required|access denied|pull access denied|"
                                r"\bdenied\b|\b401\b|\b403\b|forbidden|insufficient_scope|no basic auth credentials|"
                                r"authorization failed|failed to authorize|invalid username/password|"
                                r"unable to retrieve auth token", re.I)),
    ("not_found", re.compile(r"not found|manifest unknown|name unknown|no such image|does not exist|"
                             r"no matching manifest|unknown tag|\b404\b", re.I)),
    ("network", re.compile(r"no such host|i/o timeout|connection refused|network is unreachable|"
                           r"dial tcp|context deadline exceeded|tls handshake timeout|connection reset|"
                           r"server misbehaving|temporary failure in name resolution|timeout exceeded|"
                           r"request canceled|eof\b", re.I)),
    ("registry_unavailable", re.compile(r"\b50[0-4]\b|service unavailable|bad gateway|internal server error|"
                                        r"gateway time-?out|RegistryUnavailable", re.I)),
)

_EXPLAIN = {
    "rate_limited": "the registry is rate limiting pulls (toomanyrequests)",
    "tls": "the registry's TLS certificate is not trusted by the node (x509)",
    "invalid_name": "the image reference is not a valid name",
    "never_pull": "imagePullPolicy is Never and the image is not present on the node",
    "platform": "the image has no variant for the node's OS/CPU architecture (no match for platform in manifest)",
    "unauthorized": "the registry denied the pull: the repository is private (missing or wrong "
                    "imagePullSecrets) or does not exist",
    "not_found": "the image repository or tag does not exist in the registry (manifest unknown)",
    "network": "the node cannot reach the registry (DNS, network or timeout)",
    "registry_unavailable": "the registry is unavailable (server error 5xx)",
    "unknown": "the image could not be pulled",
}
# Sub-causes that may clear by themselves: not worth an alarm while they are seconds old.
TRANSIENT = ("network", "registry_unavailable", "rate_limited", "unknown")
_IMAGE_IN_MSG = re.compile(r'image "([^"]+)"')
_IMAGE_TAG_MSG = re.compile(r'(?:image tag|image reference) "([^"]*)"')
_FRESH_SECONDS = 60


def subcause(text):
    for name, pattern in _SUBCAUSES:
        if pattern.search(text):
            return name
    return "unknown"


_EVENT_INVALID = re.compile(r"Error: InvalidImageName|Failed to apply default image tag|"
                            r"couldn't parse image (?:reference|name)", re.I)
_EVENT_PULL = re.compile(r"Failed to pull image|Error: (?:ErrImagePull|ImagePullBackOff)|Back-off pulling image",
                         re.I)


def check(ctx):
    findings = []
    for container in ctx.containers:
        reason = container.waiting_reason
        if reason in PULL_REASONS or reason in INVALID_REASONS:
            result = _pull_finding(ctx, container, reason)
            if result:
                findings.append(result)
    if not findings and not ctx.has_statuses and ctx.phase in ("Pending", ""):
        # Events-only capture: the kubelet's pull/inspect events stand in for the waiting reason.
        for container in ctx.event_only_containers():
            events = ctx.container_events(container, "Failed", "BackOff", "InspectFailed", "InvalidImageName")
            texts = [as_str(e.get("message")) for e in events]
            if any(_EVENT_INVALID.search(t) for t in texts):
                reason = "InvalidImageName"
            elif any(_EVENT_PULL.search(t) for t in texts):
                reason = "ImagePullBackOff"
            else:
                continue
            findings.append(_pull_finding(ctx, container, reason))
            break
    return findings


# Why a reference does not parse (distribution/reference grammar), most specific first.
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_TEMPLATE_RE = re.compile(r"\{\{|\}\}|<[^>]*>|\$\{|\$\(")


def invalid_reason(image):
    """A sentence saying what makes an image reference invalid, or None when nothing obvious is wrong."""
    if image is None:
        return None
    text = as_str(image)
    if not text.strip():
        return "the image is empty"
    if _TEMPLATE_RE.search(text):
        return "it contains an unrendered template or placeholder (%s)" % _TEMPLATE_RE.search(text).group(0)
    if text != text.strip() or " " in text or "\t" in text:
        return "it contains whitespace"
    parts = re.split(r"[/:@]", text)
    if any(p in ("None", "none", "null", "nil", "undefined") for p in parts):
        return "a part of it is None/null: a value was missing when the reference was built"
    if _SCHEME_RE.match(text):
        return "it starts with a URL scheme (%s); references take no scheme" % _SCHEME_RE.match(text).group(0)
    if text.startswith("/"):
        return "it starts with a slash (an empty registry or repository part)"
    if "//" in text or text.endswith((":", "/", "@")) or ":/" in text or "/:" in text:
        return "it has an empty part (an empty registry, repository or tag)"
    name = text.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if last.count(":") > 1 or ("/" not in name and name.count(":") > 1):
        return "it has more than one tag (the tag was appended to a reference that already had one)"
    segments = name.split("/")
    if len(segments) > 2 and "." in segments[0] and segments[0] in segments[1:]:
        return "the registry %s appears twice" % segments[0]
    repo = name.rsplit(":", 1)[0] if ":" in last else name
    head = repo.split("/", 1)[0]
    # The registry host may have capitals (DNS is case-insensitive); the repository path may not.
    registry = "/" in repo and ("." in head or ":" in head or head == "localhost")
    path = repo.split("/", 1)[1] if registry else repo
    if path != path.lower():
        return "the repository part has upper-case letters (repository names must be lowercase)"
    return None


def _pull_finding(ctx, container, reason):
    events = ctx.container_events(container, "Failed", "BackOff", "ErrImageNeverPull", "InspectFailed",
                                  "InvalidImageName")
    failed = [e for e in events if "pull" in as_str(e.get("message")).lower()
              or "image" in as_str(e.get("message")).lower()]
    texts = [(container.status_path + ".state.waiting", container.waiting_message, None)]
    for event in failed:
        texts.append((event_ref(event, ctx), as_str(event.get("message")), event))
    # Consult every message; the most specific sub-cause wins over the generic ones.
    best = "unknown"
    best_src = texts[0]
    order = [item[0] for item in _SUBCAUSES] + ["unknown"]
    for item in texts:
        cause = subcause(item[1])
        if order.index(cause) < order.index(best) or (best == "unknown" and cause != "unknown"):
            best, best_src = cause, item
    if reason in INVALID_REASONS:
        best = "invalid_name"
    elif reason == "ErrImageNeverPull":
        best = "never_pull"
    image = container.image
    if not image:
        for item in texts:
            match = _IMAGE_IN_MSG.search(item[1]) or _IMAGE_TAG_MSG.search(item[1])
            if match:
                image = match.group(1)
                break
    category = "InvalidImageName" if best == "invalid_name" else "ImagePullBackOff"
    evidence = [ev(container.status_path + ".state.waiting",
                   "reason=%s %s" % (reason, container.waiting_message))]
    if best_src is not texts[0]:
        evidence.append(ev(best_src[0], best_src[1]))
    for src, text, _event in texts[1:4]:
        if best_src[1] != text:
            evidence.append(ev(src, text))
    culprit = {"container": container.name, "image": image, "cause": best}
    if container.role == "init":
        culprit["init_container"] = True
    secrets = [as_str(s.get("name")) for s in (ctx.spec.get("imagePullSecrets") or []) if isinstance(s, dict)]
    if best == "unauthorized":
        culprit["image_pull_secrets"] = secrets
    root = "Container %s cannot pull image %s: %s" % (container.name or "(unnamed)", image or "(unknown)",
                                                      _EXPLAIN[best])
    facts = {"image": image, "cause": best, "role": container.role}
    if best == "invalid_name" and not image:
        root = "Container %s has an invalid image reference (the reference itself is not in the evidence: read it " \
               "from the pod spec)" % (container.name or "(unnamed)")
    elif best == "invalid_name":
        why = invalid_reason(image)
        if why:
            root = "Container %s has an invalid image reference %r: %s" % (container.name or "(unnamed)", image, why)
            facts["invalid_reason"] = why
            culprit["invalid_reason"] = why
    if best == "unauthorized":
        root += ("; a registry answers 'denied' both for a repository that does not exist and for a private one "
                 "without credentials: if `docker pull %s` works with the pull secret's credentials, the secret is "
                 "missing or wrong; if it fails there too, the name or tag is wrong" % (image or "IMAGE"))
    if best == "unauthorized" and not secrets:
        root += "; the pod has no imagePullSecrets"
    confidence = 0.95 if best != "unknown" else 0.75
    # Don't cry wolf: a transient-looking failure seen once, seconds ago, may clear on retry.
    tentative = False
    if best in TRANSIENT and reason == "ErrImagePull":
        firsts = [ctx.event_first_age(e) for e in failed]
        firsts = [a for a in firsts if a is not None]
        started = ctx.age
        if (firsts and max(firsts) < _FRESH_SECONDS and total_count(failed) <= 2) or \
                (not firsts and started is not None and started < _FRESH_SECONDS):
            tentative = True
    summary = "%s: container %s cannot pull %s (%s)" % (
        category, container.name, image or "image", best.replace("_", " "))
    return finding(category, summary, root, confidence, culprit=culprit, evidence=evidence,
                   container=container.name or None, facts=facts, tentative=tentative)
