# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PHR (operation history record): record model, hash-chained index, sinks and metrics.

Controller side: the aiops.k8s.phr callback feeds module results into a RunCollector, turns them
into records with build_records(), and stores them with RecordStore. phr_verify and phr_report use
the same store. Plain Python without Ansible (Jinja2 is imported only to render), so every rule
here is unit-tested without running a playbook.

Layout of a record directory::

    <dir>/index.jsonl                      append-only, one hash-chained entry per written file
    <dir>/index.lock                       fcntl lock serialising writers on one controller
    <dir>/<YYYY-MM-DD>/<record-id>.json    revision 1 (never rewritten)
    <dir>/<YYYY-MM-DD>/<record-id>.v2.json follow-up validation / rollback, a new chained entry
    <dir>/<YYYY-MM-DD>/<record-id>.md      human rendering of the same revision
"""

from __future__ import absolute_import, division, print_function

import copy
import datetime
import hashlib
import json
import os
import re
import tempfile
import time

from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import parse_time
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact_obj
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError

__metaclass__ = type

SCHEMA_VERSION = 1
SCHEMA_ID = "https://example.invalid/aiops/k8s/schemas/phr-record-v1.schema.json"
GENESIS_HASH = "0" * 64
INDEX_NAME = "index.jsonl"
LOCK_NAME = "index.lock"
UTC = datetime.timezone.utc

# Approval SLA per tier (seconds) as the seed project states it; trivial fixes need no approver.
APPROVAL_SLA_SECONDS = {"low": 5 * 60, "medium": 30 * 60, "critical": 120 * 60}
ROLLBACK_TARGET_SECONDS = 5 * 60
AUDITED_TIERS = ("medium", "critical")
RESULT_KINDS = ("diagnosis", "plan", "approval", "operation", "validation", "rollback")
OUTCOMES = ("ok", "changed", "failed", "skipped", "unreachable")
# Modules whose failure belongs in a record even when they returned no contract payload.
OPERATIONAL_MODULES = ("pod_diagnose", "remediation_plan", "remediate", "rollback", "remediation_validate")
LESSONS_PLACEHOLDER = "To be completed by the operator after review: what went well, what to change."

_ID_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_REVISION_FILE = re.compile(r"^(?P<id>.+?)(?:\.v(?P<rev>\d+))?\.json$")


class RecordError(AiopsError):
    """A record could not be written or read; the message names the file and what to do."""


# --------------------------------------------------------------------------------------------
# Small helpers


def utcnow():
    return datetime.datetime.now(UTC)


def isoformat(when):
    """RFC 3339 text for an aware datetime (None stays None)."""
    if when is None:
        return None
    if isinstance(when, str):
        return when
    return when.astimezone(UTC).isoformat()


def seconds_between(start, end):
    """Seconds from start to end (timestamps as text or datetimes); None if either is unknown."""
    first = parse_time(start) if not isinstance(start, datetime.datetime) else start
    last = parse_time(end) if not isinstance(end, datetime.datetime) else end
    if first is None or last is None:
        return None
    return round((last - first).total_seconds(), 3)


def fmt_duration(seconds):
    """Human duration: 42s, 4m 12s, 2h 05m; "n/a" when unknown."""
    if seconds is None:
        return "n/a"
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    if total < 60:
        return "%s%ds" % (sign, total)
    if total < 3600:
        return "%s%dm %02ds" % (sign, total // 60, total % 60)
    return "%s%dh %02dm" % (sign, total // 3600, (total % 3600) // 60)


def new_record_id(prefix, now=None, token=None):
    """An id like diag-20261125195600-a1b2c3 (the operation id format of the remediate module)."""
    now = now or utcnow()
    token = token or os.urandom(3).hex()
    return "%s-%s-%s" % (prefix, now.astimezone(UTC).strftime("%Y%m%d%H%M%S"), token)


def canonical_json(obj):
    """The byte form that is hashed: sorted keys, no spaces, non-JSON values as text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False).encode("utf-8")


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def plain(obj):
    """A deep JSON-safe copy (Ansible's tagged strings and datetimes become plain values)."""
    return json.loads(json.dumps(obj, default=str))


def redact_record(obj, extra_patterns=None):
    """The shared redactor over a whole structure, with the user's extra patterns."""
    return redact_obj(plain(obj), extra_patterns or None)


