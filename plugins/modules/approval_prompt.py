# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done on the controller by the action plugin plugins/action/approval_prompt.py.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: approval_prompt
short_description: Ask the operator on the controller's terminal, with a timeout that really ends the wait
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Shows O(prompt) on the terminal of the C(ansible-playbook) process and reads one line, for at most
    O(timeout) seconds. At the deadline the wait ends and RV(timed_out) is true, whatever was typed so far.
  - Unlike M(ansible.builtin.pause), whose prompt ignores the task keyword C(timeout) and can wait forever
    on a terminal, the deadline is enforced by the process that reads the terminal.
  - Without a terminal (stdin is not a TTY, or the run is a background job) it returns at once with
    RV(no_terminal) true and no input, so a gate built on it fails closed instead of hanging or passing.
  - Returns the operating-system account running the controller (RV(os_user), from the effective uid,
    never from E(USER)), the identity an interactive approval is recorded under.
  - Never reports a change and never fails because of the answer; the playbook decides what an answer
    means (see the interactive gate of the C(aiops.k8s.remediate_pod) playbook).
options:
  prompt:
    description:
      - The question to show. The task name and the time left to answer are shown with it.
    type: str
    required: true
  timeout:
    description:
      - Seconds to wait for the answer (Enter ends it). Must be 1 or more.
    type: int
    required: true
  echo:
    description:
      - Show what is typed. Set to V(false) for input that should not appear on the screen.
    type: bool
    default: true
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.conn
  - action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  become:
    support: none
  bypass_host_loop:
    support: full
    details: Asked once for all hosts of the batch, like M(ansible.builtin.pause).
  check_mode:
    support: full
    details: Asks in check mode too; it changes nothing either way.
  connection:
    support: none
  delegation:
    support: none
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Needs a terminal on the controller. Under AWX/AAP there is none that a person answers; use the workflow
    approval node instead (the remediation playbooks do).
  - Enter pressed within milliseconds of the deadline may be counted as a timeout (which fails closed).
seealso:
  - module: ansible.builtin.pause
"""

EXAMPLES = r"""
- name: Ask for the plan id, for at most 5 minutes
  aiops.k8s.approval_prompt:
    prompt: "Type the plan id {{ plan.plan_id }} to approve"
    timeout: 300
  register: typed

- name: Fail closed when nobody answered
  ansible.builtin.fail:
    msg: "no answer within 300 s: nothing was changed"
  when: typed.timed_out or typed.no_terminal or typed.interrupted

- name: Ask for a token without showing it
  aiops.k8s.approval_prompt:
    prompt: "One-time code"
    timeout: 60
    echo: false
  register: code
"""

RETURN = r"""
user_input:
  description: The line typed before Enter; empty after a timeout, an interrupt or without a terminal.
  returned: always
  type: str
  sample: K7QM4XTA
timed_out:
  description: Nobody pressed Enter within O(timeout) seconds (input typed without Enter is dropped).
  returned: always
  type: bool
  sample: false
no_terminal:
  description: There was no terminal to ask on (not a TTY, or a background job); returned at once.
  returned: always
  type: bool
  sample: false
interrupted:
  description: The operator pressed Ctrl+C at the prompt.
  returned: always
  type: bool
  sample: false
terminal_error:
  description: Why the terminal could not be used, when the controller reported an error rather than no TTY.
  returned: when the terminal failed
  type: str
  sample: "[Errno 25] Inappropriate ioctl for device"
elapsed_seconds:
  description: How long the prompt waited, in seconds.
  returned: always
  type: float
  sample: 4.213
os_user:
  description:
    - The account name of the controller's effective uid (from the password database, not E(USER)).
    - Null when the uid has no account entry.
  returned: always
  type: str
  sample: alice
"""
