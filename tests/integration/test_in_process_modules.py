"""The collection's modules run inside the controller's worker (plugin_utils/in_process.py) vs through AnsiballZ.

Both paths must give the same result: failures and their messages, no_log masking, check mode with its
diff, and the executor's refusal of a forged plan with no write reaching the cluster. -vvv shows which path
ran (the local connection names every AnsiballZ file it puts in place). Real ansible-playbook subprocesses
against the emulator over HTTP.
"""

import json
import os
import subprocess
import time

import pytest

from ansible_collections.aiops.k8s.plugins.plugin_utils import in_process
from tests.integration.test_remediation_actions import WEB, diagnosis, spec_of, writes
from tests.integration.test_remediation_playbooks import plan_first, recorded_environment

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Run the module
      %s: %s
      register: result
      ignore_errors: true
    - name: Save the result
      ansible.builtin.copy:
        content: "{{ result | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
      check_mode: false
      diff: false
"""


def run_module(kube_api, tmp_path, module, args, in_process_run, *options):
    """The registered result of one task of ``module`` and the playbook output."""
    name = "%s-%s" % (module.rsplit(".", 1)[1], "here" if in_process_run else "ansiballz")
    play = tmp_path / ("%s.yml" % name)
    play.write_text(PLAY % (module, json.dumps(args)))
    out = tmp_path / ("%s.json" % name)
    proc = subprocess.run([PLAYBOOK, str(play), "-vvv", "-e", "out=%s" % out,
                           "-e", "aiops_in_process=%s" % ("true" if in_process_run else "false")] + list(options),
                          cwd=str(tmp_path), env=recorded_environment(kube_api, tmp_path), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("AnsiballZ_%s.py" % module.rsplit(".", 1)[1] in proc.stdout) is not in_process_run, proc.stdout[-3000:]
    result = json.loads(out.read_text())
    for key in ("_ansible_no_log", "_ansible_verbose_always"):
        result.pop(key, None)
    return result, proc.stdout


def both(kube_api, tmp_path, module, args, *options):
    return [run_module(kube_api, tmp_path, module, args, here, *options)[0] for here in (True, False)]


def test_a_failure_and_no_log_masking_are_the_same_on_both_paths(kube_api, tmp_path):
    # api_key is no_log: "shop" (also the namespace in the message) must come back masked from both paths.
    diag = diagnosis("set_memory_limit", WEB, {"memory_limit": "384Mi"})
    diag["remediations"][0]["target"] = dict(WEB, name="missing")
    here, ansiballz = both(kube_api, tmp_path, "aiops.k8s.remediation_plan",
                           {"diagnosis": diag, "api_key": "shop", "host": kube_api.emulator.url,
                            "validate_certs": False})
    assert here == ansiballz
    assert here["failed"] is True and here["changed"] is False and here["aiops"] == {"kind": "plan", "version": 1}
    assert "missing" in here["msg"] and "shop" not in json.dumps(here)
    assert here["msg"] == "Deployment ********/missing not found: diagnose again"


def test_argument_errors_are_the_modules_own_on_both_paths(kube_api, tmp_path):
    here, ansiballz = both(kube_api, tmp_path, "aiops.k8s.remediation_plan", {"diagnosis": {}, "bogus": 1})
    assert here == ansiballz and here["failed"] is True
    assert "Unsupported parameters" in here["msg"] and "bogus" in here["msg"]


def test_check_mode_diff_and_a_forged_plan_refusal_match_and_write_nothing(kube_api, tmp_path):
    plan = plan_first(kube_api, tmp_path)
    before = spec_of(kube_api)
    approval = {"plan_id": plan["plan_id"], "decision": "approve", "approver": "alice", "mode": "pre_approved",
                "justification": "INC-7", "decided_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args = {"plan": plan, "approval": approval, "state_dir": str(tmp_path / "ops"), "validation_window": 1,
            "poll_interval": 0.2}
    kube_api.clear_requests()
    runs = [run_module(kube_api, tmp_path, "aiops.k8s.remediate", args, here, "--check", "--diff")
            for here in (True, False)]
    for result, output in runs:
        operation = result["operation"]
        assert result["changed"] is True and operation["status"] == "dry_run", json.dumps(result)[:3000]
        assert result["diff"]["after"] != result["diff"]["before"]
        assert "384Mi" in output                                     # --diff printed the predicted change
    assert runs[0][0]["diff"] == runs[1][0]["diff"]
    assert writes(kube_api) == [] and spec_of(kube_api) == before

    forged = dict(plan, risk_tier="trivial")
    refusals = [run_module(kube_api, tmp_path, "aiops.k8s.remediate", dict(args, plan=forged), here)[0]
                for here in (True, False)]
    for result in refusals:
        assert result["failed"] is True and result["operation"]["status"] == "refused"
        assert "it was edited" in result["msg"]
    assert refusals[0]["msg"] == refusals[1]["msg"]
    assert writes(kube_api) == [] and spec_of(kube_api) == before


def test_an_atexit_cleanup_registered_by_the_module_runs_when_it_is_done(tmp_path):
    """AnsibleModule removes its tmpdir through atexit, which a worker (os._exit) never reaches."""
    import atexit
    done = []
    register = atexit.register
    with in_process._exit_handlers():  # pylint: disable=protected-access
        atexit.register(done.append, "first")
        atexit.register(done.append, "second")
        assert done == []
    assert done == ["second", "first"] and atexit.register is register


def test_only_the_controllers_own_local_python_runs_here():
    class Templar(object):
        @staticmethod
        def template(value):
            return value

    class Task(object):
        async_val = 0
        environment = []
        delegate_to = None

    class Connection(object):
        _load_name = "ansible.builtin.local"

    class PlayContext(object):
        become = False

    class Action(object):
        _templar, _task, _connection, _play_context = Templar(), Task(), Connection(), PlayContext()

    import sys
    own = {"ansible_python_interpreter": sys.executable}
    assert in_process.runs_here(Action(), own)
    assert not in_process.runs_here(Action(), dict(own, aiops_in_process=False))
    assert not in_process.runs_here(Action(), dict(own, aiops_diagnose_in_process=False), switches=("aiops_diagnose_in_process", in_process.SWITCH))
    assert not in_process.runs_here(Action(), {"ansible_python_interpreter": "/usr/bin/python3.9"})
    assert not in_process.runs_here(Action(), {})
    action = Action()
    action._connection = type("Ssh", (), {"_load_name": "ansible.builtin.ssh"})()
    assert not in_process.runs_here(action, own)
    action = Action()
    action._play_context = type("Become", (), {"become": True})()
    assert not in_process.runs_here(action, own)
    action = Action()
    action._task = type("Env", (Task,), {"environment": [{"HTTPS_PROXY": "http://proxy"}]})()
    assert not in_process.runs_here(action, own)


def test_every_module_of_the_collection_has_an_action_that_decides_where_it_runs():
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules"))
                     if name.endswith(".py") and name != "__init__.py")
    actions = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "action"))
                     if name.endswith(".py") and name != "__init__.py")
    assert modules == actions
    for name in actions:
        if name == "approval_prompt":  # asks on the controller's terminal by design: it never runs as a module
            continue
        source = open(os.path.join(REPO, "plugins", "action", name + ".py"), encoding="utf-8").read()
        assert "in_process" in source, name
