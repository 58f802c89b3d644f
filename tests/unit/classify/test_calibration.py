"""Confidence calibration (diagnosis/calibration.py): fitted on the development half only, applied to every
diagnosis, monotone within a band, and the stored table is the current fit (refit with
``.venv/bin/python benchmarks/classify_scores.py --fit --write-table`` after adding development cases)."""

from __future__ import annotations

import importlib.util
import os

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis import calibration
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from tests.unit.classify.corpus_halves import DEV
from tests.unit.classify.podbuilder import cstatus, evidence, pod, term

_SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks", "classify_scores.py")


@pytest.fixture(scope="module")
def scores():
    spec = importlib.util.spec_from_file_location("classify_scores", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stored_table_is_the_fit_of_the_development_half(scores):
    assert calibration.TABLE == scores.fit_table()


def test_fit_reads_development_cases_only(scores):
    rows = scores.observations(halves=(DEV,), table={})
    assert rows and {row[1] for row in rows} == {DEV}


def test_fit_counts_cases_and_hits_per_family_and_band():
    table = calibration.fit([("OOMKilled", 0.95, True), ("OOMKilled", 0.92, False), ("UnschedulableTaints", 0.8, True),
                             ("Healthy", 0.7, True), ("NotACategory", 0.9, True), ("OOMKilled", None, True)])
    assert table == {"containers": ((0, 0), (0, 0), (0, 0), (2, 1)), "healthy": ((0, 0), (1, 1), (0, 0), (0, 0)),
                     "scheduling": ((0, 0), (0, 0), (1, 1), (0, 0))}


def test_calibrate_shrinks_toward_the_observed_rate():
    table = {"containers": ((0, 0), (0, 0), (0, 0), (10, 5))}
    # (5 + 10 * 0.9) / (10 + 10): half right on 10 cases pulls 0.9 down to 0.7
    assert calibration.calibrate("OOMKilled", 0.9, table) == 0.7
    # no data for the band or the family: the rule's own value
    assert calibration.calibrate("OOMKilled", 0.8, table) == 0.8
    assert calibration.calibrate("NodeLost", 0.9, table) == 0.9
    assert calibration.calibrate("OOMKilled", True, table) is True


@pytest.mark.parametrize("family", sorted(calibration.TABLE))
def test_calibrated_values_keep_the_rules_order(family):
    category = next(c for c, f in calibration.FAMILY.items() if f == family)
    values = [calibration.calibrate(category, step / 100.0) for step in range(101)]
    assert values == sorted(values)
    assert all(0.0 <= v <= 1.0 for v in values)


def test_diagnoses_carry_the_calibrated_confidence():
    crashing = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=6,
                                     last=term("OOMKilled", 137, ago=30))])
    diag = classify_pod(evidence(crashing))
    raw_table, calibration.TABLE = calibration.TABLE, {}
    try:
        raw = classify_pod(evidence(crashing))["confidence"]
    finally:
        calibration.TABLE = raw_table
    assert diag["confidence"] == calibration.calibrate(diag["category"], raw)


def test_docs_tables_are_the_generated_ones(scores):
    """docs/benchmarks.md shows what the script computes now (regenerate with --write docs/benchmarks.md)."""
    path = os.path.join(os.path.dirname(_SCRIPT), "..", "docs", "benchmarks.md")
    with open(path) as handle:
        doc = handle.read()
    block = doc.split(scores.BEGIN, 1)[1].split(scores.END, 1)[0]
    assert block.strip() == scores.markdown().strip()
