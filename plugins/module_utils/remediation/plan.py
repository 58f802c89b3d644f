# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remediation plans: one proposal bound to the target's state at planning time.

Pure: no I/O, no clock (callers pass ``now``), no client. A plan's id is derived from what would be
changed (diagnosis, action, target, params, tier and the target's identity/generation/spec digest), not
from the time, so planning twice against an unchanged target gives the same id and a pre-approval made
from the first plan still matches; any change to the target or to the params gives a new id.
"""

from __future__ import absolute_import, division, print_function

import copy
import datetime
import fnmatch
import hashlib
import json

from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import (
    ACTIONS,
    RISK_TIERS,
    TIER_SLA_SECONDS,
    max_tier,
    tier_rank,
)
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError

__metaclass__ = type

UTC = datetime.timezone.utc

# 31 symbols: digits and capitals without 0/O, 1/I/L, so an id read aloud or off a screen is typed right.
PLAN_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PLAN_ID_LENGTH = 8

# Floors that hold whatever a proposal says: the documented tier of each action (docs/remediation.md).
ACTION_MIN_TIER = {
    "delete_pod": "trivial",
    "rollout_restart": "low",
    "rollout_undo": "medium",
    "set_memory_limit": "medium",
    "set_resources": "medium",
    "set_image": "medium",
    "scale": "medium",
    "remove_finalizers": "critical",
    "cordon_node": "critical",
}

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")


class PlanError(AiopsError, ValueError):
    """The diagnosis, the chosen remediation or the policy cannot make a plan (one-line message)."""


def canonical_json(value):
    """Stable JSON text used for hashing (sorted keys, no whitespace)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def spec_digest(obj):
    """sha256 of an object's spec (Nodes/Pods have no useful generation; their spec is what we bind)."""
    spec = (obj or {}).get("spec")
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


def short_id(text):
    """8 symbols of PLAN_ID_ALPHABET taken from the sha256 of ``text`` (about 40 bits)."""
    number = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)
    chars = []
    base = len(PLAN_ID_ALPHABET)
    for _position in range(PLAN_ID_LENGTH):
        number, index = divmod(number, base)
        chars.append(PLAN_ID_ALPHABET[index])
    return "".join(chars)


def normalise_plan_id(text):
    """How a typed plan id is compared: surrounding blanks ignored, case-insensitive."""
    if not isinstance(text, str):
        return ""
    return text.strip().upper()


def _iso(when):
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


def _valid_tier(tier, what):
    if tier not in RISK_TIERS:
        raise PlanError("%s has unknown risk tier %r: use one of %s" % (what, tier, ", ".join(RISK_TIERS)))
    return tier


def select_remediation(diagnosis, remediation=None, action=None):
    """The proposal chosen by index (``remediation``) or by action name (the first one with it)."""
    where = "%s %s/%s" % (diagnosis.get("kind") or "Pod", diagnosis.get("namespace") or "",
                          diagnosis.get("name") or "")
    proposals = diagnosis.get("remediations") or []
    if not proposals:
        raise PlanError("Diagnosis of %s (%s) proposes no remediation: nothing to plan"
                        % (where, diagnosis.get("category") or "unknown"))
    if action:
        for proposal in proposals:
            if proposal.get("action") == action:
                return proposal
        raise PlanError("Diagnosis of %s proposes no %s remediation: choose one of %s"
                        % (where, action, ", ".join(p.get("action") or "?" for p in proposals)))
    index = 0 if remediation is None else remediation
    if not isinstance(index, int) or index < 0 or index >= len(proposals):
        raise PlanError("Diagnosis of %s has %d remediation(s): remediation index %r is out of range"
                        % (where, len(proposals), remediation))
    return proposals[index]


def validate_policy(policy):
    """Return a normalised policy or raise PlanError naming the bad rule.

    Policy: {rules: [{namespace_glob, min_tier, action (optional), kind (optional), reason (optional)}],
    tier_sla_seconds: {tier: seconds} (optional overrides of the default SLAs)}.
    """
    policy = policy or {}
    if not isinstance(policy, dict):
        raise PlanError("Policy must be a mapping with a 'rules' list")
    rules = []
    for number, rule in enumerate(policy.get("rules") or []):
        if not isinstance(rule, dict) or not rule.get("min_tier"):
            raise PlanError("Policy rule %d must be a mapping with min_tier (and namespace_glob, action or kind)"
                            % number)
        _valid_tier(rule.get("min_tier"), "Policy rule %d" % number)
        rules.append(dict(rule))
    slas = dict(TIER_SLA_SECONDS)
    for tier, seconds in (policy.get("tier_sla_seconds") or {}).items():
        _valid_tier(tier, "Policy tier_sla_seconds")
        if not isinstance(seconds, int) or seconds < 0:
            raise PlanError("Policy tier_sla_seconds.%s must be a whole number of seconds >= 0" % tier)
        slas[tier] = seconds
    return {"rules": rules, "tier_sla_seconds": slas}


def _rule_matches(rule, action, target):
    if rule.get("namespace_glob") is not None and not fnmatch.fnmatchcase(
            target.get("namespace") or "", rule["namespace_glob"]):
        return False
    if rule.get("action") and rule["action"] != action:
        return False
    if rule.get("kind") and rule["kind"] != target.get("kind"):
        return False
    return True


