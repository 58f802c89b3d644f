# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the container runtime says: exit codes and create/start failures.

Exit codes follow the shell and runtime conventions (126 not executable, 127 not found, 128+N killed by
signal N). Create/start errors come from the runtime through the kubelet: docker ("OCI runtime create
failed: container_linux.go:...: starting container process caused ..."), containerd ("failed to create
containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start
container process: exec: ...") and CRI-O ("container create failed: ...").
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    clip, as_int, as_str, ev, event_ref, finding, term_detail,
)

_RECENT_SECONDS = 3600

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


# Runtime create/start failures as the kubelet's Failed events print them: docker ("Error response from
# daemon: OCI runtime create failed: container_linux.go:...: starting container process caused ..."),
# containerd ("failed to create containerd task: failed to create shim task: OCI runtime create failed: runc
# create failed: unable to start container process: exec: ..."), CRI-O ("container create failed: ...").
_RUNTIME_FAILED = re.compile(r"OCI runtime (?:create|start|exec) failed|failed to (?:create|start) containerd task|"
                             r"failed to create shim task|runc create failed|container create failed|"
                             r"starting container process caused|executable file not found in \$PATH|"
                             r"Error: failed to start container|failed to reserve container name", re.I)


def events_only_runtime(ctx):
    """Failed events carrying a runtime create/start error, with no container status in the capture."""
    if ctx.phase in ("Succeeded", "Failed"):
        return None
    for event in reversed(ctx.events_for("Failed")):
        message = as_str(event.get("message"))
        if not _RUNTIME_FAILED.search(message):
            continue
        age = ctx.event_age(event)
        if age is not None and age > _RECENT_SECONDS:
            continue
        path = as_str(event.get("field_path"))
        init = "initContainers" in path
        name = ctx.event_container(event)
        if name is None:
            phantoms = ctx.event_only_containers()
            name = phantoms[0].name if len(phantoms) == 1 else ""
        text, facts = _explain_runtime(message)
        text = text or "the runtime could not start it: %s" % clip(message, 300)
        create = "failed to reserve container name" in message.lower() or \
            message.lower().startswith("error: container create failed")
        what = "Init container" if init else "Container"
        if init:
            category = "InitContainerFailure"
            root = "Init container %s cannot start, so the app containers never start: %s" % (name or "?", text)
        elif create:
            category = "CreateContainerError"
            root = "The runtime could not create container %s: %s" % (name or "(unnamed)", text)
        else:
            category = "RunContainerError"
            root = "The runtime could not start container %s: %s" % (name or "(unnamed)", text)
        facts.update({"role": "init" if init else "app", "exit_code": None})
        culprit = {"container": name or None}
        for key in ("command", "mount_path"):
            if key in facts:
                culprit[key] = facts[key]
        return finding(category, "%s %s cannot start: %s (from events; no container status)" % (
            what, name or "(unnamed)", text[:100]), root, 0.8, culprit=culprit,
            evidence=[ev(event_ref(event, ctx), message)], container=name or None, facts=facts)
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


def run_error(ctx, container, term):
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
        text = explain_exit(code) if code is not None else (clip(message, 200) or "the runtime could not start it")
    root = "The runtime could not start container %s: %s" % (container.name, text)
    facts.update({"role": container.role, "exit_code": code})
    category = "RunContainerError"
    if container.role == "init" and not container.sidecar:
        # The app containers wait on it: the init container is the failure to fix first.
        category = "InitContainerFailure"
        root = "Init container %s cannot start, so the app containers never start: %s" % (container.name, text)
    return finding(category, "%s on container %s: %s" % (
        "RunContainerError" if category == "RunContainerError" else "Init container cannot start",
        container.name, text[:100]), root, 0.9, culprit=_run_culprit(container, facts),
        evidence=evidence, container=container.name, facts=facts)


def _run_culprit(container, facts):
    culprit = {"container": container.name}
    for key in ("command", "mount_path"):
        if key in facts:
            culprit[key] = facts[key]
    return culprit


def create_error(ctx, container):
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
        text = clip(message, 200) or "the runtime could not create it"
    facts["role"] = container.role
    root = "The runtime could not create container %s: %s" % (container.name, text)
    return finding("CreateContainerError", "CreateContainerError on container %s: %s" % (container.name, text[:100]),
                   root, 0.85, culprit={"container": container.name}, evidence=evidence,
                   container=container.name, facts=facts)