# --------------------------------------------------------------------------------------------
# Collecting results of one run


# Keys of a module result that never enter a record: module arguments may carry credentials, and
# Ansible's bookkeeping is noise.
_DROPPED_RESULT_KEYS = ("invocation", "_ansible_no_log", "_ansible_verbose_always", "_ansible_item_label",
                        "_ansible_delegated_vars", "_ansible_parsed", "ansible_facts", "stdout_lines",
                        "warnings", "deprecations")


def _looks_like_approval(value):
    """The contract's approval shape (the remediate playbook's fact carries no marker of its own)."""
    return isinstance(value, dict) and bool(value.get("plan_id")) and \
        value.get("decision") in ("approve", "reject", "conditional") and "approver" in value


def result_markers(result):
    """Contract-shaped payloads in one task result: [(kind, payload)].

    A payload is recognised by its ``aiops: {kind, version}`` marker, never by task name: a module
    result at the top level, each item of a loop, or a fact (the approval is built by the remediate
    playbook with set_fact) whose value carries the marker.
    """
    found = []
    if not isinstance(result, dict):
        return found
    marker = result.get("aiops")
    if isinstance(marker, dict) and marker.get("kind") in RESULT_KINDS:
        payload = dict((k, v) for k, v in result.items() if k not in _DROPPED_RESULT_KEYS)
        args = (result.get("invocation") or {}).get("module_args") or {}
        if marker["kind"] == "plan" and isinstance(args.get("diagnosis"), dict) and "diagnosis" not in payload:
            # A plan made from a saved diagnosis: the diagnosis is the module's input, not its output.
            payload["diagnosis"] = args["diagnosis"]
        found.append((marker["kind"], payload))
    for item in result.get("results") or []:
        found.extend(result_markers(item))
    facts = result.get("ansible_facts")
    if isinstance(facts, dict):
        for value in facts.values():
            if isinstance(value, dict):
                fact_marker = value.get("aiops")
                if isinstance(fact_marker, dict) and fact_marker.get("kind") in RESULT_KINDS:
                    found.append((fact_marker["kind"], dict(value)))
                elif _looks_like_approval(value.get("approval")):
                    found.append(("approval", {"approval": value["approval"]}))
                elif _looks_like_approval(value):
                    found.append(("approval", {"approval": dict(value)}))
    return found


def _short_action(action):
    text = str(action or "")
    return text[len("aiops.k8s."):] if text.startswith("aiops.k8s.") else None


class RunCollector(object):
    """What one playbook run produced: task outcomes and the collection's contract payloads."""

    def __init__(self):
        self.tasks = []           # [{task, action, ok, changed, failed, skipped, unreachable}]
        self._task_index = {}
        self.payloads = []        # [{kind, task, host, status, payload}]
        self.failures = []        # collection module failures without a contract payload
        self.changed_cluster = False

    def add(self, task_key, task_name, action, host, status, result):
        """Account one task result. status: ok, failed, skipped or unreachable."""
        result = result if isinstance(result, dict) else {}
        if status == "ok" and result.get("changed"):
            status = "changed"
        row = self._task_index.get(task_key)
        if row is None:
            row = dict(task=task_name, action=action, ok=0, changed=0, failed=0, skipped=0, unreachable=0)
            self._task_index[task_key] = row
            self.tasks.append(row)
        row[status if status in OUTCOMES else "failed"] += 1
        markers = result_markers(result)
        for kind, payload in markers:
            self.payloads.append(dict(kind=kind, task=task_name, host=host, status=status, payload=plain(payload)))
            if kind in ("operation", "rollback") and payload.get("changed"):
                self.changed_cluster = True
        if status in ("failed", "unreachable") and _short_action(action) in OPERATIONAL_MODULES:
            self.failures.append(dict(task=task_name, action=action, host=host, status=status,
                                      msg=str(result.get("msg") or "")[:2000]))

    def of_kind(self, kind):
        return [item for item in self.payloads if item["kind"] == kind]


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


# --------------------------------------------------------------------------------------------
# The record store: atomic files and the hash-chained index


def entry_hash(entry):
    """Hash of an index entry over every field except its own hash."""
    return sha256_bytes(canonical_json(dict((k, v) for k, v in entry.items() if k != "hash")))


