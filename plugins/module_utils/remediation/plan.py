# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remediation plans: one proposal bound to the target's state at planning time.

Pure: no I/O, no clock (callers pass ``now``), no client. A plan's id is derived from everything that
changes what runs (diagnosis, action, target, params, tier, owner and the target's identity, generation
and spec digest), not from the time, so planning twice against an unchanged target gives the same id
and a pre-approval made from the first plan still matches; any change gives a new id. The id is 26
symbols (about 128 bits): finding a second plan with the same id is not feasible. The tier and SLA come
from remediation/policy.py; the executor derives them again and never trusts the plan's copy.
"""

from __future__ import absolute_import, division, print_function

import copy
import datetime
import hashlib

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import canonical_json, sha256_hex
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError, InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import KINDS, check_container_name, check_name
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import ACTIONS, RISK_TIERS
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import policy as safety

__metaclass__ = type

# 31 symbols: digits and capitals without 0/O, 1/I/L, so an id read aloud or off a screen is typed right.
PLAN_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PLAN_ID_LENGTH = 26
# The first symbols are what people say and type at a prompt; the executor still binds the full id.
PLAN_ID_PREFIX = 8
# What a plan keeps of its diagnosis (records read MTTD and the category from it; no evidence text).
DIAGNOSIS_FIELDS = ("kind", "namespace", "name", "uid", "owner", "node", "category", "severity", "summary",
                    "root_cause", "diagnosis_id", "observed_at", "failure_started_at", "container", "runbook")


class PlanError(AiopsError, ValueError):
    """The diagnosis, the chosen remediation or the policy cannot make a plan (one-line message)."""


def spec_digest(obj):
    """sha256 of an object's spec (Nodes/Pods have no useful generation; their spec is what we bind)."""
    return sha256_hex((obj or {}).get("spec"))


def short_id(text):
    """PLAN_ID_LENGTH symbols of PLAN_ID_ALPHABET taken from the sha256 of ``text`` (about 128 bits)."""
    number = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)
    chars = []
    base = len(PLAN_ID_ALPHABET)
    for _position in range(PLAN_ID_LENGTH):
        number, index = divmod(number, base)
        chars.append(PLAN_ID_ALPHABET[index])
    return "".join(chars)


def normalise_plan_id(text):
    """How a typed plan id is compared: blanks and dashes ignored (ids may be read in groups), any case."""
    if not isinstance(text, str):
        return ""
    return "".join(text.split()).replace("-", "").upper()


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


def check_target(target, what="Plan"):
    """A target whose kind is known and whose names are valid (the ``../../kube-system/...`` attack)."""
    if not isinstance(target, dict) or target.get("kind") not in KINDS:
        raise PlanError("%s target kind %r is not supported" % (what, (target or {}).get("kind")))
    try:
        check_name("%s target name" % what, target.get("name"), target["kind"])
        if KINDS[target["kind"]][2]:
            check_name("%s target namespace" % what, target.get("namespace"), "Namespace")
        elif target.get("namespace"):
            raise InvalidInput("%s target %s %s is cluster-scoped: it has no namespace" % (
                what, target["kind"], target.get("name")))
        if target.get("container") is not None:
            check_container_name("%s target container" % what, target["container"])
    except InvalidInput as exc:
        raise PlanError(str(exc))
    return target


def compact_diagnosis(diagnosis):
    return {key: copy.deepcopy(diagnosis.get(key)) for key in DIAGNOSIS_FIELDS if key in diagnosis}


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
        "namespace": plan.get("namespace"),
        "owner": plan.get("owner"),
        "pod": plan.get("pod"),
        "reversible": plan.get("reversible"),
    }


def compute_plan_id(plan):
    return short_id(canonical_json(plan_content(plan)))


def build_plan(diagnosis, target_object, now, remediation=None, action=None, policy=None, site_policy=None):
    """Bind a chosen remediation to the target as read now.

    diagnosis      a diagnosis dict (docs/design/contracts.md)
    target_object  the target as the API returned it at planning time (raw JSON); None if it is gone
    now            aware datetime; created_at, and expires_at = now + SLA of the tier
    policy         extra rules (they can only raise); site_policy the trusted site policy
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
    check_target(target)
    params = copy.deepcopy(proposal.get("params") or {})
    try:
        safety.check_params(chosen, params, "Remediation %s" % chosen)
        effective = safety.merge(site_policy, policy)
    except InvalidInput as exc:
        raise PlanError(str(exc))
    if target_object is None:
        raise PlanError("%s %s not found: diagnose again" % (target.get("kind"), _ref(target)))
    owner = diagnosis.get("owner")
    proposed = _valid_tier(proposal.get("risk_tier") or "critical", "Remediation %s" % chosen)
    pod = safety.pod_facts_from_object(target_object) if target.get("kind") == "Pod" else None
    derived, reasons = safety.derive_tier(chosen, target, params, pod, effective)
    tier = safety.strictest(proposed, derived)
    reason = "; ".join(["proposal tier %s" % proposed] + reasons)
    sla = safety.sla_seconds(tier, effective)
    meta = target_object.get("metadata") or {}
    generation = meta.get("generation")
    plan = {
        "plan_id": "",
        "diagnosis_id": diagnosis.get("diagnosis_id") or "",
        "action": chosen,
        "target": target,
        "params": params,
        "risk_tier": tier,
        "tier_reason": reason,
        "target_resource_version": meta.get("resourceVersion") or "",
        "target_generation": generation if isinstance(generation, int) else None,
        "target_uid": meta.get("uid") or "",
        "target_spec_digest": spec_digest(target_object),
        "created_at": isoformat(now),
        "expires_at": isoformat(now + datetime.timedelta(seconds=sla)),
        "sla_seconds": sla,
        "namespace": diagnosis.get("namespace") or target.get("namespace") or "",
        "pod": diagnosis.get("name") if (diagnosis.get("kind") or "Pod") == "Pod" else None,
        "owner": owner,
        "description": proposal.get("description") or "",
        "rollback": proposal.get("rollback") or "",
        "reversible": bool(proposal.get("reversible", True)),
        "diagnosis": compact_diagnosis(diagnosis),
    }
    plan["plan_id"] = compute_plan_id(plan)
    return plan


def rebind(plan, params_override, limits=None):
    """The plan a conditional approval really approves: same plan, params overridden, new id.

    Only the params an approver may change (policy.OVERRIDABLE, within the policy limits) can be
    overridden; the action, target and bound state stay, so an approval can never widen what a plan touches.
    """
    if not params_override:
        return plan
    try:
        safety.check_override(plan.get("action"), plan.get("params") or {}, params_override, limits)
    except InvalidInput as exc:
        raise PlanError(str(exc))
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