def effective_tier(proposal_tier, action, target, owner, policy):
    """(tier, reason): the proposal's tier raised -- never lowered -- by action floors and policy rules."""
    tier = _valid_tier(proposal_tier or "critical", "Remediation %s" % action)
    reasons = ["proposal tier %s" % tier]
    floor = ACTION_MIN_TIER.get(action, "critical")
    if action == "delete_pod" and not owner:
        floor = "critical"   # a bare pod is gone for good once deleted
    if action == "rollout_restart" and target.get("kind") == "StatefulSet":
        floor = "medium"     # ordered restarts of stateful replicas
    if tier_rank(floor) > tier_rank(tier):
        tier = floor
        reasons.append("raised to %s: %s%s" % (floor, action, " of a bare pod" if (
            action == "delete_pod" and not owner) else ""))
    for rule in policy["rules"]:
        if _rule_matches(rule, action, target) and tier_rank(rule["min_tier"]) > tier_rank(tier):
            tier = max_tier(tier, rule["min_tier"])
            what = rule.get("reason") or ", ".join("%s %s" % (key, rule[key]) for key in (
                "namespace_glob", "action", "kind") if rule.get(key))
            reasons.append("raised to %s by policy (%s)" % (tier, what))
    return tier, "; ".join(reasons)


def plan_content(plan):
    """The fields the plan id is derived from (and an approval is therefore bound to)."""
    return {
        "diagnosis_id": plan.get("diagnosis_id"),
        "action": plan.get("action"),
        "target": plan.get("target"),
        "params": plan.get("params"),
        "risk_tier": plan.get("risk_tier"),
        "target_uid": plan.get("target_uid"),
        "target_generation": plan.get("target_generation"),
        "target_spec_digest": plan.get("target_spec_digest"),
    }


def compute_plan_id(plan):
    return short_id(canonical_json(plan_content(plan)))


def build_plan(diagnosis, target_object, now, remediation=None, action=None, policy=None):
    """Bind a chosen remediation to the target as read now.

    diagnosis      a diagnosis dict (docs/design/contracts.md)
    target_object  the target as the API returned it at planning time (raw JSON); None if it is gone
    now            aware datetime; created_at, and expires_at = now + SLA of the tier
    """
    if not isinstance(diagnosis, dict) or not diagnosis:
        raise PlanError("diagnosis must be one diagnosis returned by aiops.k8s.pod_diagnose")
    proposal = select_remediation(diagnosis, remediation, action)
    chosen = proposal.get("action")
    if chosen not in ACTIONS:
        raise PlanError("Remediation action %r is unknown: use one of %s" % (chosen, ", ".join(ACTIONS)))
    if chosen == "manual":
        raise PlanError("Remediation of %s/%s is manual, not executable: %s" % (
            diagnosis.get("namespace"), diagnosis.get("name"),
            "; ".join(proposal.get("manual_steps") or []) or proposal.get("description") or "see the runbook"))
    target = dict(proposal.get("target") or {})
    if not target.get("kind") or not target.get("name"):
        raise PlanError("Remediation %s has no target kind/name" % chosen)
    if target_object is None:
        raise PlanError("%s %s not found: diagnose again" % (target.get("kind"), _ref(target)))
    normalised = validate_policy(policy)
    owner = diagnosis.get("owner")
    tier, reason = effective_tier(proposal.get("risk_tier"), chosen, target, owner, normalised)
    meta = target_object.get("metadata") or {}
    generation = meta.get("generation")
    plan = {
        "plan_id": "",
        "diagnosis_id": diagnosis.get("diagnosis_id") or "",
        "action": chosen,
        "target": target,
        "params": copy.deepcopy(proposal.get("params") or {}),
        "risk_tier": tier,
        "tier_reason": reason,
        "target_resource_version": meta.get("resourceVersion") or "",
        "target_generation": generation if isinstance(generation, int) else None,
        "target_uid": meta.get("uid") or "",
        "target_spec_digest": spec_digest(target_object),
        "created_at": _iso(now),
        "expires_at": _iso(now + datetime.timedelta(seconds=normalised["tier_sla_seconds"][tier])),
        "sla_seconds": normalised["tier_sla_seconds"][tier],
        "namespace": diagnosis.get("namespace") or target.get("namespace") or "",
        "pod": diagnosis.get("name") if (diagnosis.get("kind") or "Pod") == "Pod" else None,
        "owner": owner,
        "description": proposal.get("description") or "",
        "rollback": proposal.get("rollback") or "",
        "reversible": bool(proposal.get("reversible", True)),
    }
    plan["plan_id"] = compute_plan_id(plan)
    return plan


def rebind(plan, params_override):
    """The plan a conditional approval really approves: same plan, params overridden, new id.

    Only params can be overridden; the action, target and bound state stay, so an approval can never
    widen what a plan touches.
    """
    if not params_override:
        return plan
    if not isinstance(params_override, dict):
        raise PlanError("params_override must be a mapping of plan params")
    changed = copy.deepcopy(plan)
    params = dict(changed.get("params") or {})
    params.update(params_override)
    changed["params"] = params
    changed["plan_id"] = compute_plan_id(changed)
    changed["conditional_of"] = plan.get("plan_id")
    return changed


def _ref(target):
    if target.get("namespace"):
        return "%s/%s" % (target.get("namespace"), target.get("name"))
    return target.get("name") or ""


def describe_target(target):
    """'Deployment shop/web' -- how messages name a target."""
    return "%s %s" % (target.get("kind") or "object", _ref(target))
