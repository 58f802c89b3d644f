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
import os


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


def kubeconfig_problem(params, environ=None):
    """One line naming the kubeconfig that was looked for and the next step, or None when one is usable.

    kubernetes.core would say "Invalid kube-config file. No configuration found." with no path and no way on.
    """
    environ = os.environ if environ is None else environ
    value = params.get("kubeconfig")
    offline = "or dump_dir=DIR to diagnose a dump offline"
    if isinstance(value, str) and value:
        path = os.path.abspath(os.path.expanduser(value))
        if not os.path.isfile(path):
            # kubeconfig is no_log (it may hold a whole config): the full value would print as ********.
            return ("Kubeconfig %s does not exist in %s: pass kubeconfig=PATH of an existing file (or set "
                    "K8S_AUTH_KUBECONFIG), %s" % (os.path.basename(path), os.path.dirname(path), offline))
        return None
    if value or params.get("host") or environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    candidates = [p for p in (environ.get("KUBECONFIG") or "").split(os.pathsep) if p] or ["~/.kube/config"]
    checked = [os.path.abspath(os.path.expanduser(p)) for p in candidates]
    if any(os.path.isfile(p) for p in checked):
        return None
    return ("No kubeconfig found (checked %s) and not running in a pod: pass kubeconfig=PATH or set K8S_AUTH_KUBECONFIG, "
            "%s" % (", ".join(checked), offline))