class _Lock(object):
    """Exclusive fcntl lock on <dir>/index.lock: one writer at a time on this controller."""

    def __init__(self, root):
        self.path = os.path.join(root, LOCK_NAME)
        self.handle = None

    def __enter__(self):
        import fcntl  # POSIX only; imported here so the module still loads for reading elsewhere
        self.handle = open(self.path, "a+")
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        return False


def _write_exclusive(path, data):
    """Write bytes to a new file atomically (temp file + link); never replace an existing file."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise RecordError("Refusing to overwrite the existing record %s" % path)
        except OSError:
            # Filesystems without hard links: rename is still atomic; the caller holds the lock.
            if os.path.exists(path):
                raise RecordError("Refusing to overwrite the existing record %s" % path)
            os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _safe_id(record_id):
    if not isinstance(record_id, str) or not _ID_SAFE.match(record_id) or ".." in record_id:
        raise RecordError("Record id %r is not a safe file name: expected letters, digits, '.', '_' or '-'"
                          % (record_id,))
    return record_id


class RecordStore(object):
    """A record directory: date folders of immutable files plus the append-only hash-chained index."""

    def __init__(self, root):
        self.root = os.path.abspath(os.path.expanduser(root))
        self.index_path = os.path.join(self.root, INDEX_NAME)

    def ensure(self):
        try:
            os.makedirs(self.root, mode=0o750, exist_ok=True)
        except OSError as exc:
            raise RecordError("Cannot create the PHR record directory %s: %s; set AIOPS_K8S_PHR_DIR (or "
                              "[aiops_k8s_phr] record_dir) to a writable directory" % (self.root, exc.strerror or exc))
        if not os.access(self.root, os.W_OK):
            raise RecordError("The PHR record directory %s is not writable; fix its permissions or set "
                              "AIOPS_K8S_PHR_DIR to a writable directory" % self.root)

    def entries(self):
        """Index entries as parsed dicts (raises RecordError naming the line when one is not JSON)."""
        if not os.path.exists(self.index_path):
            return []
        found = []
        with open(self.index_path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    found.append(json.loads(line.decode("utf-8")))
                except ValueError:
                    raise RecordError("%s line %d is not valid JSON" % (self.index_path, number))
        return found

    def _last_entry(self):
        """The last index entry, read from the end of the file (the index only grows)."""
        if not os.path.exists(self.index_path):
            return None
        with open(self.index_path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            block = min(size, 65536)
            while True:
                handle.seek(size - block)
                lines = [line for line in handle.read(block).splitlines() if line.strip()]
                if len(lines) > 1 or block == size:
                    break
                block = min(size, block * 4)
        if not lines:
            return None
        try:
            return json.loads(lines[-1].decode("utf-8"))
        except ValueError:
            raise RecordError("The last line of %s is not valid JSON: run the aiops.k8s.phr_verify playbook"
                              % self.index_path)

    def latest(self, record_id):
        """(record, entry) of the newest revision of a record id, or (None, None)."""
        newest = None
        for entry in self.entries():
            if entry.get("record_id") == record_id and (newest is None or entry.get("revision", 1) >= newest.get(
                    "revision", 1)):
                newest = entry
        if newest is None:
            return None, None
        with open(os.path.join(self.root, newest["file"]), "rb") as handle:
            return json.loads(handle.read().decode("utf-8")), newest

    def write(self, record, markdown=None, now=None):
        """Write a record revision (JSON, optional Markdown) and chain it into the index.

        Everything happens under the index lock, so concurrent runs get consecutive, correctly
        chained entries. Returns the index entry.
        """
        self.ensure()
        record_id = _safe_id(record.get("record_id"))
        revision = int(record.get("revision") or 1)
        with _Lock(self.root):
            if revision > 1:
                previous = self.latest(record_id)[1]
                folder = os.path.dirname(previous["file"]) if previous else None
                revision = max(revision, (previous or {}).get("revision", 1) + 1)
                record["revision"] = revision
            else:
                folder = None
            if folder is None:
                created = parse_time(record.get("created_at") or "") or now or utcnow()
                folder = created.astimezone(UTC).strftime("%Y-%m-%d")
            os.makedirs(os.path.join(self.root, folder), mode=0o750, exist_ok=True)
            stem = record_id if revision == 1 else "%s.v%d" % (record_id, revision)
            json_rel = os.path.join(folder, stem + ".json")
            data = (json.dumps(record, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n").encode("utf-8")
            _write_exclusive(os.path.join(self.root, json_rel), data)
            entry = {
                "seq": 0,
                "record_id": record_id,
                "revision": revision,
                "record_type": record.get("record_type"),
                "file": json_rel,
                "sha256": sha256_bytes(data),
                "md_file": None,
                "md_sha256": None,
                "written_at": isoformat(now or utcnow()),
            }
            if markdown is not None:
                md_rel = os.path.join(folder, stem + ".md")
                md_data = markdown.encode("utf-8")
                _write_exclusive(os.path.join(self.root, md_rel), md_data)
                entry["md_file"], entry["md_sha256"] = md_rel, sha256_bytes(md_data)
            last = self._last_entry()
            entry["seq"] = (last.get("seq", 0) + 1) if last else 1
            entry["prev_hash"] = last.get("hash") if last else GENESIS_HASH
            entry["hash"] = entry_hash(entry)
            line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
            with open(self.index_path, "a") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        return entry


def operation_store_ids(state_dir):
    """Operation ids that have a saved pre-change object in the operation store."""
    found = set()
    if not state_dir or not os.path.isdir(state_dir):
        return found
    for name in os.listdir(state_dir):
        match = re.match(r"^(op-\d{14}-[0-9a-f]{6})(?:\..*)?\.json$", name)
        if match:
            found.add(match.group(1))
    return found


def verify_store(root, state_dir=None):
    """Check the hash chain, every file digest, unindexed files and operations without a record.

    Returns {ok, entries, records, first_broken, broken_count, unindexed_files, missing_records, message}.
    first_broken = {seq, line, record_id, file, check, expected, actual} of the first bad link.
    """
    store = RecordStore(root)
    result = {"ok": True, "entries": 0, "records": 0, "first_broken": None, "broken_count": 0,
              "unindexed_files": [], "missing_records": [], "record_dir": store.root, "message": ""}
    if not os.path.isdir(store.root):
        result.update(ok=False, message="PHR record directory %s does not exist" % store.root)
        return result

    def broken(line, entry, check, expected, actual, file_name=None):
        result["broken_count"] += 1
        if result["first_broken"] is None:
            result["first_broken"] = {"line": line, "seq": (entry or {}).get("seq"),
                                      "record_id": (entry or {}).get("record_id"),
                                      "file": file_name or (entry or {}).get("file"),
                                      "check": check, "expected": expected, "actual": actual}

    previous_hash = GENESIS_HASH
    indexed = set()
    record_ids = set()
    lines = []
    if os.path.exists(store.index_path):
        with open(store.index_path, "rb") as handle:
            lines = handle.read().splitlines()
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except ValueError:
            broken(number, None, "index_json", "a JSON object", raw[:80].decode("utf-8", "replace"), INDEX_NAME)
            previous_hash = None
            continue
        result["entries"] += 1
        record_ids.add(entry.get("record_id"))
        if previous_hash is not None and entry.get("prev_hash") != previous_hash:
            broken(number, entry, "prev_hash", previous_hash, entry.get("prev_hash"), INDEX_NAME)
        actual_hash = entry_hash(entry)
        if entry.get("hash") != actual_hash:
            broken(number, entry, "entry_hash", entry.get("hash"), actual_hash, INDEX_NAME)
        previous_hash = entry.get("hash")
        for file_key, digest_key in (("file", "sha256"), ("md_file", "md_sha256")):
            rel = entry.get(file_key)
            if not rel:
                continue
            indexed.add(os.path.normpath(rel))
            path = os.path.join(store.root, rel)
            if not os.path.isfile(path):
                broken(number, entry, "file_missing", entry.get(digest_key), None, rel)
                continue
            digest = sha256_file(path)
            if digest != entry.get(digest_key):
                broken(number, entry, "file_sha256", entry.get(digest_key), digest, rel)
    result["records"] = len(record_ids)
    for folder in sorted(os.listdir(store.root)):
        path = os.path.join(store.root, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.startswith(".tmp-") or not (name.endswith(".json") or name.endswith(".md")):
                continue
            rel = os.path.normpath(os.path.join(folder, name))
            if rel not in indexed:
                result["unindexed_files"].append(rel)
    result["missing_records"] = sorted(operation_store_ids(state_dir) - record_ids)
    problems = []
    if result["first_broken"]:
        first = result["first_broken"]
        problems.append("first broken link at index line %s (record %s, file %s): %s expected %s, found %s"
                        % (first["line"], first["record_id"], first["file"], first["check"], first["expected"],
                           first["actual"]))
    if result["unindexed_files"]:
        problems.append("%d record file(s) not in the index, first %s" % (len(result["unindexed_files"]),
                                                                          result["unindexed_files"][0]))
    if result["missing_records"]:
        problems.append("%d operation(s) in the operation store without a record: %s"
                        % (len(result["missing_records"]), ", ".join(result["missing_records"][:10])))
    result["ok"] = not problems
    result["message"] = "; ".join(problems) if problems else "%d index entries, %d records: chain intact" % (
        result["entries"], result["records"])
    return result


# --------------------------------------------------------------------------------------------
# Sinks


def http_post(url, body, opener, timeout=10.0, retries=3, token=None, backoff=0.5, sleep=time.sleep):
    """POST a JSON document; retry on connection errors and 5xx/429 with exponential backoff.

    opener(url, data=, headers=, method=, timeout=) is Ansible's open_url, passed in by the callback so
    this file stays free of Ansible. Returns (ok, attempts, detail). Never raises: a sink failure is reported.
    """
    from urllib import error as urlerror

    data = json.dumps(body, sort_keys=True, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "aiops.k8s-phr/1"}
    if token:
        headers["Authorization"] = "Bearer %s" % token
    attempts = 0
    detail = ""
    for attempt in range(max(1, int(retries) + 1)):
        attempts = attempt + 1
        try:
            response = opener(url, data=data, headers=headers, method="POST", timeout=timeout)
            return True, attempts, "HTTP %s" % getattr(response, "status", getattr(response, "code", "?"))
        except urlerror.HTTPError as exc:
            detail = "HTTP %s" % exc.code
            if exc.code < 500 and exc.code != 429:
                return False, attempts, detail
        except (urlerror.URLError, OSError, ValueError) as exc:
            detail = str(getattr(exc, "reason", exc))
        if attempt < retries:
            sleep(backoff * (2 ** attempt))
    return False, attempts, detail


# --------------------------------------------------------------------------------------------
# Rendering (Jinja2 templates under <collection>/templates/phr)


def unified_diff(diff):
    """A unified diff of the before/after objects of an action, as text lines."""
    import difflib

    diff = diff if isinstance(diff, dict) else {}

    def lines(obj):
        return json.dumps(obj, indent=2, sort_keys=True, default=str).splitlines() if obj is not None else []

    return "\n".join(difflib.unified_diff(lines(diff.get("before")), lines(diff.get("after")), "before", "after",
                                          lineterm="", n=3))


def default_template_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "templates", "phr")


_ENVIRONMENTS = {}


def _environment(template_dir, autoescape):
    """One Jinja2 environment per template directory, so templates compile once per process."""
    key = (os.path.abspath(template_dir or default_template_dir()), autoescape)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = _new_environment(key[0], autoescape)
    return _ENVIRONMENTS[key]


def _new_environment(template_dir, autoescape):
    import jinja2  # controller only

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir),
                             autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.ChainableUndefined)
    env.filters["duration"] = fmt_duration
    env.filters["tojson_pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True, default=str)
    env.filters["unified_diff"] = unified_diff
    return env


def render_record_markdown(record, template_dir=None):
    """The human Markdown rendering of one record revision."""
    return _environment(template_dir, False).get_template("record.md.j2").render(record=record)


def render_report(report, fmt, template_dir=None):
    """Markdown (fmt="md") or self-contained HTML (fmt="html") of a computed report."""
    name = "report.html.j2" if fmt == "html" else "report.md.j2"
    return _environment(template_dir, fmt == "html").get_template(name).render(report=report)


# --------------------------------------------------------------------------------------------
# Reporting: the seed's success metrics over a time range


def parse_since(value, now=None):
    """A range bound: RFC 3339, a date (YYYY-MM-DD), or relative like 30m, 12h, 7d, 2w."""
    if value in (None, ""):
        return None
    now = now or utcnow()
    match = re.match(r"^\s*(\d+)\s*([smhdw])\s*$", str(value))
    if match:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
        return now - datetime.timedelta(seconds=int(match.group(1)) * unit)
    text = str(value).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        text += "T00:00:00+00:00"
    when = parse_time(text)
    if when is None:
        raise RecordError("Cannot read the time %r: use RFC 3339 (2026-11-25T10:00:00Z), a date (2026-11-25) "
                          "or a relative time such as 24h or 7d" % (value,))
    return when


def load_latest_records(root, since=None, until=None):
    """The newest revision of every record first written inside [since, until)."""
    store = RecordStore(root)
    first_seen, newest = {}, {}
    for entry in store.entries():
        record_id = entry.get("record_id")
        if record_id not in first_seen:
            first_seen[record_id] = parse_time(entry.get("written_at") or "")
        if record_id not in newest or entry.get("revision", 1) >= newest[record_id].get("revision", 1):
            newest[record_id] = entry
    records = []
    for record_id, entry in newest.items():
        when = first_seen.get(record_id)
        if since is not None and (when is None or when < since):
            continue
        if until is not None and (when is None or when >= until):
            continue
        path = os.path.join(store.root, entry["file"])
        try:
            with open(path, "rb") as handle:
                records.append(json.loads(handle.read().decode("utf-8")))
        except (OSError, ValueError) as exc:
            raise RecordError("Cannot read record %s: %s; run the aiops.k8s.phr_verify playbook" % (path, exc))
    records.sort(key=lambda r: r.get("created_at") or "")
    return records


def _stats(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return {"count": 0, "mean_seconds": None, "median_seconds": None, "max_seconds": None,
                "mean": "n/a", "median": "n/a", "max": "n/a"}
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2.0
    mean = sum(values) / float(len(values))
    return {"count": len(values), "mean_seconds": round(mean, 1), "median_seconds": round(median, 1),
            "max_seconds": values[-1], "mean": fmt_duration(mean), "median": fmt_duration(median),
            "max": fmt_duration(values[-1])}


def bar_chart(title, bars, unit_label, target=None, target_label=None, width=560, bar_height=22):
    """Geometry of a horizontal bar chart for the SVG template (no layout logic in the template).

    bars: [{label, value, text}] with value >= 0; target: a value drawn as a dashed line.
    """
    left, right, top = 150, 180, 30
    values = [b["value"] for b in bars if b.get("value") is not None] + ([target] if target else [])
    scale_max = max(values) if values and max(values) > 0 else 1.0
    inner = width - left - right
    rows = []
    for number, item in enumerate(bars):
        value = item.get("value") or 0
        length = int(round(inner * value / scale_max))
        over = target is not None and value > target
        rows.append({"label": item["label"], "text": item.get("text", ""), "x": left,
                     "y": top + number * (bar_height + 8), "width": max(length, 1 if value else 0),
                     "height": bar_height, "text_x": left + max(length, 0) + 6,
                     "text_y": top + number * (bar_height + 8) + bar_height - 6,
                     "label_y": top + number * (bar_height + 8) + bar_height - 6,
                     "fill": "#c0392b" if over else item.get("fill", "#2e86c1")})
    height = top + max(len(bars), 1) * (bar_height + 8) + 24
    chart = {"title": title, "width": width, "height": height, "bars": rows, "unit": unit_label,
             "label_x": left - 8, "empty": not bars, "target": None}
    if target:
        x = left + int(round(inner * target / scale_max))
        chart["target"] = {"x": x, "y1": top - 6, "y2": height - 20, "label": target_label or "",
                           "label_y": height - 6}
    return chart


def compute_report(records, since=None, until=None, now=None):
    """The seed's metrics over records: MTTD, MTTR, approval latency/SLA per tier, record
    completeness of medium/critical operations, rollbacks and their durations."""
    now = now or utcnow()
    operations = [r for r in records if r.get("record_type") == "operation"]
    by_status, rows = {}, []
    for record in records:
        status = (record.get("operation") or {}).get("status") or (record.get("decision") or {}).get(
            "decision") or record.get("record_type")
        by_status[status] = by_status.get(status, 0) + 1
        decision, timeline, rollback = (record.get("decision") or {}), (record.get("timeline") or {}), (
            record.get("rollback") or {})
        primary = (record.get("analysis") or {}).get("primary") or {}
        target = (record.get("operation") or {}).get("target") or {}
        rows.append({"record_id": record.get("record_id"), "type": record.get("record_type"), "status": status,
                     "tier": decision.get("tier") or "-", "category": primary.get("category") or "-",
                     "target": "%s %s/%s" % (target.get("kind", ""), target.get("namespace", ""),
                                             target.get("name", "")) if target else
                     "%s/%s" % (primary.get("namespace", ""), primary.get("name", "")),
                     "created_at": record.get("created_at"),
                     "mttd": fmt_duration(timeline.get("mttd_seconds")),
                     "mttr": fmt_duration(timeline.get("mttr_seconds")),
                     "approval_latency": fmt_duration(decision.get("latency_seconds")),
                     "sla_breached": decision.get("sla_breached"),
                     "rollback": fmt_duration(rollback.get("duration_seconds")) if rollback.get("attempted") else "-",
                     "complete": (record.get("completeness") or {}).get("complete")})
    mttd = _stats([(r.get("timeline") or {}).get("mttd_seconds") for r in records])
    mttr = _stats([(r.get("timeline") or {}).get("mttr_seconds") for r in operations])

    tiers = []
    for tier in ("trivial", "low", "medium", "critical"):
        decided = [r for r in records if (r.get("decision") or {}).get("tier") == tier]
        latencies = [(r["decision"] or {}).get("latency_seconds") for r in decided]
        stats = _stats(latencies)
        stats.update(tier=tier, decisions=len(decided), sla_seconds=APPROVAL_SLA_SECONDS.get(tier),
                     sla=fmt_duration(APPROVAL_SLA_SECONDS.get(tier)) if tier in APPROVAL_SLA_SECONDS else "none",
                     breaches=sum(1 for r in decided if (r.get("decision") or {}).get("sla_breached")))
        tiers.append(stats)

    audited = [r for r in operations if (r.get("decision") or {}).get("tier") in AUDITED_TIERS]
    complete = [r for r in audited if (r.get("completeness") or {}).get("complete")]
    share = (len(complete) / float(len(audited))) if audited else None

    rolled = [r for r in operations if (r.get("rollback") or {}).get("attempted")]
    durations = [(r["rollback"] or {}).get("duration_seconds") for r in rolled]
    rollbacks = _stats(durations)
    rollbacks.update(attempted=len(rolled),
                     succeeded=sum(1 for r in rolled if (r.get("rollback") or {}).get("succeeded")),
                     over_target=sum(1 for d in durations if d is not None and d > ROLLBACK_TARGET_SECONDS),
                     target_seconds=ROLLBACK_TARGET_SECONDS, target=fmt_duration(ROLLBACK_TARGET_SECONDS))

    charts = [
        bar_chart("Mean approval latency by tier (red: SLA breached)",
                  [{"label": t["tier"], "value": t["mean_seconds"] or 0,
                    "text": "%s (n=%d, %d over SLA)" % (t["mean"], t["count"], t["breaches"]),
                    "fill": "#c0392b" if t["breaches"] else "#2e86c1"}
                   for t in tiers if t["tier"] != "trivial"], "seconds"),
        bar_chart("Rollback duration per operation (dashed: 5 min target)",
                  [{"label": r["record_id"][-13:], "value": r["rollback"].get("duration_seconds") or 0,
                    "text": fmt_duration(r["rollback"].get("duration_seconds"))} for r in rolled],
                  "seconds", target=ROLLBACK_TARGET_SECONDS, target_label="5 min"),
        bar_chart("Records by outcome",
                  [{"label": str(k), "value": v, "text": str(v), "fill": "#7d3c98"} for k, v in sorted(by_status.items())],
                  "records"),
    ]
    return {
        "title": "aiops.k8s operations report",
        "generated_at": isoformat(now),
        "since": isoformat(since),
        "until": isoformat(until),
        "record_count": len(records),
        "operation_count": len(operations),
        "by_status": [{"status": k, "count": v} for k, v in sorted(by_status.items())],
        "mttd": mttd,
        "mttr": mttr,
        "tiers": tiers,
        "sla_breaches": sum(t["breaches"] for t in tiers),
        "completeness": {"audited": len(audited), "complete": len(complete), "share": share,
                         "share_text": "n/a" if share is None else "%.0f%%" % (share * 100),
                         "target_met": share is None or share >= 1.0,
                         "incomplete": [{"record_id": r.get("record_id"),
                                         "missing": ", ".join((r.get("completeness") or {}).get("missing") or [])}
                                        for r in audited if not (r.get("completeness") or {}).get("complete")]},
        "rollbacks": rollbacks,
        "rows": rows,
        "charts": charts,
    }
