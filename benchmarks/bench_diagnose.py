"""Benchmark: cluster-wide diagnosis against the API emulator, a per-pod kubectl baseline, and offline
classification of a large dump. Prints Markdown tables (docs/benchmarks.md keeps the measured ones).

    .venv/bin/python benchmarks/bench_diagnose.py                        # 5,000 pods / 20 namespaces
    .venv/bin/python benchmarks/bench_diagnose.py --dump-pods 0 --scenarios latency --repeat 7
    .venv/bin/python benchmarks/bench_diagnose.py --pods 500 --dump-pods 2000 --baseline-sample 10

Scenarios (--scenarios, default both): ``quiet`` (no injected latency) and ``latency`` (the emulator adds
--latency ms, default 10, to every API request and --log-latency ms more, default 40, to each pod log read:
the kubelet hop of a remote cluster). For each, one table row:
- wall time of pod_diagnose all_namespaces through `ansible-playbook` (Ansible start-up included; a one-task
  playbook, median of --repeat runs) and of the shipped playbooks/diagnose_pod.yml writing its JSON + Markdown
  report (median of --playbook-repeat); API requests and log reads the emulator served;
- a kubectl baseline under the same latency, doing what a shell script does: `kubectl get pods -A -o json`
  once, then for each failing pod `kubectl get pod -o json`, `kubectl get events --field-selector
  involvedObject.name=...` and `kubectl logs --previous`. With --baseline-sample N only N failing pods are run
  and the total is extrapolated linearly (the table says so); the speed-up is that total over the task's wall;
- details: the same gather + classify in-process without Ansible, peak RSS, and with --throttle N the 429
  answers (the first N API requests of each run get 429 + Retry-After).
The load average at the start is printed with the table: on a shared machine the figures are not comparable.

Offline (--dump-pods N, 0 to skip): a dump of N pods written in the kubectl cluster-info dump layout, read with
the dump source and classified; pods/second for classification alone and for read + classify.

With --metrics (only this mode runs): the in-process cluster-wide gather with and without usage from
metrics.k8s.io (LiveSource(metrics=True)), alternating runs, median of --repeat each: extra API requests
(per namespace) and the time difference.

    .venv/bin/python benchmarks/bench_diagnose.py --metrics --repeat 5
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / ".collections")]

from tests.support import dumpwriter, scenario_metrics, scenarios  # noqa: E402
from tests.support.kube_emulator import KubeEmulator  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose_pod  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import transport_from_kubeconfig  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target  # noqa: E402
from ansible_collections.aiops.k8s.plugins.module_utils.common.heap import collector_paused  # noqa: E402

NOW = datetime.datetime.now(datetime.timezone.utc)
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars: {ansible_python_interpreter: "{{ ansible_playbook_python }}"}
  tasks:
    - aiops.k8s.pod_diagnose: {all_namespaces: true, kubeconfig: "%s"}
"""
EMPTY_PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars: {ansible_python_interpreter: "{{ ansible_playbook_python }}"}
  tasks:
    - ansible.builtin.ping:
"""


def run_measured(argv, env=None):
    """Run a command in a child Python so RUSAGE_CHILDREN covers only its own descendants."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "start = time.perf_counter()\n"
               "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode\n"
               "wall = time.perf_counter() - start\n"
               "print(rc, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", wrapper] + argv, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2]) / 1024.0


def failing_pods(objects):
    return [o for o in objects if o["kind"] == "Pod"
            and (o["metadata"].get("labels") or {}).get(scenarios.EXPECT_LABEL, "Healthy") != "Healthy"]


