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

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.logsig import find_signature
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    as_int, as_str, container_resources, ev, redact_text, event_ref, finding, human_duration, term_detail,
)

_SIGNALS = {1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
            9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"}
_SIGNAL_MEANING = {
    "SIGABRT": "the process aborted (assertion, native crash or abort())",
    "SIGSEGV": "segmentation fault (native crash)",
    "SIGKILL": "killed with SIGKILL; the runtime did not report an OOM kill, so this is a liveness-probe kill, "
               "preemption, node shutdown or a stop that outlived terminationGracePeriodSeconds",
    "SIGTERM": "terminated by SIGTERM (asked to stop: probe restart, rollout or node drain)",
    "SIGINT": "interrupted (SIGINT)",
    "SIGBUS": "bus error (bad memory access or a full/removed memory-mapped file)",
    "SIGPIPE": "broken pipe (wrote to a closed connection)",
}

_RECENT_SECONDS = 3600          # an OOM kill within the last hour still needs a human
_FLAP_SECONDS = 600             # running again, but restarted within the last 10 minutes
_STUCK_INIT_SECONDS = 900

_CM_SECRET_NOT_FOUND = re.compile(r'\b(configmaps?|secrets?) "([^"]+)" not found', re.I)
_KEY_NOT_FOUND = re.compile(r"couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/([^\s.,]+)", re.I)
_RUN_AS_ROOT = re.compile(r"runAsNonRoot and image (?:will run as root|has non-numeric user[^,]*)", re.I)
_SUBPATH = re.compile(r'failed to prepare subPath for volumeMount "([^"]+)" of container "([^"]+)"', re.I)
_EXEC_NOT_FOUND = re.compile(r'exec: \\*"([^"\\]+)\\*": (?:executable file not found in \$PATH|'
                             r'stat [^:]+: no such file or directory)', re.I)
_EXEC_PATH_ERR = re.compile(r'(?:exec|starting container process caused) ?:? \\*"?([^"\\:]*)\\*"?: '
                            r'(permission denied|no such file or directory|exec format error)', re.I)
_MOUNT_ERR = re.compile(r'error mounting "([^"]+)" to rootfs at "([^"]+)"', re.I)


def explain_exit(code, reason=""):
    """Human meaning of an exit code (126/127/128+n explained)."""
    if code is None:
        return "terminated (%s)" % (reason or "no exit code recorded")
    if code == 0:
        return "exited successfully (code 0)"
    if code == 1:
        return "exited with code 1 (application error)"
    if code == 2:
        return "exited with code 2 (invalid arguments or shell misuse)"
    if code == 126:
        return "exit 126: the command cannot be executed (permission denied or not an executable)"
    if code == 127:
        return "exit 127: command not found (bad command/entrypoint or binary missing from the image)"
    if code == 128:
        return "exit 128: the runtime could not start the process"
    if 128 < code < 160:
        signal = _SIGNALS.get(code - 128, "signal %d" % (code - 128))
        return "exit %d = 128+%d (%s): %s" % (
            code, code - 128, signal, _SIGNAL_MEANING.get(signal, "killed by a signal"))
    if code == 255:
        return "exit 255 (exit(-1) or a fatal runtime error)"
    return "exited with code %d" % code


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
        text = "%s; last error: %s" % (text, _redact(signature["line"])[:200])
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
    if not findings:
        result = _events_only_backoff(ctx)
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
        if not match or last is None or (ctx.as_of - last).total_seconds() > _FLAP_SECONDS:
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


def _oom(ctx, container, term, waiting):
    limits, requests = container_resources(container)
    limit = as_str(limits.get("memory")) or None
    current = container.terminated is not None
    age = ctx.term_age(term)
    running_now = container.running is not None
    if running_now and waiting != "CrashLoopBackOff":
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
    if limit:
        root = "Container %s exceeded its memory limit of %s (exit %s, reason OOMKilled)" % (
            container.name, limit, code if code is not None else "?")
    elif container.spec:
        root = ("Container %s was OOM-killed (exit %s) without a memory limit: the node ran out of memory"
                % (container.name, code if code is not None else "?"))
    else:
        root = ("Container %s was OOM-killed (exit %s): it used more memory than allowed (its spec and limit are "
                "not in the evidence)" % (container.name, code if code is not None else "?"))
    if signature and signature["kind"] == "java_oom":
        root += "; the JVM also reported %s" % signature["explanation"].replace("the JVM ran out of ", "")
    times = container.restarts
    summary = "Container %s was OOM-killed%s%s" % (
        container.name, " %d times" % times if times > 1 else "",
        ": limit %s" % limit if limit else (" (no limit)" if container.spec else ""))
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
        text = "its lifecycle hook failed (%s); %s" % (as_str(hooks[-1].get("message"))[:160], text)
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
            text = ': last log line "%s"' % _redact(tail[0])[:160]
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


def _explain_runtime(message):
    """Meaning of a runtime create/start error message."""
    match = _EXEC_NOT_FOUND.search(message)
    if match:
        return "the command %s does not exist in the image (executable file not found in $PATH)" % match.group(1), \
            {"command": match.group(1)}
    low = message.lower()
    if "exec format error" in low:
        return "exec format error: the image was built for another CPU architecture", {}
    match = _MOUNT_ERR.search(message)
    if match:
        extra = " (a file mounted over a directory or the reverse)" if "not a directory" in low else ""
        return "mounting %s at %s failed%s" % (match.group(1), match.group(2), extra), {"mount_path": match.group(2)}
    match = _EXEC_PATH_ERR.search(message)
    if match:
        return "starting %s failed: %s" % (match.group(1) or "the entrypoint", match.group(2)), \
            {"command": match.group(1)}
    if "permission denied" in low:
        return "permission denied starting the process (not executable or a read-only/noexec path)", {}
    if "no such file or directory" in low:
        return "a file the container needs does not exist (entrypoint, working dir or mount path)", {}
    if "is already in use" in low or "is reserved for" in low:
        return "a stale container with the same name still exists on the node (name conflict)", {"conflict": True}
    if "no command specified" in low:
        return "neither the image nor the pod specifies a command to run", {}
    if "context deadline exceeded" in low:
        return "the container runtime timed out (node overloaded or runtime unhealthy)", {"transient": True}
    return None, {}


def _run_error(ctx, container, term):
    message = container.waiting_message
    if term:
        message = as_str(term.get("message")) or message
    evidence = [ev(container.status_path + ".state.waiting",
                   "reason=%s %s" % (container.waiting_reason, container.waiting_message))] \
        if container.waiting_reason else []
    if term:
        evidence.append(ev(container.status_path + (".state.terminated" if term is container.terminated
                                                    else ".lastState.terminated"), term_detail(term)))
    for event in ctx.container_events(container, "Failed")[-1:]:
        evidence.append(ev(event_ref(event, ctx), event.get("message")))
        if not message:
            message = as_str(event.get("message"))
    text, facts = _explain_runtime(message)
    code = as_int(term.get("exitCode")) if term else None
    if text is None:
        text = explain_exit(code) if code is not None else (message[:200] or "the runtime could not start it")
    root = "The runtime could not start container %s: %s" % (container.name, text)
    facts.update({"role": container.role, "exit_code": code})
    return finding("RunContainerError", "RunContainerError on container %s: %s" % (container.name, text[:100]),
                   root, 0.9, culprit=_run_culprit(container, facts),
                   evidence=evidence, container=container.name, facts=facts)


def _run_culprit(container, facts):
    culprit = {"container": container.name}
    for key in ("command", "mount_path"):
        if key in facts:
            culprit[key] = facts[key]
    return culprit


def _create_error(ctx, container):
    message = container.waiting_message
    evidence = [ev(container.status_path + ".state.waiting", "reason=CreateContainerError %s" % message)]
    events = ctx.container_events(container, "Failed")
    for event in events[-2:]:
        evidence.append(ev(event_ref(event, ctx), event.get("message")))
    text, facts = _explain_runtime(message)
    if text is None:
        for event in reversed(events):
            text, facts = _explain_runtime(as_str(event.get("message")))
            if text:
                break
    if text is None:
        text = message[:200] or "the runtime could not create it"
    facts["role"] = container.role
    root = "The runtime could not create container %s: %s" % (container.name, text)
    return finding("CreateContainerError", "CreateContainerError on container %s: %s" % (container.name, text[:100]),
                   root, 0.85, culprit={"container": container.name}, evidence=evidence,
                   container=container.name, facts=facts)
