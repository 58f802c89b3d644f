"""diagnose_pod and collect_bundle as a user runs them: from their own directory, with relative paths.

Real ansible-playbook subprocesses; the live runs talk HTTP to the emulator. Checks what issue 15 names:
relative dump_dir/report_dir/bundle_dir resolve against the user's directory, a .tar.gz dump works,
`pod_namespace` prints no WARNING, blank survey answers count as unset, manual steps reach the console
and the Markdown report, runbook links are relative to the report, missing inputs are one clear line.
"""

import json
import os
import subprocess
import tarfile

import pytest

from ansible_collections.aiops.k8s.plugins.plugin_utils.markdown import md_inline
from tests.support import scenarios
from tests.support.fixtures import ansible_environment

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")


def run(name, cwd, env, *extra):
    cmd = [PLAYBOOK, os.path.join(REPO, "playbooks", name + ".yml")]
    for item in extra:
        cmd += ["-e", item]
    proc = subprocess.run(cmd, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def offline_env(tmp_path):
    """No cluster configured at all: HOME without ~/.kube, no KUBECONFIG / K8S_AUTH_*."""
    env = ansible_environment(str(tmp_path / "kubeconfig"))
    for name in ("K8S_AUTH_KUBECONFIG", "KUBECONFIG", "KUBERNETES_SERVICE_HOST"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    env["HOME"] = str(tmp_path / "home")
    env["ANSIBLE_LOCAL_TEMP"] = str(tmp_path / "ansible-tmp")
    return env


def test_relative_archive_and_report_dir_from_the_users_directory(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    with tarfile.open(str(work / "dump.tar.gz"), "w:gz") as out:
        out.add(os.path.join(REPO, "examples", "cluster-dump"), arcname="cluster-dump")
    # Blank survey answers (selector, pod, report_dir of other runs) must count as unset.
    env = dict(offline_env(tmp_path), ANSIBLE_SHOW_CUSTOM_STATS="1")
    rc, out = run("diagnose_pod", work, env, "dump_dir=dump.tar.gz", "report_dir=reports/today",
                  "pod_namespace=shop", "selector=", "pod=", "field_selector=", "as_of=")
    assert rc == 0, out
    assert "WARNING" not in out
    # The workflow artifact is the summary and ids; the evidence stays in the report file.
    stats = out[out.index("CUSTOM STATS"):]
    assert "aiops_diagnosis_summary" in stats and "category: OOMKilled" in stats
    assert "evidence" not in stats and "remediations" not in stats
    report = work / "reports" / "today"
    assert "Report written to %s/diagnosis.md" % report in out
    assert not os.path.exists(os.path.join(REPO, "playbooks", "reports"))
    data = json.loads((report / "diagnosis.json").read_text())
    assert data["source"] == "dump" and {d["namespace"] for d in data["diagnoses"]} == {"shop"}
    manual = [fix for d in data["diagnoses"] for fix in d["remediations"] if fix.get("manual_steps")]
    assert manual
    step = manual[0]["manual_steps"][0]
    assert "- " + step in out                                      # console
    markdown = (report / "diagnosis.md").read_text()
    assert "1. " + md_inline(step) in markdown                     # Markdown, escaped like all cluster text
    # Runbook links are relative to the report and the linked files travel with it.
    for d in data["diagnoses"]:
        assert "](%s)" % d["runbook"] in markdown
        assert (report / d["runbook"]).is_file()
    assert ".collections" not in markdown and REPO not in markdown


def test_missing_inputs_name_the_absolute_path_and_the_next_step(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    env = offline_env(tmp_path)
    rc, out = run("diagnose_pod", work, env, "dump_dir=nowhere")
    assert rc != 0
    assert "Dump directory %s does not exist" % (work / "nowhere") in out

    rc, out = run("diagnose_pod", work, env, "kubeconfig=missing.yaml", "pod_namespace=shop")
    assert rc != 0
    assert "Kubeconfig %s does not exist: pass -e kubeconfig=PATH" % (work / "missing.yaml") in out
    assert "Invalid kube-config" not in out

    rc, out = run("collect_bundle", work, env, "bundle_dir=bundle")
    assert rc != 0
    assert "No kubeconfig found (checked %s/home/.kube/config)" % tmp_path in out
    assert "pass -e kubeconfig=PATH" in out


def test_bundle_to_relative_dir_with_the_old_namespace_name_then_diagnose_it(kube_api, tmp_path):
    objects, logs = scenarios.build(["crashloop-traceback", "oom-killed"])
    scenarios.seed(kube_api, objects, logs)
    work = tmp_path / "work"
    work.mkdir()
    env = ansible_environment(kube_api.kubeconfig)
    # `-e namespace=` is the old spelling: it still works (the log-target template no longer uses
    # Jinja2's namespace() that the variable would shadow).
    rc, out = run("collect_bundle", work, env, "bundle_dir=bundle", "namespace=shop")
    assert rc == 0, out
    bundle = work / "bundle"
    assert (bundle / "nodes.json").is_file() and (bundle / "shop" / "pods.json").is_file()
    assert any(name.endswith(".previous.log") for _d, _s, files in os.walk(str(bundle)) for name in files)
    rc, out = run("diagnose_pod", work, env, "dump_dir=bundle", "k8s_namespace=shop")
    assert rc == 0, out
    assert "WARNING" not in out
    assert "CrashLoopBackOff" in out and "OOMKilled" in out


def test_pasted_describe_and_events_text_from_the_users_directory(tmp_path):
    """A support engineer's ticket attachments, relative to where they run: diagnosed offline, never the
    bundled example (no cluster is configured here)."""
    work = tmp_path / "work"
    work.mkdir()
    captures = os.path.join(REPO, "tests", "unit", "classify", "captures")
    (work / "describe.txt").write_text(open(os.path.join(captures, "describe_1_19_two_pods.txt")).read())
    (work / "events.txt").write_text(open(os.path.join(captures, "events_default.txt")).read())
    rc, out = run("diagnose_pod", work, offline_env(tmp_path), "describe_file=describe.txt", "events_file=events.txt",
                  "report_dir=ticket")
    assert rc == 0, out
    assert "WARNING" not in out and "diagnosing the bundled example" not in out
    data = json.loads((work / "ticket" / "diagnosis.json").read_text())
    assert data["source"] == "capture" and data["diagnoses"]
    assert all(d["category"] != "Healthy" for d in data["diagnoses"])
