"""pod_diagnose run inside the controller (plugins/action/pod_diagnose.py) vs the module round trip.

The action plugin skips AnsiballZ only when the module would run on the controller's own Python anyway
(local connection, ansible_python_interpreter = ansible_playbook_python). These runs prove the two paths
return the same result (masking of no_log values and failures included), that each path is the one
taken, and that report_dir writes the same files either way. Real ansible-playbook subprocesses; the live
run talks HTTP to the emulator.
"""

import json
import os
import subprocess

import pytest

from tests.support import scenarios
from tests.integration.test_in_process_modules import PLAY
from tests.support.fixtures import ansible_environment

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
DUMP = os.path.join(REPO, "examples", "cluster-dump")


def run_play(tmp_path, name, args, in_process, env):
    play = tmp_path / ("%s.yml" % name)
    play.write_text(PLAY % ("aiops.k8s.pod_diagnose", json.dumps(args)))
    out = tmp_path / ("%s-%s.json" % (name, "here" if in_process else "module"))
    proc = subprocess.run([PLAYBOOK, str(play), "-vvv", "-e", "out=%s" % out,
                           "-e", "aiops_diagnose_in_process=%s" % ("true" if in_process else "false")],
                          cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # -vvv prints every module file the local connection puts in place.
    assert ("AnsiballZ_pod_diagnose.py" in proc.stdout) is not in_process, proc.stdout[-3000:]
    result = json.loads(out.read_text())
    for key in ("_ansible_no_log", "_ansible_verbose_always"):
        result.pop(key, None)
    return result


def both(tmp_path, name, args, env):
    return run_play(tmp_path, name, args, True, env), run_play(tmp_path, name, args, False, env)


def test_same_result_offline_with_no_log_masking_and_report(tmp_path):
    env = ansible_environment(str(tmp_path / "kubeconfig"))
    # api_key is no_log: its value ("shop", the namespace) must be masked in the result by both paths.
    here, module = both(tmp_path, "dump", {"dump_dir": DUMP, "api_key": "shop", "report_dir": str(tmp_path / "r"),
                                           "report_text": True}, env)
    assert here == module
    namespaces = set(d["namespace"] for d in here["diagnoses"])
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in namespaces and "shop" not in namespaces
    assert here["report_index"] == [{"id": d["diagnosis_id"], "kind": d["kind"], "namespace": d["namespace"],
                                     "name": d["name"], "category": d["category"]} for d in here["diagnoses"]]
    assert all(d["root_cause"] in here["report_text"] for d in here["diagnoses"])
    files = here["report_files"]
    assert files["json"] == str(tmp_path / "r" / "diagnosis.json") and os.path.isfile(files["markdown"])
    assert files["runbooks"] and all(os.path.isfile(path) for path in files["runbooks"])
    saved = json.loads(open(files["json"]).read())
    assert "invocation" not in saved and "changed" not in saved and saved["diagnoses"] == here["diagnoses"]


def test_same_failures(tmp_path):
    env = ansible_environment(str(tmp_path / "kubeconfig"))
    here, module = both(tmp_path, "bad", {"dump_dir": DUMP, "describe_file": DUMP + "/nodes.json"}, env)
    assert here["failed"] and here["msg"] == module["msg"]
    assert "cannot be combined" in here["msg"]
    here, module = both(tmp_path, "missing", {"dump_dir": str(tmp_path / "nowhere")}, env)
    assert here["failed"] and here["msg"] == module["msg"]


def test_same_result_live(kube_api, tmp_path):
    objects, logs = scenarios.build(["crashloop-traceback", "oom-killed", "image-not-found", "config-missing-key"])
    scenarios.seed(kube_api, objects, logs)
    env = ansible_environment(kube_api.kubeconfig)
    here, module = both(tmp_path, "live", {"namespace": "shop"}, env)
    assert here["api_requests"] == module["api_requests"] > 0
    # The evidence clock is each run's own "now": compare everything that does not depend on it.
    assert [(d["name"], d["category"], d["root_cause"], d["remediations"]) for d in here["diagnoses"]] == \
        [(d["name"], d["category"], d["root_cause"], d["remediations"]) for d in module["diagnoses"]]
    assert here["summary"] == module["summary"] and here["problems"] == module["problems"]
