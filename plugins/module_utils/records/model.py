# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PHR (operation history record) model: what one record holds and how it is built from a run.

The aiops.k8s.phr callback feeds module results into a RunCollector (records/collect.py), turns them
into records with build_records() and stores them with records/store.py. Records COPY what producers
emitted: the diagnosis' ``failure_started_at``, the plan's ``created_at``/``sla_seconds``, the
operation's ``gate`` and ``drift`` verdicts. When an old producer did not emit a fact the record says
"unknown"; it never reconstructs one (by regex over evidence, by the shape of a dict, or by judging an
approval again). Plain Python without Ansible, Jinja2 or I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact_obj
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import (
    compact, isoformat, parse_time, seconds_between, utcnow)
from ansible_collections.aiops.k8s.plugins.module_utils.records.diffs import changed_only, resources_of

SCHEMA_VERSION = 1
SCHEMA_ID = "https://example.invalid/aiops/k8s/schemas/phr-record-v1.schema.json"
UNKNOWN = "unknown"
ROLLBACK_TARGET_SECONDS = 5 * 60
AUDITED_TIERS = ("medium", "critical")
# Follow-up checkpoints after a change (seconds): 1 min in the run, 5 min and 1 h scheduled.
CHECKPOINTS = ((60, "1 min"), (300, "5 min"), (3600, "1 h"))
LESSONS_PLACEHOLDER = "Not yet written: add lessons with the aiops.k8s.phr_annotate playbook."


class RecordError(AiopsError):
    """A record could not be written or read; the message names the file and what to do."""


def new_record_id(prefix, now=None, token=None):
    """An id like diag-20261125195600-a1b2c3 (the operation id format of the remediate module)."""
    now = now or utcnow()
    token = token or os.urandom(3).hex()
    return "%s-%s-%s" % (prefix, compact(now), token)


def plain(obj):
    """A deep JSON-safe copy (Ansible's tagged strings and datetimes become plain values)."""
    return json.loads(json.dumps(obj, default=str))


def redact_record(obj, extra_patterns=None):
    """The shared redactor over a whole structure, with the user's extra patterns."""
    return redact_obj(plain(obj), extra_patterns or None)


def _short_action(action):
    text = str(action or "")
    return text[len("aiops.k8s."):] if text.startswith("aiops.k8s.") else None


# --------------------------------------------------------------------------------------------
# Sections


def _primary(diagnoses):
    for diagnosis in diagnoses:
        if diagnosis.get("category") != "Healthy":
            return diagnosis
    return diagnoses[0] if diagnoses else None


def failure_started_at(diagnosis):
    """The classifier's ``failure_started_at`` (None when it did not say: the record shows unknown)."""
    return parse_time((diagnosis or {}).get("failure_started_at") or "")


def _pre_state(operation, diagnosis, plan=None):
    diagnosis = diagnosis or {}
    before = ((operation or {}).get("diff") or {}).get("before")
    return {
        "pod": "%s/%s" % (diagnosis.get("namespace", ""), diagnosis.get("name", "")) if diagnosis else None,
        "node": diagnosis.get("node"),
        "restarts": diagnosis.get("restarts"),
        "container": diagnosis.get("container"),
        "resources": resources_of(before),
        "facts": diagnosis.get("facts") or {},
        "metrics": diagnosis.get("usage") or (operation or {}).get("pre_metrics"),
        # The plan's snapshot (remediation/observe.py): the "before" column next to each validation's.
        "pre_metrics": (plan or {}).get("pre_metrics") or (operation or {}).get("pre_metrics"),
    }


def checkpoint_label(seconds):
    """The nearest follow-up checkpoint (1 min, 5 min, 1 h) of a check made ``seconds`` after the change."""
    if seconds is None:
        return UNKNOWN
    best = min(CHECKPOINTS, key=lambda item: abs(item[0] - seconds))
    return best[1]


def _validation_entry(validation, source, recorded_at):
    validation = validation or {}
    # A follow-up says which checkpoint it ran at; remediate's own check is the 1-minute one.
    at = validation.get("checkpoint_seconds")
    if at is None:
        at = validation.get("operation_age_seconds")
    if at is None and source == "remediate":
        at = 60
    return {
        "checkpoint": checkpoint_label(at),
        "checkpoint_seconds": at,
        "window_seconds": validation.get("window_seconds"),
        "passed": validation.get("passed"),
        "checks": validation.get("checks") or [],
        # the target at the checkpoint (remediation/observe.py), same shape as pre_state.pre_metrics
        "metrics": validation.get("metrics") or validation.get("usage"),
        "recorded_at": isoformat(validation.get("finished_at") or validation.get("checked_at") or recorded_at),
        "source": source,
    }


