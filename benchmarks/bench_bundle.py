"""Bundle benchmark: playbooks/collect_bundle.yml against an emulated cluster of N namespaces.

    .venv/bin/python benchmarks/bench_bundle.py                          # 30 namespaces, 3,000 pods, 10 % failing
    .venv/bin/python benchmarks/bench_bundle.py --namespaces 1 5 30 --pods 300 --repeat 3
    .venv/bin/python benchmarks/bench_bundle.py --checkout /tmp/old      # the same runs from another checkout

Each row is one emulator (tests/support/kube_emulator.py, real HTTP on 127.0.0.1) seeded by
scenarios.make_fleet, optionally with --latency ms per request and --log-latency ms more per log read.
Measured per row: the median wall time of ``ansible-playbook collect_bundle.yml`` (start-up included), the API
requests of one run (LISTs and log reads), and the files and bytes written. ``--checkout`` runs that checkout's
playbook with its own ansible.cfg (its .venv and .collections must be set up), to compare before and after.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / ".collections"))

from tests.support import scenarios  # noqa: E402
from tests.support.kube_emulator import KubeEmulator  # noqa: E402

NOW = datetime.datetime(2026, 11, 25, 18, 0, 0, tzinfo=datetime.timezone.utc)


def tree_size(path):
    files = [os.path.join(d, f) for d, _s, names in os.walk(path) for f in names]
    return len(files), sum(os.path.getsize(f) for f in files)


def run_once(checkout, kubeconfig, dest):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(checkout, "ansible.cfg"), K8S_AUTH_KUBECONFIG=kubeconfig,
               PATH=os.path.join(checkout, ".venv", "bin") + os.pathsep + os.environ["PATH"])
    argv = [os.path.join(checkout, ".venv", "bin", "ansible-playbook"), os.path.join(checkout, "playbooks",
                                                                                     "collect_bundle.yml"),
            "-e", "bundle_dir=" + dest, "-e", "kubeconfig=" + kubeconfig]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("collect_bundle failed (rc=%d):\n%s" % (proc.returncode, proc.stdout[-3000:]))
    return wall


def bench(args, workdir):
    rows = []
    for namespaces in args.namespaces:
        objects, logs = scenarios.make_fleet(namespaces=namespaces, pods=args.pods, failing_ratio=args.failing,
                                             now=NOW)
        with KubeEmulator() as api:
            api.load(objects, scenarios.logs_as_list(logs))
            api.settle()
            api.set_options(latency=args.latency / 1000.0, log_latency=args.log_latency / 1000.0)
            kubeconfig = api.write_kubeconfig(os.path.join(workdir, "kubeconfig-%d" % namespaces))
            walls = []
            for index in range(args.repeat):
                dest = os.path.join(workdir, "bundle-%d-%d" % (namespaces, index))
                api.clear_requests()
                walls.append(run_once(args.checkout, kubeconfig, dest))
                requests = list(api.requests)
            files, size = tree_size(dest)
        rows.append(dict(namespaces=namespaces, pods=args.pods, wall=statistics.median(walls), wall_min=min(walls),
                         wall_max=max(walls), requests=len(requests),
                         log_reads=sum(1 for r in requests if r["path"].endswith("/log")),
                         writes=sum(1 for r in requests if r["method"] != "GET"), files=files, size=size))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--namespaces", type=int, nargs="+", default=[1, 30])
    parser.add_argument("--pods", type=int, default=3000)
    parser.add_argument("--failing", type=float, default=0.1, help="share of failing pods")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.0, help="ms added to every API request")
    parser.add_argument("--log-latency", type=float, default=0.0, help="ms more for each pod log read")
    parser.add_argument("--checkout", default=str(ROOT), help="checkout whose playbook runs (default: this one)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="aiops-bench-bundle-")
    try:
        rows = bench(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("collect_bundle.yml from %s; %d runs per row; latency %g ms/request + %g ms/log read\n" % (
        args.checkout, args.repeat, args.latency, args.log_latency))
    print("| namespaces | pods | wall median (min-max) | API requests | log reads | cluster writes | files | MB |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| %d | %d | %.2f s (%.2f-%.2f) | %d | %d | %d | %d | %.1f |" % (
            row["namespaces"], row["pods"], row["wall"], row["wall_min"], row["wall_max"], row["requests"],
            row["log_reads"], row["writes"], row["files"], row["size"] / 1e6))


if __name__ == "__main__":
    main()
