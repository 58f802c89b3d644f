# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of the optional Prometheus usage history (plugins/module_utils/evidence/prometheus.py).

Shared by pod_diagnose and resource_usage_info; each module documents its own O(prometheus_window) default
(a diagnosis looks at the last hour, right-sizing at the last day).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  prometheus_url:
    description:
      - Base URL of a Prometheus HTTP API (for example V(https://prometheus.example:9090)) to read each container's
        peak working set and CPU from over O(prometheus_window) (C(query_range) calls for the namespaces read), because
        one metrics-server sample cannot show a peak. Off when unset.
      - Unreachable or refused is a note among the result's problems, never a failure.
    type: str
  prometheus_token:
    description:
      - Bearer token sent to O(prometheus_url), only in the C(Authorization) header; never printed or returned.
    type: str
  prometheus_validate_certs:
    description:
      - Verify the TLS certificate of O(prometheus_url).
    type: bool
    default: true
"""
