# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controllers that cannot create their pods.

FailedCreate events: pkg/controller/controller_utils.go ("Error creating: %v", ReplicaSet,
ReplicationController, Job, DaemonSet) and pkg/controller/statefulset/stateful_pod_control.go
("create Pod %s in StatefulSet %s failed error: %s"); the ReplicaFailure condition
(pkg/controller/replicaset/replica_set_utils.go) carries the same text. Admission wording:
plugin/pkg/admission/resourcequota ("exceeded quota: %s, requested: %s, used: %s, limited: %s",
"failed quota: %s: must specify %s"), pod-security-admission ('violates PodSecurity "%s": ...'),
serviceaccount admission ('error looking up service account %s/%s: serviceaccount "%s" not found'),
LimitRanger ("maximum memory usage per Container is ..."), admission webhooks
('admission webhook "%s" denied the request: ...').
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    clip, as_dict, as_int, as_list, as_str, ev, event_ref, finding, human_duration,
)

_EXCEEDED = re.compile(r"exceeded quota: ([\w.-]+), requested: (.+?), used: (.+?), limited: ([^\s]+)", re.I | re.S)
_MUST_SPECIFY = re.compile(r"failed quota: ([\w.-]+): must specify (.+)", re.I)
_PODSECURITY = re.compile(r'violates PodSecurity "([^"]+)": (.+)', re.I | re.S)
_SA = re.compile(r'serviceaccount "([^"]+)" not found', re.I)
_WEBHOOK = re.compile(r'admission webhook "([^"]+)" denied the request:?\s*(.*)', re.I | re.S)
_WEBHOOK_CALL = re.compile(r'failed calling webhook "([^"]+)"', re.I)
_LIMITRANGE = re.compile(r"(maximum|minimum) (cpu|memory|ephemeral-storage|storage) usage per (Container|Pod) is "
                         r"([\w.]+)(?:,? but (?:limit|request) is ([\w.]+))?", re.I)
_PSP = re.compile(r"unable to validate against any pod security policy", re.I)
_RECENT = 3600
_WORKLOAD_KINDS = ("ReplicaSet", "StatefulSet", "Job", "DaemonSet", "ReplicationController", "Deployment", "CronJob")


def _messages(evidence):
    obj = as_dict(evidence.object)
    messages = []
    for cond in as_list(as_dict(obj.get("status")).get("conditions")):
        cond = as_dict(cond)
        if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
            messages.append(("status.conditions[ReplicaFailure]", as_str(cond.get("message")), None))
    for event in as_list(evidence.events):
        if isinstance(event, dict) and event.get("reason") in ("FailedCreate", "FailedCreatePodReason"):
            messages.append((event_ref(event), as_str(event.get("message")), event))
    return messages


def _satisfied(obj):
    """True when the controller has every pod it wants (old FailedCreate events are history)."""
    spec = as_dict(obj.get("spec"))
    status = as_dict(obj.get("status"))
    kind = as_str(obj.get("kind"))
    if kind == "DaemonSet":
        want, have = as_int(status.get("desiredNumberScheduled")), as_int(status.get("currentNumberScheduled"))
    elif kind == "Job":
        return any(as_dict(c).get("type") == "Complete" and as_dict(c).get("status") == "True"
                   for c in as_list(status.get("conditions")))
    else:
        want, have = as_int(spec.get("replicas"), 1), as_int(status.get("replicas"))
    return want is not None and have is not None and have >= want


def check_workload(evidence):
    """A finding for a controller that cannot create pods (or whose Job hit its deadline), else None."""
    obj = as_dict(evidence.object)
    deadline = _job_deadline(evidence, obj)
    if deadline:
        return deadline
    messages = [m for m in _messages(evidence) if m[1]]
    if not messages:
        return None
    condition_present = any(m[2] is None for m in messages)
    if not condition_present:
        if _satisfied(obj):
            return None
        ages = []
        for item in messages:
            event = item[2]
            last = event.get("last_seen") if event else None
            if last is not None and evidence.as_of is not None and hasattr(last, "tzinfo"):
                try:
                    ages.append((evidence.as_of - last).total_seconds())
                except (TypeError, ValueError):
                    pass
        if ages and min(ages) > _RECENT and as_dict(obj.get("status")):
            return None
    # Newest first; the most specific message wins.
    ordered = list(reversed(messages))
    for src, message, _event in ordered:
        result = _quota(evidence, src, message) or _forbidden(evidence, src, message)
        if result:
            for other_src, other, _other_event in ordered[:3]:
                if other != message:
                    result["evidence"].append(ev(other_src, other))
            return result
    src, message = ordered[0][0], ordered[0][1]
    return finding("PodCreationForbidden", "%s %s cannot create pods" % (evidence.kind or "Workload", evidence.name),
                   "Pod creation is rejected: %s" % _tail(message), 0.6, culprit={"message": _tail(message)},
                   evidence=[ev(src, message)])


