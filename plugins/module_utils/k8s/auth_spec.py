# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubernetes.core's connection options, without importing the kubernetes client.

Kept apart from transport.py so a module can build its argument spec (and diagnose a dump offline)
without paying for ``import kubernetes`` (about 0.4 s); transport.py re-exports it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy


def auth_argument_spec(**options):
    """kubernetes.core's connection options (kubeconfig, context, host, api_key, ...) plus ``options``.

    Every cluster-facing module builds its argument_spec here, so the kubernetes.core import lives in
    this one adapter. Without kubernetes.core only ``options`` are returned; live use then fails
    clearly in transport_from_module.
    """
    try:
        from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    except ImportError:
        AUTH_ARG_SPEC = {}
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(options)
    return spec
