"""The bundle's `kubectl top` texts (evidence/metrics.py format_top_*): kubectl's rounding, and the parsers read
them back to the same figures."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics

MI = 2 ** 20


def pod_metrics(ns, name, **containers):
    return {"metadata": {"namespace": ns, "name": name},
            "containers": [{"name": c, "usage": {"cpu": cpu, "memory": mem}} for c, (cpu, mem) in containers.items()]}


def test_cpu_rounds_up_to_millicores_memory_down_to_mebibytes_and_rows_sort():
    text = metrics.format_top_pods([
        pod_metrics("shop", "web-1", app=("12345678n", "131073Ki"), sidecar=("0", "1Mi")),
        pod_metrics("batch", "job-1", main=("250m", "1Gi")),
    ])
    assert text.splitlines() == [
        "NAMESPACE   POD     NAME      CPU(cores)   MEMORY(bytes)",
        "batch       job-1   main      250m         1024Mi",
        "shop        web-1   app       13m          128Mi",
        "shop        web-1   sidecar   0m           1Mi",
    ]


def test_node_percentages_are_of_allocatable_and_unknown_without_the_node():
    nodes = [{"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}}}]
    items = [{"metadata": {"name": "n1"}, "usage": {"cpu": "3100m", "memory": "5Gi"}},
             {"metadata": {"name": "n2"}, "usage": {"cpu": "1", "memory": "1Gi"}}]
    assert metrics.format_top_nodes(items, nodes).splitlines() == [
        "NAME   CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)",
        "n1     3100m        78%         5120Mi          62%",
        "n2     1000m        <unknown>   1024Mi          <unknown>",
    ]
    assert metrics.parse_top_nodes(metrics.format_top_nodes(items, None))["n2"]["cpu"] == pytest.approx(1.0)


def test_malformed_items_are_skipped_not_fatal():
    unnamed = {"containers": [{"name": "x", "usage": {"cpu": "1"}}]}
    odd = pod_metrics("ns", "p", app=("bad", None))
    odd["containers"] += [None, {"usage": {"cpu": "1"}}]
    assert metrics.format_top_pods([None, unnamed, odd]).splitlines() == [
        "NAMESPACE   POD   NAME   CPU(cores)   MEMORY(bytes)", "ns          p     app    0m           0Mi"]
    assert metrics.format_top_nodes([{"usage": {"cpu": "1"}}]).splitlines() == [
        "NAME   CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)"]


@given(st.lists(st.tuples(st.integers(0, 64 * 10 ** 9), st.integers(0, 2 ** 40)), min_size=1, max_size=5))
def test_parse_reads_back_what_format_wrote(usages):
    items = [pod_metrics("ns", "pod-%d" % i, app=("%dn" % cpu, "%dKi" % (mem // 1024)))
             for i, (cpu, mem) in enumerate(usages)]
    parsed = metrics.parse_top_pods(metrics.format_top_pods(items))
    for i, (cpu, mem) in enumerate(usages):
        figures = parsed["ns/pod-%d" % i]["containers"]["app"]
        assert 0 <= figures["cpu"] - cpu / 1e9 < 0.001 + 1e-9
        assert 0 <= (mem // 1024) * 1024 - figures["memory"] < MI
