# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the collection's modules run (plugins/plugin_utils/in_process.py): one note shared by every module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options: {}
notes:
  - With a local connection and C(ansible_python_interpreter) set to the controller's own Python (the value of
    C(ansible_playbook_python), as in every shipped playbook), the module runs inside the controller's worker
    process instead of a separate module process. It is the same code with the same user, environment, working
    directory and result, without building and starting an AnsiballZ payload for each task. Another connection,
    C(become), a task C(environment), async, or the variable C(aiops_in_process=false) runs it as a separate
    process as usual.
"""