def _decision(plan, approval, operation, tier):
    """Copy the gate's verdict from the operation; without one, the approval fact as given."""
    plan, approval = plan or {}, approval or {}
    gate = (operation or {}).get("gate") if isinstance((operation or {}).get("gate"), dict) else None
    sla = plan.get("sla_seconds")
    if gate:
        shown, decided = gate.get("plan_shown_at"), gate.get("decided_at")
        latency, breached = gate.get("latency_seconds"), gate.get("sla_breached")
        sla = gate.get("sla_seconds", sla)
        verdict, reason = gate.get("verdict") or UNKNOWN, gate.get("reason")
    else:
        shown, decided = plan.get("created_at"), approval.get("decided_at")
        latency = seconds_between(shown, decided) if approval else None
        breached = None if sla is None or latency is None else latency > sla
        verdict, reason = ("not_decided" if not operation else UNKNOWN), None
    return {
        "tier": tier,
        "tier_reason": plan.get("tier_reason"),
        "sla_seconds": sla,
        "approval": approval or None,
        "approver": (gate or {}).get("approver") or approval.get("approver"),
        "decision": approval.get("decision"),
        "justification": approval.get("justification"),
        "mode": (gate or {}).get("mode") or approval.get("mode"),
        "plan_shown_at": isoformat(shown),
        "decided_at": isoformat(decided),
        "latency_seconds": latency,
        "sla_breached": breached,
        "verdict": verdict,
        "verdict_reason": reason,
        "source": "gate" if gate else ("approval" if approval else "none"),
    }


def _dry_run_passed(operation):
    dry_run = (operation or {}).get("dry_run")
    if isinstance(dry_run, dict) and "accepted" in dry_run:
        return bool(dry_run["accepted"])
    return None


def _drift(operation):
    """The operation's own drift verdict, or unknown (an old operation did not record one)."""
    drift = (operation or {}).get("drift")
    if isinstance(drift, dict) and "checked" in drift:
        text = "not checked" if not drift.get("checked") else (
            "drifted: %s" % (drift.get("reason") or "target changed") if drift.get("drifted") else "passed")
        return dict(drift, text=text)
    return {"checked": None, "drifted": None, "reason": None, "text": UNKNOWN}


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
        "started_at": isoformat(rollback.get("started_at")),
        "finished_at": isoformat(rollback.get("finished_at")),
        "duration_seconds": seconds_between(rollback.get("started_at"), rollback.get("finished_at")),
        "reason": rollback.get("reason"),
    }


def completeness(record):
    """Which audit sections a record still lacks (the seed's "complete record" for medium/critical).

    Only sections that apply count: a diagnose-only record needs its analysis, a decision record
    (plan never executed) the decision too, an operation record everything. A stub (a follow-up with
    no earlier record) or a reconstructed record is never complete.
    """
    missing = []
    if not (record.get("analysis") or {}).get("diagnoses"):
        missing.append("analysis")
    decision = record.get("decision") or {}
    if record.get("record_type") in ("operation", "decision") and not (
            decision.get("approver") and decision.get("justification") and decision.get("decision")) and \
            decision.get("verdict") != "not_required":
        missing.append("decision")
    safety = record.get("safety") or {}
    operation = record.get("operation")
    if operation and (safety.get("dry_run_passed") is None or not safety.get("pre_state_saved")
                      or not safety.get("pre_state_digest")):
        missing.append("safety")
    if operation and operation.get("status") not in ("refused", "applying") and not record.get("actions"):
        missing.append("actions")
    if operation and operation.get("status") not in ("refused", "failed", "dry_run", "applying") and \
            not record.get("validations"):
        missing.append("validation")
    if operation and not (record.get("rollback") or {}).get("pre_state_ref"):
        missing.append("rollback_plan")
    if record.get("stub"):
        missing.append("original_record")
    return {"complete": not missing, "missing": missing}


def lifecycle_status(record):
    """The record's status follows its latest event: rollback, else the latest follow-up check."""
    operation = record.get("operation") or {}
    rollback = record.get("rollback") or {}
    if rollback.get("attempted"):
        return "rolled_back" if rollback.get("succeeded") else "rollback_failed"
    checks = [v for v in record.get("validations") or [] if v.get("passed") is not None]
    if checks and operation.get("status") in ("validated", "applied", "regressed"):
        latest = max(checks, key=lambda v: (v.get("checkpoint_seconds") or 0, v.get("recorded_at") or ""))
        if not latest.get("passed"):
            return "regressed" if any(v.get("passed") for v in checks) or operation.get("status") == "validated" \
                else "failed_validation"
        return "validated"
    if operation:
        return operation.get("status") or UNKNOWN
    if record.get("record_type") == "decision":
        return (record.get("decision") or {}).get("decision") or "decided"
    return {"diagnosis": "diagnosed", "plan": "planned"}.get(record.get("record_type"), record.get("record_type"))


