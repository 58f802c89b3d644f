# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask the operator on the controller's terminal, with a deadline that really ends the wait.

Why not ansible.builtin.pause: with a prompt and no ``seconds`` it waits forever, and the task keyword
``timeout`` only interrupts the worker; the controller's main process keeps reading the terminal, so the
run hangs long after the task timed out. A lookup cannot read /dev/tty either (workers have no
controlling terminal). ``Display.prompt_until(seconds=N)`` is the one reader that both runs in the process
owning the terminal and stops at N seconds, so this plugin asks through it and reports what happened.
"""

from __future__ import annotations

import os
import pwd
import time

from ansible.errors import AnsibleError, AnsiblePromptInterrupt, AnsiblePromptNoninteractive
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

ARGUMENT_SPEC = {
    "prompt": {"type": "str", "required": True},
    "timeout": {"type": "int", "required": True},
    "echo": {"type": "bool", "default": True},
}


def os_account():
    """The account of the effective uid, from the password database.

    $USER / $LOGNAME (what getpass.getuser() reads first) are set by whoever starts the process, so they
    are not an identity; the euid is what the OS authenticated. None when the uid has no passwd entry.
    """
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return None


def ask(prompt_until, message, timeout, echo, clock=time.monotonic):
    """Ask once through ``prompt_until`` and classify the outcome; never waits past ``timeout`` seconds.

    prompt_until returns whatever was typed so far when its deadline passes, with no flag: a return at or
    after the deadline is a timeout, and the partial input is dropped so that a plan id typed without Enter
    never counts as an answer. Enter pressed within milliseconds of the deadline may be read as a timeout
    too, which fails closed.
    """
    outcome = {"user_input": "", "timed_out": False, "no_terminal": False, "interrupted": False}
    started = clock()
    try:
        typed = prompt_until(message, private=not echo, seconds=timeout)
    except AnsiblePromptInterrupt:
        outcome["interrupted"] = True
    except AnsiblePromptNoninteractive:
        outcome["no_terminal"] = True
    except AnsibleError as exc:
        # The controller relays terminal errors (for example a tty that is not the controlling terminal of
        # ansible-playbook) as AnsibleError: nobody can answer there either.
        outcome["no_terminal"] = True
        outcome["terminal_error"] = to_text(exc).splitlines()[0] if to_text(exc) else "terminal error"
    else:
        if clock() - started >= timeout:
            outcome["timed_out"] = True
        else:
            outcome["user_input"] = to_text(typed, errors="surrogate_or_strict")
    outcome["elapsed_seconds"] = round(clock() - started, 3)
    return outcome


class ActionModule(ActionBase):
    """aiops.k8s.approval_prompt: documentation in plugins/modules/approval_prompt.py."""

    # Asked once for the batch of hosts, like ansible.builtin.pause, and it runs nothing on a target.
    BYPASS_HOST_LOOP = True
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        timeout = args["timeout"]
        result["changed"] = False
        if timeout < 1:
            result.update(failed=True, msg="approval_prompt: timeout must be a whole number of seconds > 0, got %d"
                          % timeout)
            return result
        hidden = "" if args["echo"] else ", input hidden"
        message = "[%s]\n%s (%d s to answer%s):" % (self._task.get_name().strip(), args["prompt"], timeout, hidden)
        result.update(ask(display.prompt_until, message, timeout, args["echo"]))
        result["os_user"] = os_account()
        return result
