# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execute one approved plan: the orchestration around the only writes to a cluster.

The executor decides, never its input: it re-reads the target, derives the tier from the code floors
and the trusted policy (remediation/policy.py) on the live object, and judges the approval against
that tier and SLA, ignoring the plan's own risk_tier/expires_at/sla_seconds. Order:

    structure (plan id, names, params) -> read + drift check -> tier from the live object -> gate
    -> save pre-state -> dry run (dryRun=All) -> diff -> [check mode stops] -> consume the approval
    (single use, under the store lock) -> apply -> validate for a window -> on failure restore the saved
    object, but only if nobody changed it since our apply (else status ``conflict``) -> one record
"""

from __future__ import absolute_import, division, print_function

import copy
import time

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import canonical_json
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError, InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, parse_time, seconds_between
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import tier_rank
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import is_conflict, object_path, target_path
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore, shown as showings
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import policy as safety
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.changes import (
    ActionError, build_change, changed_since, comparable, is_controller_owned, restored,
)
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import (
    GateRefusal, check_approval, check_plan_integrity, drift_reason, visible_text,
)
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import PlanError, check_target, describe_target
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.validate import baseline_restarts, validate_window

__metaclass__ = type

# "applying" is saved just before the real write: a run killed mid-change never leaves "refused" behind.
STATUSES = ("validated", "applied", "applying", "dry_run", "refused", "failed", "conflict", "rolled_back", "rollback_failed")


def _iso(when):
    return isoformat(when, micro=True)


def _empty_rollback():
    return {"attempted": False, "succeeded": None, "started_at": None, "finished_at": None, "reason": None}


def new_operation(plan, approval, operation_id, now):
    plan = plan if isinstance(plan, dict) else {}
    return {
        "operation_id": operation_id,
        "plan_id": plan.get("plan_id"),
        "diagnosis_id": plan.get("diagnosis_id"),
        "action": plan.get("action"),
        "target": plan.get("target"),
        "risk_tier": None,
        "tier_reason": None,
        "approval": approval,
        "gate": {"verdict": "refused", "reason": None, "approver": None, "mode": None, "decided_at": None,
                 "plan_shown_at": showings.shown_at(plan), "sla_seconds": None, "latency_seconds": None,
                 "sla_breached": None},
        "drift": {"checked": False, "drifted": False, "reason": None},
        "status": "refused",
        "summary": "",
        "dry_run": None,
        "diff": None,
        "pre_state_ref": None,
        "pre_state_digest": None,
        "started_at": _iso(now),
        "applied_at": None,
        "finished_at": None,
        "validation": None,
        "rollback": _empty_rollback(),
        "error": None,
        "requests": [],
        "phr_opt_out": False,
    }


def live_tier(plan, current, policy):
    """(tier, reasons, sla_seconds) derived from the live object and the trusted policy.

    The plan's tier only counts when it is stricter (a rule from extra vars raised it at planning);
    the plan's SLA only when it is shorter.
    """
    target = plan.get("target") or {}
    pod = safety.pod_facts_from_object(current) if target.get("kind") == "Pod" and current else None
    derived, reasons = safety.derive_tier(plan.get("action"), target, plan.get("params") or {}, pod, policy)
    tier = safety.strictest(derived, plan.get("risk_tier")) if plan.get("risk_tier") in safety.RISK_TIERS else derived
    if tier != derived:
        reasons.append("kept the plan's stricter tier %s" % tier)
    sla = safety.sla_seconds(tier, policy)
    claimed = plan.get("sla_seconds")
    if isinstance(claimed, int) and not isinstance(claimed, bool) and 0 <= claimed < sla:
        sla = claimed
    return tier, reasons, sla


def authenticate(approval, tier, options, plan_id, awx_verified=False):
    """The approver identity for this approval's mode, or GateRefusal. Fails closed on every mode."""
    mode = (approval or {}).get("mode") or "pre_approved"
    requester = options.get("requester")
    if mode == "trivial":
        if tier != "trivial":
            raise GateRefusal("Plan %s is %s tier on the live object: it needs an approval, not the trivial path"
                              % (plan_id, tier))
        return "policy"
    if mode == "awx":
        if not awx_verified:
            raise GateRefusal("Plan %s claims an AWX approval, but this run cannot verify one with the controller "
                              "API (no AWX credential in the environment): extra vars are not proof. Nothing was "
                              "changed." % plan_id)
        approver = approval.get("approver")
    elif mode == "signed":
        verify = options.get("signature_verifier")
        if verify is None:
            raise GateRefusal("Plan %s has a signed approval but no allowed_signers file is configured "
                              "(AIOPS_K8S_ALLOWED_SIGNERS): nothing was changed" % plan_id)
        approver = verify(approval, plan_id, tier)
    elif mode == "interactive":
        approver = options.get("os_user")
        if not visible_text(approver):
            raise GateRefusal("Interactive approval of plan %s: the operating-system account of the approver is "
                              "unknown; refusing rather than recording an anonymous approval" % plan_id)
    else:
        limit = (options.get("policy") or {}).get("unsigned_max_tier") or safety.UNSIGNED_MAX_TIER  # a claim: floor
        if tier_rank(tier) > tier_rank(limit):
            raise GateRefusal("Plan %s is %s tier: an unsigned pre-approval is accepted only up to %s (-e approver= "
                              "proves nothing). Sign it (ansible-playbook aiops.k8s.approve, or ssh-keygen -Y sign -n "
                              "aiops-approval), approve it in AWX, or run interactively and type the plan id; only "
                              "the site policy (%s) may raise unsigned_max_tier. Nothing was changed."
                              % (plan_id, tier, limit, safety.ENV_POLICY_FILE))
        approver = approval.get("approver").strip()
    four_eyes = (options.get("policy") or {}).get("four_eyes_tiers") or ("critical",)
    if tier in four_eyes and requester and approver == requester:
        raise GateRefusal("Plan %s is %s tier: the approver (%s) must be another person than the requester (four eyes)"
                          % (plan_id, tier, approver))
    return approver


