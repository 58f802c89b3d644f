"""The interactive gate of remediate_pod.yml on a real pseudo-terminal, against the emulator over HTTP.

ansible.builtin.pause ignored the task timeout on a terminal (a 3 s timeout was still waiting after 40 s),
so an unanswered prompt held the run and its lock on the change forever. aiops.k8s.approval_prompt must
end the wait at the deadline and the gate must then fail closed with no write reaching the cluster; an
answered prompt must apply the change under the OS account of whoever ran the playbook.
The unit tests at the end drive the plugin's timeout logic with a stand-in for the terminal reader.
"""

import json
import os
import pty
import pwd
import select
import time

import pytest
from ansible.errors import AnsibleError, AnsiblePromptInterrupt, AnsiblePromptNoninteractive

from ansible_collections.aiops.k8s.plugins.action.approval_prompt import ask, os_account
from tests.integration.test_remediation_actions import Controller, spec_of, writes
from tests.integration.test_remediation_playbooks import (
    PLAYBOOK,
    REPO,
    base_vars,
    plan_first,
    play,
    recorded_environment,
)

PLAN_PROMPT = b"Type the plan id"
WHY_PROMPT = b"Justification (ticket, reason)"


def run_on_pty(kube_api, tmp_path, extra, answers, limit=120):
    """remediate_pod.yml with a pty as its controlling terminal; answers: [(prompt bytes, text to type)].

    pty.fork() makes the pty the child's controlling terminal and its foreground process group, which is
    what Display.prompt_until requires before it reads. Returns (exit code, output, seconds from the first
    prompt appearing to the process ending, or None when no prompt appeared).
    """
    vars_file = tmp_path / ("pty-vars-%d.json" % time.monotonic_ns())
    vars_file.write_text(json.dumps(extra))
    env = recorded_environment(kube_api, tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # child: exec at once, nothing else may run between fork and exec
        os.chdir(REPO)
        os.execve(PLAYBOOK, [PLAYBOOK, "-i", "localhost,", "aiops.k8s.remediate_pod", "-e", "@%s" % vars_file], env)
    out, pending, prompted, end = b"", list(answers), None, time.monotonic() + limit
    seen = 0   # output before this offset was already answered
    try:
        while time.monotonic() < end:
            ready, _w, _x = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            out += data
            if prompted is None and PLAN_PROMPT in out:
                prompted = time.monotonic()
            if pending and pending[0][0] in out[seen:]:
                # prompt_until flushes pending input after showing the prompt: type once it had time to.
                time.sleep(0.5)
                os.write(fd, pending.pop(0)[1].encode() + b"\r")
                seen = len(out)
    finally:
        if time.monotonic() >= end:
            os.killpg(pid, 9)   # the child leads its own session: this also ends its forked workers
        _pid, status = os.waitpid(pid, 0)
        os.close(fd)
    took = time.monotonic() - prompted if prompted is not None else None
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace"), took


@pytest.mark.integration
def test_unanswered_prompt_times_out_and_changes_nothing(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    kube_api.clear_requests()
    started = time.monotonic()
    rc, out, after_prompt = run_on_pty(kube_api, tmp_path, dict(base_vars(tmp_path / "ops"),
                                                                approval_prompt_timeout=3), [])
    took = time.monotonic() - started
    flat = " ".join(out.split())
    assert rc != 0, out
    assert after_prompt is not None, out
    assert "(3 s to answer)" in flat
    assert "Plan %s was not approved: no answer within 3 s: nothing was changed" % plan["plan_id"] in flat
    # 3 s of prompt plus the failing tasks and the play recap; pause was still waiting after 40 s.
    assert 3 <= after_prompt < 15, (after_prompt, out)
    assert took < 60, took   # whole run incl. ansible-playbook start-up (slow on a loaded 2-core machine)
    assert "Justification" not in out          # the second prompt is never reached
    assert writes(kube_api) == []
    assert not (tmp_path / "ops").exists()


@pytest.mark.integration
def test_typed_plan_id_and_justification_apply_as_the_os_account(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    extra = dict(base_vars(tmp_path / "ops"), approval_prompt_timeout=60, approver="mallory")
    with Controller(kube_api, duration=60):
        rc, out, _took = run_on_pty(kube_api, tmp_path, extra, [(PLAN_PROMPT, plan["plan_id"].lower()),
                                                                (WHY_PROMPT, "INC-11 OOM loop")])
    assert rc == 0, out
    assert "VALIDATED" in out and "(interactive)" in out
    assert spec_of(kube_api)["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "384Mi"
    account = pwd.getpwuid(os.geteuid()).pw_name
    (saved,) = [json.loads(p.read_text()) for p in (tmp_path / "ops").glob("op-*.json")]
    operation = saved.get("operation", saved)
    assert operation["gate"]["approver"] == account and operation["gate"]["mode"] == "interactive"
    phr = tmp_path / "phr-of-playbooks"
    index = [json.loads(line) for line in (phr / "index.jsonl").read_text().splitlines() if line.strip()]
    (final,) = [e for e in index if e["record_id"] == operation["operation_id"]][-1:]
    record = json.loads((phr / final["file"]).read_text())
    assert record["decision"]["approver"] == account and record["decision"]["approver"] != "mallory"
    assert record["decision"]["justification"] == "INC-11 OOM loop"


@pytest.mark.integration
def test_wrong_plan_id_is_refused_before_the_justification_prompt(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    kube_api.clear_requests()
    rc, out, _took = run_on_pty(kube_api, tmp_path, dict(base_vars(tmp_path / "ops"), approval_prompt_timeout=30),
                                [(PLAN_PROMPT, "NOTTHEID")])
    flat = " ".join(out.split())
    assert rc != 0
    assert "Not approved: the answer was not plan id %s (a different id)" % plan["plan_id"] in flat
    assert "Justification" not in out
    assert writes(kube_api) == []


@pytest.mark.integration
def test_zero_timeout_is_refused_in_one_line(kube_api, tmp_path):
    """A timeout of 0 would make the prompt end before anyone could answer: refused before prompting."""
    plan = plan_first(kube_api, tmp_path)
    kube_api.clear_requests()
    rc, out = play(kube_api, tmp_path, "remediate_pod", dict(base_vars(tmp_path / "ops"), approval_prompt_timeout=0))
    assert rc != 0
    assert ("Plan %s was not approved, nothing was changed: approval_prompt: timeout must be a whole number of "
            "seconds > 0, got 0" % plan["plan_id"]) in " ".join(out.split())
    assert writes(kube_api) == []


# ------------------------------------------------------------------ the plugin's timeout logic


class Clock(object):
    """A clock the stand-in reader advances, so no test sleeps."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def reader(clock, wait, typed=b"", error=None):
    def prompt_until(message, private=False, seconds=None):
        assert seconds is not None           # a prompt without a deadline is the bug this plugin fixes
        clock.now += min(wait, seconds)
        if error is not None:
            raise error
        return typed
    return prompt_until


def test_answer_before_the_deadline_is_returned():
    clock = Clock()
    got = ask(reader(clock, 2, b"k7qm4xta"), "q", 5, True, clock)
    assert got == {"user_input": "k7qm4xta", "timed_out": False, "no_terminal": False, "interrupted": False,
                   "elapsed_seconds": 2.0}


def test_partial_input_at_the_deadline_is_a_timeout_and_dropped():
    clock = Clock()
    got = ask(reader(clock, 99, b"K7QM4XT"), "q", 3, True, clock)
    assert got["timed_out"] is True and got["user_input"] == "" and got["elapsed_seconds"] == 3.0


@pytest.mark.parametrize("error, key", [
    (AnsiblePromptNoninteractive("stdin is not interactive"), "no_terminal"),
    (AnsiblePromptInterrupt("user interrupt"), "interrupted"),
    (AnsibleError("[Errno 25] Inappropriate ioctl for device"), "no_terminal"),
])
def test_no_terminal_and_interrupt_give_no_input(error, key):
    clock = Clock()
    got = ask(reader(clock, 0, b"ignored", error), "q", 3, False, clock)
    assert got[key] is True and got["user_input"] == "" and got["timed_out"] is False


def test_os_account_is_the_euid_account_not_user(monkeypatch):
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    assert os_account() == pwd.getpwuid(os.geteuid()).pw_name
