#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: remediate
short_description: Execute one approved remediation plan, validate it and roll it back automatically on failure
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Executes exactly one plan made by M(aiops.k8s.remediation_plan), and only when O(approval) is a valid approval
    of that plan's id by a named approver with a justification, given and used before the plan expires, once.
    Trivial-tier plans need no approval. Anything else is refused before any write reaches the cluster.
  - The plan must carry a valid MAC under the plan key (E(AIOPS_K8S_PLAN_KEY), the file named by
    E(AIOPS_K8S_PLAN_KEY_FILE), else the per-user C(~/.config/aiops-k8s/plan.key) made on first use); the
    operation record is saved with one too. Plan and execute jobs on different hosts or containers need a shared key.
  - The plan is untrusted input. The tier and SLA are derived again from the target as read live, the code floors
    and the site policy named by E(AIOPS_K8S_POLICY_FILE); the plan's risk_tier, expires_at and sla_seconds are
    ignored. Target names are validated; unknown params keys are refused.
  - "Order: verify the approval; read the target and refuse if it changed since planning (uid, generation or spec);
    save the full pre-change object in the operation store; server-side dry run; diff; (check mode stops here);
    apply; validate for O(validation_window) seconds (rollout complete or pod gone/replaced, and no new restarts or
    OOM kills); on failure restore the saved object and verify the restore."
  - "Actions: delete_pod (controller-owned pods only unless the plan is critical), rollout_restart, rollout_undo,
    set_memory_limit, set_resources, set_image, scale (through the scale subresource), remove_finalizers,
    cordon_node."
  - Writes are JSON merge patches carrying the resourceVersion that was drift-checked, so a concurrent change
    makes the API refuse the write instead of being overwritten.
  - Idempotent where the action allows (cordon twice, scale to the current size, set the current image).
options:
  plan:
    description:
      - The plan returned by M(aiops.k8s.remediation_plan), unchanged.
    type: dict
    required: true
  approval:
    description:
      - The approval decision, bound to the plan by its id.
      - "Keys: C(plan_id), C(decision) (approve, reject or conditional), C(approver), C(justification),
        C(decided_at) (ISO 8601), C(mode) (interactive, pre_approved, signed, awx, trivial), C(params_override) and
        C(window) (C(start), C(end)) for conditional approvals, C(awx_workflow_job_id), C(signature) (signed mode)."
      - "The mode must prove the approver: interactive records the OS account running the module; signed is verified
        with C(ssh-keygen -Y verify) against E(AIOPS_K8S_ALLOWED_SIGNERS); awx is read from the controller API
        (E(CONTROLLER_HOST), E(CONTROLLER_OAUTH_TOKEN), E(JOB_ID)). An approval is used once."
      - "An unsigned pre_approved approval proves nothing about who approved, so it is accepted only up to the low
        tier unless the site policy (E(AIOPS_K8S_POLICY_FILE)) sets C(unsigned_max_tier) higher; extra vars can
        only lower it. Medium and critical plans need a signed, awx or interactive approval."
      - A conditional approval with C(params_override) approves the re-bound plan, whose id it must name.
    type: dict
  state_dir:
    description:
      - Directory of the operation store where the pre-change object is saved (mode 0600).
      - Defaults to E(AIOPS_K8S_STATE_DIR), else C(~/.local/state/aiops-k8s/operations).
    type: path
  plan_shown:
    description:
      - Whether O(plan) is the plan the approver was shown (the plan-stage artifact, or planned in this run before an
        interactive approval); then approval latency and expiry count from its C(created_at).
      - V(false) when the plan was made again in this run for a pre-approval given on an earlier showing; latency and
        expiry then count from the first showing of the same plan id recorded in the operation store by
        the plan stage (M(aiops.k8s.remediation_plan) with C(record_shown=true)), MAC verified (a forged one is
        ignored). Without one the shown time, latency and SLA breach are recorded as unknown (null)
        and the gate's reason says so.
    type: bool
    default: true
  validation_window:
    description:
      - Seconds to watch the target after the change. The rollout must be complete at the end of the window and
        no container may restart or be OOM-killed during it. V(0) looks once.
    type: int
    default: 60
  poll_interval:
    description:
      - Seconds between two looks during the validation window.
    type: float
    default: 2.0
  rollback_on_failure:
    description:
      - Restore the saved object automatically when validation fails or the change fails half-way.
    type: bool
    default: true
  phr_opt_out:
    description:
      - Set when the run explicitly opted out of the PHR record (the C(aiops.k8s.phr) callback is not enabled).
      - The opt-out is saved in the operation (RV(operation.phr_opt_out)) and printed as a warning naming the OS
        account that ran the change.
    type: bool
    default: false
