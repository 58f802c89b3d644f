# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""aiops.k8s.phr_report inside the controller's worker when it would run on the controller anyway (plugin_utils/in_process.py)."""

from __future__ import annotations

# Imported here, in the controller, so every task's worker (a fork) starts with the module's code loaded.
from ansible_collections.aiops.k8s.plugins.modules import phr_report  # noqa: F401  pylint: disable=unused-import
from ansible_collections.aiops.k8s.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    """Runs aiops.k8s.phr_report's main() here, or the module through AnsiballZ (plugin_utils/in_process.py)."""