def _tail(message):
    for marker in ("Error creating: ", "failed error: "):
        if marker in message:
            return message.split(marker, 1)[1]
    return message


def _quota(evidence, src, message):
    match = _EXCEEDED.search(message)
    if match:
        quota, requested, used, limited = (match.group(i).strip().rstrip(".") for i in range(1, 5))
        resources = [item.split("=", 1)[0].strip() for item in requested.split(",") if "=" in item]
        root = ("ResourceQuota %s in namespace %s is exhausted for %s: requested %s, used %s, limited %s" % (
            quota, evidence.namespace, ", ".join(resources) or requested, requested, used, limited))
        return finding("QuotaExceeded", "%s %s: exceeded quota %s (%s)" % (
            evidence.kind, evidence.name, quota, ", ".join(resources)), root, 0.95,
            culprit={"quota": quota, "resources": resources, "requested": requested, "used": used,
                     "limited": limited}, evidence=[ev(src, message)],
            facts={"quota": quota, "resources": resources})
    match = _MUST_SPECIFY.search(message)
    if match:
        quota, what = match.group(1), match.group(2).strip().rstrip(".")
        return finding("QuotaExceeded", "%s %s: quota %s requires %s" % (evidence.kind, evidence.name, quota, what),
                       "ResourceQuota %s requires every pod to set %s, and the pod template does not" % (quota, what),
                       0.9, culprit={"quota": quota, "must_specify": what}, evidence=[ev(src, message)],
                       facts={"quota": quota, "must_specify": what})
    return None


def _forbidden(evidence, src, message):
    culprit = {}
    match = _PODSECURITY.search(message)
    if match:
        culprit = {"policy": "PodSecurity", "level": match.group(1), "violations": clip(match.group(2).strip(), 400)}
        root = 'The pod template violates PodSecurity "%s" enforced on namespace %s: %s' % (
            match.group(1), evidence.namespace, clip(match.group(2).strip(), 300))
    else:
        match = _SA.search(message)
        if match:
            culprit = {"service_account": match.group(1)}
            root = "ServiceAccount %s/%s used by the pod template does not exist" % (
                evidence.namespace, match.group(1))
        else:
            match = _WEBHOOK.search(message)
            call = _WEBHOOK_CALL.search(message)
            limit = _LIMITRANGE.search(message)
            if match:
                culprit = {"webhook": match.group(1)}
                root = "Admission webhook %s denied the pod: %s" % (match.group(1), clip(match.group(2).strip(), 300))
            elif call:
                culprit = {"webhook": call.group(1)}
                root = "Admission webhook %s could not be called, so pod creation fails: %s" % (
                    call.group(1), clip(_tail(message), 300))
            elif limit:
                culprit = {"limit_range": "%s %s per %s" % (limit.group(1), limit.group(2), limit.group(3)),
                           "allowed": limit.group(4), "requested": limit.group(5)}
                root = "A LimitRange in %s rejects the pod: %s %s per %s is %s%s" % (
                    evidence.namespace, limit.group(1), limit.group(2), limit.group(3), limit.group(4),
                    ", the template asks %s" % limit.group(5) if limit.group(5) else "")
            elif _PSP.search(message):
                culprit = {"policy": "PodSecurityPolicy"}
                root = "No PodSecurityPolicy allows the pod template: %s" % clip(_tail(message), 300)
            elif "forbidden" in message.lower():
                culprit = {"message": clip(_tail(message), 300)}
                root = "Pod creation is forbidden: %s" % clip(_tail(message), 300)
            else:
                return None
    return finding("PodCreationForbidden", "%s %s cannot create pods: %s" % (
        evidence.kind, evidence.name, root[:120]), root, 0.9, culprit=culprit, evidence=[ev(src, message)],
        facts=dict(culprit))


def _job_deadline(evidence, obj):
    if as_str(obj.get("kind")) != "Job":
        return None
    for cond in as_list(as_dict(obj.get("status")).get("conditions")):
        cond = as_dict(cond)
        if cond.get("type") == "Failed" and cond.get("status") == "True" and cond.get("reason") == "DeadlineExceeded":
            deadline = as_int(as_dict(obj.get("spec")).get("activeDeadlineSeconds"))
            text = "%ss (%s)" % (deadline, human_duration(deadline)) if deadline is not None else "its deadline"
            return finding("DeadlineExceeded", "Job %s exceeded its deadline of %s" % (evidence.name, text),
                           "Job %s ran longer than spec.activeDeadlineSeconds=%s and its pods were stopped" % (
                               evidence.name, deadline), 0.95,
                           culprit={"active_deadline_seconds": deadline},
                           evidence=[ev("status.conditions[Failed]", "reason=DeadlineExceeded %s" % as_str(
                               cond.get("message"))), ev("spec.activeDeadlineSeconds", str(deadline))],
                           facts={"deadline": deadline, "job": evidence.name})
    return None
