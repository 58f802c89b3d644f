#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: remediation_plan
short_description: Turn one proposed remediation of a diagnosis into an approvable plan
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Takes one diagnosis returned by M(aiops.k8s.pod_diagnose), chooses one of its proposed remediations and binds
    it to the target's current state (uid, generation and a digest of its spec), read from the cluster now.
  - The risk tier comes from the one safety policy (the code floors on the target as read now, the site policy
    named by E(AIOPS_K8S_POLICY_FILE), then O(policy), which can only raise). The plan expires after the tier's SLA
    (trivial 0 s, low 5 min, medium 30 min, critical 120 min at most). M(aiops.k8s.remediate) derives both again.
  - The plan id is 26 characters (about 128 bits) derived from the plan's content, so it is the same when planning
    again against an unchanged target and different as soon as the target, the action or the params differ. An
    approval names this id, which binds it to exactly this change.
  - Read-only on the cluster. Never changes anything there (locally it makes the per-user plan key on first use and,
    with O(record_shown), records the plan as shown).
options:
  diagnosis:
    description:
      - One diagnosis (an element of RV(aiops.k8s.pod_diagnose#module:diagnoses)).
    type: dict
    required: true
  remediation:
    description:
      - Index of the remediation to plan in the diagnosis' C(remediations) list. Defaults to the first one.
      - Mutually exclusive with O(action).
    type: int
  action:
    description:
      - Plan the first remediation with this action instead of choosing by index.
    type: str
    choices: [delete_pod, rollout_restart, rollout_undo, set_memory_limit, set_resources, set_image, scale,
              remove_finalizers, cordon_node]
  policy:
    description:
      - Rules that raise the tier, and optional SLA overrides.
      - C(rules) is a list of mappings with C(min_tier) and any of C(namespace_glob), C(action), C(kind), C(reason);
        every matching rule raises the tier to at least C(min_tier).
      - C(tier_sla_seconds) maps a tier to the seconds an approver has before the plan expires.
    type: dict
    default: {}
  params_override:
    description:
      - Params a conditional approval would change (for example a different C(memory_limit)).
      - When set, RV(conditional_plan) is the re-bound plan with its own id, which the approver must name.
    type: dict
  record_shown:
    description:
      - Record the plan as shown to the approver in the operation store (C(shown-plans/<plan id>.json), MAC signed),
        as the plan stage of C(aiops.k8s.remediate_pod) does. A later run that plans again for a pre-approval of
        the same id measures approval latency and expiry from this first showing.
      - First writer wins while that showing is live; showing the same plan id again returns the plan with the first
        showing's C(created_at) and C(expires_at). An expired showing is replaced (a new showing starts a new clock).
      - The only local write besides the per-user plan key; nothing changes on the cluster.
    type: bool
    default: false
  state_dir:
    description:
      - The operation store for O(record_shown) (as for M(aiops.k8s.remediate)); default E(AIOPS_K8S_STATE_DIR),
        else C(~/.local/state/aiops-k8s/operations).
    type: path
extends_documentation_fragment:
  - aiops.k8s.k8s_auth
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: Read-only; check mode behaves the same.
  diff_mode:
    support: none
    description: Nothing changes.
requirements:
  - python >= 3.8
  - kubernetes >= 24.2.0
notes:
  - Tiers, policy and the approval modes are described in C(docs/remediation.md) of the collection.
seealso:
  - module: aiops.k8s.pod_diagnose
  - module: aiops.k8s.remediate
"""

EXAMPLES = r"""
- name: Plan the first proposed remediation of a diagnosis
  aiops.k8s.remediation_plan:
    diagnosis: "{{ diag.diagnoses[0] }}"
  register: planned

- name: Plan a memory raise, treating every prod-* namespace as at least medium risk
  aiops.k8s.remediation_plan:
    diagnosis: "{{ diag.diagnoses[0] }}"
    action: set_memory_limit
    policy:
      rules:
        - namespace_glob: "prod-*"
          min_tier: medium
          reason: production namespace
  register: planned

- name: Show the id the approver has to type
  ansible.builtin.debug:
    msg: "Plan {{ planned.plan.plan_id }} ({{ planned.plan.risk_tier }}) expires at {{ planned.plan.expires_at }}"
"""

RETURN = r"""
plan:
  description:
    - The plan. Pass it unchanged to M(aiops.k8s.remediate); editing it invalidates its id.
  returned: success
  type: dict
  contains:
    plan_id:
      description: 26-character id (about 128 bits) derived from the content (no 0, O, 1, I or L).
      type: str
      sample: K7QM4XTAR2PZ9WDHC6VN3EBJ5G
    diagnosis_id:
      description: Id of the diagnosis the plan comes from.
      type: str
    action:
      description: The action to execute.
      type: str
      sample: set_memory_limit
    target:
      description: The object to change (api_version, kind, namespace, name, container).
      type: dict
    params:
      description: Parameters of the action.
      type: dict
    risk_tier:
      description: Effective tier (trivial, low, medium, critical).
      type: str
    tier_reason:
      description: Why the tier is what it is.
      type: str
    target_resource_version:
      description: resourceVersion of the target when planned (informational).
      type: str
    target_generation:
      description: metadata.generation of the target when planned (null for kinds without one).
      type: int
    target_uid:
      description: uid of the target when planned.
      type: str
    target_spec_digest:
      description: sha256 of the target's spec when planned.
      type: str
    created_at:
      description: When the plan was made (UTC, ISO 8601); with O(record_shown), when this plan id was first shown.
      type: str
    expires_at:
      description: created_at plus the tier SLA; approvals after it are refused.
      type: str
    plan_shown_at:
      description: When this plan id was first shown (the stored showing kept by O(record_shown)); only present when
        an earlier showing was kept, and then equal to created_at.
      type: str
    sla_seconds:
      description: The SLA applied.
      type: int
    namespace:
      description: Namespace of the diagnosed object.
      type: str
    pod:
      description: Name of the diagnosed pod (null for a workload diagnosis).
      type: str
    owner:
      description: Top controller of the diagnosed pod.
      type: dict
    description:
      description: What the change does, in one line.
      type: str
    rollback:
      description: How the change is undone.
      type: str
    reversible:
      description: Whether the proposal considers the change reversible.
      type: bool
    diagnosis:
      description: The compact diagnosis the plan was made from (kind, namespace, name, category, root_cause,
        diagnosis_id, observed_at, failure_started_at, container, ...).
      type: dict
    pre_metrics:
      description:
        - The target's state when the plan was made, the baseline of the validation checkpoints; only when the
          diagnosis carries C(usage) (M(aiops.k8s.pod_diagnose) with C(metrics=true)).
        - C(at), C(pods), C(ready), C(restarts), C(memory) and C(cpu) (the culprit container's highest usage, for
          example V(126Mi of 128Mi (98%\))), C(node), C(source) (null when metrics-server did not answer),
          C(per_pod) and C(problems).
      returned: when the diagnosis carries usage
      type: dict
    mac:
      description:
        - HMAC-SHA256 of the plan under the plan key, always present; M(aiops.k8s.remediate) refuses a plan without a
          valid one.
        - The key is E(AIOPS_K8S_PLAN_KEY), else the file named by E(AIOPS_K8S_PLAN_KEY_FILE), else the per-user
          C($XDG_CONFIG_HOME/aiops-k8s/plan.key) (C(~/.config/aiops-k8s/plan.key)), made 0600 from random bytes on
          first use. Plan and execute jobs on different hosts or containers need a shared key.
      type: str
plan_shown:
  description:
    - With O(record_shown), the showing recorded in the operation store. C(recorded) is false when an earlier live
      showing of this plan id was kept, or when the store cannot be written (a warning; planning still succeeds and
      C(problems) says why); C(shown_at) is the first showing's time; C(path) the file; C(problems)
      notes about a stored showing that was ignored (unreadable, or no valid MAC).
  returned: when record_shown is true
  type: dict
  sample:
    recorded: true
    shown_at: "2026-12-02T19:54:46Z"
    path: /home/u/.local/state/aiops-k8s/operations/shown-plans/K7QM4XTAR2PZ9WDHC6VN3EBJ5G.json
    problems: []
conditional_plan:
  description: The plan with O(params_override) applied and its own id; only when O(params_override) is set.
  returned: when params_override is set
  type: dict
aiops:
  description: Marks the result for the PHR callback.
  returned: always
  type: dict
  sample: {kind: plan, version: 1}
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import auth_argument_spec
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import cluster_from_module, target_path
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore, shown
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import policy as safety
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.observe import snapshot
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import (
    PlanError, build_plan, check_target, rebind, select_remediation,
)

EXECUTABLE = ["delete_pod", "rollout_restart", "rollout_undo", "set_memory_limit", "set_resources", "set_image",
              "scale", "remove_finalizers", "cordon_node"]


def argument_spec():
    spec = auth_argument_spec(
        diagnosis=dict(type="dict", required=True),
        remediation=dict(type="int"),
        action=dict(type="str", choices=EXECUTABLE),
        policy=dict(type="dict", default={}),
        params_override=dict(type="dict"),
        record_shown=dict(type="bool", default=False),
        state_dir=dict(type="path"),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=[("remediation", "action")],
                           supports_check_mode=True)
    params = module.params
    marker = {"kind": "plan", "version": 1}
    try:
        proposal = select_remediation(params["diagnosis"], params["remediation"], params["action"])
        target = check_target(proposal.get("target") or {})
        site = safety.load_site_policy()
        cluster = cluster_from_module(module)
        current = cluster.get(target_path(target))
        now = utcnow()
        plan = build_plan(params["diagnosis"], current, now, remediation=params["remediation"],
                          action=params["action"], policy=params["policy"], site_policy=site)
        if params["diagnosis"].get("usage"):
            # Opted in at diagnosis (metrics=true): the baseline the validation checkpoints compare with.
            plan["pre_metrics"] = snapshot(cluster, plan, now)
        state_dir = opstore.state_dir(params["state_dir"]) if params["record_shown"] else None
        key = integrity.load_key(state_dir=state_dir)
        result = {"changed": False, "plan": integrity.sign(plan, key), "aiops": marker}
        if params["record_shown"]:
            try:
                first, recorded, problems = shown.record_shown(state_dir, result["plan"], key, now)
            except opstore.OpStoreError as exc:  # planning still stands; only the later latency becomes unknown
                first, recorded, problems = result["plan"], False, [str(exc)]
                module.warn("%s: a pre-approval that plans again will record the shown time as unknown" % exc)
            if first is not result["plan"]:  # shown before and still live: its shown time and expiry stand
                result["plan"] = shown.with_shown_time(result["plan"], first, key)
                plan = {k: v for k, v in result["plan"].items() if k != integrity.FIELD}
            result["plan_shown"] = {"recorded": recorded, "shown_at": first["created_at"], "problems": problems,
                                    "path": shown.shown_path(state_dir, plan["plan_id"])}
        if params["params_override"]:
            limits = safety.merge(site, params["policy"])["limits"]
            result["conditional_plan"] = integrity.sign(rebind(plan, params["params_override"], limits), key)
    except (PlanError, AiopsError) as exc:
        module.fail_json(msg=str(exc), changed=False, aiops=marker)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
