#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: rollback
short_description: Restore the object saved before a remediation, by operation id
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Reads the operation record written by M(aiops.k8s.remediate) and puts the saved pre-change object back with a
    replace (PUT) carrying the live resourceVersion, re-reading and retrying on conflicts; then verifies that the
    live spec equals the saved one.
  - A bare pod deleted by C(delete_pod) is re-created from its saved manifest; a pod deleted from a controller is
    replaced by the controller and is not restored.
  - Refuses a record whose saved object no longer matches its digest, whose MAC does not verify under the plan key
    (E(AIOPS_K8S_PLAN_KEY), the file named by E(AIOPS_K8S_PLAN_KEY_FILE), else the per-user
    C(~/.config/aiops-k8s/plan.key) that M(aiops.k8s.remediate) used), or whose plan targets another object. A
    hand-written record, or one written before records carried a MAC, is refused.
  - A rollback is a change like any other. Within the SLA of the original operation's tier its approval stands for
    the rollback; after that O(approval) must approve plan_id = the operation id, authenticated like any approval of
    M(aiops.k8s.remediate), and is used once. The object is never restored over a change made after the apply.
options:
  operation_id:
    description:
      - The operation to undo, as returned in RV(aiops.k8s.remediate#module:operation.operation_id).
    type: str
    required: true
  state_dir:
    description:
      - Directory of the operation store. Defaults to E(AIOPS_K8S_STATE_DIR), else
        C(~/.local/state/aiops-k8s/operations).
    type: path
  approval:
    description:
      - "Approval of the rollback once the original approval's window has passed: C(plan_id) (the operation id),
        C(decision) (approve), C(approver), C(justification), C(decided_at), C(mode), C(signature)."
    type: dict
  phr_opt_out:
    description:
      - Set when the run explicitly opted out of the PHR record (the C(aiops.k8s.phr) callback is not enabled).
      - The opt-out is saved with the rollback in the operation store and printed as a warning naming the OS account.
    type: bool
    default: false
extends_documentation_fragment:
  - aiops.k8s.k8s_auth
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: Sends the restore as a server-side dry run only, and reports C(changed=true) when it would restore
      the object (its C(attempted) stays false).
  diff_mode:
    support: full
    description: In check mode, shows the live object and the saved one the rollback would put back.
requirements:
  - python >= 3.8
  - kubernetes >= 24.2.0
seealso:
  - module: aiops.k8s.remediate
"""

EXAMPLES = r"""
- name: Undo an operation
  aiops.k8s.rollback:
    operation_id: op-20261125200102-3fa9c1
  register: undone
"""

RETURN = r"""
operation_id:
  description: The operation rolled back.
  returned: always
  type: str
rollback:
  description: "attempted, succeeded, started_at, finished_at, reason, detail, duration_seconds, conflict (the object
    changed after the apply: not restored), authority (the standing or explicit approval used), phr_opt_out (the run
    opted out of the PHR record)."
  returned: success or when the restore failed
  type: dict
diff:
  description: In check mode with diff mode, the live object (before) and the saved object the rollback would
    restore (after), secrets redacted.
  returned: check and diff mode, when the rollback would restore the object
  type: dict
aiops:
  description: Marks the result for the PHR callback.
  returned: always
  type: dict
  sample: {kind: rollback, version: 1}
"""


import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import auth_argument_spec
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import cluster_from_module
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.changes import ActionError
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import policy as safety
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import signatures
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import rollback_authority, rollback_operation
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact, redact_obj


def os_account():
    import pwd
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, OSError):
        return None


def argument_spec():
    spec = auth_argument_spec(operation_id=dict(type="str", required=True), state_dir=dict(type="path"),
                              approval=dict(type="dict"), phr_opt_out=dict(type="bool", default=False))
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    op_id = module.params["operation_id"]
    marker = {"kind": "rollback", "version": 1}
    directory = opstore.state_dir(module.params["state_dir"])
    try:
        key = integrity.load_key(state_dir=directory)
        record = opstore.load(directory, op_id, key)
        policy = safety.merge(safety.load_site_policy())
        options = {"policy": policy, "state_dir": directory, "check_mode": module.check_mode,
                   "requester": os_account(), "os_user": os_account(),
                   "signature_verifier": signatures.verifier_from_environment(
                       policy, signatures.runner_for(module))}
        authority = rollback_authority(record, module.params["approval"], utcnow(), options)
        cluster = cluster_from_module(module)
        changed, result = rollback_operation(cluster, record, utcnow, check_mode=module.check_mode)
    except (opstore.OpStoreError, ActionError, AiopsError) as exc:  # GateRefusal is an AiopsError
        module.fail_json(msg=str(exc), changed=False, operation_id=op_id, aiops=marker)
    except Exception as exc:  # transport errors: one line, never a traceback
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        module.fail_json(msg=redact("Rollback of %s failed: %s" % (op_id, reason)),
                         changed=False, operation_id=op_id, aiops=marker)
    if module.params["phr_opt_out"]:
        result.update(phr_opt_out=True, phr_opt_out_by=os_account())
        module.warn("PHR opt-out: %s rolls back %s without the aiops.k8s.phr record; the operation store keeps "
                    "phr_opt_out: true" % (os_account(), op_id))
    if not module.check_mode:
        record.setdefault("rollbacks", []).append(result)
        try:
            opstore.save(directory, record, key)
        except opstore.OpStoreError as exc:
            module.warn(str(exc))
    result["authority"] = authority
    predicted = result.pop("diff", None)  # check mode only: the live object and the saved one it would restore
    out = {"changed": changed, "operation_id": op_id, "rollback": result, "aiops": marker}
    if module._diff and predicted is not None:
        what = "rollback of %s" % op_id
        out["diff"] = redact_obj(dict(predicted, before_header=what, after_header=what))
    if result.get("attempted") and not result.get("succeeded"):
        module.fail_json(msg=redact("Rollback of %s failed: %s" % (op_id, result.get("detail"))), **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
