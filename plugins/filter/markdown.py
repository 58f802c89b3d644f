# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aiops.k8s.md_escape / md_inline / md_code filters: cluster text shown literally in Markdown reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.plugin_utils.markdown import md_code, md_escape, md_inline


class FilterModule(object):
    def filters(self):
        return {"md_escape": md_escape, "md_inline": md_inline, "md_code": md_code}