def kubectl_loop(kubeconfig, failing, sample_size):
    """What a per-pod shell script does: one `get pods -A`, then get pod / get events / logs per failing pod."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    sample = failing if not sample_size else failing[:sample_size]
    base = [kubectl, "--kubeconfig", kubeconfig]
    start = time.perf_counter()
    subprocess.run(base + ["get", "pods", "-A", "-o", "json"], stdout=subprocess.DEVNULL, check=True)
    list_s = time.perf_counter() - start
    start = time.perf_counter()
    for pod in sample:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        subprocess.run(base + ["get", "pod", name, "-n", ns, "-o", "json"], stdout=subprocess.DEVNULL, check=False)
        subprocess.run(base + ["get", "events", "-n", ns, "--field-selector",
                               "involvedObject.name=" + name, "-o", "json"], stdout=subprocess.DEVNULL, check=False)
        subprocess.run(base + ["logs", name, "-n", ns, "--previous", "--tail", "50"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    per_pod = (time.perf_counter() - start) / max(1, len(sample))
    return dict(list=list_s, per_pod=per_pod, sampled=len(sample), failing=len(failing),
                total=list_s + per_pod * len(failing))


def timed_runs(api, argv, env, repeat, args):
    """``repeat`` ansible-playbook runs; (walls, requests served by the last run, rss of the last run)."""
    walls, rss = [], 0.0
    for _run in range(repeat):
        api.clear_requests()
        if args.throttle:
            api.set_options(throttle=args.throttle, retry_after=args.retry_after)
        rc, wall, rss = run_measured(argv, env=env)
        if rc != 0:
            raise SystemExit("%s failed (rc=%d)" % (" ".join(argv), rc))
        walls.append(wall)
    return walls, list(api.requests), rss


def bench_live(args, workdir):
    """Each scenario (no latency / injected latency) on one emulator: the scan through ansible-playbook
    (one pod_diagnose task, and the shipped diagnose_pod.yml writing its report), in-process, and kubectl."""
    objects, logs = scenarios.make_fleet(namespaces=args.namespaces, pods=args.pods,
                                         failing_ratio=args.failing, now=NOW)
    failing = failing_pods(objects)
    rows = {"scenarios": []}
    with KubeEmulator() as api:
        api.load(objects, scenarios.logs_as_list(logs))
        api.settle()  # pre-serialised before the measured LISTs
        kubeconfig = api.write_kubeconfig(os.path.join(workdir, "kubeconfig"))
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), PATH=str(ROOT / ".venv/bin") + ":" +
                   os.environ["PATH"])
        playbook = os.path.join(workdir, "scan.yml")
        empty = os.path.join(workdir, "empty.yml")
        with open(playbook, "w") as handle:
            handle.write(PLAYBOOK % kubeconfig)
        with open(empty, "w") as handle:
            handle.write(EMPTY_PLAYBOOK)
        ansible_playbook = str(ROOT / ".venv/bin/ansible-playbook")
        rows["startup"] = min(run_measured([ansible_playbook, empty], env=env)[1] for _run in range(3))
        shipped = [ansible_playbook, str(ROOT / "playbooks" / "diagnose_pod.yml"), "-e", "kubeconfig=" + kubeconfig,
                   "-e", "report_dir=" + os.path.join(workdir, "report")]
        for name, latency, log_latency in args.scenario_list:
            api.set_options(latency=latency / 1000.0, log_latency=log_latency / 1000.0)
            row = dict(name=name, latency=latency, log_latency=log_latency)
            walls, served, row["rss"] = timed_runs(api, [ansible_playbook, playbook], env, args.repeat, args)
            requests = [r for r in served if r["method"] == "GET"]
            row.update(wall=statistics.median(walls), wall_min=min(walls), wall_max=max(walls), runs=len(walls),
                       requests=len(requests), log_reads=sum(1 for r in requests if r["path"].endswith("/log")),
                       throttled=sum(1 for r in served if r.get("status") == 429))
            if args.playbook_repeat:
                walls = timed_runs(api, shipped, env, args.playbook_repeat, args)[0]
                row.update(playbook_wall=statistics.median(walls), playbook_runs=len(walls))
            api.clear_requests()
            with collector_paused():  # as pod_diagnose runs it
                start = time.perf_counter()
                transport = transport_from_kubeconfig(kubeconfig)
                gathered = LiveSource(transport).gather(Target(all_namespaces=True))
                row["gather"] = time.perf_counter() - start
                start = time.perf_counter()
                result = diagnose(gathered)
                row.update(classify=time.perf_counter() - start, diagnosed=len(result["diagnoses"]),
                           scanned=result["scanned"])
            row["kubectl"] = kubectl_loop(kubeconfig, failing, args.baseline_sample) if args.baseline_sample >= 0 \
                else None
            rows["scenarios"].append(row)
    return rows


def print_live(args, live):
    """The scenario table (issue 15 targets), then details per scenario."""
    print("\n## Cluster-wide scan: %d pods in %d namespaces, %.0f%% failing (emulator over HTTP; load average "
          "%s at the start)\n" % (args.pods, args.namespaces, args.failing * 100, args.load))
    print("| Scenario | Wall s, pod_diagnose task (median of %d; min-max) | Wall s, diagnose_pod.yml + report "
          "| Requests | Log reads | kubectl loop s | Speed-up | Target |" % args.repeat)
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
    for row in live["scenarios"]:
        k = row["kubectl"]
        loop = ("%.1f%s" % (k["total"], " (extrapolated from %d pods)" % k["sampled"] if k["sampled"] < k["failing"]
                            else "")) if k else "n/a"
        target = "<= 6 s, >= 25x" if row["latency"] or row["log_latency"] else "<= 4 s"
        print("| %s | %.2f (%.2f-%.2f) | %s | %d | %d | %s | %s | %s |" % (
            row["name"], row["wall"], row["wall_min"], row["wall_max"],
            "%.2f (median of %d)" % (row["playbook_wall"], row["playbook_runs"]) if "playbook_wall" in row else "n/a",
            row["requests"], row["log_reads"], loop, "%.1fx" % (k["total"] / row["wall"]) if k else "n/a", target))
    print("\nAnsible start-up alone (one-task playbook, best of 3): %.2f s." % live["startup"])
    for row in live["scenarios"]:
        print("%s: in-process gather %.2f s, classify %.3f s; %d / %d pods scanned / diagnosed; peak RSS %.0f MiB%s."
              % (row["name"], row["gather"], row["classify"], row["scanned"], row["diagnosed"], row["rss"],
                 "; %d answers throttled with 429 (all retried)" % row["throttled"] if args.throttle else ""))
        k = row["kubectl"]
        if k:
            print("  kubectl: `get pods -A -o json` %.2f s, then %.3f s per failing pod (mean of %d)."
                  % (k["list"], k["per_pod"], k["sampled"]))


def bench_offline(args, workdir):
    objects, logs = scenarios.make_fleet(namespaces=max(1, args.dump_pods // 250), pods=args.dump_pods,
                                         failing_ratio=args.failing, now=NOW)
    dump = os.path.join(workdir, "dump")
    dumpwriter.write_dump(dump, objects, logs)
    with collector_paused():  # as pod_diagnose runs it (module_utils/common/heap.py)
        start = time.perf_counter()
        gathered = DumpSource(dump).gather(Target(all_namespaces=True))
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        for evidence in gathered.pods:
            diagnose_pod(evidence)
        classify_s = time.perf_counter() - start
    return dict(pods=len(gathered.pods), read=read_s, classify=classify_s)


def bench_metrics(args):
    """Cluster-wide gather + classify in-process, metrics off and on, alternating so load drifts hit both."""
    objects, logs = scenarios.make_fleet(namespaces=args.namespaces, pods=args.pods, failing_ratio=args.failing,
                                         now=NOW)
    samples = scenario_metrics.metrics_for(objects, now=NOW)
    times = {False: [], True: []}
    requests = {}
    with KubeEmulator() as api:
        api.load(objects + samples, scenarios.logs_as_list(logs))
        api.settle()
        workdir = tempfile.mkdtemp(prefix="aiops-bench-")
        kubeconfig = api.write_kubeconfig(os.path.join(workdir, "kubeconfig"))
        for _run in range(args.repeat):
            for with_metrics in (False, True):
                api.clear_requests()
                start = time.perf_counter()
                gathered = LiveSource(transport_from_kubeconfig(kubeconfig), metrics=with_metrics).gather(
                    Target(all_namespaces=True))
                result = diagnose(gathered)
                times[with_metrics].append(time.perf_counter() - start)
                requests[with_metrics] = len(api.requests)
                with_usage = sum(1 for d in result["diagnoses"] if d.get("usage"))
        shutil.rmtree(workdir, ignore_errors=True)
    off, on = sorted(times[False])[args.repeat // 2], sorted(times[True])[args.repeat // 2]
    extra = requests[True] - requests[False]
    print("\n## Usage from metrics.k8s.io: cluster-wide scan of %d pods in %d namespaces (in-process, emulator over "
          "HTTP)\n" % (args.pods, args.namespaces))
    print("| Measure | metrics off | metrics on | target |")
    print("| --- | --- | --- | --- |")
    print("| Gather + classify, median of %d (min-max) | %.2f s (%.2f-%.2f) | %.2f s (%.2f-%.2f) | on within 10%% |"
          % (args.repeat, off, min(times[False]), max(times[False]), on, min(times[True]), max(times[True])))
    print("| Difference of medians | | %+.1f%% | <= +10%% |" % (100.0 * (on - off) / off))
    # On a shared machine the fastest run is the least disturbed one: report it too.
    print("| Best run / difference | %.2f s | %.2f s (%+.1f%%) | |" % (
        min(times[False]), min(times[True]), 100.0 * (min(times[True]) - min(times[False])) / min(times[False])))
    print("| API requests | %d | %d (+%d) | |" % (requests[False], requests[True], extra))
    print("| Extra requests per namespace | | %.2f | <= 1 |" % (extra / float(args.namespaces)))
    print("| Failing pods whose diagnosis carries usage | | %d | |" % with_usage)
    return dict(off=times[False], on=times[True], requests=requests, extra_per_namespace=extra / float(args.namespaces))


def main():
    parser = argparse.ArgumentParser(description="pod_diagnose benchmark")
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--failing", type=float, default=0.1)
    parser.add_argument("--baseline-sample", type=int, default=100,
                        help="failing pods the kubectl baseline runs (0 = all, -1 = no baseline); the rest is "
                             "extrapolated")
    parser.add_argument("--dump-pods", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5, help="ansible-playbook runs; the median is reported")
    parser.add_argument("--playbook-repeat", type=int, default=3,
                        help="runs of the shipped diagnose_pod.yml (with report_dir) per scenario; 0 = skip")
    parser.add_argument("--scenarios", default="quiet,latency",
                        help="comma list: quiet (no injected latency), latency (--latency/--log-latency)")
    parser.add_argument("--json", help="also write the raw numbers here")
    parser.add_argument("--latency", type=float, default=10.0, help="ms the latency scenario adds to every request")
    parser.add_argument("--log-latency", type=float, default=40.0, help="ms more for each pod log read")
    parser.add_argument("--throttle", type=int, default=0, help="answer the first N requests of each run with 429")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent with the 429s")
    parser.add_argument("--metrics", action="store_true", help="only compare the scan with and without usage")
    args = parser.parse_args()
    args.load = "%.2f" % os.getloadavg()[0]
    known = {"quiet": ("no injected latency", 0.0, 0.0),
             "latency": ("%g ms per request + %g ms per log read" % (args.latency, args.log_latency), args.latency,
                         args.log_latency)}
    try:
        args.scenario_list = [known[name.strip()] for name in args.scenarios.split(",") if name.strip()]
    except KeyError as exc:
        parser.error("unknown scenario %s: use quiet and/or latency" % exc)
    if args.metrics:
        numbers = bench_metrics(args)
        if args.json:
            with open(args.json, "w") as handle:
                json.dump({"metrics": numbers, "args": vars(args)}, handle, indent=2)
        return
    workdir = tempfile.mkdtemp(prefix="aiops-bench-")
    try:
        live = bench_live(args, workdir)
        offline = bench_offline(args, workdir) if args.dump_pods > 0 else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print_live(args, live)
    o = offline
    if o is None:  # --dump-pods 0: live scan only
        if args.json:
            with open(args.json, "w") as handle:
                json.dump({"live": live, "args": vars(args)}, handle, indent=2)
        return
    print("\n## Offline: dump of %d pods (kubectl cluster-info dump layout)\n" % o["pods"])
    print("| Measure | value | target |")
    print("| --- | --- | --- |")
    print("| Classification only | %.2f s, %.0f pods/s | >= 10,000 pods/s |"
          % (o["classify"], o["pods"] / o["classify"]))
    print("| Read dump + classify | %.2f s, %.0f pods/s | |"
          % (o["read"] + o["classify"], o["pods"] / (o["read"] + o["classify"])))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"live": live, "offline": offline, "args": vars(args)}, handle, indent=2)


if __name__ == "__main__":
    main()