def _gate_record(operation, plan, approval, verdict, reason, approver, mode, sla, now):
    shown = parse_time(showings.shown_at(plan)) if isinstance(plan, dict) else None
    decided = parse_time((approval or {}).get("decided_at")) if approval else None
    if verdict != "refused" and mode == "trivial":
        decided = decided or now
    latency = seconds_between(shown, decided) if shown and decided else None
    operation["gate"] = {
        "verdict": verdict, "reason": reason, "approver": approver, "mode": mode,
        "decided_at": isoformat(decided) if decided else None,
        "plan_shown_at": isoformat(shown) if shown else None,
        "sla_seconds": sla, "latency_seconds": latency,
        "sla_breached": (latency > sla) if latency is not None and sla is not None else None,
    }


def execute(cluster, plan, approval, options, clock, sleep=time.sleep):
    """Run one plan. Returns (changed, operation, diff). ``operation['status']`` tells the outcome.

    options: state_dir, check_mode, validation_window, poll_interval, rollback_on_failure, policy (the
    merged trusted policy), requester / os_user (OS account), awx_verifier, signature_verifier.
    """
    now = clock()
    store = options.get("state_dir")
    policy = options.get("policy") or safety.merge()
    operation = new_operation(plan, approval, opstore.new_operation_id(now), now)
    operation["phr_opt_out"] = bool(options.get("phr_opt_out"))

    def finish(status, error=None):
        operation["status"] = status
        operation["error"] = error
        operation["finished_at"] = _iso(clock())
        operation["requests"] = list(cluster.calls)
        return operation

    def refuse(reason, sla=None):
        _gate_record(operation, plan, approval, "refused", reason, None, (approval or {}).get("mode")
                     if isinstance(approval, dict) else None, sla, now)
        return False, finish("refused", reason), None

    try:
        check_plan_integrity(plan)
        if not integrity.verify(plan, options.get("key")):
            raise GateRefusal("Plan %s carries no valid MAC for this site's plan key: it was edited or made with "
                              "another key; plan again (jobs on other hosts/containers need one shared %s)"
                              % (plan.get("plan_id"), integrity.ENV_KEY_FILE))
        check_target(plan.get("target"))
        safety.check_params(plan.get("action"), plan.get("params") or {})
    except (GateRefusal, PlanError, InvalidInput) as exc:
        return refuse(str(exc))
    what = describe_target(plan["target"])
    path = target_path(plan["target"])
    try:
        current = cluster.get(path)
    except AiopsError as exc:
        return False, finish("failed", "Cannot read %s: %s" % (what, exc)), None
    tier, reasons, sla = live_tier(plan, current, policy)
    operation["risk_tier"], operation["tier_reason"] = tier, "; ".join(reasons)
    awx_verified = False
    if isinstance(approval, dict) and approval.get("mode") == "awx" and options.get("awx_verifier"):
        # Who approved and when come from the controller's approval node, never from the launch's extra vars.
        try:
            who, when = options["awx_verifier"](approval, plan["plan_id"])
        except GateRefusal as exc:
            return refuse(str(exc), sla)
        approval = dict(approval, approver=who, decided_at=when or approval.get("decided_at"))
        operation["approval"] = approval
        awx_verified = True
    try:
        approved = check_approval(plan, approval, now, tier, sla, policy.get("limits"),
                                  policy.get("justification_pattern"))
        mode = "trivial" if tier == "trivial" and not (approval or {}).get("decision") else \
            (approval.get("mode") or "pre_approved")
        approver = authenticate(approval if mode != "trivial" else {"mode": "trivial"}, tier, options,
                                plan["plan_id"], awx_verified)
    except GateRefusal as exc:
        return refuse(str(exc), sla)
    _gate_record(operation, plan, approval, "not_required" if mode == "trivial" else "approved",
                 "trivial tier: %s" % "; ".join(reasons) if mode == "trivial" else None, approver, mode, sla, now)
    operation["plan_id"] = approved["plan_id"]
    if current is None and approved["action"] == "delete_pod":
        operation["drift"] = {"checked": True, "drifted": False, "reason": "already gone"}
        operation["validation"] = {"passed": True, "checks": ["%s is already gone" % what], "window_seconds": 0}
        return False, finish("validated"), None
    reason = drift_reason(approved, current)
    operation["drift"] = {"checked": True, "drifted": bool(reason), "reason": reason}
    if reason:
        return False, finish("refused", reason), None
    try:
        change = build_change(approved, current, cluster, now, tier)
    except (ActionError, InvalidInput) as exc:
        return False, finish("failed", str(exc)), None
    operation["summary"] = change["summary"]
    before = comparable(current)
    if change["noop"]:
        operation["diff"] = {"before": before, "after": before}
        operation["validation"] = {"passed": True, "checks": ["%s is already in the desired state" % what],
                                   "window_seconds": 0}
        return False, finish("validated"), None

    record = {"operation_id": operation["operation_id"], "plan": approved, "approval": approval,
              "pre_state": current, "pre_state_digest": opstore.digest(current), "operation": operation}
    baseline = {}
    if not options.get("check_mode"):
        try:
            baseline = baseline_restarts(cluster, approved)
        except AiopsError:  # a missing baseline only makes the restart check stricter (all restarts count)
            baseline = {}
        record["baseline_restarts"] = baseline
        try:
            operation["pre_state_ref"] = opstore.save(store, record, options.get("key"))
        except opstore.OpStoreError as exc:
            return False, finish("failed", "%s: nothing changed" % exc), None
        operation["pre_state_digest"] = record["pre_state_digest"]

    try:
        response = cluster.write(change, dry_run=True)
    except AiopsError as exc:
        operation["dry_run"] = {"accepted": False, "message": str(exc)}
        return False, finish("conflict" if is_conflict(exc) else "failed",
                             "Server-side dry run of %s refused: %s; nothing changed" % (change["summary"], exc)), None
    operation["dry_run"] = {"accepted": True, "method": change["method"], "path": change["path"],
                            "kind": (response or {}).get("kind")}
    if change["method"] == "DELETE":
        after = None
    elif isinstance(response, dict) and "spec" in response and response.get("kind") == current.get("kind"):
        after = comparable(response)
    else:
        after = comparable(change["desired"])
    operation["diff"] = {"before": before, "after": after}
    diff = {"before": before, "after": after, "before_header": what, "after_header": what}
    if options.get("check_mode"):  # changed = "would change", as --check --diff expects
        return True, finish("dry_run"), diff

    if mode != "trivial":
        try:
            opstore.consume_approval(store, approval, approved["plan_id"], operation["operation_id"], _iso(clock()))
        except opstore.OpStoreError as exc:
            operation["gate"].update(verdict="refused", reason=str(exc))
            opstore.save_operation(store, record, finish("refused", str(exc)), options.get("key"))
            return False, operation, diff
    # Write-ahead: the store says "applying" (applied_at = when sent) before the request leaves; a kill
    # from here on leaves an operation that validate_remediation and rollback can still act on.
    operation.update(status="applying", applied_at=_iso(clock()))
    try:
        opstore.save_operation(store, record, operation, options.get("key"), strict=True)
    except opstore.OpStoreError as exc:
        return False, finish("failed", "%s: nothing changed" % exc), diff
    try:
        return _apply_and_validate(cluster, change, approved, current, record, operation, baseline, options,
                                   clock, sleep, finish, what, path, diff)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): keep the last status, say the run was cut short
        operation["error"] = "run interrupted during %s" % operation["status"]
        opstore.save_operation(store, record, operation, options.get("key"))
        raise