extends_documentation_fragment:
  - aiops.k8s.k8s_auth
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: Verifies the approval and drift, then sends the change as a server-side dry run only (dryRun=All);
      reports C(changed=true) when the API accepted the change it would make (RV(operation.status) C(dry_run)).
  diff_mode:
    support: full
    description: Shows the target before and after the change (status and server-managed metadata omitted).
requirements:
  - python >= 3.8
  - kubernetes >= 24.2.0
notes:
  - The least-privilege role for this module is C(docs/rbac/remediate.yaml) of the collection.
  - The task fails (with RV(operation) in the result) when the plan is refused, the change fails, or validation
    fails; RV(operation.status) says whether the automatic rollback succeeded.
seealso:
  - module: aiops.k8s.remediation_plan
  - module: aiops.k8s.rollback
  - module: aiops.k8s.remediation_validate
"""

EXAMPLES = r"""
- name: Execute a plan approved beforehand (CI or a scripted change window)
  aiops.k8s.remediate:
    plan: "{{ planned.plan }}"
    approval:
      plan_id: "{{ approval_plan_id }}"
      decision: approve
      approver: "{{ approver }}"
      justification: "{{ justification }}"
      decided_at: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"
      mode: pre_approved
    validation_window: 60
  register: remediation

- name: Preview the change only (server-side dry run and diff)
  aiops.k8s.remediate:
    plan: "{{ planned.plan }}"
    approval: "{{ approval }}"
  check_mode: true
  diff: true
