# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pod_diagnose report files (diagnosis.json, diagnosis.md, the linked runbooks), written on the controller.

Controller only (the pod_diagnose action plugin). The Markdown comes from the same Jinja2 template the
playbook used (playbooks/templates/diagnosis_report.md.j2), rendered with plain Jinja2: ansible-core 2.19
wraps every value of a registered result in lazy template containers, which made rendering 500 diagnoses
take seconds, and each file the playbook wrote cost two module runs (stat + copy) on top.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil

from ansible_collections.aiops.k8s.plugins.module_utils.common.files import replace_atomic
from ansible_collections.aiops.k8s.plugins.plugin_utils.markdown import md_code, md_escape, md_inline

COLLECTION_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TEMPLATE_DIR = os.path.join(COLLECTION_ROOT, "playbooks", "templates")
# Keys of a task result that describe the task, not the diagnosis (the playbook's JSON report dropped them too).
_TASK_KEYS = ("invocation", "failed", "changed", "warnings", "deprecations", "report_files", "report_text",
              "report_index")

_ENVIRONMENTS = {}


def _regex_replace(value, pattern, replacement=""):
    return re.sub(pattern, replacement, value if isinstance(value, str) else str(value))


def environment(template_dir=TEMPLATE_DIR):
    """Plain Jinja2 with the options and filter names the playbook's template lookup used."""
    if template_dir not in _ENVIRONMENTS:
        import jinja2  # controller only

        env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir), trim_blocks=True,
                                 keep_trailing_newline=True, undefined=jinja2.ChainableUndefined)
        env.filters.update({"aiops.k8s.md_inline": md_inline, "aiops.k8s.md_escape": md_escape,
                            "aiops.k8s.md_code": md_code, "regex_replace": _regex_replace,
                            "to_json": lambda value: json.dumps(value, sort_keys=True)})
        _ENVIRONMENTS[template_dir] = env
    return _ENVIRONMENTS[template_dir]


def render(name, result, docs_base_url=None):
    """One of playbooks/templates/diagnosis_report.* for a pod_diagnose result."""
    return environment().get_template(name).render(aiops_diagnosis=result, aiops_docs_base_url=docs_base_url or "")


def index(result):
    """The compact list published as a workflow artifact: who and what, never the evidence."""
    return [{"id": d.get("diagnosis_id"), "kind": d.get("kind"), "namespace": d.get("namespace"),
             "name": d.get("name"), "category": d.get("category")} for d in result.get("diagnoses") or ()]


def write_report(result, report_dir, docs_base_url=None):
    """Write diagnosis.json, diagnosis.md and (without docs_base_url) the runbooks they link to.

    Returns {"json": path, "markdown": path, "runbooks": [paths]}. Runbook links are relative to the
    report, so the folder stays readable wherever it is sent.
    """
    report_dir = os.path.abspath(os.path.expanduser(report_dir))
    if not os.path.isdir(report_dir):
        os.makedirs(report_dir, mode=0o750)
    os.makedirs(os.path.join(report_dir, "runbooks"), mode=0o750, exist_ok=True)
    data = dict((key, value) for key, value in result.items() if key not in _TASK_KEYS)
    json_path = os.path.join(report_dir, "diagnosis.json")
    # Compact: json's C encoder is not used with indent, which made a 2 MB report take as long as the scan.
    replace_atomic(json_path, json.dumps(data, sort_keys=True) + "\n")
    markdown_path = os.path.join(report_dir, "diagnosis.md")
    replace_atomic(markdown_path, render("diagnosis_report.md.j2", data, docs_base_url))
    copied = []
    if not docs_base_url:
        for runbook in sorted(set(d.get("runbook") for d in data.get("diagnoses") or () if d.get("runbook"))):
            source = os.path.normpath(os.path.join(COLLECTION_ROOT, runbook))
            # Only the collection's own runbooks/ folder, never a path a result could point elsewhere.
            if not source.startswith(os.path.join(COLLECTION_ROOT, "runbooks") + os.sep) or not os.path.isfile(source):
                continue
            dest = os.path.join(report_dir, runbook)
            shutil.copyfile(source, dest)
            os.chmod(dest, 0o640)
            copied.append(dest)
    return {"json": json_path, "markdown": markdown_path, "runbooks": copied}
