# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failure classifier: evidence in, one explained diagnosis out.

Every rule family returns findings; the finding with the highest rank (rules_common.RANK) is the root
cause, the rest become `secondary`. Ranks encode "cause over symptom": an OOM kill outranks the crash
loop it causes, a liveness kill outranks the restart, a failing init container outranks the waiting app
container, a lost node outranks everything on it. Pure: no I/O, no clock (evidence.as_of), never raises.
"""

from __future__ import annotations

import hashlib

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules import containers as rules_containers
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules import images as rules_images
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules import nodes as rules_nodes
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules import probes as rules_probes
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules import scheduling as rules_scheduling
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules import volumes as rules_volumes
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules import workloads as rules_workloads
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import (
    CATEGORIES, DEFAULT_SEVERITY, HEALTHY, runbook_path,
)
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.owners import infer_owners, subject, workload_subject
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, parse_time
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.calibration import calibrate
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    PodContext, as_dict, as_list, as_str, ev,
)
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.timeline import failure_start

_POD_FAMILIES = (rules_nodes.check, rules_scheduling.check, rules_volumes.check, rules_images.check,
                 rules_containers.check, rules_probes.check)
DIAGNOSIS_KEYS = ("kind", "namespace", "name", "uid", "owner", "node", "category", "severity", "confidence",
                  "summary", "root_cause", "culprit", "evidence", "secondary", "restarts", "remediations",
                  "runbook", "diagnosis_id", "observed_at", "problems", "container", "facts", "subject", "failure_started_at")


def diagnosis_id(kind, namespace, name, uid, category, root_cause):
    """Stable 12-hex id of a diagnosis."""
    parts = (kind, namespace, name, uid, category, root_cause)
    try:
        text = "/".join(parts)      # all text: the common case, without six as_str calls
    except TypeError:
        text = "/".join(as_str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]


_ISO_CACHE = {}


def _iso(value):
    """ISO text of the evidence clock (cached: a batch shares one as_of)."""
    key = value
    try:
        cached = _ISO_CACHE.get(key)
        if cached is not None:
            return cached
    except TypeError:
        key = None
    try:
        if len(_ISO_CACHE) > 64:
            _ISO_CACHE.clear()
        # The collection's one timestamp form (UTC, "Z"); the clock's own offset is not kept.
        text = isoformat(value, micro=True) if hasattr(value, "isoformat") else (as_str(value) or None)
        if text is not None and key is not None and hasattr(value, "isoformat"):
            _ISO_CACHE[key] = text
        return text
    except Exception:  # pylint: disable=broad-except
        return None


def _owner(owners):
    top = None
    for item in reversed(owners):
        if isinstance(item, dict):
            top = item
            break
    if top is None:
        return None
    return {"kind": as_str(top.get("kind")) or None, "name": as_str(top.get("name")) or None}


def _problems(evidence):
    problems = getattr(evidence, "problems", None)
    return [as_str(p) for p in problems] if isinstance(problems, (list, tuple)) else []


def _healthy_summary(ctx):
    if ctx.phase == "Succeeded":
        return "Completed successfully"
    if ctx.meta.get("deletionTimestamp"):
        return "Terminating within its grace period"
    apps = [c.ready for c in ctx.containers if c.role == "app"]
    if ctx.phase == "Running" and apps and all(apps):
        restarts = sum(c.restarts for c in ctx.containers)
        return "Running and ready%s" % (" (%d old restarts)" % restarts if restarts else "")
    if ctx.phase == "Pending":
        return "Starting up (nothing has failed yet)"
    return "No failure found"


def _build(kind, namespace, name, uid, owner, node, best, secondary, restarts, as_of, problems, subject_facts,
           healthy_summary="No failure found"):
    category = best["category"] if best else HEALTHY
    if category not in CATEGORIES:
        category = "Unschedulable" if category.startswith("Unschedulable") else "CrashLoopBackOff"
    root = best["root_cause"] if best else "Nothing needs a human now: %s" % healthy_summary.lower()
    severity = (best.get("severity") if best else None) or DEFAULT_SEVERITY.get(category, "medium")
    diagnosis = {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "uid": uid,
        "owner": owner,
        "node": node,
        "category": category,
        "severity": severity,
        # The rule's own confidence, calibrated on the development corpus (diagnosis/calibration.py).
        "confidence": calibrate(category, best["confidence"] if best else (0.9 if not secondary else 0.7)),
        "summary": best["summary"] if best else healthy_summary,
        "root_cause": root,
        "culprit": best["culprit"] if best else {},
        "evidence": best["evidence"] if best else [],
        "secondary": secondary,
        "restarts": restarts,
        "remediations": [],
        "runbook": runbook_path(category),
        "diagnosis_id": diagnosis_id(kind, namespace, name, uid, category, root),
        "observed_at": _iso(as_of),
        "problems": problems,
        # What proposals need, so they are computed from the diagnosis alone (runner joins the two).
        "container": best.get("container") if best else None,
        "facts": dict(best.get("facts") or {}) if best else {},
        "subject": subject_facts,
    }
    return diagnosis


def _select(findings):
    """Root cause = highest rank (ties: higher confidence, then app containers first)."""
    if not findings:
        return None, []     # a healthy pod: the common case
    real = [f for f in findings if not f.get("tentative")]
    tentative = [f for f in findings if f.get("tentative")]
    ordered = sorted(real, key=lambda f: (f["rank"], f["confidence"]), reverse=True)
    best = ordered[0] if ordered else None
    secondary = []
    seen = set()
    for item in ordered[1:] + tentative:
        key = (item["category"], item.get("container"))
        if key in seen or (best and key == (best["category"], best.get("container"))):
            continue
        seen.add(key)
        secondary.append({"category": item["category"], "summary": item["summary"]})
    return best, secondary


def classify_pod(evidence):
    """One diagnosis for a pod (Healthy included). Never raises."""
    try:
        return _classify_pod(evidence)
    except Exception as exc:  # pylint: disable=broad-except
        return _fallback(evidence, exc)


def _classify_pod(evidence):
    ctx = PodContext(evidence)
    findings = []
    skipped = []
    for family in _POD_FAMILIES:
        try:
            findings.extend(family(ctx))
        except Exception as exc:  # pylint: disable=broad-except
            # One family failing on an odd object must not hide what the others found.
            skipped.append("classifier rule %s skipped on this pod: %s" % (
                getattr(family, "__module__", "?").rsplit(".", 1)[-1], type(exc).__name__))
    if ctx.phase == "Succeeded":
        # Every container finished successfully: history, not a problem (unless deletion is stuck).
        # An OOM kill is never a success, even when the process's exit code was 0.
        findings = [f for f in findings if f["category"] in ("TerminatingStuck", "OOMKilled")]
    best, secondary = _select(findings)
    secondary.extend(ctx.notes)
    restarts = sum(c.restarts for c in ctx.containers)
    chain = ctx.owners or infer_owners(ctx.pod)    # = owners.owner_chain(evidence), computed once
    owner = _owner(chain)
    diagnosis = _build("Pod", ctx.namespace, ctx.name, as_str(ctx.meta.get("uid")), owner,
                       as_str(ctx.spec.get("nodeName")) or None, best, secondary, restarts, ctx.as_of,
                       _problems(evidence) + skipped,
                       # Only a failing pod gets proposals, so only it pays for the subject facts.
                       subject(evidence, chain) if best is not None else None,
                       _healthy_summary(ctx) if best is None else None)
    if best is None:
        diagnosis["evidence"] = [ev("status.phase", ctx.phase or "unknown")]
    # MTTD starts here; a healthy pod has no failure to date.
    diagnosis["failure_started_at"] = isoformat(failure_start(ctx)) if best is not None else None
    return diagnosis


def classify_workload(evidence):
    """A diagnosis on a controller that cannot create pods (or a Job past its deadline), else None."""
    try:
        found = rules_workloads.check_workload(evidence)
    except Exception:  # pylint: disable=broad-except
        return None
    if not found:
        return None
    obj = as_dict(getattr(evidence, "object", None))
    meta = as_dict(obj.get("metadata"))
    owners = [o for o in (getattr(evidence, "owners", None) or []) if isinstance(o, dict)]
    diagnosis = _build(as_str(obj.get("kind")) or "Workload", as_str(meta.get("namespace")), as_str(meta.get("name")),
                       as_str(meta.get("uid")), _owner(owners), None, found, [], 0, getattr(evidence, "as_of", None),
                       _problems(evidence), workload_subject(evidence))
    diagnosis["failure_started_at"] = isoformat(_workload_failure_start(evidence, obj))
    return diagnosis


def _workload_failure_start(evidence, obj):
    """Earliest Warning event about the workload, else when its failing condition turned True."""
    found = []
    for event in as_list(getattr(evidence, "events", None)):
        if isinstance(event, dict) and event.get("type") == "Warning":
            when = event.get("first_seen") or event.get("last_seen")
            if hasattr(when, "tzinfo"):
                found.append(when)
    for cond in as_list(as_dict(obj.get("status")).get("conditions")):
        cond = as_dict(cond)
        failing = (cond.get("type") in ("Failed", "ReplicaFailure") and cond.get("status") == "True") or \
            (cond.get("type") == "Progressing" and cond.get("status") == "False")
        when = parse_time(cond.get("lastTransitionTime")) if failing else None
        if when is not None:
            found.append(when)
    return min(found) if found else None


def classify_many(pod_evidences, workload_evidences=()):
    """Classify a batch: {"diagnoses": [...], "counts": {category: n}} (workloads without trouble skipped)."""
    diagnoses = []
    counts = {}
    for evidence in pod_evidences or ():
        diagnosis = classify_pod(evidence)
        diagnoses.append(diagnosis)
        counts[diagnosis["category"]] = counts.get(diagnosis["category"], 0) + 1
    for evidence in workload_evidences or ():
        diagnosis = classify_workload(evidence)
        if diagnosis is not None:
            diagnoses.append(diagnosis)
            counts[diagnosis["category"]] = counts.get(diagnosis["category"], 0) + 1
    return {"diagnoses": diagnoses, "counts": dict(sorted(counts.items()))}


def _fallback(evidence, exc):
    """Last resort when even the context cannot be built: a low-confidence Healthy with the problem noted."""
    pod = getattr(evidence, "pod", None)
    pod = pod if isinstance(pod, dict) else {}
    meta = as_dict(pod.get("metadata"))
    problems = _problems(evidence) + ["classifier could not read this pod: %s" % type(exc).__name__]
    root = "The pod object could not be analysed"
    return {
        "kind": "Pod", "namespace": as_str(meta.get("namespace")), "name": as_str(meta.get("name")),
        "uid": as_str(meta.get("uid")), "owner": None, "node": as_str(as_dict(pod.get("spec")).get("nodeName")) or None,
        "category": HEALTHY, "severity": DEFAULT_SEVERITY[HEALTHY], "confidence": 0.1, "summary": root,
        "root_cause": root, "culprit": {}, "evidence": [], "secondary": [], "restarts": 0, "remediations": [],
        "runbook": runbook_path(HEALTHY),
        "diagnosis_id": diagnosis_id("Pod", meta.get("namespace"), meta.get("name"), meta.get("uid"), HEALTHY, root),
        "observed_at": _iso(getattr(evidence, "as_of", None)), "problems": problems,
        "container": None, "facts": {}, "subject": None, "failure_started_at": None,
    }


__all__ = ["classify_pod", "classify_workload", "classify_many", "diagnosis_id", "DIAGNOSIS_KEYS"]
