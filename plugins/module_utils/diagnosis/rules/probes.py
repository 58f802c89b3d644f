# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Liveness, readiness and startup probes.

Event text from pkg/kubelet/prober/prober.go ("%s probe failed: %s", "%s probe errored: %v", reason
Unhealthy) and the kill from pkg/kubelet/kuberuntime/kuberuntime_container.go / prober/worker.go
("Container %s failed liveness probe, will be restarted", reason Killing; before 1.16
"Killing container with id docker://app:Container failed liveness probe.. Container will be killed and
recreated."). HTTP probe results: pkg/probe/http/http.go ("HTTP probe failed with statuscode: %d").
Probe failures while a container starts and later succeed are normal and never reported.
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.logsig import find_signature
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    clip, as_dict, as_int, as_str, ev, event_ref, finding, human_duration, probe, probe_window, total_count,
)

# 1.16+: "Container X failed liveness probe, will be restarted"; docker era: "Killing container with id
# docker://X:Container failed liveness probe.. Container will be killed and recreated." and, before 1.9,
# 'Killing container with docker id ...: pod "..." container "X" is unhealthy, it will be killed and re-created.'
_KILL_RE = re.compile(r"failed (liveness|startup) probe|(is unhealthy), it will be killed", re.I)
_STATUS_RE = re.compile(r"statuscode: (\d+)", re.I)
_RECENT_KILL = 900
_RECENT_UNHEALTHY = 600
_STALE_EVENTS = 3600     # events-only captures: older proof than this says nothing about now


def probe_failures(ctx, container, kind):
    """Unhealthy events of one probe kind ("Liveness"/"Readiness"/"Startup") for a container."""
    prefix = kind.lower() + " probe"
    return [e for e in ctx.container_events(container, "Unhealthy")
            if as_str(e.get("message")).lower().startswith(prefix)]


def explain_probe(message, probe_spec):
    low = message.lower()
    status = _STATUS_RE.search(message)
    target = _target(probe_spec)
    if status:
        return "the endpoint %s returned HTTP %s" % (target or "it probes", status.group(1))
    if "connection refused" in low:
        return "nothing is listening on %s (wrong port, or the app has not bound it)" % (target or "the probed port")
    if "deadline exceeded" in low or "timeout" in low or "timed out" in low:
        return "the probe timed out after %ss%s" % (
            as_int(as_dict(probe_spec).get("timeoutSeconds"), 1) or 1, " on %s" % target if target else "")
    if "no such host" in low:
        return "the probe host does not resolve"
    text = message.split(":", 1)[1].strip() if ":" in message else message
    return "the probe failed: %s" % (clip(text, 160) or "no output")


def _target(probe_spec):
    probe_spec = as_dict(probe_spec)
    http = as_dict(probe_spec.get("httpGet"))
    if http:
        return "%s:%s" % (as_str(http.get("path")) or "/", as_str(http.get("port")))
    tcp = as_dict(probe_spec.get("tcpSocket"))
    if tcp:
        return "tcp port %s" % as_str(tcp.get("port"))
    grpc = as_dict(probe_spec.get("grpc"))
    if grpc:
        return "grpc port %s" % as_str(grpc.get("port"))
    exec_ = as_dict(probe_spec.get("exec"))
    if exec_:
        return "exec %s" % " ".join(as_str(c) for c in (exec_.get("command") or [])[:4])
    return ""


def check(ctx):
    findings = []
    if ctx.meta.get("deletionTimestamp"):
        return findings
    for container in ctx.containers:
        if container.role == "ephemeral" or (container.role == "init" and not container.sidecar):
            continue
        result = _killed(ctx, container) or _startup(ctx, container) or _readiness(ctx, container)
        if result:
            findings.append(result)
    if not findings and ctx.events and not ctx.has_statuses:
        # Partial capture (events without container statuses): the kubelet's own events are the proof.
        for container in ctx.event_only_containers():
            if container.role != "app":
                continue
            result = _killed(ctx, container) or _readiness_from_events(ctx, container)
            if result:
                findings.append(result)
                break
    return findings


def _kill_kind(message):
    match = _KILL_RE.search(message)
    if not match:
        return None
    return (match.group(1) or "liveness").lower()


