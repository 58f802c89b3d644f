# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PHR (operation history record) model: what one record holds and how it is built from a run.

The aiops.k8s.phr callback feeds module results into a RunCollector (records/collect.py), turns them
into records with build_records() and stores them with records/store.py. Records copy what producers
emitted (diagnosis, plan, gate verdict, drift verdict); they never judge or reconstruct it. Plain
Python without Ansible, Jinja2 or I/O, so every rule here is unit-tested without a playbook.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact_obj
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import (
    UTC, isoformat, parse_time, seconds_between, utcnow)

SCHEMA_VERSION = 1
SCHEMA_ID = "https://example.invalid/aiops/k8s/schemas/phr-record-v1.schema.json"

# Approval SLA per tier (seconds) as the seed project states it; trivial fixes need no approver.
APPROVAL_SLA_SECONDS = {"low": 5 * 60, "medium": 30 * 60, "critical": 120 * 60}
ROLLBACK_TARGET_SECONDS = 5 * 60
AUDITED_TIERS = ("medium", "critical")
LESSONS_PLACEHOLDER = "To be completed by the operator after review: what went well, what to change."
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")


class RecordError(AiopsError):
    """A record could not be written or read; the message names the file and what to do."""


def new_record_id(prefix, now=None, token=None):
    """An id like diag-20261125195600-a1b2c3 (the operation id format of the remediate module)."""
    now = now or utcnow()
    token = token or os.urandom(3).hex()
    return "%s-%s-%s" % (prefix, now.astimezone(UTC).strftime("%Y%m%d%H%M%S"), token)


def plain(obj):
    """A deep JSON-safe copy (Ansible's tagged strings and datetimes become plain values)."""
    import json
    return json.loads(json.dumps(obj, default=str))


def redact_record(obj, extra_patterns=None):
    """The shared redactor over a whole structure, with the user's extra patterns."""
    return redact_obj(plain(obj), extra_patterns or None)


def _short_action(action):
    text = str(action or "")
    return text[len("aiops.k8s."):] if text.startswith("aiops.k8s.") else None


# --------------------------------------------------------------------------------------------
# Building records


def _primary(diagnoses):
    for diagnosis in diagnoses:
        if diagnosis.get("category") != "Healthy":
            return diagnosis
    return diagnoses[0] if diagnoses else None


def failure_started_at(diagnosis):
    """Earliest failure evidence time in a diagnosis (event first_seen, lastState start/finish).

    Uses an explicit ``failure_started_at`` when a diagnosis carries one, else the earliest RFC 3339
    timestamp quoted in its evidence pointers; None when the evidence has no time.
    """
    if not diagnosis:
        return None
    explicit = parse_time(diagnosis.get("failure_started_at") or "")
    if explicit is not None:
        return explicit
    earliest = None
    for pointer in diagnosis.get("evidence") or []:
        text = "%s %s" % (pointer.get("source", ""), pointer.get("detail", "")) if isinstance(pointer, dict) \
            else str(pointer)
        for match in _TIMESTAMP.findall(text):
            when = parse_time(match)
            if when is not None and (earliest is None or when < earliest):
                earliest = when
    return earliest


def _last_termination(diagnosis):
    for pointer in (diagnosis or {}).get("evidence") or []:
        if isinstance(pointer, dict) and "lastState.terminated" in str(pointer.get("source", "")):
            return {"source": pointer.get("source"), "detail": pointer.get("detail")}
    return None


def _resources(operation, diagnosis):
    """Requests/limits before the change: from the diff's before-object, else the culprit facts."""
    before = ((operation or {}).get("diff") or {}).get("before")
    found = []
    if isinstance(before, dict):
        spec = before.get("spec") or {}
        pod_spec = (spec.get("template") or {}).get("spec") or spec
        for container in pod_spec.get("containers") or []:
            if isinstance(container, dict):
                found.append({"container": container.get("name"), "resources": container.get("resources") or {}})
    if not found and diagnosis and isinstance(diagnosis.get("culprit"), dict):
        culprit = diagnosis["culprit"]
        wanted = ("limit", "request", "memory_limit", "cpu_limit", "requests", "limits", "resources")
        keys = [key for key in culprit if key in wanted]
        if keys:
            found.append({"container": culprit.get("container"), "resources": dict((k, culprit[k]) for k in keys)})
    return found