def _timeline(diagnosis, decision, operation, validations):
    start = failure_started_at(diagnosis)
    diagnosed = (diagnosis or {}).get("observed_at")
    passed = sorted(v.get("recorded_at") for v in validations if v.get("passed") and v.get("recorded_at"))
    validated = passed[0] if passed else None
    return {
        "failure_started_at": isoformat(start) if start else UNKNOWN,
        "diagnosed_at": isoformat(diagnosed),
        "planned_at": decision.get("plan_shown_at"),
        "decided_at": decision.get("decided_at"),
        "applied_at": isoformat((operation or {}).get("applied_at")),
        "validated_at": isoformat(validated),
        "finished_at": isoformat((operation or {}).get("finished_at")),
        "mttd_seconds": seconds_between(start, diagnosed) if start else None,
        "mttr_seconds": seconds_between(start, validated) if start else None,
    }


def refresh(record):
    """Recompute the derived sections (timeline, status, completeness) of a record revision."""
    analysis = record.get("analysis") or {}
    record["timeline"] = _timeline(analysis.get("primary"), record.get("decision") or {}, record.get("operation"),
                                   record.get("validations") or [])
    record["status"] = lifecycle_status(record)
    record["completeness"] = completeness(record)
    return record


def new_record(record_id, record_type, run, created_at):
    record = {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "record_id": record_id,
        "record_type": record_type,
        "revision": 1,
        "created_at": isoformat(created_at),
        "supersedes": None,
        "status": None,
        "runs": [run],
        "operation": None,
        "pre_state": _pre_state(None, None),
        "analysis": {"diagnoses": [], "primary": None},
        "decision": _decision(None, None, None, None),
        "safety": {"dry_run_passed": None, "drift": _drift(None), "drift_check": UNKNOWN, "pre_state_saved": False,
                   "pre_state_ref": None, "pre_state_digest": None, "gate_verdict": UNKNOWN},
        "actions": [],
        "validations": [],
        "rollback": _rollback_section(None),
        "timeline": {},
        "lessons_learned": LESSONS_PLACEHOLDER,
        "lessons": [],
        "follow_up_items": [],
        "completeness": {"complete": False, "missing": []},
        "problems": [],
    }
    return refresh(record)


OPERATION_KEYS = ("operation_id", "plan_id", "diagnosis_id", "action", "target", "risk_tier", "status", "started_at",
                  "applied_at", "finished_at", "error")


def operation_section(operation):
    section = dict((k, operation.get(k)) for k in OPERATION_KEYS)
    for key in ("started_at", "applied_at", "finished_at"):
        section[key] = isoformat(section[key])
    return section


def _operation_record(run, created_at, operation, plan, diagnoses, approval, validations, rollbacks):
    record_id = operation.get("operation_id") or new_record_id("op")
    tier = operation.get("risk_tier") or (plan or {}).get("risk_tier")
    record = new_record(record_id, "operation", run, created_at)
    diagnosis = _primary(diagnoses)
    record["operation"] = operation_section(operation)
    record["pre_state"] = _pre_state(operation, diagnosis, plan)
    record["analysis"] = {"diagnoses": diagnoses, "primary": diagnosis}
    record["decision"] = _decision(plan, approval, operation, tier)
    drift = _drift(operation)
    record["safety"] = {
        "dry_run_passed": _dry_run_passed(operation),
        "drift": drift,
        "drift_check": drift["text"],
        "pre_state_saved": bool(operation.get("pre_state_ref")),
        "pre_state_ref": operation.get("pre_state_ref"),
        "pre_state_digest": operation.get("pre_state_digest"),
        "gate_verdict": record["decision"]["verdict"],
    }
    if operation.get("status") != "refused":
        record["actions"] = [{
            "action": operation.get("action"),
            "target": operation.get("target"),
            "params": (plan or {}).get("params"),
            "status": operation.get("status"),
            "dry_run": operation.get("dry_run"),
            "diff": changed_only(operation.get("diff")),
            "applied_at": isoformat(operation.get("applied_at")),
        }]
    entries = []
    if operation.get("validation"):
        entries.append(_validation_entry(operation["validation"], "remediate", operation.get("finished_at")))
    entries.extend(validations)
    record["validations"] = entries
    record["rollback"] = _rollback_section(operation)
    for extra in rollbacks:
        _apply_rollback(record, extra)
    if operation.get("error"):
        record["problems"].append("operation error: %s" % operation["error"])
    record["problems"].extend(p for p in operation.get("problems") or [] if isinstance(p, str))  # e.g. shown time unknown
    return record


