"""Fleet benchmark: N emulated clusters x M pods, playbooks/diagnose_fleet.yml at several fork counts.

    .venv/bin/python benchmarks/bench_fleet.py                      # 10 clusters x 2,000 pods, forks 1 5 10
    .venv/bin/python benchmarks/bench_fleet.py --clusters 3 --pods 200 --forks 1 3   # quick

Each cluster is its own emulator process (tests/support/kube_emulator.py serve), bulk-loaded through
POST /_emulator/state. The inventory is the aiops.k8s.kubeconfig plugin over one kubeconfig with a context
per cluster, exactly as docs/fleet.md describes. Measured per fork count:
  wall         seconds for the whole ansible-playbook run (start-up, N diagnoses, aggregation, reports)
  per-cluster  mean / max seconds of one cluster's diagnosis (from the report's duration_seconds)
  ctl RSS      peak resident memory (VmHWM) of the ansible-playbook controller process
  tree RSS     peak of the summed RSS of every process of the run (controller, forks, modules), sampled
Results are printed as a Markdown table and written to benchmarks/results/fleet.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".venv", "bin")
TOKEN = "aiops-bench-token"
PAGE = 4096

# Share of pods per failure shape; the rest are healthy. Roughly what a bad day looks like.
FAILURES = (("crash", 0.04), ("image", 0.03), ("oom", 0.02), ("unschedulable", 0.01))


def pod(namespace, name, owner_rs, shape, rng):
    """One pod in a given failure shape, with the status a kubelet/scheduler would have written."""
    meta = {"name": name, "namespace": namespace, "labels": {"app": owner_rs.rsplit("-", 1)[0]},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner_rs,
                                 "uid": "uid-rs-%s-%s" % (namespace, owner_rs), "controller": True}]}
    spec = {"containers": [{"name": "app", "image": "registry.example/%s:1.0" % owner_rs,
                            "resources": {"limits": {"memory": "256Mi"}}}]}
    running = {"name": "app", "ready": True, "restartCount": 0, "image": spec["containers"][0]["image"],
               "state": {"running": {"startedAt": "2026-11-25T08:00:00Z"}}}
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [running]}
    restarts = rng.randint(3, 40)
    if shape == "crash":
        running.update(ready=False, restartCount=restarts,
                       state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting"}},
                       lastState={"terminated": {"reason": "Error", "exitCode": 1,
                                                 "finishedAt": "2026-11-25T09:00:05Z"}})
    elif shape == "oom":
        running.update(ready=False, restartCount=restarts,
                       state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting"}},
                       lastState={"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                                 "finishedAt": "2026-11-25T09:00:05Z"}})
    elif shape == "image":
        running.update(ready=False, state={"waiting": {"reason": "ImagePullBackOff",
                                                       "message": "Back-off pulling image"}})
        status["phase"] = "Pending"
    elif shape == "unschedulable":
        status = {"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient memory."}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def cluster_objects(index, pods, seed=7):
    """Namespaces of 10-replica Deployments (Deployment -> ReplicaSet -> Pods), failures spread at random."""
    rng = random.Random(seed * 1000 + index)
    objects = []
    replicas = 10
    for start in range(0, pods, replicas):
        namespace = "team-%02d" % ((start // 200) % 50)
        app = "app-%04d" % (start // replicas)
        rs = "%s-5f7c9" % app
        objects.append({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": app, "namespace": namespace, "uid": "uid-dep-%s-%s" % (namespace, app)},
                        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                                 "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": []}}}})
        objects.append({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "metadata": {"name": rs, "namespace": namespace, "uid": "uid-rs-%s-%s" % (namespace, rs),
                                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": app,
                                                          "uid": "uid-dep-%s-%s" % (namespace, app),
                                                          "controller": True}]},
                        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}}}})
        for offset in range(min(replicas, pods - start)):
            draw, shape = rng.random(), "healthy"
            for name, share in FAILURES:
                if draw < share:
                    shape = name
                    break
                draw -= share
            objects.append(pod(namespace, "%s-%05d" % (rs, start + offset), rs, shape, rng))
    return objects


class Emulators(object):
    """N emulator processes on free ports, stopped (SIGTERM to their own pids) on exit."""

    def __init__(self, count, workdir):
        self.count, self.workdir, self.procs, self.urls = count, workdir, [], []

    def __enter__(self):
        for index in range(self.count):
            kubeconfig = os.path.join(self.workdir, "emu-%02d.kubeconfig" % index)
            proc = subprocess.Popen([sys.executable, "-m", "tests.support.kube_emulator", "serve", "--port", "0",
                                     "--token", TOKEN, "--kubeconfig-out", kubeconfig,
                                     "--pidfile", kubeconfig + ".pid"],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.procs.append(proc)
            deadline = time.time() + 30
            while not os.path.exists(kubeconfig + ".pid"):
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit("emulator %d did not start: %s" % (index, proc.stderr.read().decode()[-500:]))
                time.sleep(0.05)
            with open(kubeconfig) as handle:
                self.urls.append(yaml.safe_load(handle)["clusters"][0]["cluster"]["server"])
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def load_state(url, objects):
    body = json.dumps({"objects": objects, "logs": []}).encode()
    request = urllib.request.Request(url + "/_emulator/state", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()


def write_inventory(workdir, urls):
    config = {"apiVersion": "v1", "kind": "Config", "users": [{"name": "bench", "user": {"token": TOKEN}}],
              "clusters": [{"name": "emu-%02d" % i, "cluster": {"server": url}} for i, url in enumerate(urls)],
              "contexts": [{"name": "emu-%02d" % i, "context": {"cluster": "emu-%02d" % i, "user": "bench"}}
                           for i in range(len(urls))]}
    kubeconfig = os.path.join(workdir, "fleet.kubeconfig")
    with open(kubeconfig, "w") as handle:
        yaml.safe_dump(config, handle)
    inventory = os.path.join(workdir, "bench.aiops_kubeconfig.yml")
    with open(inventory, "w") as handle:
        yaml.safe_dump({"plugin": "aiops.k8s.kubeconfig", "kubeconfig": [kubeconfig]}, handle)
    return inventory


def _tree(pid):
    """pid and every descendant, from /proc (Linux)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_playbook(inventory, forks, workdir):
    """Run the fleet playbook once; return wall seconds, peak RSS figures and the report model."""
    report_dir = os.path.join(workdir, "report-f%d" % forks)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_INVENTORY_ENABLED="aiops.k8s.kubeconfig")
    for name in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_HOST"):
        env.pop(name, None)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(ROOT, "playbooks", "diagnose_fleet.yml"),
           "-f", str(forks), "-e", "report_dir=%s" % report_dir]
    peak = {"ctl": 0, "tree": 0}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = []
    reader = threading.Thread(target=lambda: output.append(proc.stdout.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        peak["ctl"] = max(peak["ctl"], _status_kb(proc.pid, "VmHWM"))
        peak["tree"] = max(peak["tree"], sum(_status_kb(pid, "VmRSS") for pid in _tree(proc.pid)))
        time.sleep(0.1)
    wall = time.perf_counter() - started
    reader.join()
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed (forks=%d):\n%s" % (forks, output[0].decode()[-3000:]))
    with open(os.path.join(report_dir, "fleet-report.json")) as handle:
        model = json.load(handle)
    return wall, peak, model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--pods", type=int, default=2000, help="pods per cluster")
    parser.add_argument("--forks", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "fleet.json"))
    parser.add_argument("--keep", action="store_true", help="keep the work directory (reports, kubeconfig)")
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="aiops-bench-fleet-")
    rows = []
    try:
        with Emulators(args.clusters, workdir) as emulators:
            load_started = time.perf_counter()
            for index, url in enumerate(emulators.urls):
                load_state(url, cluster_objects(index, args.pods))
            load_seconds = time.perf_counter() - load_started
            print("loaded %d clusters x %d pods in %.1fs" % (args.clusters, args.pods, load_seconds), flush=True)
            inventory = write_inventory(workdir, emulators.urls)
            for forks in args.forks:
                wall, peak, model = run_playbook(inventory, forks, workdir)
                durations = [c["duration_seconds"] for c in model["clusters"] if c["status"] == "ok"]
                assert model["totals"]["ok"] == args.clusters, model["totals"]
                assert model["totals"]["scanned"] == args.clusters * args.pods, model["totals"]
                rows.append({"forks": forks, "wall_seconds": round(wall, 1),
                             "cluster_mean_seconds": round(statistics.mean(durations), 1),
                             "cluster_max_seconds": round(max(durations), 1),
                             "controller_peak_rss_mb": round(peak["ctl"] / 1024.0),
                             "tree_peak_rss_mb": round(peak["tree"] / 1024.0),
                             "failing": model["totals"]["failing"]})
                print("forks=%d done in %.1fs" % (forks, wall), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("work directory kept: %s" % workdir)

    base = rows[0]["wall_seconds"]
    print("\n%d clusters x %d pods, %d CPUs, load average at end %.1f\n" % (
        args.clusters, args.pods, os.cpu_count() or 0, os.getloadavg()[0]))
    print("| forks | wall (s) | speed-up | per cluster mean / max (s) | controller peak RSS (MB) | all processes peak RSS (MB) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| %d | %.1f | %.2fx | %.1f / %.1f | %d | %d |" % (
            row["forks"], row["wall_seconds"], base / row["wall_seconds"], row["cluster_mean_seconds"],
            row["cluster_max_seconds"], row["controller_peak_rss_mb"], row["tree_peak_rss_mb"]))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump({"clusters": args.clusters, "pods": args.pods, "cpus": os.cpu_count(), "rows": rows}, handle,
                  indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
