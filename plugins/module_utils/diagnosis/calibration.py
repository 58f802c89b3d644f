# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Confidence calibration: a rule's own confidence mapped to what the development corpus observed.

Rules state a confidence from their own reading of the evidence (0.9 "the kubelet said so", 0.6 "inferred
from expired events"). Calibration turns it into an estimate of how often such a diagnosis is right: per rule
family and confidence band, the development half of the corpus gives n cases and the number right, and the
calibrated value is the add-K (Beta prior) estimate

    calibrated = (right + K * raw) / (n + K)

so a band with few cases stays near the rule's own value and a well-populated band moves toward its observed
hit rate. The table is fitted on the DEVELOPMENT half only (``benchmarks/classify_scores.py --fit`` writes it;
``tests/unit/classify/test_calibration.py`` checks it equals a fresh fit), never on held-out cases: the held-out
reliability table in docs/benchmarks.md is what says whether it holds on unseen failures.
"""

from __future__ import annotations

# Rule family of each category: calibration is per family (same evidence kinds, same failure modes).
FAMILY = {
    "UnschedulableInsufficientResources": "scheduling", "UnschedulableNodeAffinity": "scheduling",
    "UnschedulableTaints": "scheduling", "UnschedulableVolume": "scheduling", "Unschedulable": "scheduling",
    "ImagePullBackOff": "images", "InvalidImageName": "images",
    "CrashLoopBackOff": "containers", "OOMKilled": "containers", "ContainerExitError": "containers",
    "CreateContainerConfigError": "containers", "CreateContainerError": "containers",
    "RunContainerError": "containers", "InitContainerFailure": "containers",
    "LivenessProbeFailure": "probes", "ReadinessProbeFailure": "probes", "StartupProbeFailure": "probes",
    "NodeLost": "nodes", "Evicted": "nodes", "TerminatingStuck": "nodes", "DeadlineExceeded": "nodes",
    "SandboxCreationFailure": "nodes",
    "VolumeMountFailure": "volumes",
    "PodCreationForbidden": "workloads", "QuotaExceeded": "workloads",
    "Healthy": "healthy",
}
# Lower bounds of the confidence bands (the last band ends at 1.0).
BANDS = (0.0, 0.7, 0.8, 0.9)
# Pseudo-count of the rule's own confidence: how many observed cases it is worth.
K = 10

# family -> ((n, right) per band in BANDS order), fitted on the development half.
# BEGIN FITTED TABLE (benchmarks/classify_scores.py --fit --write-table; do not edit by hand)
TABLE = {
    'containers': ((2, 2), (0, 0), (1, 1), (24, 24)),
    'healthy': ((0, 0), (1, 1), (0, 0), (11, 11)),
    'images': ((0, 0), (0, 0), (0, 0), (8, 8)),
    'nodes': ((0, 0), (1, 1), (0, 0), (8, 8)),
    'probes': ((0, 0), (0, 0), (1, 1), (5, 5)),
    'scheduling': ((0, 0), (1, 1), (8, 8), (6, 6)),
    'volumes': ((0, 0), (0, 0), (0, 0), (6, 6)),
    'workloads': ((0, 0), (0, 0), (0, 0), (2, 2)),
}
# END FITTED TABLE


def band(raw):
    """Index of the band a raw confidence falls in."""
    index = 0
    for number, low in enumerate(BANDS):
        if raw >= low:
            index = number
    return index


_MEMO = {}
_MEMO_TABLE = []


def calibrate(category, raw, table=None):
    """The calibrated confidence of a diagnosis (raw when the family or band has no fitted data)."""
    table = TABLE if table is None else table
    if not isinstance(raw, (int, float)) or isinstance(raw, bool):
        return raw
    # Memoised per table: a scan sees a handful of (category, confidence) pairs thousands of times.
    if not _MEMO_TABLE or _MEMO_TABLE[0] is not table:
        _MEMO.clear()
        _MEMO_TABLE[:] = [table]
    key = (category, raw)
    value = _MEMO.get(key)
    if value is None:
        value = _MEMO[key] = _calibrate(category, raw, table)
    return value


def _calibrate(category, raw, table):
    row = table.get(FAMILY.get(category, ""))
    if not row:
        return raw
    index = band(raw)
    cases, right = row[index]
    value = (right + K * float(raw)) / (cases + K) if cases else float(raw)
    # Monotone in the rule's confidence: never below what a lower band gives at its top edge (a sparse band
    # next to a well-populated one would otherwise dip at the boundary).
    for lower in range(index):
        cases, right = row[lower]
        if cases:
            value = max(value, (right + K * BANDS[lower + 1]) / (cases + K))
    return round(value, 2)


def fit(observations):
    """The table from [(category, raw confidence, right: bool)] of the development half."""
    table = {}
    for category, raw, right in observations:
        if not isinstance(raw, (int, float)):
            continue
        family = FAMILY.get(category, "")
        if not family:
            continue
        row = table.setdefault(family, [[0, 0] for _low in BANDS])
        cell = row[band(raw)]
        cell[0] += 1
        cell[1] += 1 if right else 0
    return dict((family, tuple(tuple(cell) for cell in row)) for family, row in sorted(table.items()))
