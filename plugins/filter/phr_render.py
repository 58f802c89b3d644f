# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aiops.k8s.phr_render filter: a phr_report result as Markdown or self-contained HTML.

Rendering and chart geometry stay on the controller (plugin_utils); the phr_report module only computes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.aiops.k8s.plugins.plugin_utils.render import render_report


def phr_render(report, fmt="html"):
    """Render the ``report`` returned by aiops.k8s.phr_report with the collection's templates."""
    if fmt not in ("html", "md"):
        raise AnsibleFilterError("aiops.k8s.phr_render: format must be 'html' or 'md', not %r" % (fmt,))
    if not isinstance(report, dict) or "tiers" not in report:
        raise AnsibleFilterError("aiops.k8s.phr_render: expects the report returned by aiops.k8s.phr_report")
    return render_report(report, fmt)


class FilterModule(object):
    def filters(self):
        return {"phr_render": phr_render}
