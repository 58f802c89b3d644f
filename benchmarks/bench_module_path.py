"""Where a module runs: inside the controller's worker (plugin_utils/in_process.py) vs an AnsiballZ process.

One ansible-playbook run with TASKS tasks of aiops.k8s.remediation_plan against the Kubernetes API emulator
over HTTP (it reads the target, signs the plan), repeated in each mode, interleaved so host-speed drift hits
both alike. Prints wall and CPU seconds (the playbook and every process it started) per run and per task.

    .venv/bin/python benchmarks/bench_module_path.py [--tasks 8] [--repeat 5]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, ".collections")]

from tests.integration.test_remediation_actions import WEB, diagnosis, seed_deployment  # noqa: E402
from tests.support.fixtures import TOKEN, KubeApi, ansible_environment  # noqa: E402
from tests.support.kube_emulator import KubeEmulator  # noqa: E402

PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
PLAY = """- {hosts: localhost, connection: local, gather_facts: false,
   vars: {ansible_python_interpreter: "{{ ansible_playbook_python }}"}, tasks: [%s]}
"""
TASK = """{name: "Plan %d", aiops.k8s.remediation_plan: {diagnosis: "{{ lookup('ansible.builtin.file', diagnosis_file) | from_json }}"}}"""


def one_run(play, env, in_process, diagnosis_file):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([PLAYBOOK, play, "-e", "aiops_in_process=%s" % ("true" if in_process else "false"),
                           "-e", "diagnosis_file=%s" % diagnosis_file], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed:\n%s" % (proc.stdout + proc.stderr)[-3000:])
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-module-path-")
    emulator = KubeEmulator(port=0).start()
    try:
        kubeconfig = emulator.write_kubeconfig(os.path.join(work, "kubeconfig"), token=TOKEN)
        seed_deployment(KubeApi(emulator, kubeconfig))
        diagnosis_file = os.path.join(work, "diagnosis.json")
        with open(diagnosis_file, "w") as handle:
            json.dump(diagnosis("set_memory_limit", WEB, {"memory_limit": "384Mi"}), handle)
        play = os.path.join(work, "plan.yml")
        with open(play, "w") as handle:
            handle.write(PLAY % ", ".join(TASK % (n + 1) for n in range(options.tasks)))
        env = ansible_environment(kubeconfig, {"XDG_CONFIG_HOME": os.path.join(work, "config")})
        one_run(play, env, True, diagnosis_file)           # warm the page cache and the plan key
        runs = {True: [], False: []}
        for _round in range(options.repeat):
            for mode in (True, False):
                runs[mode].append(one_run(play, env, mode, diagnosis_file))
    finally:
        emulator.stop()
    print("\n%d x aiops.k8s.remediation_plan in one playbook, %d runs each (medians)\n" % (options.tasks, options.repeat))
    print("| Where the module runs | Wall s | CPU s | Wall s per task | CPU s per task |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for mode, label in ((False, "AnsiballZ process"), (True, "controller's worker")):
        wall = statistics.median(run[0] for run in runs[mode])
        cpu = statistics.median(run[1] for run in runs[mode])
        print("| %s | %.2f | %.2f | %.3f | %.3f |" % (label, wall, cpu, wall / options.tasks, cpu / options.tasks))
    here = statistics.median(run[1] for run in runs[True])
    there = statistics.median(run[1] for run in runs[False])
    print("\nCPU saved per task: %.3f s (%.0f %% of the playbook's CPU)" % (
        (there - here) / options.tasks, 100.0 * (there - here) / there))


if __name__ == "__main__":
    main()
