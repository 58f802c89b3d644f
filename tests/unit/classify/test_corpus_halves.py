"""Development vs held-out scores of the real-world corpus (printed), with the held-out floor asserted."""

from __future__ import annotations

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import PodEvidence, merge_events
from tests.unit.classify.corpus_halves import DEV, HELDOUT, hash_half, render, score
from tests.unit.classify.podbuilder import AS_OF
from tests.unit.classify.test_classify_corpus import CORPUS as MESSY
from tests.unit.classify.test_realworld_corpus import CASES, classify_case


ADDED = {c["id"] for c in CASES if c.get("added")}


def _results():
    halves = {DEV: [], HELDOUT: []}
    for case in CASES:
        result = classify_case(case)
        halves[case["half"]].append((case["id"], case["expected"], result["category"] if result else None))
    for name, expected, pod_obj, events in MESSY:
        got = classify_pod(PodEvidence(pod_obj, events=merge_events(events), as_of=AS_OF))["category"]
        halves[hash_half("messy-" + name)].append(("messy-" + name, expected, got))
    return halves


def test_every_case_has_a_recorded_half():
    for case in CASES:
        assert case.get("half") in (DEV, HELDOUT), case["id"]
        if case.get("added_dev"):
            # Added later to the development half (rules may be tuned on them): each names its source thread.
            assert case["half"] == DEV and not case.get("added"), case["id"]
            assert str(case.get("source", "")).startswith("http"), case["id"]
        elif not case.get("added"):
            # Pre-existing cases: the recorded half is the hash rule, so nobody moves a case to flatter a score.
            assert case["half"] == hash_half(case["id"]), case["id"]
        else:
            assert case["half"] == HELDOUT, case["id"]
            assert str(case.get("source", "")).startswith("http"), case["id"]


def test_halves_scores(capsys):
    halves = _results()
    dev = score(halves[DEV])
    held = score(halves[HELDOUT])
    added = score([item for item in halves[HELDOUT] if item[0] in ADDED])
    with capsys.disabled():
        print("\n" + render("development half", dev))
        print(render("held-out half", held))
        print("  of which added 2026-12-02: %d/%d right, false alarms: %d"
              % (added["right"], added["total"], len(added["false_alarms"])))
    assert dev["total"] >= 40 and held["total"] >= 40
    assert not dev["false_alarms"] and not held["false_alarms"]
    # Floor = the level measured when the split was made; raising it is the goal, lowering it is a regression.
    assert held["right"] >= HELDOUT_FLOOR * held["total"] - 1e-9


# Held-out score measured with the classifier as it was before the issue-13 rule changes (commit 798dc2e):
# 156/171 (the 104 cases added on 2026-12-02 included; they were written before the classifier was run on them).
# After the family fixes, written against the development half and the unit tests, it was 167/171; reading the
# reasons of one scheduler message together (selector intent, unnamed taints; dev cases dev_2026_12_sched.yaml)
# and the sandbox binding/overdue rules took it to 169/171: the floor.
HELDOUT_FLOOR = 169 / 171