def _apply_and_validate(cluster, change, approved, current, record, operation, baseline, options, clock, sleep, finish, what,
                        path, diff):
    store = options.get("state_dir")
    try:
        applied = cluster.write(change)
    except AiopsError as exc:
        error = "Applying %s failed: %s" % (change["summary"], exc)
        operation["applied_at"] = None
        if is_conflict(exc) or getattr(exc, "status", None) == 422:
            finish("conflict", error + "; the object changed since it was read: nothing was changed")
            opstore.save_operation(store, record, operation, options.get("key"))
            return False, operation, diff
        operation["rollback"] = _rollback_after_error(cluster, current, change, approved, error, clock, path)
        finish("rolled_back" if operation["rollback"]["succeeded"] else "rollback_failed", error)
        opstore.save_operation(store, record, operation, options.get("key"))
        return bool(operation["rollback"].get("changed")), operation, diff
    operation["applied_at"] = _iso(clock())
    operation["status"] = "applied"
    applied_state = applied if isinstance(applied, dict) and applied.get("kind") == current.get("kind") else None
    record["applied_state"] = applied_state
    opstore.save_operation(store, record, operation, options.get("key"))   # "applied" while the validation window runs

    applied_at = clock()
    operation["validation"] = validate_window(cluster, approved, baseline, applied_at,
                                              options.get("validation_window", 60),
                                              options.get("poll_interval", 2), clock, sleep)
    checks = "; ".join(operation["validation"]["checks"])
    if operation["validation"]["passed"]:
        finish("validated")
    elif not options.get("rollback_on_failure", True):
        finish("failed", "Validation of %s failed: %s" % (what, checks))
    elif approved["action"] == "delete_pod" and is_controller_owned(current):
        operation["rollback"] = dict(_empty_rollback(),
                                     reason="the deleted pod belongs to a controller, which replaces it; nothing to restore")
        finish("failed", "Validation of %s failed: %s" % (what, checks))
    else:
        operation["rollback"] = guarded_rollback(cluster, current, applied_state, approved["action"],
                                                 "validation failed: %s" % checks, clock, path)
        outcome = operation["rollback"]
        if outcome.get("conflict"):
            finish("conflict", "Validation of %s failed, and %s; not rolled back" % (what, outcome["detail"]))
        elif outcome["succeeded"]:
            finish("rolled_back", "Validation of %s failed; rolled back" % what)
        else:
            finish("rollback_failed", "Validation of %s failed; ROLLBACK FAILED: %s" % (what, outcome["detail"]))
    opstore.save_operation(store, record, operation, options.get("key"))
    return True, operation, diff