def _killed(ctx, container):
    """A container restarted by its liveness or startup probe."""
    kills = [e for e in ctx.container_events(container, "Killing") if _KILL_RE.search(as_str(e.get("message")))]
    looping = container.waiting_reason == "CrashLoopBackOff"
    if not kills:
        return _unhealthy_restarts(ctx, container, looping) or (
            _liveness_fallback(ctx, container) if looping else None)
    last = kills[-1]
    kind = _kill_kind(as_str(last.get("message")))
    age = ctx.event_age(last)
    if not container.status and age is not None and age > _STALE_EVENTS:
        return None     # no status to say it is still happening, and the kill is old news
    if not looping and age is not None and age > _RECENT_KILL and container.ready:
        ctx.notes.append({"category": "LivenessProbeFailure",
                          "summary": "Container %s was restarted by its %s probe %s ago and is ready now" % (
                              container.name, kind, human_duration(age))})
        return None
    if not looping and container.restarts == 0 and container.running is None and container.terminated is None \
            and container.status:
        return None
    probe_spec = probe(container, kind)
    failures = probe_failures(ctx, container, kind.capitalize())
    why = explain_probe(as_str(failures[-1].get("message")), probe_spec) if failures else "the probe kept failing"
    evidence = [ev(event_ref(last, ctx), last.get("message"))]
    if failures:
        evidence.append(ev(event_ref(failures[-1], ctx), failures[-1].get("message")))
    if container.last_terminated:
        evidence.append(ev(container.status_path + ".lastState.terminated",
                           "reason=%s exitCode=%s" % (container.last_terminated.get("reason"),
                                                      container.last_terminated.get("exitCode"))))
    if probe_spec:
        evidence.append(ev("spec.containers[%s].%sProbe" % (container.name, kind), _probe_text(probe_spec)))
    category = "StartupProbeFailure" if kind == "startup" else "LivenessProbeFailure"
    total = total_count(kills)
    root = "Container %s is restarted by its %s probe: %s%s" % (
        container.name or "(unnamed)", kind, why, "" if not probe_spec else " (%s)" % _probe_text(probe_spec))
    if kind == "liveness" and probe_failures(ctx, container, "Readiness"):
        root += "; its readiness probe fails too, but the liveness kill is what restarts it"
    summary = "Container %s killed %d time(s) by its failing %s probe" % (container.name, total, kind)
    return finding(category, summary, root, 0.9, culprit={"container": container.name, "probe": kind,
                                                          "target": _target(probe_spec)},
                   evidence=evidence, container=container.name,
                   facts={"probe": kind, "probe_spec": probe_spec or {}})


def _unhealthy_restarts(ctx, container, looping):
    """Liveness failures plus kill-like exits, when the Killing event itself is missing (trimmed lists)."""
    if container.restarts < 1:
        return None     # cheap test first: most containers never restarted
    failures = probe_failures(ctx, container, "Liveness")
    term = container.last_terminated or {}
    if not failures or total_count(failures) < 3:
        return None
    code = as_int(term.get("exitCode"))
    if as_str(term.get("reason")) in ("OOMKilled", "StartError", "ContainerCannotRun"):
        return None
    recent = looping or (ctx.term_age(term) is not None and ctx.term_age(term) <= _RECENT_KILL)
    last_age = ctx.event_age(failures[-1])
    if not recent or (last_age is not None and last_age > _RECENT_KILL and not looping):
        return None
    if code not in (None, 137, 143, 0, 2, 130) and term:
        return None
    probe_spec = probe(container, "liveness")
    why = explain_probe(as_str(failures[-1].get("message")), probe_spec)
    return finding("LivenessProbeFailure", "Container %s fails its liveness probe and keeps restarting" % container.name,
                   "Container %s is restarted by its liveness probe: %s" % (container.name, why), 0.8,
                   culprit={"container": container.name, "probe": "liveness", "target": _target(probe_spec)},
                   evidence=[ev(event_ref(failures[-1], ctx), failures[-1].get("message")),
                             ev(container.status_path, "restartCount=%d lastState=%s/%s" % (
                                 container.restarts, term.get("reason"), code))],
                   container=container.name, facts={"probe": "liveness", "probe_spec": probe_spec or {}})


def _liveness_fallback(ctx, container):
    """Events expired: a crash loop of SIGKILL/SIGTERM exits with a liveness probe and no crash signature."""
    term = container.last_terminated or {}
    code = as_int(term.get("exitCode"))
    if code not in (137, 143) or as_str(term.get("reason")) not in ("Error", ""):
        return None
    probe_spec = probe(container, "liveness")
    if not probe_spec:
        return None
    previous, current = ctx.container_logs(container)
    sig = find_signature(previous) or find_signature(as_str(term.get("message")))
    if sig and sig["kind"] not in ("error_line",):
        return None
    return finding("LivenessProbeFailure", "Container %s keeps being killed (exit %d) and has a liveness probe" % (
        container.name, code),
        "Container %s is most likely restarted by its liveness probe (exit %d after SIGKILL/SIGTERM, no crash "
        "in its log; events expired) (%s)" % (container.name, code, _probe_text(probe_spec)), 0.5,
        culprit={"container": container.name, "probe": "liveness", "target": _target(probe_spec)},
        evidence=[ev(container.status_path + ".lastState.terminated", "reason=%s exitCode=%s" % (
            term.get("reason"), code)),
            ev("spec.containers[%s].livenessProbe" % container.name, _probe_text(probe_spec))],
        container=container.name, facts={"probe": "liveness", "probe_spec": probe_spec})


