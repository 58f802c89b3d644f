# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a pod's failure started (the MTTD clock), from the times the rule families already read."""

from __future__ import annotations

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import as_int, as_str, parse_ts


def failure_start(ctx):
    """Earliest instant the evidence shows the failure (aware datetime) or None when no time says so.

    Candidates are times the rules already read: the first Warning event's firstTimestamp, the last
    termination of a restarted or failed container, a False Ready/ContainersReady transition, and the
    pod's own start when no container ever ran. Events without timestamps contribute nothing (unknown).
    """
    found = []
    for event in ctx.events:
        if event.get("type") == "Warning":
            when = event.get("first_seen") or event.get("last_seen")
            if hasattr(when, "tzinfo"):
                found.append(when)
    ever_ran = False
    for cont in ctx.containers:
        if cont.running is not None or cont.terminated is not None or cont.last_terminated is not None:
            ever_ran = True
        for term in (cont.last_terminated if cont.restarts else None, cont.terminated):
            if term and (as_int(term.get("exitCode"), 0) or as_str(term.get("reason")) not in ("", "Completed")):
                when = parse_ts(term.get("finishedAt") or term.get("startedAt"))
                if when is not None:
                    found.append(when)
    for ctype in ("Ready", "ContainersReady"):
        cond = ctx.conditions.get(ctype)
        if cond and as_str(cond.get("status")) == "False":
            when = parse_ts(cond.get("lastTransitionTime"))
            if when is not None:
                found.append(when)
    if not ever_ran:
        when = parse_ts(ctx.status.get("startTime")) or parse_ts(ctx.meta.get("creationTimestamp"))
        if when is not None:
            found.append(when)
    return min(found) if found else None