def _apply_rollback(record, payload):
    rollback = payload.get("rollback") or {}
    section = record["rollback"]
    for key in ("attempted", "succeeded", "started_at", "finished_at", "reason"):
        if key in rollback:
            section[key] = isoformat(rollback[key]) if key.endswith("_at") else rollback[key]
    section["attempted"] = bool(section.get("attempted"))
    section["duration_seconds"] = seconds_between(section.get("started_at"), section.get("finished_at"))


def _apply_lessons(record, payload, created_at):
    lessons = payload.get("lessons") or {}
    entry = {"author": lessons.get("author"), "text": lessons.get("text"), "written_at": isoformat(created_at)}
    record["lessons"] = list(record.get("lessons") or []) + [entry]
    record["lessons_learned"] = "\n\n".join("%s (%s): %s" % (e["author"], e["written_at"], e["text"])
                                            for e in record["lessons"])
    items = dict((item.get("id"), item) for item in record.get("follow_up_items") or [])
    for item in lessons.get("follow_ups") or []:
        items[item.get("id")] = dict(item)
    record["follow_up_items"] = sorted(items.values(), key=lambda i: (i.get("due") or "", i.get("id") or ""))


def _index(collector):
    diagnoses = []
    for item in collector.of_kind("diagnosis"):
        diagnoses.extend(d for d in item["payload"].get("diagnoses") or [] if isinstance(d, dict))
    plans = []
    for item in collector.of_kind("plan"):
        plan = item["payload"].get("plan")
        if not isinstance(plan, dict):
            continue
        plans.append(plan)
        given = plan.get("diagnosis") or item["payload"].get("diagnosis")
        if isinstance(given, dict) and given.get("diagnosis_id") not in [d.get("diagnosis_id") for d in diagnoses]:
            diagnoses.append(given)
    approvals = {}
    for item in collector.of_kind("approval"):
        approval = item["payload"].get("approval", item["payload"])
        if isinstance(approval, dict) and approval.get("plan_id"):
            approvals[approval["plan_id"]] = dict((k, v) for k, v in approval.items() if k != "aiops")
    return diagnoses, plans, approvals