def _probe_text(probe_spec):
    probe_spec = as_dict(probe_spec)
    parts = [_target(probe_spec)]
    for key in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"):
        if key in probe_spec:
            parts.append("%s=%s" % (key, probe_spec.get(key)))
    return " ".join(p for p in parts if p)


def _startup(ctx, container):
    if container.running is None or container.started is not False:
        return None     # cheap test first: a started (or not running) container has nothing to report
    probe_spec = probe(container, "startup")
    if not probe_spec:
        return None
    started = ctx.started_age(container)
    window = probe_window(probe_spec)
    if started is None or started <= window + 30:
        return None
    failures = probe_failures(ctx, container, "Startup")
    evidence = [ev(container.status_path, "started=false, running for %s" % human_duration(started)),
                ev("spec.containers[%s].startupProbe" % container.name, _probe_text(probe_spec))]
    why = "it has not passed for %s" % human_duration(started)
    if failures:
        evidence.insert(0, ev(event_ref(failures[-1], ctx), failures[-1].get("message")))
        why = explain_probe(as_str(failures[-1].get("message")), probe_spec)
    return finding("StartupProbeFailure", "Container %s has not passed its startup probe" % container.name,
                   "Container %s never passes its startup probe: %s" % (container.name, why), 0.75,
                   culprit={"container": container.name, "probe": "startup", "target": _target(probe_spec)},
                   evidence=evidence, container=container.name,
                   facts={"probe": "startup", "probe_spec": probe_spec})


def _readiness(ctx, container):
    if container.running is None or container.ready or container.role != "app":
        return None
    if ctx.phase not in ("Running", ""):
        return None
    probe_spec = probe(container, "readiness")
    started = ctx.started_age(container)
    window = probe_window(probe_spec) if probe_spec else 0
    if started is not None and started <= max(window, 30) + 30:
        return None     # still starting up: not a finding yet
    failures = probe_failures(ctx, container, "Readiness")
    recent = [e for e in failures if (ctx.event_age(e) is None or ctx.event_age(e) <= _RECENT_UNHEALTHY)]
    if recent:
        last = recent[-1]
        why = explain_probe(as_str(last.get("message")), probe_spec)
        evidence = [ev(event_ref(last, ctx), last.get("message")),
                    ev(container.status_path, "ready=false, running%s" % (
                        " for %s" % human_duration(started) if started is not None else ""))]
        if probe_spec:
            evidence.append(ev("spec.containers[%s].readinessProbe" % container.name, _probe_text(probe_spec)))
        return finding("ReadinessProbeFailure", "Container %s is not ready: readiness probe failing" % container.name,
                       "Container %s fails its readiness probe: %s" % (container.name, why), 0.9,
                       culprit={"container": container.name, "probe": "readiness", "target": _target(probe_spec)},
                       evidence=evidence, container=container.name,
                       facts={"probe": "readiness", "probe_spec": probe_spec or {}})
    if probe_spec and started is not None and started > window + 120:
        return finding("ReadinessProbeFailure", "Container %s has been unready for a while" % container.name,
                       "Container %s has been running %s without becoming ready; its readiness probe (%s) keeps "
                       "failing (events expired)" % (container.name, human_duration(started), _probe_text(probe_spec)),
                       0.6, culprit={"container": container.name, "probe": "readiness",
                                     "target": _target(probe_spec)},
                       evidence=[ev(container.status_path, "ready=false, running for %s" % human_duration(started)),
                                 ev("status.conditions[ContainersReady]",
                                    as_str(ctx.condition("ContainersReady").get("message")))],
                       container=container.name, facts={"probe": "readiness", "probe_spec": probe_spec})
    return None


def _readiness_from_events(ctx, container):
    """Readiness failing per recent Unhealthy events while no status says the pod is ready."""
    if as_str(ctx.condition("Ready").get("status")) == "True":
        return None
    failures = [e for e in probe_failures(ctx, container, "Readiness")
                if ctx.event_age(e) is None or ctx.event_age(e) <= _RECENT_UNHEALTHY]
    # Below the kubelet's default failureThreshold (3) a failure is start-up noise.
    if not failures or total_count(failures) < 3:
        return None
    age = ctx.age
    if age is not None and age <= 60:
        return None
    last = failures[-1]
    name = container.name or "(unnamed)"
    why = explain_probe(as_str(last.get("message")), None)
    evidence = [ev(event_ref(last, ctx), last.get("message"))]
    ready = ctx.condition("Ready")
    if ready:
        evidence.append(ev("status.conditions[Ready]", "status=%s" % as_str(ready.get("status"))))
    return finding("ReadinessProbeFailure", "Container %s is not ready: readiness probe failing (x%d)" % (
        name, total_count(failures)),
        "Container %s fails its readiness probe: %s (no container status in the capture; the events prove it)"
        % (name, why), 0.7, culprit={"container": container.name or None, "probe": "readiness", "target": ""},
        evidence=evidence, container=container.name or None, facts={"probe": "readiness", "probe_spec": {}})