def restore(cluster, saved, action, applied=None, attempts=5):
    """Put the saved object back (PUT carrying the resourceVersion we judged); retried on 409.

    Returns (ok, detail, conflict). Each attempt first checks the object is unchanged since our apply:
    a change by someone else is never overwritten (conflict=True).
    """
    meta = saved.get("metadata") or {}
    kind = saved.get("kind")
    path = object_path(saved)
    last = ""
    for _attempt in range(attempts):
        current = cluster.get(path)
        if current is None:
            if kind == "Pod" and action == "delete_pod":
                body = comparable(saved)
                body.get("spec", {}).pop("nodeName", None)
                body["metadata"].pop("ownerReferences", None)
                cluster.request("POST", object_path(dict(saved, metadata={"namespace": meta.get("namespace")})),
                                body=body)
                return True, "re-created pod %s/%s from its saved manifest" % (meta.get("namespace"), meta.get("name")), \
                    False
            return False, "%s %s no longer exists: nothing to restore onto" % (kind, meta.get("name")), False
        if restored(saved, current, action):
            return True, "already equal to the saved object", False
        moved = changed_since(applied, current)
        if moved:
            return False, moved, True
        try:
            cluster.request("PUT", path, body=_restore_body(saved, current))
            return True, "restored the saved object", False
        except AiopsError as exc:  # retried only on conflict; anything else is reported
            last = str(exc)
            if not is_conflict(exc):
                return False, "restore failed: %s" % last, False
    return False, "restore still conflicting after %d attempts: %s" % (attempts, last), False


