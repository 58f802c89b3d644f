# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run aiops.k8s.pod_diagnose inside the controller when the module would run on the controller anyway.

Why: a 5,000-pod scan spends about as long in the module round trip as in the scan itself. For every run,
ansible-core parses the ~60 module_utils files the module reaches into ASTs to build the AnsiballZ payload,
the module's Python compiles them again from the zip (no bytecode cache), imports ansible.module_utils.basic,
scrubs the 1 MB result for no_log values and serialises it, and the controller parses it back. With
``connection: local`` and the controller's own interpreter (``ansible_python_interpreter:
"{{ ansible_playbook_python }}"``, as in every shipped playbook), the module process would run the same
code with the same environment and files, so the worker runs ``pod_diagnose.run`` itself.

Anything else goes through the module as usual (identical results, tested): another connection, become, a
task ``environment``, async, ai_explain (it starts kubectl-ai through AnsibleModule.run_command), parameters
that make AnsibleModule warn or fail, or ``aiops_in_process: false`` (``aiops_diagnose_in_process: false`` for
this module only). plugin_utils/in_process.py decides where a module runs, for every module of this collection.
"""

from __future__ import annotations

import gc
import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.modules import pod_diagnose
from ansible_collections.aiops.k8s.plugins.plugin_utils import diagnosis_report, in_process
from ansible_collections.aiops.k8s.plugins.plugin_utils.in_process import InProcessAction, runs_here


def _needs_scrub(result, no_log_values):
    """Whether any no_log value occurs in ``result``; remove_values copies every node of a 1 MB result.

    JSON escapes character by character, so a value inside any string or key shows up (escaped) in the dump.
    """
    if not no_log_values:
        return False
    text = json.dumps(result, ensure_ascii=False, default=str)
    for value in no_log_values:
        value = str(value)
        if value in text or json.dumps(value, ensure_ascii=False)[1:-1] in text or value.lower() in ("true", "false"):
            return True
    return False


class ActionModule(InProcessAction):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = ActionBase.run(self, tmp, task_vars)  # not InProcessAction.run: this action decides itself
        del tmp
        args = dict(self._task.args)
        if self._in_process(task_vars, args):
            validated = ArgumentSpecValidator(pod_diagnose.argument_spec()).validate(args)
            # Anything AnsibleModule would warn about or refuse: let the module say it, word for word.
            if not (validated.error_messages or validated._warnings or validated._deprecations):  # pylint: disable=protected-access
                result.update(self._run_here(validated.validated_parameters, validated._no_log_values))  # pylint: disable=protected-access
                self._write_report(result, args)
                return result
        result.update(self.run_module_as_usual(task_vars))
        if not (self._task.async_val and not self._connection.has_native_async):  # an async job reports later
            self._write_report(result, args)
        return result

    def _in_process(self, task_vars, args):
        # ai_explain starts kubectl-ai through AnsibleModule.run_command, which this runner does not provide.
        return not args.get("ai_explain") and runs_here(
            self, task_vars, switches=("aiops_diagnose_in_process", in_process.SWITCH))

    @staticmethod
    def _write_report(result, args):
        """report_dir / report_text, on the controller from the plain result (plugin_utils/diagnosis_report)."""
        if result.get("failed") or "diagnoses" not in result:
            return
        docs_base_url = args.get("docs_base_url") or None
        if boolean(args.get("report_text", False), strict=False):
            data = dict(result)
            result["report_text"] = diagnosis_report.render("diagnosis_report.txt.j2", data, docs_base_url)
            result["report_index"] = diagnosis_report.index(data)
        report_dir = args.get("report_dir")
        if not report_dir:
            return
        try:
            result["report_files"] = diagnosis_report.write_report(result, str(report_dir), docs_base_url)
        except (OSError, UnicodeError) as exc:
            result.update(failed=True, msg="Could not write the report to %s: %s" % (report_dir, exc))

    @staticmethod
    def _run_here(params, no_log_values):
        """pod_diagnose.main without AnsibleModule: same result keys, same failures, no_log values masked."""
        # This worker is a fork made for this one task. The scan pauses the cyclic collector (common/heap.py);
        # switching it back on here would start a full collection over the scan's ~500,000 objects (0.3 s for
        # 5,000 pods) just before the process exits, so it stays off: the trees are freed by reference counting.
        gc.disable()
        try:
            result, warnings = pod_diagnose.run(params)
        except pod_diagnose.Refused as exc:
            failed = dict(failed=True, msg=exc.msg)
            if exc.exception:
                failed["exception"] = exc.exception
            else:
                failed["changed"] = False
            return remove_values(failed, no_log_values)
        except AiopsError as exc:
            return remove_values(dict(failed=True, msg=str(exc), changed=False), no_log_values)
        if _needs_scrub(result, no_log_values):
            result = remove_values(result, no_log_values)
        result["changed"] = False
        result["invocation"] = {"module_args": remove_values(params, no_log_values)}
        if warnings:
            result["warnings"] = list(warnings)
        return result
