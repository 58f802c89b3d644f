#!/usr/bin/env python
"""Regenerate examples/cluster-dump/: a small, realistic shop cluster in `kubectl cluster-info dump` layout.

Deterministic (fixed clock, name-derived uids), so re-running it yields identical files:

    .venv/bin/python scripts/make_example_dump.py [--output examples/cluster-dump] [--check]

--check exits 1 when the committed example differs from what the scenarios produce now.
"""

import argparse
import datetime
import filecmp
import os
import shutil
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from tests.support.dumpwriter import write_dump  # noqa: E402
from tests.support.scenarios import build  # noqa: E402

NOW = datetime.datetime(2026, 11, 25, 19, 0, 0, tzinfo=datetime.timezone.utc)
# A web shop and its batch jobs: several failure classes next to healthy pods.
SCENARIOS = ["crashloop-traceback", "oom-killed", "image-not-found", "config-missing-key", "unschedulable-cpu",
             "evicted", "quota-exceeded", "healthy", "deadline-exceeded", "job-exit-error"]


def generate(output):
    objects, logs = build(SCENARIOS, now=NOW)
    if os.path.isdir(output):
        shutil.rmtree(output)
    return write_dump(output, objects, logs)


def _same_tree(left, right):
    compared = filecmp.dircmp(left, right)
    if compared.left_only or compared.right_only or compared.diff_files or compared.funny_files:
        return False
    return all(_same_tree(os.path.join(left, d), os.path.join(right, d)) for d in compared.common_dirs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(REPO_ROOT, "examples", "cluster-dump"))
    parser.add_argument("--check", action="store_true", help="compare with the committed example instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(os.path.join(tmp, "dump"))
            if not os.path.isdir(args.output) or not _same_tree(os.path.join(tmp, "dump"), args.output):
                print("%s is stale: run scripts/make_example_dump.py" % args.output)
                return 1
        print("%s is up to date" % args.output)
        return 0
    files = generate(args.output)
    size = sum(os.path.getsize(os.path.join(args.output, f)) for f in files)
    print("wrote %d files (%d bytes) to %s" % (len(files), size, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
