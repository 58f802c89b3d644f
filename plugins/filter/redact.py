# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aiops.k8s.redact filter: the collection's one redactor, usable from playbooks and templates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact, redact_obj


def redact_filter(value, patterns=None):
    """Mask secrets in a string, or in every string of a list/dict (keys named like secrets too)."""
    if patterns is not None and not isinstance(patterns, (list, tuple)):
        raise AnsibleFilterError("aiops.k8s.redact: patterns must be a list of regular expressions")
    if value is None:
        return value
    if isinstance(value, (dict, list, tuple)):
        return redact_obj(value, extra_patterns=patterns)
    return redact(str(value), extra_patterns=patterns)


class FilterModule(object):
    def filters(self):
        return {"redact": redact_filter}