"""

RETURN = r"""
operation:
  description: The operation record (also saved in the operation store).
  returned: always
  type: dict
  contains:
    operation_id:
      description: op-<UTC yyyymmddHHMMSS>-<6 hex>; use it with M(aiops.k8s.rollback).
      type: str
    plan_id:
      description: Id of the plan executed (the re-bound id for a conditional approval).
      type: str
    diagnosis_id:
      description: Id of the diagnosis behind the plan.
      type: str
    action:
      description: The action.
      type: str
    target:
      description: The object changed.
      type: dict
    risk_tier:
      description: Tier derived by the executor from the live object and the policy (not the plan's claim).
      type: str
    tier_reason:
      description: Why that tier.
      type: str
    gate:
      description: "The gate's verdict: verdict (approved, refused, not_required), reason, approver, mode,
        decided_at, plan_shown_at (null when unknown, see O(plan_shown)), sla_seconds, latency_seconds, sla_breached."
      type: dict
    problems:
      description: Why the plan's shown time is unknown or a stored showing was ignored; only when there is such a note.
      type: list
      elements: str
    drift:
      description: checked, drifted, reason.
      type: dict
    approval:
      description: The approval as given.
      type: dict
    status:
      description: "applied, validated, rolled_back, rollback_failed, refused, dry_run, conflict or failed; the
        store says applying from just before the change is sent until its outcome is known."
      type: str
    summary:
      description: The change in one line.
      type: str
    dry_run:
      description: Summary of the server's answer to the dry run.
      type: dict
    diff:
      description: before and after (status and server-managed metadata omitted).
      type: dict
    pre_state_ref:
      description: Path of the saved pre-change object.
      type: str
    pre_state_digest:
      description: sha256 of the saved pre-change object.
      type: str
    started_at:
      description: Start (UTC).
      type: str
    applied_at:
      description: When the change was accepted by the API (UTC), null if never (while applying, when it was sent).
      type: str
    finished_at:
      description: End (UTC).
      type: str
    validation:
      description: passed, checks (last observations), window_seconds, started_at, finished_at.
      type: dict
    rollback:
      description: attempted, succeeded, started_at, finished_at, reason, detail.
      type: dict
    error:
      description: One-line reason when refused or failed, else null.
      type: str
    requests:
      description: Every API request made (method, path, dry_run), for audit and RBAC review.
      type: list
      elements: dict
    phr_opt_out:
      description: True when the run opted out of the PHR record (no callback enabled).
      type: bool
aiops:
  description: Marks the result for the PHR callback.
  returned: always
  type: dict
  sample: {kind: operation, version: 1}
"""


import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import auth_argument_spec
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import cluster_from_module
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import awx, integrity
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import policy as safety
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import shown, signatures
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import execute
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact, redact_obj

SUCCESS = ("validated", "applied", "dry_run")


def os_account():
    """The operating-system account running this module (authenticated by the OS), or None."""
    import pwd
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, OSError):
        return None


def argument_spec():
    spec = auth_argument_spec(
        plan=dict(type="dict", required=True),
        approval=dict(type="dict"),
        state_dir=dict(type="path"),
        validation_window=dict(type="int", default=60),
        poll_interval=dict(type="float", default=2.0),
        rollback_on_failure=dict(type="bool", default=True),
        phr_opt_out=dict(type="bool", default=False),
        plan_shown=dict(type="bool", default=True),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    marker = {"kind": "operation", "version": 1}
    if params["validation_window"] < 0 or params["poll_interval"] <= 0:
        module.fail_json(msg="validation_window must be >= 0 and poll_interval > 0", changed=False, aiops=marker)
    try:
        policy = safety.merge(safety.load_site_policy())
        state_dir = opstore.state_dir(params["state_dir"])
        key = integrity.load_key(state_dir=state_dir)
    except AiopsError as exc:
        module.fail_json(msg=str(exc), changed=False, aiops=marker)
    account = os_account()
    options = {
        "policy": policy,
        "key": key,
        "signature_verifier": signatures.verifier_from_environment(policy, signatures.runner_for(module)),
        "awx_verifier": awx.verifier_from_environment(),
        "requester": account,
        "os_user": account,
        "state_dir": state_dir,
        "check_mode": module.check_mode,
        "validation_window": params["validation_window"],
        "poll_interval": params["poll_interval"],
        "rollback_on_failure": params["rollback_on_failure"],
        "phr_opt_out": params["phr_opt_out"],
    }
    if params["phr_opt_out"]:
        module.warn("PHR opt-out: %s runs this remediation without the aiops.k8s.phr record; the operation store "
                    "keeps phr_opt_out: true" % account)
    try:
        cluster = cluster_from_module(module)
    except AiopsError as exc:
        module.fail_json(msg=str(exc), changed=False, aiops=marker)
    plan, problems = shown.bind_shown(params["plan"], state_dir, key, params["plan_shown"])
    changed, operation, diff = execute(cluster, plan, params["approval"], options, utcnow)
    if problems:  # the gate's reason and the PHR record say why the shown time is unknown or was not trusted
        operation["problems"] = problems
        gate = operation.get("gate") or {}
        gate["reason"] = "; ".join([gate["reason"]] + problems if gate.get("reason") else problems)
    operation = redact_obj(operation)
    result = {"changed": changed, "operation": operation, "aiops": marker}
    if module._diff and diff is not None:
        result["diff"] = redact_obj(diff)
    if operation["status"] not in SUCCESS:
        module.fail_json(msg=redact(operation.get("error") or "Remediation %s" % operation["status"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
