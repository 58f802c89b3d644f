"""Independent real-world corpus (tests/unit/classify/corpus/*.yaml): expected categories were written from
each thread's resolution before the classifier was run. Event shorthand ``ago``/``first_ago`` (seconds before
``as_of``) becomes lastTimestamp/firstTimestamp; all other fields are the raw API shapes."""

from __future__ import annotations

import collections
import datetime
import glob
import os

import pytest
import yaml

from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import CATEGORIES, HEALTHY
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod, classify_workload
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import (
    PodEvidence, WorkloadEvidence, merge_events, normalise_event, parse_time)

HERE = os.path.join(os.path.dirname(__file__), "corpus")
DEFAULT_AS_OF = "2026-11-25T12:00:00Z"


def _load():
    cases = []
    for path in sorted(glob.glob(os.path.join(HERE, "*.yaml"))):
        with open(path) as handle:
            cases.extend(yaml.safe_load(handle) or [])
    return cases


CASES = _load()


def _event(raw, as_of):
    raw = dict(raw)
    ago = raw.pop("ago", None)
    first_ago = raw.pop("first_ago", None)

    def stamp(sec):
        return (as_of - datetime.timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%SZ")

    if ago is not None:
        key = "eventTime" if raw.get("apiVersion") == "events.k8s.io/v1" else "lastTimestamp"
        raw.setdefault(key, stamp(ago))
        raw.setdefault("firstTimestamp" if key == "lastTimestamp" else "deprecatedFirstTimestamp",
                       stamp(first_ago if first_ago is not None else ago))
    return normalise_event(raw)


def classify_case(case):
    as_of = parse_time(case.get("as_of") or DEFAULT_AS_OF)
    events = merge_events([_event(e, as_of) for e in case.get("events") or []])
    owners = case.get("owners") or []
    if "workload" in case:
        return classify_workload(WorkloadEvidence(case["workload"], events=events, owners=owners, as_of=as_of))
    node = case.get("node")
    node_state = case.get("node_state") or ("present" if node else "unknown")
    return classify_pod(PodEvidence(case["pod"], events=events, owners=owners, node=node, node_state=node_state,
                                    logs=case.get("logs"), as_of=as_of, source="dump"))


def _category(result):
    return result["category"] if result else None


def test_corpus_shape():
    assert len(CASES) >= 40
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case["expected"] in CATEGORIES, case["id"]
        assert case.get("source"), case["id"]


# Cases added to the held-out half later are scored in aggregate only (test_corpus_halves.py): a per-case
# assertion would invite tuning on them.
@pytest.mark.parametrize("case", [c for c in CASES if not c.get("added")],
                         ids=[c["id"] for c in CASES if not c.get("added")])
def test_realworld_case(case):
    result = classify_case(case)
    assert _category(result) == case["expected"], (case["id"], result and result.get("summary"))


def test_realworld_summary(capsys):
    per = collections.defaultdict(lambda: [0, 0])
    false_alarms = []
    for case in [c for c in CASES if not c.get("added")]:
        got = _category(classify_case(case))
        per[case["expected"]][1] += 1
        per[case["expected"]][0] += got == case["expected"]
        if case["expected"] == HEALTHY and got != HEALTHY:
            false_alarms.append(case["id"])
    right = sum(v[0] for v in per.values())
    with capsys.disabled():
        total = sum(v[1] for v in per.values())
        print("\nreal-world corpus (original cases): %d/%d right (%.1f%%), false alarms on healthy: %d %s"
              % (right, total, 100.0 * right / total, len(false_alarms), false_alarms))
        for cat in sorted(per):
            print("  %-36s %d/%d" % (cat, per[cat][0], per[cat][1]))
    assert right / sum(v[1] for v in per.values()) >= 0.9
    assert not false_alarms
