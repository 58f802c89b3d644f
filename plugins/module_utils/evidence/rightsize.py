# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Right-sizing advice: per workload container, requests/limits against observed usage.

Pure: pods (with the workload each belongs to), a metrics reading and optional Prometheus peaks in,
a plain-dict report out. The figures are advice; nothing here changes a cluster.

Rules (documented in docs/metrics.md; ``basis`` is the Prometheus peak when known, else the highest
sample across the workload's pods):

- at risk, memory: basis >= ``at_risk_percent`` (90) % of the limit (the next spike is an OOM kill), or
  no limit and basis above the request (first to be evicted under node memory pressure);
- at risk, CPU: basis >= ``at_risk_percent`` % of the limit (throttled);
- over-provisioned: basis < ``over_percent`` (50) % of the request and the request exceeds the
  recommendation by at least 10m CPU / 16Mi memory;
- recommendation: request = basis * (1 + ``headroom_percent``/100), memory rounded up to a whole Mi and
  CPU to a whole millicore; for an at-risk limit, limit = basis * (1 + 2 * headroom) so usage at the
  limit gets room above it;
- freed = (request - recommended request) * replicas, for over-provisioned containers only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.aiops.k8s.plugins.module_utils.evidence.usage import RESOURCES, container_resources, human

MI = 2 ** 20
MIN_SAVING = {"cpu": 0.01, "memory": 16 * MI}
DEFAULTS = {"headroom_percent": 20, "over_percent": 50, "at_risk_percent": 90}
VERDICT_ORDER = {"at_risk": 0, "over_provisioned": 1, "ok": 2, "unmeasured": 3}


def workload_of(pod, owners):
    """(kind, name) of the workload a pod belongs to; ``owners``: {(namespace, "ReplicaSet", name): (kind, name)}."""
    meta = (pod or {}).get("metadata") or {}
    ref = next((r for r in meta.get("ownerReferences") or [] if isinstance(r, dict) and r.get("controller")), None)
    if ref is None:
        return "Pod", meta.get("name")
    parent = owners.get((meta.get("namespace"), ref.get("kind"), ref.get("name")))
    return parent or (ref.get("kind"), ref.get("name"))


def owner_map(objects):
    """{(namespace, kind, name): (parent kind, parent name)} from ReplicaSets/Jobs that have a controller."""
    out = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        ref = next((r for r in meta.get("ownerReferences") or [] if isinstance(r, dict) and r.get("controller")), None)
        if ref:
            out[(meta.get("namespace"), obj.get("kind"), meta.get("name"))] = (ref.get("kind"), ref.get("name"))
    return out


def _round_up(resource, value):
    if resource == "memory":
        return float(int(math.ceil(value / MI)) * MI)
    return math.ceil(round(value * 1000, 6)) / 1000.0


def _resource_advice(resource, request, limit, samples, peak, replicas, rules):
    """Figures and verdict for one resource of one workload container."""
    measured = [s for s in samples if s is not None]
    if not measured and peak is None:
        return {"verdict": "unmeasured", "request": request, "limit": limit}, None
    usage_max = max(measured) if measured else None
    basis = peak if peak is not None else usage_max
    headroom = 1 + rules["headroom_percent"] / 100.0
    out = {"request": request, "limit": limit, "usage_max": usage_max,
           "usage_avg": sum(measured) / len(measured) if measured else None, "peak": peak, "basis": basis,
           "basis_from": "prometheus peak" if peak is not None else "metrics-server sample",
           "recommended_request": _round_up(resource, max(basis * headroom, MIN_SAVING[resource] if resource == "cpu"
                                                          else MI)),
           "recommended_limit": None, "freed": 0.0, "verdict": "ok", "reason": None}
    if limit and basis >= limit * rules["at_risk_percent"] / 100.0:
        out["verdict"] = "at_risk"
        out["reason"] = ("%s at %d%% of its %s limit: %s" % (
            "working set" if resource == "memory" else "CPU", round(100.0 * basis / limit), human(resource, limit),
            "the next spike is an OOM kill" if resource == "memory" else "it is being throttled"))
        out["recommended_limit"] = _round_up(resource, basis * (1 + 2 * rules["headroom_percent"] / 100.0))
    elif resource == "memory" and not limit and request and basis > request:
        out["verdict"] = "at_risk"
        out["reason"] = "working set above its %s request with no limit: first to be evicted under memory pressure" % (
            human(resource, request))
    elif request and basis < request * rules["over_percent"] / 100.0 \
            and request - out["recommended_request"] >= MIN_SAVING[resource]:
        out["verdict"] = "over_provisioned"
        out["freed"] = (request - out["recommended_request"]) * replicas
        out["reason"] = "uses %s of its %s request (%d%%)" % (
            human(resource, basis), human(resource, request), round(100.0 * basis / request))
    for key in ("request", "limit", "usage_max", "peak", "recommended_request", "recommended_limit", "freed"):
        out[key + "_human"] = human(resource, out[key]) if out[key] else None
    return out, out["verdict"]


def analyse(entries, reading, history=None, **rules):
    """The report. ``entries``: iterable of (pod, (workload kind, name)); ``reading``: metrics reading."""
    rules = dict(DEFAULTS, **dict((k, v) for k, v in rules.items() if v is not None))
    peaks = (history or {}).get("peaks") or {}
    groups = {}
    measured_pods = unmeasured_pods = 0
    for pod, (kind, name) in entries:
        meta = pod.get("metadata") or {}
        ns = meta.get("namespace") or ""
        sample = (reading.get("pods") or {}).get("%s/%s" % (ns, meta.get("name")))
        if sample:
            measured_pods += 1
        else:
            unmeasured_pods += 1
        group = groups.setdefault((ns, kind, name), {"pods": 0, "containers": {}})
        group["pods"] += 1
        for spec in (pod.get("spec") or {}).get("containers") or []:
            if not isinstance(spec, dict):
                continue
            slot = group["containers"].setdefault(spec.get("name"), {"spec": spec, "cpu": [], "memory": [],
                                                                     "peak": {}})
            figures = ((sample or {}).get("containers") or {}).get(spec.get("name"))
            for resource in RESOURCES:
                if figures is not None:
                    slot[resource].append(figures.get(resource))
                peak = (peaks.get("%s/%s/%s" % (ns, meta.get("name"), spec.get("name"))) or {}).get(resource)
                if peak is not None:
                    slot["peak"][resource] = max(peak, slot["peak"].get(resource) or 0.0)
    workloads, over, at_risk = [], [], []
    totals = {"cpu_freed": 0.0, "memory_freed": 0.0, "cpu_requested": 0.0, "memory_requested": 0.0}
    for (ns, kind, name), group in sorted(groups.items()):
        containers = []
        for cname, slot in sorted(group["containers"].items()):
            wanted = container_resources(slot["spec"])
            entry = {"name": cname}
            verdicts = []
            for resource in RESOURCES:
                request, limit = wanted[resource]
                advice, verdict = _resource_advice(resource, request, limit, slot[resource],
                                                   slot["peak"].get(resource), group["pods"], rules)
                entry[resource] = advice
                totals[resource + "_requested"] += (request or 0.0) * group["pods"]
                totals[resource + "_freed"] += advice.get("freed") or 0.0
                if verdict:
                    verdicts.append(verdict)
                row = {"namespace": ns, "kind": kind, "name": name, "container": cname, "resource": resource,
                       "replicas": group["pods"], "reason": advice.get("reason"),
                       "current": advice.get("limit_human") if verdict == "at_risk" and advice.get("limit")
                       else advice.get("request_human"),
                       "recommended": advice.get("recommended_limit_human") or advice.get("recommended_request_human"),
                       "freed": advice.get("freed") or 0.0, "freed_human": advice.get("freed_human")}
                if verdict == "over_provisioned":
                    over.append(row)
                elif verdict == "at_risk":
                    at_risk.append(row)
            entry["verdict"] = min(verdicts or ["unmeasured"], key=VERDICT_ORDER.get)
            containers.append(entry)
        workloads.append({"namespace": ns, "kind": kind, "name": name, "replicas": group["pods"],
                          "verdict": min([c["verdict"] for c in containers] or ["unmeasured"], key=VERDICT_ORDER.get),
                          "containers": containers})
    workloads.sort(key=lambda w: (VERDICT_ORDER[w["verdict"]], w["namespace"], w["name"]))
    over.sort(key=lambda r: (r["resource"] != "memory", -r["freed"], r["namespace"], r["name"]))
    at_risk.sort(key=lambda r: (r["resource"] != "memory", r["namespace"], r["name"]))
    summary = {"workloads": len(workloads), "pods": measured_pods + unmeasured_pods, "pods_measured": measured_pods,
               "pods_without_metrics": unmeasured_pods,
               "over_provisioned": len(set((r["namespace"], r["kind"], r["name"]) for r in over)),
               "at_risk": len(set((r["namespace"], r["kind"], r["name"]) for r in at_risk))}
    for key, value in totals.items():
        summary[key] = value
        summary[key + "_human"] = human("cpu" if key.startswith("cpu") else "memory", value) if value else "0"
    return {"summary": summary, "rules": rules, "over_provisioned": over, "at_risk": at_risk, "workloads": workloads,
            "source": reading.get("source"), "history_window": (history or {}).get("window") if peaks else None,
            "problems": list(reading.get("problems") or []) + list((history or {}).get("problems") or [])}


def read_live(transport, namespace=None, label_selector=None, page_size=500):
    """(entries, nodes) from the API: one paged LIST of pods, one LIST per owner kind actually referenced
    (ReplicaSets, Jobs) to find their Deployments/CronJobs, and one LIST of nodes. Running pods only."""
    base = "/api/v1/namespaces/%s" % namespace if namespace else "/api/v1"
    query = {"labelSelector": label_selector} if label_selector else None
    pods = [p for p in transport.list_items(base + "/pods", query, page_size=page_size)
            if ((p.get("status") or {}).get("phase") == "Running")]
    referenced = set()
    for pod in pods:
        for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("controller"):
                referenced.add(ref.get("kind"))
    parents = []
    for kind, group, plural in (("ReplicaSet", "apps/v1", "replicasets"), ("Job", "batch/v1", "jobs")):
        if kind in referenced:
            path = "/apis/%s/%s%s" % (group, "namespaces/%s/" % namespace if namespace else "", plural)
            for item in transport.list_items(path, None, page_size=page_size):
                item.setdefault("kind", kind)
                parents.append(item)
    owners = owner_map(parents)
    nodes = list(transport.list_items("/api/v1/nodes", None, page_size=page_size)) if pods else []
    return [(pod, workload_of(pod, owners)) for pod in pods], nodes
