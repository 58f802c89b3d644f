# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Containers that crash, exit, get OOM-killed or cannot be created/started.

Waiting reasons: pkg/kubelet/kuberuntime/kuberuntime_container.go and pkg/kubelet/container/sync_result.go
(CrashLoopBackOff, CreateContainerConfigError, CreateContainerError, RunContainerError,
PostStartHookError). CreateContainerConfigError messages come from pkg/kubelet/kubelet_pods.go
(`configmap "x" not found`, `couldn't find key K in ConfigMap ns/name`, `secret "x" not found`,
`container has runAsNonRoot and image will run as root`). Start failures are terminated states with
reason StartError (containerd) or ContainerCannotRun (docker), exit code 128 / 127 / 126.
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import human_bytes
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.logsig import find_signature
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules.runtime import (
    create_error as _create_error, events_only_runtime as _events_only_runtime, explain_exit, run_error as _run_error,
)
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    clip, as_int, as_str, container_resources, ev, redact_text, event_ref, finding, human_duration, term_detail,
)

_RECENT_SECONDS = 3600          # an OOM kill within the last hour still needs a human
_CHRONIC_OOM_RESTARTS = 5       # killed this often, an old last kill is still a pattern, not history
_FLAP_SECONDS = 600             # running again, but restarted within the last 10 minutes
_STUCK_INIT_SECONDS = 900

_CM_SECRET_NOT_FOUND = re.compile(r'\b(configmaps?|secrets?) "([^"]+)" not found', re.I)
_KEY_NOT_FOUND = re.compile(r"couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/([^\s.,]+)", re.I)
_RUN_AS_ROOT = re.compile(r"runAsNonRoot and image (?:will run as root|has non-numeric user[^,]*)", re.I)
_SUBPATH = re.compile(r'failed to prepare subPath for volumeMount "([^"]+)" of container "([^"]+)"', re.I)


def _term_text(ctx, container, term, include_logs=True):
    """Root-cause text for a termination plus the evidence pointing at it."""
    code = as_int(term.get("exitCode"))
    reason = as_str(term.get("reason"))
    which = "state" if term is container.terminated else "lastState"
    evidence = [ev("%s.%s.terminated" % (container.status_path, which), term_detail(term))]
    text = explain_exit(code, reason)
    signature = None
    if include_logs:
        previous, current = ctx.container_logs(container)
        for label, log in (("previous", previous), ("current", current)):
            signature = find_signature(log)
            if signature:
                evidence.append(ev("log %s (%s)" % (container.name, label), _redact(signature["line"])))
                break
        if not signature:
            signature = find_signature(as_str(term.get("message")))
            if signature:
                evidence.append(ev("%s.%s.terminated.message" % (container.status_path, which),
                                   _redact(signature["line"])))
    if signature and signature["kind"] != "error_line":
        text = "%s; %s" % (signature["explanation"], text)
    elif signature:
        text = "%s; last error: %s" % (text, clip(_redact(signature["line"]), 200))
    message = as_str(term.get("message")).strip()
    if message and (not signature or signature["line"] not in message):
        # terminationMessagePath/FallbackToLogsOnError: the process's own last words, quoted with what they mean.
        meaning = find_signature(message)
        text = "%s; its termination message says \"%s\"%s" % (
            text, clip(_redact(message.splitlines()[-1] if message.splitlines() else message), 200),
            " (%s)" % meaning["explanation"] if meaning and meaning["kind"] != "error_line" else "")
    return text, evidence, signature, code


def _redact(text):
    return redact_text(text)


def check(ctx):
    findings = []
    for container in ctx.containers:
        if container.role == "ephemeral":
            continue
        result = _container(ctx, container)
        if result:
            findings.append(result)
    if not findings and not ctx.has_statuses:
        result = _events_only_runtime(ctx) or _events_only_backoff(ctx)
        if result:
            findings.append(result)
    return findings


