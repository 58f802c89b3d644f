# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records of runs that did not end normally: the write-ahead record, and the record rebuilt from the
operation store for a change whose run left none.

The write-ahead record holds what is known before a task that can change the cluster starts.

The callback chains it (status ``applying``) before the mutating task runs and revises it at the end
of the run (``completed``, naming the final records) or on SIGINT/SIGTERM (``interrupted``). After a
SIGKILL it stays ``applying``, which phr_verify reports. The operation id is made inside the module,
so the provisional record has its own ``run-`` id and carries the plan id that links the two.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.records.model import (
    _decision, _index, _operation_record, _pre_state, _primary, new_record, new_record_id, refresh)


def provisional_record(collector, run, task_name, action, now=None):
    """A ``run`` record with the latest plan, its approval and diagnosis, status ``applying``."""
    now = now or utcnow()
    diagnoses, plans, approvals = _index(collector)
    plan = plans[-1] if plans else None
    record = new_record(new_record_id("run", now), "run", run, isoformat(now))
    diagnosis = (plan or {}).get("diagnosis") or _primary(diagnoses)
    record["analysis"] = {"diagnoses": [diagnosis] if diagnosis else [], "primary": diagnosis}
    record["pre_state"] = _pre_state(None, diagnosis)
    if plan:
        record["decision"] = _decision(plan, approvals.get(plan.get("plan_id")), None, plan.get("risk_tier"))
        record["decision"]["plan"] = plan
    record["write_ahead"] = {"task": task_name, "action": action, "plan_id": (plan or {}).get("plan_id"),
                             "started_at": isoformat(now)}
    refresh(record)
    record["status"] = "applying"
    record["provisional"] = True
    return record


def reconstruct_record(saved, path, run, now=None):
    """Revision 0 of an operation that has no record, from what the operation store saved for it.

    Used when a follow-up (typically a rollback) names an operation whose run left no record (killed,
    or the callback was off). Only the stored operation, plan and approval are copied, and the pre-change
    object is referenced by path and digest, never copied. Marked ``reconstructed`` and never complete.
    """
    created_at = isoformat(now or utcnow())
    operation = dict(saved.get("operation") or {}, operation_id=saved.get("operation_id"))
    operation["pre_state_ref"] = operation.get("pre_state_ref") or path
    operation["pre_state_digest"] = operation.get("pre_state_digest") or saved.get("pre_state_digest")
    plan = saved.get("plan") if isinstance(saved.get("plan"), dict) else {}
    diagnosis = plan.get("diagnosis") if isinstance(plan.get("diagnosis"), dict) else None
    record = _operation_record(run, created_at, operation, plan, [diagnosis] if diagnosis else [],
                               saved.get("approval") if isinstance(saved.get("approval"), dict) else None, [], [])
    record["decision"]["plan"] = plan or None
    record["revision"], record["runs"] = 0, []
    record["reconstructed"] = record["stub"] = True
    record["problems"].append("reconstructed from the operation store (%s): the run that made this change left no "
                              "record" % path)
    return refresh(record)
