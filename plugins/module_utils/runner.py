# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence in, diagnoses with proposals out: the one place that joins classification and remediation.

Classification never imports remediation (a back edge): it emits the facts proposals need (container,
facts, subject), and this module calls classify then propose. Kept free of Ansible and of any client so
the same function serves the module, the benchmarks and the tests.
"""

from __future__ import annotations

from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import (
    HEALTHY,
    SEVERITIES,
)
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import (
    classify_pod,
    classify_workload,
)
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.usage import culprit_text
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.proposals import propose

_SEVERITY_ORDER = {name: index for index, name in enumerate(SEVERITIES)}


def _sort_key(diagnosis):
    return (_SEVERITY_ORDER.get(diagnosis.get("severity"), len(SEVERITIES)),
            diagnosis.get("namespace") or "", diagnosis.get("kind") or "", diagnosis.get("name") or "")


def with_proposals(diagnosis):
    """The diagnosis with its `remediations` computed from the diagnosis alone."""
    if diagnosis is not None:
        diagnosis["remediations"] = propose(diagnosis)
    return diagnosis


# Categories whose cause is the pod's own resource use: their root cause states the measured figures.
_USAGE_CAUSES = ("OOMKilled", "Evicted")


def with_usage(diagnosis, figures):
    """Attach usage (evidence/usage.py) to a diagnosis before its proposals are computed.

    classify stays metric-free; the join happens here so proposals see ``usage`` and an OOM's root cause
    names the measured working set (``126Mi of 128Mi (98%)``) instead of only the limit.
    """
    if not figures:
        return diagnosis
    diagnosis["usage"] = figures
    if diagnosis.get("category") in _USAGE_CAUSES:
        text = culprit_text(figures, container=diagnosis.get("container"))
        if text:
            culprit = diagnosis.get("culprit")
            if isinstance(culprit, dict):
                culprit["usage_text"] = text
            diagnosis["root_cause"] = "%s Measured usage: %s." % ((diagnosis.get("root_cause") or "").rstrip(), text)
    return diagnosis


def diagnose_pod(evidence):
    """classify_pod, then propose."""
    return with_proposals(classify_pod(evidence))


def diagnose_workload(evidence):
    """classify_workload, then propose (None when the workload has no trouble)."""
    return with_proposals(classify_workload(evidence))


def diagnose_many(pod_evidences, workload_evidences=()):
    """classify_many's shape ({"diagnoses", "counts"}) with proposals attached."""
    diagnoses = [diagnose_pod(e) for e in pod_evidences or ()]
    diagnoses += [d for d in (diagnose_workload(e) for e in workload_evidences or ()) if d is not None]
    counts = {}
    for diagnosis in diagnoses:
        counts[diagnosis["category"]] = counts.get(diagnosis["category"], 0) + 1
    return {"diagnoses": diagnoses, "counts": dict(sorted(counts.items()))}


def diagnose(gathered, include_healthy=False):
    """Classify everything a source gathered.

    Returns a dict with the module's result keys: diagnoses (worst first; Healthy ones only when
    include_healthy), summary (count per category over everything scanned, Healthy included),
    scanned, healthy, as_of, source, problems.
    """
    diagnoses = []
    summary = {}
    usage = getattr(gathered, "usage", None) or {}
    for evidence in gathered.pods:
        diagnosis = classify_pod(evidence)
        category = diagnosis.get("category")
        summary[category] = summary.get(category, 0) + 1
        if include_healthy or category != HEALTHY:
            # Usage (opt-in, evidence/usage.py) is computed on access: only for the diagnoses kept, and
            # before propose so the proposals can size from it.
            with_usage(diagnosis, usage.get("%s/%s" % (evidence.namespace, evidence.name)))
            diagnoses.append(with_proposals(diagnosis))
    for evidence in gathered.workloads:
        diagnosis = diagnose_workload(evidence)
        if diagnosis is None:
            continue
        category = diagnosis.get("category")
        summary[category] = summary.get(category, 0) + 1
        diagnoses.append(diagnosis)
    diagnoses.sort(key=_sort_key)
    as_of = gathered.as_of
    return {
        "diagnoses": diagnoses,
        "summary": dict(sorted(summary.items())),
        "scanned": gathered.scanned,
        "healthy": summary.get(HEALTHY, 0),
        "as_of": as_of.isoformat() if hasattr(as_of, "isoformat") else as_of,
        "source": gathered.source,
        "problems": list(gathered.problems),
    }


def attach_dump_usage(gathered, dump_dir):
    """Usage from the dump's metrics files (docs/metrics.md); no files is one problem note, never a failure."""
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics, usage
    reading = metrics.read_dump(dump_dir)
    gathered.problems.extend(note for note in reading["problems"] if note not in gathered.problems)
    if reading["source"] is None:
        gathered.problems.append("no metrics files in %s (metrics/pod-metrics.json, metrics/top-pods.txt, ...): "
                                 "collect_bundle writes them when metrics-server (role %s) runs; continuing without "
                                 "usage figures" % (dump_dir, metrics.ROLE))
        return
    gathered.usage = usage.LazyUsage(gathered, reading)


def attach_history(gathered, params):
    """Join Prometheus peaks into the usage figures (docs/metrics.md); a refused query is a problem note."""
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence import prometheus
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.usage import LazyUsage
    if not isinstance(gathered.usage, LazyUsage) or not gathered.pods:
        return
    as_of = gathered.as_of
    now = as_of.timestamp() if hasattr(as_of, "timestamp") else None
    if now is None:
        return
    history = prometheus.read_history(
        params["prometheus_url"], now, namespaces=sorted(set(e.namespace for e in gathered.pods)),
        window=params["prometheus_window"], token=params["prometheus_token"],
        validate_certs=params["prometheus_validate_certs"], timeout=params["request_timeout"])
    gathered.problems.extend(note for note in history["problems"] if note not in gathered.problems)
    gathered.usage = gathered.usage.with_history(history)
