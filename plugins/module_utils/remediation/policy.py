# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one safety policy: tiers per action and situation, code floors, SLAs, and how policies merge.

Proposals, planning, the gate and the executor all call ``derive_tier``; nothing else decides a tier.
The floors below are code, not configuration: a policy file or extra vars can only raise a tier
(add rules, shorten SLAs), never lower one. The executor derives the tier again from the object it
reads live, so a tier written into a plan or a diagnosis is never taken at face value.
"""

from __future__ import absolute_import, division, print_function

import fnmatch
import json
import os
import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import SYSTEM_NAMESPACES
from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import parse_quantity
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import (
    RISK_TIERS, TIER_SLA_SECONDS, max_tier, tier_rank,
)

__metaclass__ = type

# The tier table, as data: (action, situation, tier); derive_tier implements exactly these rows.
TIER_TABLE = (
    ("any", "target in a system namespace (%s)" % ", ".join(SYSTEM_NAMESPACES), "critical"),
    ("any", "a Node, or remove_finalizers on anything", "critical"),
    ("any", "a change other than delete to a Pod itself (nothing rolls it out or back)", "critical"),
    ("delete_pod", "bare pod (nothing recreates it) that is still running or pending", "critical"),
    ("delete_pod", "grace-period override / force delete of a StatefulSet member", "critical"),
    ("delete_pod", "grace-period override / force delete of another controller's pod", "medium"),
    ("delete_pod", "StatefulSet member, static (mirror) pod", "medium"),
    ("delete_pod", "Failed/Succeeded/Evicted pod owned by a ReplicaSet or Job", "trivial"),
    ("delete_pod", "any other controller-owned pod, or a bare pod that already failed", "low"),
    ("rollout_restart", "Deployment or DaemonSet", "low"),
    ("rollout_restart", "StatefulSet", "medium"),
    ("other", "rollout_undo, set_memory_limit, set_resources, set_image, scale, manual", "medium"),
)
ACTION_FLOORS = {
    "delete_pod": "trivial", "rollout_restart": "low", "rollout_undo": "medium", "set_memory_limit": "medium",
    "set_resources": "medium", "set_image": "medium", "scale": "medium", "manual": "medium",
    "remove_finalizers": "critical", "cordon_node": "critical",
}
TRIVIAL_OWNERS = ("ReplicaSet", "Job")
FINISHED_PHASES = ("Failed", "Succeeded")
# params each action may carry; anything else in a plan is refused (it could change what runs).
ACTION_PARAMS = {
    "delete_pod": ("force", "grace_period_seconds"),
    "rollout_restart": (),
    "rollout_undo": ("from_revision", "to_revision"),
    "set_memory_limit": ("memory_limit", "previous_memory_limit"),
    "set_resources": ("limits", "requests", "previous_limits", "previous_requests"),
    "set_image": ("image", "previous_image"),
    "scale": ("replicas",),
    "remove_finalizers": ("finalizers",),
    "cordon_node": (),
}
# What an approver may change through params_override (never grace periods, finalizers or revisions).
OVERRIDABLE = ("memory_limit", "limits", "requests", "image", "replicas")
DEFAULT_LIMITS = {"max_memory": "16Gi", "max_replicas": 50}
ENV_POLICY_FILE = "AIOPS_K8S_POLICY_FILE"
# The highest tier an unsigned pre-approval may approve unless the trusted site policy says otherwise. An
# unsigned approver is a claim (whatever -e approver= says), so the code floor accepts it only where the
# change is one a controller undoes by itself (low: restart a Deployment, delete a pod its controller
# recreates); medium (spec changes that persist: memory, image, replicas) and critical need a signed, AWX or
# interactive approval. Only the site policy may raise it; extra vars may only lower it.
UNSIGNED_MAX_TIER = "low"
POLICY_KEYS = ("rules", "tier_sla_seconds", "limits", "unsigned_max_tier", "four_eyes_tiers", "approvers",
               "justification_pattern")


def sla_seconds(tier, policy=None):
    """Seconds an approval of ``tier`` stays valid (the policy's, never longer than the built-in one)."""
    slas = (policy or {}).get("tier_sla_seconds") or {}
    builtin = TIER_SLA_SECONDS.get(tier, TIER_SLA_SECONDS["critical"])
    value = slas.get(tier, builtin)
    return min(builtin, value) if isinstance(value, int) and value >= 0 else builtin


def _meta(obj):
    meta = (obj or {}).get("metadata")
    return meta if isinstance(meta, dict) else {}


def pod_facts_from_object(pod):
    """{phase, reason, owner_kind, static} of a raw Pod as read live."""
    meta = _meta(pod)
    refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
    controller = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    status = (pod or {}).get("status") or {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    return {"phase": status.get("phase"), "reason": status.get("reason"),
            "owner_kind": controller.get("kind") if controller else None,
            "static": "kubernetes.io/config.mirror" in annotations or bool(controller and controller.get("kind") == "Node")}


def _delete_tier(params, pod):
    owner = pod.get("owner_kind")
    finished = pod.get("phase") in FINISHED_PHASES or pod.get("reason") == "Evicted"
    override = bool(params.get("force")) or "grace_period_seconds" in params
    if override:
        if owner == "StatefulSet" or not owner:
            return "critical", "grace-period override on %s" % ("a StatefulSet member" if owner else "a bare pod")
        return "medium", "grace-period override (force delete)"
    if pod.get("static"):
        return "medium", "static (mirror) pod: the kubelet owns it"
    if not owner:
        return ("low", "bare pod that already %s" % (pod.get("reason") or pod.get("phase"))) if finished else \
            ("critical", "bare pod: nothing recreates it")
    if owner == "StatefulSet":
        return "medium", "StatefulSet member (stable identity)"
    if finished and owner in TRIVIAL_OWNERS:
        return "trivial", "%s pod owned by a %s" % (pod.get("reason") or pod.get("phase"), owner)
    return "low", "pod owned by a %s is recreated" % owner


def derive_tier(action, target, params=None, pod=None, policy=None):
    """(tier, reasons) of an action by TIER_TABLE, then raised by ``policy`` rules.

    target  {kind, namespace, name}; pod  facts about the target pod ({phase, reason, owner_kind,
    static}) for delete_pod, from the live object at execution or the diagnosis' subject when proposing.
    Unknown actions or missing facts give the strictest answer (critical / not trivial).
    """
    target = target or {}
    params = params or {}
    reasons = []
    tier = ACTION_FLOORS.get(action, "critical")
    if action == "delete_pod":
        tier, why = _delete_tier(params, pod or {})
        reasons.append(why)
    elif action == "rollout_restart" and target.get("kind") == "StatefulSet":
        tier = "medium"
        reasons.append("ordered restart of a StatefulSet")
    else:
        reasons.append("%s floor" % action)
    if target.get("kind") == "Node" or action in ("cordon_node", "remove_finalizers") or (
            target.get("kind") == "Pod" and action not in ("delete_pod", "manual")):
        tier = "critical"
    if (target.get("namespace") or "") in SYSTEM_NAMESPACES:
        tier = "critical"
        reasons.append("system namespace %s" % target.get("namespace"))
    for rule in (policy or {}).get("rules") or []:
        if _rule_matches(rule, action, target) and tier_rank(rule["min_tier"]) > tier_rank(tier):
            tier = rule["min_tier"]
            what = rule.get("reason") or ", ".join("%s %s" % (key, rule[key]) for key in (
                "namespace_glob", "action", "kind") if rule.get(key))
            reasons.append("raised to %s by policy (%s)" % (tier, what))
    return tier, reasons


def _rule_matches(rule, action, target):
    if rule.get("namespace_glob") is not None and not fnmatch.fnmatchcase(
            target.get("namespace") or "", rule["namespace_glob"]):
        return False
    if rule.get("action") and rule["action"] != action:
        return False
    if rule.get("kind") and rule["kind"] != target.get("kind"):
        return False
    return True


def normalise(policy, what="Policy"):
    """A checked policy {rules, tier_sla_seconds, limits}; InvalidInput naming the bad entry."""
    policy = policy or {}
    if not isinstance(policy, dict):
        raise InvalidInput("%s must be a mapping with a 'rules' list" % what)
    unknown = sorted(set(policy) - set(POLICY_KEYS))
    if unknown:
        raise InvalidInput("%s has unknown key(s) %s: use %s" % (what, ", ".join(unknown), ", ".join(POLICY_KEYS)))
    for key in ("unsigned_max_tier",):
        if policy.get(key) is not None and policy[key] not in RISK_TIERS:
            raise InvalidInput("%s %s must be one of %s" % (what, key, ", ".join(RISK_TIERS)))
    four_eyes = policy.get("four_eyes_tiers") or []
    if not isinstance(four_eyes, list) or any(t not in RISK_TIERS for t in four_eyes):
        raise InvalidInput("%s four_eyes_tiers must be a list of tiers (%s)" % (what, ", ".join(RISK_TIERS)))
    rules = []
    for number, rule in enumerate(policy.get("rules") or []):
        if not isinstance(rule, dict) or rule.get("min_tier") not in RISK_TIERS:
            raise InvalidInput("%s rule %d must be a mapping with min_tier (one of %s) and namespace_glob, action or "
                               "kind" % (what, number, ", ".join(RISK_TIERS)))
        rules.append(dict(rule))
    slas = {}
    for tier, seconds in (policy.get("tier_sla_seconds") or {}).items():
        if tier not in RISK_TIERS:
            raise InvalidInput("%s tier_sla_seconds has unknown risk tier %r" % (what, tier))
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise InvalidInput("%s tier_sla_seconds.%s must be a whole number of seconds >= 0" % (what, tier))
        slas[tier] = seconds
    limits = dict(policy.get("limits") or {})
    if set(limits) - set(DEFAULT_LIMITS):
        raise InvalidInput("%s limits accepts only %s" % (what, ", ".join(DEFAULT_LIMITS)))
    pattern = policy.get("justification_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError):
            raise InvalidInput("%s justification_pattern %r is not a regular expression" % (what, pattern))
    approvers = policy.get("approvers") or {}
    if not isinstance(approvers, dict) or any(t not in RISK_TIERS for t in approvers.values()):
        raise InvalidInput("%s approvers must map a principal to the highest tier it may approve" % what)
    return {"rules": rules, "tier_sla_seconds": slas, "limits": limits,
            "unsigned_max_tier": policy.get("unsigned_max_tier"), "four_eyes_tiers": list(four_eyes),
            "approvers": dict(approvers), "justification_pattern": pattern}


def merge(site=None, extra=None):
    """The effective policy: built-in floors + the trusted site policy + rules from extra vars.

    The extra policy can only ADD rules (they only raise) and only SHORTEN SLAs or tighten limits;
    anything that would lengthen an SLA or loosen a limit is ignored.
    """
    base = normalise(site, "Site policy")
    added = normalise(extra, "Policy")
    rules = base["rules"] + added["rules"]
    slas = dict(base["tier_sla_seconds"])
    for tier, seconds in added["tier_sla_seconds"].items():
        slas[tier] = min(seconds, slas.get(tier, TIER_SLA_SECONDS[tier]))
    limits = dict(DEFAULT_LIMITS)
    for source in (base["limits"], added["limits"]):
        for key, value in source.items():
            limits[key] = _tighter(key, limits[key], value)
    # The site sets the highest tier an unsigned approval may approve (code floor UNSIGNED_MAX_TIER when it
    # does not); extra vars may only lower it. Every tier that needs four eyes: the union.
    unsigned = base["unsigned_max_tier"] or UNSIGNED_MAX_TIER
    if added["unsigned_max_tier"] and tier_rank(added["unsigned_max_tier"]) < tier_rank(unsigned):
        unsigned = added["unsigned_max_tier"]
    # Who may sign comes from the site policy only; extra vars can lower a principal's tier, never add one.
    approvers = dict(base["approvers"])
    for principal, tier in added["approvers"].items():
        if principal in approvers and tier_rank(tier) < tier_rank(approvers[principal]):
            approvers[principal] = tier
    # The justification rule is the site's: extra vars cannot replace it.
    return {"rules": rules, "tier_sla_seconds": slas, "limits": limits, "approvers": approvers,
            "justification_pattern": base["justification_pattern"],
            "unsigned_max_tier": unsigned,
            "four_eyes_tiers": sorted(set(["critical"] + base["four_eyes_tiers"] + added["four_eyes_tiers"]),
                                      key=tier_rank)}


def _tighter(key, current, value):
    if key == "max_replicas":
        return min(current, value) if isinstance(value, int) and value >= 0 else current
    new, old = parse_quantity(value), parse_quantity(current)
    return value if new is not None and old is not None and new < old else current


def load_site_policy(environ=None):
    """The site policy from the file named by $AIOPS_K8S_POLICY_FILE (trusted configuration), else {}."""
    environ = os.environ if environ is None else environ
    path = environ.get(ENV_POLICY_FILE)
    if not path:
        return {}
    try:
        with open(os.path.expanduser(path)) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise InvalidInput("Cannot read the site policy %s (%s): fix %s" % (path, exc.strerror or exc, ENV_POLICY_FILE))
    try:
        data = json.loads(text)
    except ValueError:
        try:
            import yaml  # the controller's Python always has PyYAML (ansible-core needs it)
            data = yaml.safe_load(text)
        except Exception:  # pylint: disable=broad-except
            raise InvalidInput("Site policy %s is neither JSON nor YAML" % path)
    if isinstance(data, dict) and "aiops_remediation_policy" in data:
        data = data["aiops_remediation_policy"]
    return data or {}


def check_params(action, params, what="plan"):
    """Refuse params keys the action does not take (they could change what runs)."""
    if not isinstance(params, dict):
        raise InvalidInput("%s params must be a mapping" % what)
    allowed = ACTION_PARAMS.get(action)
    if allowed is None:
        raise InvalidInput("Action %r is not executable" % (action,))
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InvalidInput("%s params has unknown key(s) %s for %s: allowed are %s" % (
            what, ", ".join(unknown), action, ", ".join(allowed) or "none"))
    return params


def check_override(action, params, override, limits=None):
    """Refuse a params_override beyond what an approver may change (see OVERRIDABLE and the limits)."""
    if not override:
        return
    if not isinstance(override, dict):
        raise InvalidInput("params_override must be a mapping of plan params")
    limits = dict(DEFAULT_LIMITS, **(limits or {}))
    bad = sorted(set(override) - set(OVERRIDABLE) - set())
    bad += sorted(k for k in override if k in OVERRIDABLE and k not in ACTION_PARAMS.get(action, ()))
    if bad:
        raise InvalidInput("params_override may not set %s for %s: an approver may only change %s" % (
            ", ".join(sorted(set(bad))), action,
            ", ".join(k for k in OVERRIDABLE if k in ACTION_PARAMS.get(action, ())) or "nothing"))
    maximum = parse_quantity(limits["max_memory"])
    memories = [("memory_limit", override.get("memory_limit"))]
    for section in ("limits", "requests"):
        if isinstance(override.get(section), dict):
            memories.append(("%s.memory" % section, override[section].get("memory")))
    for key, value in memories:
        if value is None:
            continue
        amount = parse_quantity(value)
        if amount is None or amount > maximum:
            raise InvalidInput("params_override %s %r is above the policy maximum %s" % (key, value, limits["max_memory"]))
    if "replicas" in override:
        replicas = override["replicas"]
        if not isinstance(replicas, int) or isinstance(replicas, bool) or not 0 <= replicas <= limits["max_replicas"]:
            raise InvalidInput("params_override replicas %r must be 0..%d" % (replicas, limits["max_replicas"]))
    if "image" in override and not _same_repository(params.get("image"), params.get("previous_image"),
                                                    override["image"]):
        raise InvalidInput("params_override image %r names a repository the plan did not: only a tag of %s" % (
            override["image"], _repository(params.get("image")) or "the planned image"))


def _repository(image):
    if not isinstance(image, str):
        return None
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _same_repository(planned, previous, wanted):
    repo = _repository(wanted)
    return repo is not None and repo in (_repository(planned), _repository(previous))


def strictest(*tiers):
    valid = [t for t in tiers if t in RISK_TIERS]
    return max_tier(*valid) if valid else "critical"
