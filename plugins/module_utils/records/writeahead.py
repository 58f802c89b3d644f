# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The write-ahead record: what is known before a task that can change the cluster starts.

The callback chains it (status ``applying``) before the mutating task runs and revises it at the end
of the run (``completed``, naming the final records) or on SIGINT/SIGTERM (``interrupted``). After a
SIGKILL it stays ``applying``, which phr_verify reports. The operation id is made inside the module,
so the provisional record has its own ``run-`` id and carries the plan id that links the two.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.records.model import (
    _decision, _index, _pre_state, _primary, new_record, new_record_id, refresh)


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
