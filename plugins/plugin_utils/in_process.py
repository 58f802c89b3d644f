# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of this collection's modules inside the controller's worker when it would run on the controller anyway.

Why: for a module task ansible-core parses every module_utils file the module reaches into ASTs to build the
AnsiballZ payload (0.4-0.9 s for these modules, once per module per playbook run), then a new Python compiles
that code again from the zip and imports ansible.module_utils.basic (about 0.35 s) and the kubernetes client
(about 0.3 s) on every task. With ``connection: local`` and the controller's own interpreter
(``ansible_python_interpreter: "{{ ansible_playbook_python }}"``, as in every shipped playbook) that process
would run the same code, as the same user, with the same environment, working directory and files. The
worker (a fork made for this one task, discarded after it) runs the module's own ``main()`` instead, through
the same loader AnsiballZ uses: AnsibleModule still validates the arguments, masks no_log values, honours
check and diff mode and prints the result, which the controller parses exactly as it parses a module's
output. The action plugin imports the module once in the controller, so each worker starts with its code.

Anything else goes through AnsiballZ as usual: another connection, become, a task ``environment``, async, a
``delegate_to`` host with another interpreter, an ansible-core without the loader this relies on, or
``aiops_in_process: false``.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import sys
import warnings

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

try:  # ansible-core 2.19+: the loader AnsiballZ runs modules with, and its wire format
    from ansible.module_utils import basic
    from ansible.module_utils._internal._ansiballz import _loader
    from ansible.module_utils.common.json import Direction, get_module_encoder
    from ansible.vars.clean import remove_internal_keys
    HAS_LOADER = hasattr(basic, "_ANSIBLE_PROFILE") and hasattr(_loader, "run_module")
except ImportError:  # older cores run every module through AnsiballZ
    HAS_LOADER = False

LOCAL = ("local", "ansible.builtin.local")
# The module's serialization profile: these modules declare no METADATA, so ansible-core uses "legacy".
PROFILE = "legacy"
SWITCH = "aiops_in_process"


def runs_here(action, task_vars, switches=(SWITCH,)):
    """Whether the module of ``action`` (an ActionBase) would run on the controller's own Python, as is."""
    for switch in switches:
        if not boolean(action._templar.template(task_vars.get(switch, True)), strict=False):  # pylint: disable=protected-access
            return False
    task, connection = action._task, action._connection  # pylint: disable=protected-access
    if getattr(connection, "_load_name", None) not in LOCAL or action._play_context.become:  # pylint: disable=protected-access
        return False
    if task.async_val or any(task.environment or []):
        return False
    interpreter = task_vars.get("ansible_python_interpreter")
    if task.delegate_to:
        delegated = (task_vars.get("ansible_delegated_vars") or {}).get(task.delegate_to) or {}
        interpreter = delegated.get("ansible_python_interpreter")
    if not interpreter:
        return False
    interpreter = action._templar.template(interpreter)  # pylint: disable=protected-access
    return isinstance(interpreter, str) and os.path.realpath(interpreter) == os.path.realpath(sys.executable)


@contextlib.contextmanager
def _exit_handlers():
    """Collect atexit registrations (AnsibleModule's tmpdir cleanup) and run them when the module is done.

    A worker leaves through os._exit, which skips atexit: without this a module's temporary directory stays.
    """
    handlers = []
    register = atexit.register

    def collect(func, *args, **kwargs):
        handlers.append((func, args, kwargs))
        return func

    atexit.register = collect
    try:
        yield
    finally:
        atexit.register = register
        for func, args, kwargs in reversed(handlers):
            try:
                func(*args, **kwargs)
            except Exception:  # pylint: disable=broad-except  # cleanup only, as atexit would
                pass


class InProcessAction(ActionBase):
    """Action plugin base: the module's main() in this worker when runs_here, else the usual AnsiballZ run."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(InProcessAction, self).run(tmp, task_vars)
        del tmp
        if HAS_LOADER and runs_here(self, task_vars):
            result.update(self.run_module_here(self._task.resolved_action or self._task.action, self._task.args,
                                               task_vars))
        else:
            result.update(self.run_module_as_usual(task_vars))
        return result

    def run_module_as_usual(self, task_vars):
        """The module through AnsiballZ, as ansible.builtin.normal runs it (async wrapped when needed)."""
        wrap_async = self._task.async_val and not self._connection.has_native_async
        data = self._execute_module(task_vars=task_vars, wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return data

    def run_module_here(self, module_fqcn, module_args, task_vars):
        """The module's result, from its main() run in this process (what _execute_module returns for it)."""
        module_args = dict(module_args)
        self._update_module_args(module_fqcn, module_args, task_vars)
        params = json.dumps({"ANSIBLE_MODULE_ARGS": module_args},
                            cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)).encode("utf-8")
        basic._ANSIBLE_ARGS = None  # pylint: disable=protected-access  # parsed afresh from json_params
        basic._PARSED_MODULE_ARGS = None  # pylint: disable=protected-access
        output, errors = io.StringIO(), io.StringIO()
        # stderr as a module process has it: kept for a result that does not parse, otherwise dropped (a library's
        # Python warning would else reach the console as "WorkerProcess ... errantly sent data directly to stderr").
        with _exit_handlers(), contextlib.redirect_stdout(output), contextlib.redirect_stderr(errors), \
                warnings.catch_warnings():
            # runpy notes that the action plugin imported the module already: that is the point (shared code).
            warnings.filterwarnings("ignore", message=".*found in sys.modules after import of package", category=RuntimeWarning)
            try:
                _loader.run_module(json_params=params, profile=PROFILE, module_fqn=self._module_name(module_fqcn),
                                   modlib_path="", extensions={})
            except SystemExit:  # exit_json / fail_json
                pass
        data = self._parse_returned_data({"rc": 0, "stdout": output.getvalue(), "stderr": errors.getvalue()}, PROFILE)
        remove_internal_keys(data)
        return data

    @staticmethod
    def _module_name(module_fqcn):
        """ansible_collections.aiops.k8s.plugins.modules.<name>, the import name AnsiballZ runs too."""
        namespace, collection, name = module_fqcn.split(".", 2)
        return "ansible_collections.%s.%s.plugins.modules.%s" % (namespace, collection, name)
