# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pods stuck in ContainerCreating because a volume cannot be attached or mounted.

Events from pkg/kubelet/volumemanager/volume_manager.go ("Unable to attach or mount volumes:
unmounted volumes=[...], unattached volumes=[...]: timed out waiting for the condition"; before 1.18
"Unable to mount volumes for pod ...: timeout expired waiting for volumes to attach or mount"),
pkg/volume/util/operationexecutor/operation_generator.go ("MountVolume.SetUp failed for volume %q : %v",
"MountVolume.MountDevice failed ...", "AttachVolume.Attach failed ...") and
pkg/controller/volume/attachdetach/reconciler/reconciler.go ("Multi-Attach error for volume %q Volume is
already exclusively attached to one node and can't be attached to another" / "... already used by pod(s)").
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    clip, as_dict, as_list, as_str, ev, event_ref, finding, human_duration, total_count,
)


def _lasted(ctx, events):
    """Seconds since the first of these events (None when no event has a time)."""
    ages = [ctx.event_first_age(e) for e in events]
    ages = [a for a in ages if a is not None]
    return max(ages) if ages else None


MOUNT_REASONS = ("FailedMount", "FailedAttachVolume", "FailedMapVolume", "FailedUnMount")
_VOLUME_RE = re.compile(r'for volume \\?"([^"\\]+)\\?"')
_MISSING_OBJ = re.compile(r'\b(configmaps?|secrets?|persistentvolumeclaims?) \\?"([^"\\]+)\\?" not found', re.I)
_UNMOUNTED = re.compile(r"unmounted volumes=\[([^\]]*)\]")
_USED_BY = re.compile(r"already used by pod(?:\(s\)|s)? ([^\s].*?)(?: on node ([\w.-]+))?\.?$", re.I)
_FRESH_SECONDS = 90
_FORCE_DETACH_SECONDS = 360     # attach/detach controller maxWaitForUnmountDuration


def _not_started(ctx):
    if ctx.phase not in ("Pending", ""):
        return False
    for container in ctx.containers:
        if container.role == "app" and (container.running is not None or container.terminated is not None):
            return False
    return True


def _volume_claim(ctx, volume):
    for item in as_list(ctx.spec.get("volumes")):
        item = as_dict(item)
        if item.get("name") == volume:
            return as_str(as_dict(item.get("persistentVolumeClaim")).get("claimName")) or None
    return None


def _specificity(message):
    low = message.lower()
    if "multi-attach" in low:
        return 5
    if _MISSING_OBJ.search(message):
        return 4
    if "attachvolume" in low or "mountdevice" in low or "setup failed" in low or "mapvolume" in low or \
            "newmounter" in low or "mount failed" in low:
        return 3
    return 1


def check(ctx):
    if not _not_started(ctx) or ctx.meta.get("deletionTimestamp"):
        return []
    events = [e for e in ctx.events_for(*MOUNT_REASONS) if as_str(e.get("message"))]
    # Attach and mount events exist only for a pod bound to a node: they prove the binding when the
    # capture lost nodeName.
    if not events:
        return []
    best = sorted(events, key=lambda e: (_specificity(as_str(e.get("message"))),
                                         ctx.event_age(e) is not None and -ctx.event_age(e)))[-1]
    message = as_str(best.get("message"))
    low = message.lower()
    volume = None
    match = _VOLUME_RE.search(message)
    if match:
        volume = match.group(1)
    else:
        unmounted = _UNMOUNTED.search(message)
        if unmounted and unmounted.group(1).strip():
            volume = unmounted.group(1).split()[0]
    culprit = {"volume": volume}
    claim = _volume_claim(ctx, volume) if volume else None
    if claim:
        culprit["claim"] = claim
    missing = _MISSING_OBJ.search(message)
    facts = {}
    if "multi-attach" in low:
        used = _USED_BY.search(message)
        culprit["cause"] = "multi_attach"
        if used:
            culprit["used_by"] = used.group(1).strip().rstrip(".")
        lasted = _lasted(ctx, [e for e in events if "multi-attach" in as_str(e.get("message")).lower()])
        facts["multi_attach_seconds"] = lasted
        root = ("Volume %s is a ReadWriteOnce volume still attached to another node%s: Multi-Attach error "
                "(the old pod or node has not released it)" % (
                    volume or "", " (used by %s)" % culprit["used_by"] if culprit.get("used_by") else ""))
        if lasted is not None:
            root += "; this has lasted %s" % human_duration(lasted)
        if lasted is None or lasted < _FORCE_DETACH_SECONDS:
            root += ("; if the old node is down, the attach/detach controller force-detaches the volume after 6 "
                     "minutes (maxWaitForUnmountDuration)")
        else:
            root += ("; the attach/detach controller's 6-minute force-detach has not freed it: the other pod still "
                     "uses it, or a stale VolumeAttachment holds it")
    elif missing:
        kind = missing.group(1).lower()
        kind = "ConfigMap" if kind.startswith("configmap") else ("Secret" if kind.startswith("secret")
                                                                 else "PersistentVolumeClaim")
        culprit.update({"cause": "missing_object", "kind": kind, "name": missing.group(2)})
        root = "Volume %s cannot be mounted: %s %s/%s does not exist" % (
            volume or "", kind, ctx.namespace, missing.group(2))
        facts["missing"] = {"kind": kind, "name": missing.group(2)}
    elif "attachvolume" in low:
        culprit["cause"] = "attach_failed"
        root = "Volume %s cannot be attached to node %s: %s" % (
            volume or "", ctx.spec.get("nodeName"), clip(message.split(" : ", 1)[-1], 240))
    elif "timed out waiting" in low or "timeout expired" in low:
        culprit["cause"] = "timeout"
        root = "Volumes %s were not attached/mounted in time (check the CSI driver, the attach of the PV and " \
               "earlier FailedMount/FailedAttachVolume events)" % (volume or "")
    else:
        culprit["cause"] = "mount_failed"
        root = "Volume %s cannot be mounted: %s" % (volume or "", clip(message.split(" : ", 1)[-1], 240))
    evidence = [ev(event_ref(best, ctx), message)]
    for other in events[-3:]:
        if other is not best:
            evidence.append(ev(event_ref(other, ctx), other.get("message")))
    tentative = False
    firsts = [ctx.event_first_age(e) for e in events]
    firsts = [a for a in firsts if a is not None]
    # Multi-Attach never clears by waiting alone while the other user holds the volume: not tentative.
    if firsts and max(firsts) < _FRESH_SECONDS and total_count(events) <= 2 and \
            culprit["cause"] not in ("missing_object", "multi_attach"):
        tentative = True
    summary = "ContainerCreating: volume %s %s" % (volume or "?", {
        "multi_attach": "is attached elsewhere (Multi-Attach)", "missing_object": "source %s %s not found" % (
            culprit.get("kind"), culprit.get("name")), "attach_failed": "attach failed",
        "timeout": "attach/mount timed out"}.get(culprit["cause"], "mount failed"))
    return [finding("VolumeMountFailure", summary, root, 0.9 if culprit["cause"] != "timeout" else 0.75,
                    culprit=culprit, evidence=evidence, facts=facts, tentative=tentative)]