def build_records(collector, run, now=None, id_token=None):
    """Records for one run: one per operation, one per plan without an operation (a decision when an
    approver decided, else a plan-stage record), else one diagnose-only record. Follow-ups for
    operations of earlier runs are returned as ``follow_ups`` [(operation_id, kind, payload)]."""
    now = now or utcnow()
    created_at = isoformat(now)
    diagnoses, plans, approvals = _index(collector)
    diag_by_id = dict((d.get("diagnosis_id"), d) for d in diagnoses if d.get("diagnosis_id"))
    plan_by_id = dict((p.get("plan_id"), p) for p in plans)
    operations = [dict(item["payload"]["operation"], changed=item["payload"].get("changed"))
                  for item in collector.of_kind("operation") if isinstance(item["payload"].get("operation"), dict)]
    op_ids = set(op.get("operation_id") for op in operations)

    validations_by_op, rollbacks_by_op, follow_ups = {}, {}, []
    for kind in ("validation", "rollback", "lessons"):
        for item in collector.of_kind(kind):
            payload = item["payload"]
            if not isinstance(payload.get(kind), dict):
                if kind != "rollback" or item["status"] != "failed":
                    continue  # e.g. a follow-up asked for before its checkpoint: nothing was checked
                # The rollback itself failed before reporting: the cluster may be half restored.
                payload = dict(payload, rollback={"attempted": True, "succeeded": False,
                                                  "reason": str(payload.get("msg") or "rollback failed")})
            op_id = payload.get("operation_id") or payload.get("record_id") or \
                (payload.get("operation") or {}).get("operation_id")
            if op_id in op_ids and kind == "validation":
                validations_by_op.setdefault(op_id, []).append(
                    _validation_entry(payload.get("validation"), "remediation_validate", created_at))
            elif op_id in op_ids and kind == "rollback":
                rollbacks_by_op.setdefault(op_id, []).append(payload)
            elif op_id:
                follow_ups.append((op_id, kind, payload))

    records, used_plans = [], set()
    for operation in operations:
        plan = plan_by_id.get(operation.get("plan_id"))
        used_plans.add(operation.get("plan_id"))
        approval = operation.get("approval") or approvals.get(operation.get("plan_id"))
        linked = [diag_by_id[operation["diagnosis_id"]]] if operation.get("diagnosis_id") in diag_by_id else diagnoses
        record = _operation_record(run, created_at, operation, plan, linked, approval,
                                   validations_by_op.get(operation.get("operation_id"), []),
                                   rollbacks_by_op.get(operation.get("operation_id"), []))
        record["decision"]["plan"] = plan
        records.append(record)
    for plan in plans:
        if plan.get("plan_id") in used_plans:
            continue
        # A plan that never reached remediate. With a decision (rejected, or the run stopped after it)
        # it is a decision record; a plan nobody decided on is a plan-stage record, not a decision.
        approval = approvals.get(plan.get("plan_id"))
        kind = "decision" if approval else "plan"
        record = new_record(new_record_id("plan", now, id_token), kind, run, created_at)
        diagnosis = diag_by_id.get(plan.get("diagnosis_id")) or plan.get("diagnosis") or _primary(diagnoses)
        record["analysis"] = {"diagnoses": [diagnosis] if diagnosis else [], "primary": diagnosis}
        record["pre_state"] = _pre_state(None, diagnosis, plan)
        record["decision"] = _decision(plan, approval, None, plan.get("risk_tier"))
        record["decision"]["plan"] = plan
        records.append(record)
    if not records and (diagnoses or collector.of_kind("diagnosis")) and not follow_ups:
        record = new_record(new_record_id("diag", now, id_token), "diagnosis", run, created_at)
        primary = _primary(diagnoses)
        record["analysis"] = {"diagnoses": diagnoses, "primary": primary,
                              "summaries": [item["payload"].get("summary") for item in collector.of_kind("diagnosis")]}
        record["pre_state"] = _pre_state(None, primary)
        records.append(record)
    acting_failures = [f for f in collector.failures if _short_action(f["action"]) in ("remediate", "rollback")]
    if not records and not follow_ups and (acting_failures or collector.changed_cluster):
        records.append(new_record(new_record_id("run", now, id_token), "run", run, created_at))
    for record in records:
        record["problems"].extend("task %r failed: %s" % (f["task"], f["msg"]) for f in collector.failures)
        refresh(record)
    return {"records": records, "follow_ups": follow_ups}


def follow_up_revision(previous, kind, payload, run, now=None, entry=None, note=None):
    """A new revision of a record with a follow-up validation, rollback or lessons appended.

    previous: the newest revision and its index entry (read inside the store lock, so revisions stay
    linear); with previous None (no earlier record here, e.g. an ephemeral AWX container) a stub
    revision 1 is made, marked ``stub`` and never counted as complete.
    """
    created_at = isoformat(now or utcnow())
    if previous is None:
        previous = new_record(payload.get("operation_id") or payload.get("record_id") or new_record_id("op"),
                              "operation", run, created_at)
        previous["revision"], previous["runs"], previous["stub"] = 0, [], True
        if note:
            previous["problems"].append(note)
    record = copy.deepcopy(previous)
    record["revision"] = int(previous.get("revision", 1)) + 1
    record["supersedes"] = None
    if entry is not None:
        record["supersedes"] = {"file": entry["file"], "sha256": entry["sha256"], "revision": entry.get("revision", 1),
                                "hash": entry.get("hash")}
    record["created_at"] = created_at
    record["runs"] = list(previous.get("runs") or []) + [run]
    if kind == "validation":
        record["validations"] = list(previous.get("validations") or []) + [
            _validation_entry(payload.get("validation"), "remediation_validate", created_at)]
    elif kind == "lessons":
        _apply_lessons(record, payload, created_at)
    else:
        _apply_rollback(record, payload)
    return refresh(record)


def summary_line(record, written_to=None, error=None, entry=None):
    """The compact summary published in the job output (AWX keeps it when the files vanish).

    It carries the chain position (seq, hash, prev_hash) of the record's index entry, so the job log
    is an anchor kept outside the record directory.
    """
    entry = entry or {}
    return {
        "record_id": record.get("record_id"),
        "revision": record.get("revision"),
        "type": record.get("record_type"),
        "status": record.get("status") or lifecycle_status(record),
        "tier": (record.get("decision") or {}).get("tier"),
        "category": ((record.get("analysis") or {}).get("primary") or {}).get("category"),
        "complete": (record.get("completeness") or {}).get("complete"),
        "written": written_to is not None,
        "path": written_to,
        "error": error,
        "seq": entry.get("seq"),
        "hash": entry.get("hash"),
        "prev_hash": entry.get("prev_hash"),
    }