# kubelet pkg/kubelet/kuberuntime/kuberuntime_manager.go: "Back-off restarting failed container" (1.19-1.25)
# and "Back-off restarting failed container NAME in pod POD" (1.26+); the old docker-shim wording named
# "container=NAME" in the waiting message instead.
_BACKOFF_RESTART = re.compile(r"back-off restarting failed container(?:[= ]([\w.-]+))?", re.I)


def _events_only_backoff(ctx):
    """A capture with no container statuses (events-only `kubectl describe`): a recent restart back-off
    event is still a crash loop. Skipped whenever statuses exist, because they are the better witness."""
    status = ctx.status
    if status.get("containerStatuses") or status.get("initContainerStatuses") or ctx.phase in ("Succeeded", "Failed"):
        return None
    for event in reversed(ctx.events_for("BackOff")):
        match = _BACKOFF_RESTART.search(as_str(event.get("message")))
        last = event.get("last_seen")
        if not match:
            continue
        # A pasted event without timestamps has an unknown age: evidence, not "old".
        if last is not None and ctx.as_of is not None and (ctx.as_of - last).total_seconds() > _FLAP_SECONDS:
            continue
        path = as_str(event.get("field_path"))
        name = ctx.event_container(event) or match.group(1) or "?"
        init = "initContainers" in path
        category = "InitContainerFailure" if init else "CrashLoopBackOff"
        what = "Init container" if init else "Container"
        count = as_int(event.get("count"), 1) or 1
        return finding(category, "%s %s is crash-looping (back-off x%d; no container status recorded)"
                       % (what, name, count),
                       "%s %s keeps exiting and the kubelet is backing off its restarts; the status was not "
                       "captured, so check its previous log for the exit reason" % (what, name), 0.6,
                       culprit={"container": name, "exit_code": None, "signature": None},
                       evidence=[ev(event_ref(event, ctx), event.get("message"))], container=name,
                       facts={"role": "init" if init else "app", "signature": None, "exit_code": None})
    return None


def _container(ctx, container):
    waiting = container.waiting_reason
    if waiting == "CreateContainerConfigError":
        return _config_error(ctx, container)
    if waiting == "CreateContainerError":
        return _create_error(ctx, container)
    init = container.role == "init" and not container.sidecar
    term = container.terminated if container.terminated is not None else container.last_terminated
    term = term if term else None
    term_reason = as_str(term.get("reason")) if term else ""
    if term and term_reason == "OOMKilled":
        return _oom(ctx, container, term, waiting)
    if term and term_reason in ("Error", "") and as_int(term.get("exitCode")) == 137 and \
            _node_memory_pressure(ctx) and not _probe_killed(ctx, container):
        return _oom(ctx, container, term, waiting, node_pressure=True)
    if waiting == "RunContainerError" or term_reason in ("StartError", "ContainerCannotRun"):
        looping = waiting in ("CrashLoopBackOff", "RunContainerError") or container.terminated is not None
        if looping or (term is not None and _recent(ctx, term, _FLAP_SECONDS)):
            return _run_error(ctx, container, term)
    if waiting in ("CrashLoopBackOff", "PostStartHookError", "PreStartHookError"):
        return _crash_loop(ctx, container, term, init)
    if container.terminated is not None:
        code = as_int(container.terminated.get("exitCode"))
        if code not in (0, None) or (code is None and term_reason not in ("Completed", "")):
            return _exited(ctx, container, container.terminated, init)
        return None
    if container.running is not None and container.last_terminated:
        # A crash loop caught between restarts: running now, but restarted repeatedly and recently.
        last_code = as_int(container.last_terminated.get("exitCode"))
        if container.restarts >= 3 and _recent(ctx, container.last_terminated, _FLAP_SECONDS) \
                and last_code not in (None,) and not _probe_killed(ctx, container):
            age = ctx.term_age(container.last_terminated)
            if age is not None or not container.ready:
                result = _crash_loop(ctx, container, container.last_terminated, init, flapping=True)
                result["confidence"] = 0.6
                return result
    if init and container.running is not None and ctx.phase in ("Pending", ""):
        started = ctx.started_age(container)
        if started is not None and started > _STUCK_INIT_SECONDS:
            return _stuck_init(ctx, container, started)
    return None


