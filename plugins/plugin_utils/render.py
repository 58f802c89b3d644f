# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering of PHR records and reports with the Jinja2 templates under <collection>/templates/phr.

Controller only (the callback and the phr_render filter): module payloads never carry Jinja2.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import human_duration as fmt_duration
from ansible_collections.aiops.k8s.plugins.plugin_utils.charts import report_charts
from ansible_collections.aiops.k8s.plugins.plugin_utils.markdown import md_code, md_escape, md_inline


def unified_diff(diff):
    """A unified diff of the before/after objects of an action, as text lines."""
    import difflib

    diff = diff if isinstance(diff, dict) else {}

    def lines(obj):
        return json.dumps(obj, indent=2, sort_keys=True, default=str).splitlines() if obj is not None else []

    return "\n".join(difflib.unified_diff(lines(diff.get("before")), lines(diff.get("after")), "before", "after",
                                          lineterm="", n=3))


def default_template_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "templates", "phr")


_ENVIRONMENTS = {}


def _environment(template_dir, autoescape):
    """One Jinja2 environment per template directory, so templates compile once per process."""
    key = (os.path.abspath(template_dir or default_template_dir()), autoescape)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = _new_environment(key[0], autoescape)
    return _ENVIRONMENTS[key]


def _new_environment(template_dir, autoescape):
    import jinja2  # controller only

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir),
                             autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.ChainableUndefined)
    env.filters["duration"] = fmt_duration
    env.filters["tojson_pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True, default=str)
    env.filters["unified_diff"] = unified_diff
    # Same names as the collection's filters, so the playbook templates and these read alike.
    env.filters["md_escape"] = md_escape
    env.filters["md_inline"] = md_inline
    env.filters["md_code"] = md_code
    return env


def render_record_markdown(record, template_dir=None):
    """The human Markdown rendering of one record revision."""
    return _environment(template_dir, False).get_template("record.md.j2").render(record=record)


def render_report(report, fmt, template_dir=None):
    """Markdown (fmt="md") or self-contained HTML (fmt="html") of a computed report."""
    name = "report.html.j2" if fmt == "html" else "report.md.j2"
    report = dict(report, charts=report_charts(report))
    return _environment(template_dir, fmt == "html").get_template(name).render(report=report)
