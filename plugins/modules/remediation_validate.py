#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: remediation_validate
short_description: Follow-up checks (for example 5 minutes and 1 hour later) on a recorded remediation
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - "Reads the operation record written by M(aiops.k8s.remediate) and runs its validation again now: rollout
    complete (or pod gone/replaced, node cordoned, finalizers gone) and no container restarted or OOM-killed since
    the change, compared with the restart counts recorded just before it."
  - Meant to be scheduled (cron, AWX schedule) through the C(aiops.k8s.validate_remediation) playbook at
    the 5-minute and 1-hour checkpoints. With O(wait), waits until the operation is O(min_age) seconds old.
  - Read-only; the task fails when the check fails.
options:
  operation_id:
    description:
      - The operation to check.
    type: str
    required: true
  state_dir:
    description:
      - Directory of the operation store. Defaults to E(AIOPS_K8S_STATE_DIR), else
        C(~/.local/state/aiops-k8s/operations).
    type: path
  min_age:
    description:
      - The checkpoint, in seconds after the change was applied (V(300) for 5 minutes, V(3600) for 1 hour).
      - Without O(wait), checking earlier fails with a clear message.
    type: int
    default: 0
  wait:
    description:
      - Sleep until the operation is O(min_age) seconds old instead of failing.
    type: bool
    default: false
  validation_window:
    description:
      - Seconds to keep watching; V(0) looks once.
    type: int
    default: 0
  poll_interval:
    description:
      - Seconds between looks during O(validation_window).
    type: float
    default: 2.0
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
seealso:
  - module: aiops.k8s.remediate
"""

EXAMPLES = r"""
- name: Five-minute check of an operation
  aiops.k8s.remediation_validate:
    operation_id: op-20261125200102-3fa9c1
    min_age: 300
    wait: true
"""

RETURN = r"""
operation_id:
  description: The operation checked.
  returned: always
  type: str
validation:
  description:
    - passed, checks, window_seconds, started_at, finished_at, checkpoint_seconds, operation_age_seconds.
    - C(metrics) is the target's pods, readiness, restarts and usage now, in the shape of the plan's C(pre_metrics)
      (only when the plan recorded C(pre_metrics)), so the record shows before and after side by side.
  returned: when the record was found
  type: dict
aiops:
  description: Marks the result for the PHR callback.
  returned: always
  type: dict
  sample: {kind: validation, version: 1}
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import auth_argument_spec
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import parse_time, utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import cluster_from_module
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.changes import ActionError
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import followup_validation


def argument_spec():
    spec = auth_argument_spec(
        operation_id=dict(type="str", required=True),
        state_dir=dict(type="path"),
        min_age=dict(type="int", default=0),
        wait=dict(type="bool", default=False),
        validation_window=dict(type="int", default=0),
        poll_interval=dict(type="float", default=2.0),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    op_id = params["operation_id"]
    marker = {"kind": "validation", "version": 1}
    try:
        record = opstore.load(opstore.state_dir(params["state_dir"]), op_id, integrity.load_key())
    except AiopsError as exc:
        module.fail_json(msg=str(exc), changed=False, operation_id=op_id, aiops=marker)
    applied = parse_time((record.get("operation") or {}).get("applied_at"))
    if applied is None:
        module.fail_json(msg="Operation %s was never applied (status %s): nothing to validate"
                         % (op_id, (record.get("operation") or {}).get("status")), changed=False,
                         operation_id=op_id, aiops=marker)
    age = (utcnow() - applied).total_seconds()
    if age < params["min_age"]:
        if not params["wait"]:
            module.fail_json(msg="Operation %s is %ds old, the %ds checkpoint is not reached: run later or set wait"
                             % (op_id, age, params["min_age"]), changed=False, operation_id=op_id, aiops=marker)
        time.sleep(params["min_age"] - age)
        age = (utcnow() - applied).total_seconds()
    try:
        cluster = cluster_from_module(module)
        validation = followup_validation(cluster, record, params["validation_window"], params["poll_interval"],
                                         utcnow)
    except (ActionError, AiopsError) as exc:
        module.fail_json(msg=str(exc), changed=False, operation_id=op_id, aiops=marker)
    validation["checkpoint_seconds"] = params["min_age"]
    validation["operation_age_seconds"] = round(age, 1)
    out = {"changed": False, "operation_id": op_id, "validation": validation, "aiops": marker}
    if not validation["passed"]:
        module.fail_json(msg="Follow-up check of %s failed: %s" % (op_id, "; ".join(validation["checks"])), **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