def _recent(ctx, term, window):
    age = ctx.term_age(term)
    return age is not None and age <= window


def _probe_killed(ctx, container):
    for event in ctx.container_events(container, "Killing"):
        if "probe" in as_str(event.get("message")).lower():
            return True
    return False


def _human_memory(limit):
    """A limit as written when it is already readable (``512Mi``), else humanised (``1452628Ki`` -> ``1.4Gi``)."""
    text = as_str(limit)
    if text.endswith(("Mi", "Gi", "M", "G")) and text[:-2 if text.endswith("i") else -1].isdigit():
        return text
    return as_str(human_bytes(text)) or text


def _node_memory_pressure(ctx):
    """The pod's node reports MemoryPressure (the kernel OOM killer then kills with plain SIGKILL)."""
    for cond in ((ctx.node or {}).get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "MemoryPressure" and cond.get("status") == "True":
            return True
    return bool(ctx.events_for("OOMKilling", "SystemOOM"))


def _oom(ctx, container, term, waiting, node_pressure=False):
    limits, requests = container_resources(container)
    limit = as_str(limits.get("memory")) or None
    current = container.terminated is not None
    age = ctx.term_age(term)
    running_now = container.running is not None
    chronic = container.restarts >= _CHRONIC_OOM_RESTARTS
    if running_now and waiting != "CrashLoopBackOff" and not chronic:
        # Recovered since: still an alarm when recent (k8sgpt misses these), history when old.
        if age is not None and age > _RECENT_SECONDS:
            ctx.notes.append({"category": "OOMKilled", "summary": "Container %s was OOM-killed %s ago and has "
                              "been running since" % (container.name, human_duration(age))})
            return None
        if age is None and container.restarts < 2 and container.ready:
            ctx.notes.append({"category": "OOMKilled", "summary": "Container %s was OOM-killed once (time unknown) "
                              "and is running and ready" % container.name})
            return None
    text, evidence, signature, code = _term_text(ctx, container, term)
    events = ctx.container_events(container, "BackOff")
    if events:
        evidence.append(ev(event_ref(events[-1], ctx), events[-1].get("message")))
    if node_pressure:
        root = ("Container %s was killed with SIGKILL (exit 137, reason %s) while node %s was under memory "
                "pressure: the kernel OOM killer picked it, not its own limit%s" % (
                    container.name, as_str(term.get("reason")) or "unset", ctx.spec.get("nodeName") or "?",
                    " (limit %s)" % _human_memory(limit) if limit else "; it has no memory limit"))
    elif limit:
        root = "Container %s exceeded its memory limit of %s (exit %s, reason OOMKilled)" % (
            container.name, _human_memory(limit), code if code is not None else "?")
    elif container.spec:
        root = ("Container %s was OOM-killed (exit %s) without a memory limit: the node ran out of memory"
                % (container.name, code if code is not None else "?"))
    else:
        root = ("Container %s was OOM-killed (exit %s): it used more memory than allowed (its spec and limit are "
                "not in the evidence)" % (container.name, code if code is not None else "?"))
    if signature and signature["kind"] == "java_oom":
        root += "; the JVM also reported %s" % signature["explanation"].replace("the JVM ran out of ", "")
    if code == 0 and not node_pressure:
        root += "; the exit code 0 hides it, but the kernel killed the process: its work may be incomplete"
    times = container.restarts
    if chronic and running_now and age is not None and age > _RECENT_SECONDS:
        root += "; it runs between kills (restarted %d times, the last kill %s ago), so it will be killed again " \
                "under the same load" % (times, human_duration(age))
    summary = "Container %s was OOM-killed%s%s" % (
        container.name, " %d times" % times if times > 1 else "",
        ": limit %s" % _human_memory(limit) if limit else (" (no limit)" if container.spec else ""))
    severity = None
    if running_now and container.ready and not current:
        severity = "medium"
    culprit = {"container": container.name, "limit": limit, "request": as_str(requests.get("memory")) or None}
    return finding("OOMKilled", summary, root, 0.95, culprit=culprit,
                   evidence=evidence, container=container.name,
                   facts={"memory_limit": limit, "memory_request": as_str(requests.get("memory")) or None,
                          "role": container.role, "signature": signature and signature["kind"]},
                   severity=severity)


def _crash_loop(ctx, container, term, init, flapping=False):
    category = "InitContainerFailure" if init else "CrashLoopBackOff"
    evidence = [ev(container.status_path + ".state.waiting" if not flapping else container.status_path,
                   "reason=%s %s restartCount=%d" % (container.waiting_reason or "Running",
                                                     container.waiting_message, container.restarts))]
    signature = None
    if term:
        text, more, signature, code = _term_text(ctx, container, term)
        evidence.extend(more)
        if code == 0 and not init:
            text = ("the process exits with code 0 but the pod's restartPolicy is %s, so it is restarted "
                    "forever (a one-shot command run as a long-lived container)" % ctx.restart_policy)
    else:
        previous, current = ctx.container_logs(container)
        signature = find_signature(previous) or find_signature(current)
        text = "the container keeps exiting (its last termination state is not recorded)"
        if signature:
            evidence.append(ev("log %s" % container.name, _redact(signature["line"])))
            text = signature["explanation"]
    hooks = ctx.container_events(container, "FailedPostStartHook", "FailedPreStopHook")
    if hooks:
        evidence.append(ev(event_ref(hooks[-1], ctx), hooks[-1].get("message")))
        text = "its lifecycle hook failed (%s); %s" % (clip(hooks[-1].get("message"), 160), text)
    backoff = ctx.container_events(container, "BackOff")
    if backoff:
        evidence.append(ev(event_ref(backoff[-1], ctx), backoff[-1].get("message")))
    what = "Init container" if container.role == "init" else "Container"
    root = "%s %s crash-loops: %s" % (what, container.name, text)
    summary = "%s %s is crash-looping (%d restarts)%s" % (
        what, container.name, container.restarts,
        ": " + signature["explanation"] if signature and signature["kind"] != "error_line" else "")
    confidence = 0.9 if (term or signature) else 0.75
    return finding(category, summary, root, confidence,
                   culprit={"container": container.name,
                            "exit_code": as_int(term.get("exitCode")) if term else None,
                            "signature": signature["kind"] if signature else None},
                   evidence=evidence, container=container.name,
                   facts={"role": container.role, "signature": signature and signature["kind"],
                          "exit_code": as_int(term.get("exitCode")) if term else None})


def _exited(ctx, container, term, init):
    """A non-zero exit that is not looping (Job pods, restartPolicy Never/OnFailure)."""
    text, evidence, signature, code = _term_text(ctx, container, term)
    for owner in ctx.owners:
        obj = owner.get("object") if isinstance(owner.get("object"), dict) else None
        if owner.get("kind") == "Job" and obj:
            for cond in (obj.get("status") or {}).get("conditions") or []:
                if isinstance(cond, dict) and cond.get("type") in ("Complete", "SuccessCriteriaMet") \
                        and cond.get("status") == "True":
                    ctx.notes.append({"category": "ContainerExitError",
                                      "summary": "Container %s failed (%s) but Job %s completed on a retry" % (
                                          container.name, explain_exit(code), owner.get("name"))})
                    return None
    if ctx.restart_policy == "Always" and container.restarts >= 1 and not init:
        return _crash_loop(ctx, container, term, init)
    category = "InitContainerFailure" if init else "ContainerExitError"
    what = "Init container" if container.role == "init" else "Container"
    root = "%s %s failed: %s" % (what, container.name, text)
    summary = "%s %s exited with code %s" % (what, container.name, code if code is not None else "?")
    return finding(category, summary, root, 0.9, culprit={"container": container.name, "exit_code": code},
                   evidence=evidence, container=container.name,
                   facts={"role": container.role, "exit_code": code, "signature": signature and signature["kind"]})


def _stuck_init(ctx, container, started):
    previous, current = ctx.container_logs(container)
    evidence = [ev(container.status_path + ".state.running", "startedAt=%s" % container.running.get("startedAt"))]
    signature = find_signature(current)
    text = ""
    if signature:
        evidence.append(ev("log %s (current)" % container.name, _redact(signature["line"])))
        text = ": " + signature["explanation"]
    elif current:
        tail = [line for line in current.splitlines() if line.strip()][-1:]
        if tail:
            evidence.append(ev("log %s (current)" % container.name, _redact(tail[0])))
            text = ': last log line "%s"' % clip(_redact(tail[0]), 160)
    return finding("InitContainerFailure", "Init container %s has been running for %s; the pod cannot start" % (
        container.name, human_duration(started)),
        "Init container %s never completes (running %s, usually waiting for a dependency)%s" % (
            container.name, human_duration(started), text), 0.55,
        culprit={"container": container.name}, evidence=evidence, container=container.name,
        facts={"role": "init"}, severity="medium")


def _config_error(ctx, container):
    texts = [(container.status_path + ".state.waiting", container.waiting_message)]
    for event in ctx.container_events(container, "Failed"):
        texts.append((event_ref(event, ctx), as_str(event.get("message"))))
    culprit = {"container": container.name}
    root = None
    best = texts[0]
    for src, text in texts:
        key = _KEY_NOT_FOUND.search(text)
        if key:
            kind = key.group(2)
            culprit.update({"kind": kind, "name": key.group(4), "key": key.group(1), "missing": "key"})
            root = "Key %s is missing from %s %s/%s referenced by container %s" % (
                key.group(1), kind, key.group(3), key.group(4), container.name)
            best = (src, text)
            break
        obj = _CM_SECRET_NOT_FOUND.search(text)
        if obj:
            kind = "ConfigMap" if obj.group(1).lower().startswith("configmap") else "Secret"
            culprit.update({"kind": kind, "name": obj.group(2), "missing": "object"})
            root = "%s %s/%s referenced by container %s does not exist" % (
                kind, ctx.namespace, obj.group(2), container.name)
            best = (src, text)
            break
        if _RUN_AS_ROOT.search(text):
            culprit.update({"field": "securityContext.runAsNonRoot"})
            root = ("Container %s sets runAsNonRoot but its image %s runs as root or as a non-numeric user: "
                    "set securityContext.runAsUser to a non-zero UID or use a non-root image" % (
                        container.name, container.image))
            best = (src, text)
            break
        sub = _SUBPATH.search(text)
        if sub:
            culprit.update({"volume_mount": sub.group(1)})
            root = "subPath of volumeMount %s of container %s cannot be prepared: %s" % (
                sub.group(1), container.name, text)
            best = (src, text)
            break
    if root is None:
        missing = _referenced_missing(ctx)
        if missing:
            kind, name = missing
            culprit.update({"kind": kind, "name": name, "missing": "object"})
            root = "%s %s/%s referenced by the pod does not exist" % (kind, ctx.namespace, name)
        else:
            message = next((item[1] for item in texts if item[1]), "")
            root = "Container %s cannot be configured: %s" % (container.name, message or "CreateContainerConfigError")
    evidence = [ev(best[0], best[1] or "reason=CreateContainerConfigError")]
    for src, text in texts[1:3]:
        if (src, text) != best:
            evidence.append(ev(src, text))
    summary = "CreateContainerConfigError on container %s: %s" % (
        container.name, "%s %s %s" % (culprit.get("kind"), culprit.get("name"),
                                      "key %s missing" % culprit["key"] if culprit.get("key") else "not found")
        if culprit.get("name") else (best[1][:120] or "config error"))
    return finding("CreateContainerConfigError", summary, root, 0.95 if culprit.get("name") else 0.8,
                   culprit=culprit, evidence=evidence, container=container.name,
                   facts={"role": container.role, "missing": culprit})


def _referenced_missing(ctx):
    referenced = getattr(ctx.evidence, "referenced", None)
    if not isinstance(referenced, dict):
        return None
    for key, kind in (("configmaps", "ConfigMap"), ("secrets", "Secret")):
        items = referenced.get(key)
        if isinstance(items, dict):
            for name, exists in items.items():
                if exists is False:
                    return kind, name
    return None
