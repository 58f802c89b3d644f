"""Seed a running Kubernetes API emulator with realistic failures (tests/support/scenarios.py).

    python -m tests.support.seed_cli --kubeconfig /tmp/emu.kubeconfig --namespace demo --scenario oom-killed
    python -m tests.support.seed_cli --kubeconfig /tmp/emu.kubeconfig --scenario all

Timestamps are relative to the current time, because a live diagnosis measures ages against the live
clock. Used by the Molecule scenarios' create step and by hand (docs/testing.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys

import yaml

from tests.support import scenarios


def server_from_kubeconfig(path):
    with open(path) as handle:
        config = yaml.safe_load(handle)
    current = config.get("current-context")
    context = next(c["context"] for c in config["contexts"] if c["name"] == current)
    return next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == context["cluster"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True, help="kubeconfig of the emulator")
    parser.add_argument("--namespace", help="put every scenario in this namespace (default: each its own)")
    parser.add_argument("--scenario", action="append", required=True,
                        help="scenario name (repeatable) or 'all'; one of: " + ", ".join(scenarios.SCENARIOS))
    args = parser.parse_args(argv)
    names = None if "all" in args.scenario else args.scenario
    unknown = [name for name in names or [] if name not in scenarios.SCENARIOS]
    if unknown:
        parser.error("unknown scenario(s) %s" % ", ".join(unknown))
    objects, logs = scenarios.build(names, now=datetime.datetime.now(datetime.timezone.utc),
                                    namespace=args.namespace)
    loaded = scenarios.seed(server_from_kubeconfig(args.kubeconfig), objects, logs)
    json.dump({"loaded": loaded, "scenarios": names or sorted(scenarios.SCENARIOS)}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
