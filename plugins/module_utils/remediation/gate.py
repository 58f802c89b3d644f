# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The approval gate: is this decision a valid approval of exactly this plan, now?

Pure (callers pass ``now``, the tier and SLA the executor derived, and the target as read). Fails
closed: anything not positively an approval of this plan's id by a named person with a reason, inside
the window of the tier's SLA, is a refusal with a one-line reason that says what to do. The plan's own
``risk_tier``, ``expires_at`` and ``sla_seconds`` are never trusted: the caller passes what the policy
says, and without it the strictest reading is used.
"""

from __future__ import absolute_import, division, print_function

import datetime
import re
import unicodedata

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, parse_time
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import policy as safety
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import (
    PlanError,
    compute_plan_id,
    describe_target,
    normalise_plan_id,
    rebind,
    spec_digest,
)
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError

__metaclass__ = type

DECISIONS = ("approve", "reject", "conditional")
MODES = ("interactive", "pre_approved", "signed", "awx", "trivial")
# Clock skew tolerated between the approver's machine and this one.
CLOCK_SKEW_SECONDS = 60


class GateRefusal(AiopsError):
    """The plan may not be executed; str() is the one-line reason."""


def visible_text(value):
    """``value`` without whitespace, control and format characters (zero-width spaces, bidi marks...)."""
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if not ch.isspace() and unicodedata.category(ch)[0] not in ("C", "Z"))


def _blank(value):
    return not visible_text(value)


def require_text(value, field, plan_id, what):
    """The trimmed text of an approval field, or a refusal naming the field."""
    if _blank(value):
        raise GateRefusal("Approval for plan %s: %s is blank (empty, whitespace or invisible characters): %s"
                          % (plan_id, field, what))
    return value.strip()


def trusted_terms(plan, tier=None, sla_seconds=None):
    """(tier, sla_seconds) the gate judges by: the caller's derivation, else the policy from the plan's action."""
    if tier is None:
        derived, _reasons = safety.derive_tier(plan.get("action"), plan.get("target") or {}, plan.get("params"))
        tier = safety.strictest(derived, plan.get("risk_tier"))
    if sla_seconds is None:
        sla_seconds = safety.sla_seconds(tier)
    return tier, sla_seconds


def check_plan_integrity(plan):
    """Refuse a plan whose id does not match its content (edited by hand, or corrupted in transit)."""
    if not isinstance(plan, dict) or not plan.get("plan_id"):
        raise GateRefusal("No plan given: run aiops.k8s.remediation_plan first")
    expected = compute_plan_id(plan)
    if plan.get("plan_id") != expected:
        raise GateRefusal("Plan %s does not match its content (expected id %s): it was edited; plan again"
                          % (plan.get("plan_id"), expected))


def check_approval(plan, approval, now, tier=None, sla_seconds=None, limits=None, justification_pattern=None):
    """Return the plan that is approved (the re-bound one for a conditional approval) or raise GateRefusal.

    ``tier``/``sla_seconds`` are what the executor derived from the live target and the trusted policy.
    trivial plans pass without an approval, but an explicit reject still stops them.
    """
    check_plan_integrity(plan)
    plan_id = plan["plan_id"]
    tier, sla_seconds = trusted_terms(plan, tier, sla_seconds)
    approval = approval or {}
    if not isinstance(approval, dict):
        raise GateRefusal("Approval for plan %s must be a mapping" % plan_id)
    decision = approval.get("decision")
    if tier == "trivial" and decision in (None, "", "approve"):
        return plan
    if not decision:
        raise GateRefusal("Plan %s (%s tier) needs an approval: run interactively and type the plan id, "
                          "or pass approval_plan_id, approval_decision, approver and justification"
                          % (plan_id, tier))
    if decision not in DECISIONS:
        raise GateRefusal("Approval decision %r for plan %s is not one of %s"
                          % (decision, plan_id, ", ".join(DECISIONS)))
    if decision == "reject":
        raise GateRefusal("Plan %s was rejected by %s: %s" % (
            plan_id, approval.get("approver") if not _blank(approval.get("approver")) else "an unnamed approver",
            approval.get("justification") if not _blank(approval.get("justification")) else "no reason given"))
    approver = require_text(approval.get("approver"), "approver", plan_id, "an approval needs a named person")
    justification = require_text(approval.get("justification"), "justification", plan_id,
                                 "say why the change is approved (e.g. the ticket)")
    if justification_pattern and not re.search(justification_pattern, justification):
        raise GateRefusal("Approval for plan %s: justification must match the site's pattern %s (e.g. a ticket "
                          "reference)" % (plan_id, justification_pattern))
    mode = approval.get("mode")
    if mode is not None and mode not in MODES:
        raise GateRefusal("Approval mode %r for plan %s is not one of %s" % (mode, plan_id, ", ".join(MODES)))

    approved = plan
    if decision == "conditional":
        override = approval.get("params_override") or {}
        if not override and not approval.get("window"):
            raise GateRefusal("Conditional approval of plan %s carries neither params_override nor window"
                              % plan_id)
        try:
            approved = rebind(plan, override, limits)
        except PlanError as exc:
            raise GateRefusal(str(exc))
    typed = normalise_plan_id(approval.get("plan_id"))
    if typed != approved["plan_id"]:
        if approved is not plan and typed == plan_id:
            raise GateRefusal("Conditional approval changes the params of plan %s, which makes plan %s: "
                              "approve plan %s" % (plan_id, approved["plan_id"], approved["plan_id"]))
        raise GateRefusal("Approval is for plan %s, not plan %s: an approval is bound to one exact plan; "
                          "review and approve plan %s" % (typed or "(none)", approved["plan_id"],
                                                          approved["plan_id"]))
    del approver
    check_expiry(plan, approval, now, tier, sla_seconds)
    check_window(approval, now, plan_id)
    return approved


def check_expiry(plan, approval, now, tier=None, sla_seconds=None):
    """Decided before the plan expired, and the plan has not expired yet (expiry = created_at + trusted SLA)."""
    plan_id = plan["plan_id"]
    tier, sla = trusted_terms(plan, tier, sla_seconds)
    created = parse_time(plan.get("created_at"))
    if created is None:
        raise GateRefusal("Plan %s has no valid created_at: plan again" % plan_id)
    expires = created + datetime.timedelta(seconds=sla)
    decided = parse_time(approval.get("decided_at"))
    if decided is None:
        raise GateRefusal("Approval for plan %s has no valid decided_at timestamp" % plan_id)
    if decided > now + datetime.timedelta(seconds=CLOCK_SKEW_SECONDS):
        raise GateRefusal("Approval for plan %s is dated in the future (%s)" % (plan_id, approval["decided_at"]))
    if decided > expires:
        raise GateRefusal("Approval for plan %s was given at %s, after the plan expired at %s: plan again"
                          % (plan_id, _short(decided), _short(expires)))
    if now > expires:
        raise GateRefusal("Plan %s expired at %s (%s tier SLA): diagnose and plan again"
                          % (plan_id, _short(expires), tier))
    if decided < now - datetime.timedelta(seconds=sla + CLOCK_SKEW_SECONDS):
        # An approval lives as long as its tier's SLA, even if the plan was re-made since.
        raise GateRefusal("Approval for plan %s given at %s is older than the %s tier SLA (%ds): approve again"
                          % (plan_id, _short(decided), tier, sla))


def check_window(approval, now, plan_id):
    """A conditional maintenance window {start, end}: execution only inside it."""
    window = approval.get("window")
    if not window:
        return
    if not isinstance(window, dict):
        raise GateRefusal("Approval window for plan %s must be a mapping with start and end" % plan_id)
    start = parse_time(window.get("start"))
    end = parse_time(window.get("end"))
    if start is None or end is None or end <= start:
        raise GateRefusal("Approval window for plan %s needs valid start and end timestamps" % plan_id)
    if now < start or now > end:
        raise GateRefusal("Plan %s is approved only between %s and %s; it is now %s"
                          % (plan_id, _short(start), _short(end), _short(now)))


def drift_reason(plan, current):
    """None when the target is still what the plan was made against, else the one-line refusal.

    Binds uid (recreated objects), generation (spec changes of workloads) and the spec digest (Pods and
    Nodes have no generation). resourceVersion alone is not compared: it moves on every status update.
    """
    what = describe_target(plan.get("target") or {})
    if current is None:
        return "%s no longer exists: diagnose again" % what
    meta = current.get("metadata") or {}
    if plan.get("target_uid") and meta.get("uid") and meta.get("uid") != plan["target_uid"]:
        return "%s was recreated since diagnosis (uid %s -> %s): diagnose again" % (
            what, plan["target_uid"], meta.get("uid"))
    old_gen = plan.get("target_generation")
    new_gen = meta.get("generation")
    if isinstance(old_gen, int) and isinstance(new_gen, int) and old_gen != new_gen:
        return "%s changed since diagnosis (generation %d -> %d): diagnose again" % (what, old_gen, new_gen)
    if plan.get("target_spec_digest") and spec_digest(current) != plan["target_spec_digest"]:
        return "%s changed since diagnosis (spec differs, resourceVersion %s -> %s): diagnose again" % (
            what, plan.get("target_resource_version") or "?", meta.get("resourceVersion") or "?")
    return None


def _short(when):
    return isoformat(when)