def _restore_body(saved, current):
    """The saved object as a PUT body carrying the live resourceVersion (so a concurrent change conflicts)."""
    body = copy.deepcopy(saved)
    body.pop("status", None)
    body["metadata"].pop("managedFields", None)
    body["metadata"]["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
    return body


def guarded_rollback(cluster, saved, applied, action, reason, clock, verify_path):
    """Restore and verify, only if the object is unchanged since our apply; returns the rollback dict."""
    result = {"attempted": True, "succeeded": False, "started_at": _iso(clock()), "finished_at": None,
              "reason": reason, "detail": None, "conflict": False}
    try:
        ok, detail, conflict = restore(cluster, saved, action, applied)
        if ok:
            ok = restored(saved, cluster.get(verify_path), action)
            detail += "; verified" if ok else "; verification failed: live spec differs from the saved one"
        result["conflict"] = conflict
    except AiopsError as exc:  # report, never raise: the caller must still record the operation
        ok, detail = False, "restore failed: %s" % exc
    result.update(succeeded=ok, detail=detail, finished_at=_iso(clock()))
    return result


def _rollback_after_error(cluster, saved, change, plan, error, clock, path):
    """After a failed write: restore only if our change (partly) landed; never overwrite someone else's."""
    try:
        live = cluster.get(path)
    except AiopsError as exc:
        stamp = _iso(clock())
        return {"attempted": True, "succeeded": False, "started_at": stamp, "finished_at": stamp,
                "reason": error, "detail": "cannot re-read the target: %s" % exc}
    if live is not None and restored(saved, live, plan["action"]) and \
            (live.get("metadata") or {}).get("uid") == (saved.get("metadata") or {}).get("uid"):
        stamp = _iso(clock())
        return {"attempted": True, "succeeded": True, "started_at": stamp, "finished_at": stamp, "reason": error,
                "detail": "re-read the target: it still has the saved spec, nothing to restore"}
    desired = change.get("desired")
    if live is not None and desired is not None and \
            canonical_json((desired or {}).get("spec")) != canonical_json(live.get("spec")):
        stamp = _iso(clock())
        return {"attempted": True, "succeeded": False, "started_at": stamp, "finished_at": stamp, "reason": error,
                "detail": "the target was changed by someone else meanwhile; not overwriting it: inspect it"}
    result = guarded_rollback(cluster, saved, None, plan["action"], error, clock, path)
    result["changed"] = True
    return result


def check_record(record):
    """Refuse an operation record whose pre-state is not the object its plan targeted."""
    plan = record.get("plan") or {}
    saved = record.get("pre_state") or {}
    target = plan.get("target") or {}
    meta = saved.get("metadata") or {}
    try:
        check_target(target, "Operation %s" % record.get("operation_id"))
    except PlanError as exc:
        raise ActionError(str(exc))
    if (saved.get("kind"), meta.get("name"), meta.get("namespace") or None) != \
            (target.get("kind"), target.get("name"), target.get("namespace") or None):
        raise ActionError("Operation record %s restores %s %s/%s but its plan targeted %s: refusing a record that "
                          "does not match its plan" % (record.get("operation_id"), saved.get("kind"),
                                                       meta.get("namespace"), meta.get("name"), describe_target(target)))
    if meta.get("uid") and plan.get("target_uid") and meta.get("uid") != plan.get("target_uid"):
        raise ActionError("Operation record %s holds another object than its plan (uid differs)" % record.get(
            "operation_id"))


def rollback_authority(record, approval, now, options):
    """Who may roll this operation back now; GateRefusal otherwise. A rollback is a change like any other.

    Without an approval, the original operation's approval stands for its own rollback within its SLA.
    After that an approval must name the operation id; it is authenticated like any other and used once.
    """
    op_id = record.get("operation_id")
    operation = record.get("operation") or {}
    gate = operation.get("gate") or {}
    tier = operation.get("risk_tier") if operation.get("risk_tier") in safety.RISK_TIERS else "critical"
    sla = safety.sla_seconds(tier, options.get("policy"))
    decided = parse_time(gate.get("decided_at"))
    if not approval:
        if gate.get("verdict") in ("approved", "not_required") and decided is not None and \
                seconds_between(decided, now) <= sla:
            return "standing approval of %s by %s (%s tier, within %d s)" % (op_id, gate.get("approver"), tier, sla)
        raise GateRefusal("Rolling back %s is a change: the approval of the original operation no longer covers it "
                          "(%s tier SLA %d s); pass an approval whose plan_id is %s" % (op_id, tier, sla, op_id))
    if approval.get("plan_id") != op_id or approval.get("decision") != "approve":
        raise GateRefusal("Approval for the rollback must approve plan_id %s" % op_id)
    for field in ("approver", "justification"):
        if not visible_text(approval.get(field)):
            raise GateRefusal("Approval for rollback of %s: %s is blank" % (op_id, field))
    when = parse_time(approval.get("decided_at"))
    if when is None or seconds_between(when, now) > sla or seconds_between(now, when) > 60:
        raise GateRefusal("Approval for rollback of %s is not within the %s tier SLA (%d s) of now" % (op_id, tier, sla))
    approver = authenticate(approval, tier, options, op_id)
    if not options.get("check_mode"):
        opstore.consume_approval(options["state_dir"], approval, "rollback:%s" % op_id, op_id, _iso(now))
    return "approved by %s" % approver


def rollback_operation(cluster, record, clock, check_mode=False):
    """Restore the pre-change object of a recorded operation. Returns (changed, rollback dict).

    Like the automatic rollback it never overwrites a later change: if the object changed after the recorded
    apply (another release, another operator), the result is a conflict. Check mode: a dry run and its diff.
    """
    check_record(record)
    saved = record["pre_state"]
    plan = record.get("plan") or {}
    action = plan.get("action")
    path, started, reason = object_path(saved), clock(), "rollback of %s requested" % record.get("operation_id")
    current = cluster.get(path)
    if current is not None and restored(saved, current, action):
        return False, {"attempted": True, "succeeded": True, "started_at": _iso(started),
                       "finished_at": _iso(clock()), "reason": reason,
                       "detail": "already equal to the saved object", "duration_seconds": 0.0}
    if action == "delete_pod" and current is None and is_controller_owned(saved):
        return False, {"attempted": False, "succeeded": False, "started_at": _iso(started),
                       "finished_at": _iso(clock()), "reason": reason,
                       "detail": "the deleted pod belonged to a controller, which replaces it; nothing to restore"}
    applied = record.get("applied_state") or _expected_after(record)
    moved = changed_since(applied, current) if current is not None and applied is not None else None
    if moved:
        return False, {"attempted": False, "succeeded": False, "conflict": True, "started_at": _iso(started),
                       "finished_at": _iso(clock()), "reason": reason, "detail": moved}
    if check_mode:
        if current is None:
            detail = "would re-create the object"
        else:
            cluster.request("PUT", path, query={"dryRun": "All"}, body=_restore_body(saved, current))
            detail = "dry run: the API accepted the restore"
        before = comparable(current) if current is not None else None
        return True, {"attempted": False, "succeeded": None, "started_at": _iso(started), "finished_at": _iso(clock()),
                      "reason": reason, "detail": detail, "diff": {"before": before, "after": comparable(saved)}}
    result = guarded_rollback(cluster, saved, applied, action, reason, clock, path)
    result["duration_seconds"] = round(seconds_between(started, parse_time(result["finished_at"])) or 0.0, 3)
    return True, result


def _expected_after(record):
    """The object as our change left it: the diff's 'after' with the saved identity (None if unknown)."""
    after = ((record.get("operation") or {}).get("diff") or {}).get("after")
    if not isinstance(after, dict):
        return None
    saved_meta = (record.get("pre_state") or {}).get("metadata") or {}
    result = copy.deepcopy(after)
    result.setdefault("metadata", {})["uid"] = saved_meta.get("uid")
    return result


def followup_validation(cluster, record, window, interval, clock, sleep=time.sleep):
    """Re-run the validation of a recorded operation now (the 5-minute and 1-hour checks)."""
    check_record(record)
    plan = record.get("plan") or {}
    operation = record.get("operation") or {}
    applied_at = parse_time(operation.get("applied_at"))   # of an "applying" operation: when the write was sent
    if operation.get("status") in ("rolled_back", "rollback_failed", "conflict"):
        # The change was undone (or is in doubt): judge the restored object, not the fix.
        return {"passed": False, "checks": ["operation %s was %s; nothing to validate"
                                            % (record.get("operation_id"), operation.get("status"))],
                "window_seconds": 0}
    return validate_window(cluster, plan, record.get("baseline_restarts") or {}, applied_at, window, interval,
                           clock, sleep)
