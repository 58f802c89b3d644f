# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one playbook run produced: task outcomes and the collection's contract payloads.

A payload is recognised by its ``aiops: {kind, version}`` marker only, never by task name or shape.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.module_utils.records.model import plain, _short_action

RESULT_KINDS = ("diagnosis", "plan", "approval", "operation", "validation", "rollback", "lessons")
OUTCOMES = ("ok", "changed", "failed", "skipped", "unreachable")
# Modules whose failure belongs in a record even when they returned no contract payload.
OPERATIONAL_MODULES = ("pod_diagnose", "remediation_plan", "remediate", "rollback", "remediation_validate")


# Keys of a module result that never enter a record: module arguments may carry credentials, and
# Ansible's bookkeeping is noise.
_DROPPED_RESULT_KEYS = ("invocation", "_ansible_no_log", "_ansible_verbose_always", "_ansible_item_label",
                        "_ansible_delegated_vars", "_ansible_parsed", "ansible_facts", "stdout_lines",
                        "warnings", "deprecations")


def result_markers(result):
    """Contract-shaped payloads in one task result: [(kind, payload)].

    A payload is recognised by its ``aiops: {kind, version}`` marker, never by task name: a module
    result at the top level, each item of a loop, or a fact whose value carries the marker (the
    playbooks build the approval with ``aiops: {kind: approval, version: 1}``). An unmarked dict that
    merely looks like an approval is not one.
    """
    found = []
    if not isinstance(result, dict):
        return found
    marker = result.get("aiops")
    if isinstance(marker, dict) and marker.get("kind") in RESULT_KINDS:
        payload = dict((k, v) for k, v in result.items() if k not in _DROPPED_RESULT_KEYS)
        found.append((marker["kind"], payload))
    for item in result.get("results") or []:
        found.extend(result_markers(item))
    facts = result.get("ansible_facts")
    if isinstance(facts, dict):
        for value in facts.values():
            if isinstance(value, dict):
                fact_marker = value.get("aiops")
                if isinstance(fact_marker, dict) and fact_marker.get("kind") in RESULT_KINDS:
                    found.append((fact_marker["kind"], dict(value)))
    return found


def changed_cluster(kind, payload):
    """Whether an operation or rollback payload changed the cluster.

    In check mode both modules report ``changed: true`` for a change they would make (a dry run, status
    dry_run / attempted false): that is a prediction, not a change.
    """
    if not payload.get("changed"):
        return False
    if kind == "operation":
        return (payload.get("operation") or {}).get("status") != "dry_run"
    if kind == "rollback":
        return bool((payload.get("rollback") or {}).get("attempted"))
    return False


class RunCollector(object):
    """What one playbook run produced: task outcomes and the collection's contract payloads."""

    def __init__(self):
        self.tasks = []           # [{task, action, ok, changed, failed, skipped, unreachable}]
        self._task_index = {}
        self.payloads = []        # [{kind, task, host, status, payload}]
        self.failures = []        # collection module failures without a contract payload
        self.changed_cluster = False

    def add(self, task_key, task_name, action, host, status, result):
        """Account one task result. status: ok, failed, skipped or unreachable."""
        result = result if isinstance(result, dict) else {}
        if status == "ok" and result.get("changed"):
            status = "changed"
        row = self._task_index.get(task_key)
        if row is None:
            row = dict(task=task_name, action=action, ok=0, changed=0, failed=0, skipped=0, unreachable=0)
            self._task_index[task_key] = row
            self.tasks.append(row)
        row[status if status in OUTCOMES else "failed"] += 1
        markers = result_markers(result)
        for kind, payload in markers:
            self.payloads.append(dict(kind=kind, task=task_name, host=host, status=status, payload=plain(payload)))
            if changed_cluster(kind, payload):
                self.changed_cluster = True
        if status in ("failed", "unreachable") and _short_action(action) in OPERATIONAL_MODULES:
            self.failures.append(dict(task=task_name, action=action, host=host, status=status,
                                      msg=str(result.get("msg") or "")[:2000]))

    def of_kind(self, kind):
        return [item for item in self.payloads if item["kind"] == kind]