def _pre_state(operation, diagnosis):
    diagnosis = diagnosis or {}
    return {
        "pod": "%s/%s" % (diagnosis.get("namespace", ""), diagnosis.get("name", "")) if diagnosis else None,
        "node": diagnosis.get("node"),
        "restarts": diagnosis.get("restarts"),
        "last_termination": _last_termination(diagnosis),
        "resources": _resources(operation, diagnosis),
        "node_usage": diagnosis.get("node_usage") or (operation or {}).get("node_usage"),
    }


def _window_label(seconds):
    if seconds is None:
        return "unknown"
    if seconds % 3600 == 0 and seconds >= 3600:
        return "%d h" % (seconds // 3600)
    if seconds % 60 == 0 and seconds >= 60:
        return "%d min" % (seconds // 60)
    return "%d s" % seconds


def _validation_entry(validation, source, recorded_at):
    validation = validation or {}
    window = validation.get("window_seconds")
    return {
        "window": _window_label(window),
        "window_seconds": window,
        "passed": validation.get("passed"),
        "checks": validation.get("checks") or [],
        "recorded_at": validation.get("finished_at") or validation.get("checked_at") or recorded_at,
        "source": source,
    }


def _decision(plan, approval, tier):
    plan = plan or {}
    latency = seconds_between(plan.get("created_at"), (approval or {}).get("decided_at")) if approval else None
    sla = APPROVAL_SLA_SECONDS.get(tier)
    return {
        "tier": tier,
        "tier_reason": plan.get("tier_reason"),
        "sla_seconds": sla,
        "approval": approval,
        "approver": (approval or {}).get("approver"),
        "decision": (approval or {}).get("decision"),
        "justification": (approval or {}).get("justification"),
        "mode": (approval or {}).get("mode"),
        "latency_seconds": latency,
        "sla_breached": bool(sla is not None and latency is not None and latency > sla),
    }


def _approval_valid(plan, approval, operation):
    """The approval names this plan, grants it, and was given before the plan expired."""
    if not approval or not plan:
        return False
    if approval.get("plan_id") != plan.get("plan_id") or approval.get("decision") not in ("approve", "conditional"):
        return False
    decided, expires = parse_time(approval.get("decided_at") or ""), parse_time(plan.get("expires_at") or "")
    if decided is not None and expires is not None and decided > expires:
        return False
    return (operation or {}).get("status") != "refused"


def _dry_run_passed(operation):
    dry_run = (operation or {}).get("dry_run")
    if isinstance(dry_run, dict):
        for key in ("accepted", "passed"):  # remediate reports "accepted"; "passed" is accepted too
            if key in dry_run:
                return bool(dry_run[key])
    if dry_run and not (isinstance(dry_run, dict) and dry_run.get("error")):
        return True
    return None if not operation else False


def _drift_check(operation):
    """remediate re-reads the target and refuses on drift before it saves, dry-runs or diffs anything."""
    if operation.get("drift_check"):
        return operation["drift_check"]
    if operation.get("pre_state_ref") or operation.get("dry_run") or operation.get("diff"):
        return "passed"
    if operation.get("status") == "refused":
        return "not passed: %s" % (operation.get("error") or "refused")
    return None


def _rollback_section(operation):
    operation = operation or {}
    rollback = operation.get("rollback") or {}
    return {
        "plan": "Restore the saved pre-change object %s (sha256 %s) with the aiops.k8s.rollback module "
                "(operation_id=%s)." % (operation.get("pre_state_ref") or "(none saved)",
                                        operation.get("pre_state_digest") or "n/a",
                                        operation.get("operation_id") or "n/a"),
        "pre_state_ref": operation.get("pre_state_ref"),
        "pre_state_digest": operation.get("pre_state_digest"),
        "attempted": bool(rollback.get("attempted")),
        "succeeded": rollback.get("succeeded"),
        "started_at": rollback.get("started_at"),
        "finished_at": rollback.get("finished_at"),
        "duration_seconds": seconds_between(rollback.get("started_at"), rollback.get("finished_at")),
        "reason": rollback.get("reason"),
    }


REQUIRED_SECTIONS = ("analysis", "decision", "safety", "actions", "validation", "rollback_plan")


def completeness(record):
    """Which audit sections a record still lacks (the seed's "complete record" for medium/critical).

    Only sections that apply count: a diagnose-only record needs its analysis, a decision record
    (plan never executed) the decision too, an operation record everything.
    """
    missing = []
    if not (record.get("analysis") or {}).get("diagnoses"):
        missing.append("analysis")
    decision = record.get("decision") or {}
    if record.get("record_type") in ("operation", "decision") and not (
            decision.get("approver") and decision.get("justification") and decision.get("decision")):
        missing.append("decision")
    safety = record.get("safety") or {}
    if record.get("operation") and (safety.get("dry_run_passed") is None or not safety.get("pre_state_saved")
                                    or not safety.get("pre_state_digest")):
        missing.append("safety")
    if record.get("operation") and record["operation"].get("status") != "refused" and not record.get("actions"):
        missing.append("actions")
    if record.get("operation") and record["operation"].get("status") not in ("refused", "failed", "dry_run") and \
            not record.get("validations"):
        missing.append("validation")
    if record.get("operation") and not (record.get("rollback") or {}).get("pre_state_ref"):
        missing.append("rollback_plan")
    return {"complete": not missing, "missing": missing}


def _timeline(diagnosis, plan, approval, operation, validations):
    start = failure_started_at(diagnosis)
    diagnosed = (diagnosis or {}).get("observed_at")
    validated = None
    for entry in validations:
        if entry.get("passed"):
            validated = entry.get("recorded_at")
            break
    if validated is None and (operation or {}).get("status") == "validated":
        validated = operation.get("finished_at")
    return {
        "failure_started_at": isoformat(start),
        "diagnosed_at": diagnosed,
        "planned_at": (plan or {}).get("created_at"),
        "decided_at": (approval or {}).get("decided_at"),
        "applied_at": (operation or {}).get("applied_at"),
        "validated_at": validated,
        "finished_at": (operation or {}).get("finished_at"),
        "mttd_seconds": seconds_between(start, diagnosed),
        "mttr_seconds": seconds_between(start, validated),
    }


def new_record(record_id, record_type, run, created_at):
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "record_id": record_id,
        "record_type": record_type,
        "revision": 1,
        "created_at": created_at,
        "supersedes": None,
        "runs": [run],
        "operation": None,
        "pre_state": _pre_state(None, None),
        "analysis": {"diagnoses": [], "primary": None},
        "decision": _decision(None, None, None),
        "safety": {"dry_run_passed": None, "drift_check": None, "pre_state_saved": False, "pre_state_ref": None,
                   "pre_state_digest": None, "approval_valid": False},
        "actions": [],
        "validations": [],
        "rollback": _rollback_section(None),
        "timeline": _timeline(None, None, None, None, []),
        "lessons_learned": LESSONS_PLACEHOLDER,
        "completeness": {"complete": False, "missing": []},
        "problems": [],
    }


def _operation_record(run, created_at, operation, plan, diagnoses, approval, validations, rollbacks):
    record_id = operation.get("operation_id") or new_record_id("op")
    tier = operation.get("risk_tier") or (plan or {}).get("risk_tier")
    record = new_record(record_id, "operation", run, created_at)
    diagnosis = _primary(diagnoses)
    record["operation"] = dict((k, operation.get(k)) for k in (
        "operation_id", "plan_id", "diagnosis_id", "action", "target", "risk_tier", "status", "started_at",
        "applied_at", "finished_at", "error"))
    record["pre_state"] = _pre_state(operation, diagnosis)
    record["analysis"] = {"diagnoses": diagnoses, "primary": diagnosis}
    record["decision"] = _decision(plan, approval, tier)
    record["safety"] = {
        "dry_run_passed": _dry_run_passed(operation),
        "drift_check": _drift_check(operation),
        "pre_state_saved": bool(operation.get("pre_state_ref")),
        "pre_state_ref": operation.get("pre_state_ref"),
        "pre_state_digest": operation.get("pre_state_digest"),
        "approval_valid": _approval_valid(plan, approval, operation),
    }
    if operation.get("status") != "refused":
        record["actions"] = [{
            "action": operation.get("action"),
            "target": operation.get("target"),
            "params": (plan or {}).get("params"),
            "status": operation.get("status"),
            "dry_run": operation.get("dry_run"),
            "diff": operation.get("diff"),
            "applied_at": operation.get("applied_at"),
        }]
    entries = []
    if operation.get("validation"):
        entries.append(_validation_entry(operation["validation"], "remediate", operation.get("finished_at")))
    entries.extend(validations)
    record["validations"] = entries
    record["rollback"] = _rollback_section(operation)
    for extra in rollbacks:
        _apply_rollback(record, extra)
    record["timeline"] = _timeline(diagnosis, plan, approval, operation, entries)
    if operation.get("error"):
        record["problems"].append("operation error: %s" % operation["error"])
    return record


def _apply_rollback(record, payload):
    rollback = payload.get("rollback") or {}
    section = record["rollback"]
    for key in ("attempted", "succeeded", "started_at", "finished_at", "reason"):
        if key in rollback:
            section[key] = rollback[key]
    section["attempted"] = bool(section.get("attempted"))
    section["duration_seconds"] = seconds_between(section.get("started_at"), section.get("finished_at"))


def build_records(collector, run, now=None, id_token=None):
    """Records for one run: one per operation, one per decided plan without an operation, else one
    diagnose-only record. Follow-up validations/rollbacks for operations of earlier runs are
    returned separately as ``follow_ups`` [(operation_id, payload kind, payload)] to append."""
    now = now or utcnow()
    created_at = isoformat(now)
    diagnoses = []
    for item in collector.of_kind("diagnosis"):
        diagnoses.extend(d for d in item["payload"].get("diagnoses") or [] if isinstance(d, dict))
    for item in collector.of_kind("plan"):
        given = item["payload"].get("diagnosis")
        if isinstance(given, dict) and given.get("diagnosis_id") not in [d.get("diagnosis_id") for d in diagnoses]:
            diagnoses.append(given)
    diag_by_id = dict((d.get("diagnosis_id"), d) for d in diagnoses if d.get("diagnosis_id"))
    plans = [item["payload"].get("plan") for item in collector.of_kind("plan")
             if isinstance(item["payload"].get("plan"), dict)]
    plan_by_id = dict((p.get("plan_id"), p) for p in plans)
    approvals = {}
    for item in collector.of_kind("approval"):
        approval = item["payload"].get("approval")
        if isinstance(approval, dict) and approval.get("plan_id"):
            approvals[approval["plan_id"]] = approval
    operations = [dict(item["payload"]["operation"], changed=item["payload"].get("changed"))
                  for item in collector.of_kind("operation") if isinstance(item["payload"].get("operation"), dict)]
    op_ids = set(op.get("operation_id") for op in operations)

    validations_by_op, rollbacks_by_op, follow_ups = {}, {}, []
    for kind in ("validation", "rollback"):
        for item in collector.of_kind(kind):
            payload = item["payload"]
            if not isinstance(payload.get(kind), dict):
                if kind == "validation" or item["status"] != "failed":
                    continue  # e.g. a follow-up asked for before its checkpoint: nothing was checked
                # The rollback itself failed before reporting: the cluster may be half restored.
                payload = dict(payload, rollback={"attempted": True, "succeeded": False,
                                                  "reason": str(payload.get("msg") or "rollback failed")})
            op_id = payload.get("operation_id") or (payload.get("operation") or {}).get("operation_id")
            if op_id in op_ids:
                if kind == "validation":
                    validations_by_op.setdefault(op_id, []).append(
                        _validation_entry(payload.get("validation"), "remediation_validate", created_at))
                else:
                    rollbacks_by_op.setdefault(op_id, []).append(payload)
            elif op_id:
                follow_ups.append((op_id, kind, payload))

    records = []
    used_plans = set()
    for operation in operations:
        plan = plan_by_id.get(operation.get("plan_id"))
        used_plans.add(operation.get("plan_id"))
        approval = operation.get("approval") or approvals.get(operation.get("plan_id"))
        linked = [diag_by_id[operation["diagnosis_id"]]] if operation.get("diagnosis_id") in diag_by_id else diagnoses
        records.append(_operation_record(run, created_at, operation, plan, linked, approval,
                                         validations_by_op.get(operation.get("operation_id"), []),
                                         rollbacks_by_op.get(operation.get("operation_id"), [])))
    for plan in plans:
        if plan.get("plan_id") in used_plans:
            continue
        # A plan that never reached remediate: rejected, expired, or the run failed before acting.
        record = new_record(new_record_id("plan", now, id_token), "decision", run, created_at)
        diagnosis = diag_by_id.get(plan.get("diagnosis_id")) or _primary(diagnoses)
        approval = approvals.get(plan.get("plan_id"))
        record["analysis"] = {"diagnoses": [diagnosis] if diagnosis else [], "primary": diagnosis}
        record["pre_state"] = _pre_state(None, diagnosis)
        record["decision"] = _decision(plan, approval, plan.get("risk_tier"))
        record["decision"]["plan"] = plan
        record["safety"]["approval_valid"] = _approval_valid(plan, approval, None)
        record["timeline"] = _timeline(diagnosis, plan, approval, None, [])
        records.append(record)
    for record in records:
        if record["decision"].get("plan") is None and record["operation"]:
            record["decision"]["plan"] = plan_by_id.get(record["operation"].get("plan_id"))
    if not records and (diagnoses or collector.of_kind("diagnosis")) and not follow_ups:
        record = new_record(new_record_id("diag", now, id_token), "diagnosis", run, created_at)
        primary = _primary(diagnoses)
        record["analysis"] = {"diagnoses": diagnoses, "primary": primary,
                              "summaries": [item["payload"].get("summary") for item in collector.of_kind("diagnosis")]}
        record["pre_state"] = _pre_state(None, primary)
        record["timeline"] = _timeline(primary, None, None, None, [])
        records.append(record)
    acting_failures = [f for f in collector.failures if _short_action(f["action"]) in ("remediate", "rollback")]
    if not records and not follow_ups and (acting_failures or collector.changed_cluster):
        record = new_record(new_record_id("run", now, id_token), "run", run, created_at)
        records.append(record)
    for record in records:
        record["problems"].extend("task %r failed: %s" % (f["task"], f["msg"]) for f in collector.failures)
        record["completeness"] = completeness(record)
    return {"records": records, "follow_ups": follow_ups}


def follow_up_revision(previous, kind, payload, run, now=None, entry=None, note=None):
    """A new revision of a record with a follow-up validation or rollback appended (old files stay).

    previous: the newest revision and its index entry; with previous None (no earlier record here,
    e.g. an ephemeral AWX container) a standalone revision 1 is made and ``note`` says why.
    """
    created_at = isoformat(now or utcnow())
    if previous is None:
        previous = new_record(payload.get("operation_id") or new_record_id("op"), "operation", run, created_at)
        previous["revision"], previous["runs"] = 0, []
        if note:
            previous["problems"].append(note)
    record = copy.deepcopy(previous)
    record["revision"] = int(previous.get("revision", 1)) + 1
    if entry is not None:
        record["supersedes"] = {"file": entry["file"], "sha256": entry["sha256"], "revision": entry.get("revision", 1)}
    record["created_at"] = created_at
    record["runs"] = list(previous.get("runs") or []) + [run]
    if kind == "validation":
        record["validations"] = list(previous.get("validations") or []) + [
            _validation_entry(payload.get("validation"), "remediation_validate", created_at)]
    else:
        _apply_rollback(record, payload)
    operation = record.get("operation") or {}
    analysis = record.get("analysis") or {}
    record["timeline"] = _timeline(analysis.get("primary"), (record.get("decision") or {}).get("plan"),
                                   (record.get("decision") or {}).get("approval"), operation, record["validations"])
    record["completeness"] = completeness(record)
    return record


def summary_line(record, written_to=None, error=None):
    """The compact summary published in the job output (AWX keeps it when the files vanish)."""
    operation = record.get("operation") or {}
    return {
        "record_id": record.get("record_id"),
        "revision": record.get("revision"),
        "type": record.get("record_type"),
        "status": operation.get("status") or (record.get("decision") or {}).get("decision") or (
            "diagnosed" if record.get("record_type") == "diagnosis" else record.get("record_type")),
        "tier": (record.get("decision") or {}).get("tier"),
        "category": ((record.get("analysis") or {}).get("primary") or {}).get("category"),
        "complete": (record.get("completeness") or {}).get("complete"),
        "written": written_to is not None,
        "path": written_to,
        "error": error,
    }


