#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: resource_usage_info
short_description: Compare workload requests and limits with the usage metrics-server (and Prometheus) measured
version_added: 0.2.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Reads the running pods of a namespace or of the whole cluster, the workload each belongs to, and their usage from
    C(metrics.k8s.io) (metrics-server, installed by the M(aiops.k8s.metrics_server) role), and reports per workload
    container the requests and limits against the observed usage.
  - Lists over-provisioned containers (using under half of their request) and containers at risk (working set near
    the memory limit, CPU near the limit, or memory above a request with no limit), with a recommended request or
    limit and the CPU and memory right-sizing would free.
  - One metrics-server sample shows the last ~15 seconds only. With O(prometheus_url) the peak working set and CPU
    over O(prometheus_window) seconds are read from Prometheus and used instead of the sample.
  - Offline with O(dump_dir) it reads pods from a dump and usage from the metrics files in it (see docs/metrics.md).
  - Read-only and advice only; it never changes anything. Never reads Secret data.
options:
  namespace:
    description:
      - Namespace to report on. Without it every namespace is read.
    type: str
  label_selector:
    description:
      - Label selector the pods must match, for example V(app=web).
    type: str
  dump_dir:
    description:
      - Report offline from a dump directory (pods and owners as for M(aiops.k8s.pod_diagnose), usage from
        C(metrics/pod-metrics.json), C(metrics/node-metrics.json), C(metrics/top-pods.txt), C(metrics/top-nodes.txt)).
      - When set, no cluster is contacted and the connection options are ignored.
    type: path
  prometheus_window:
    description:
      - Seconds of history the peaks are taken over.
    type: int
    default: 86400
  headroom_percent:
    description:
      - Headroom added above the observed usage (peak when known) for a recommended request.
    type: int
    default: 20
  over_provisioned_percent:
    description:
      - A container is over-provisioned when its usage is below this percentage of its request.
    type: int
    default: 50
  at_risk_percent:
    description:
      - A container is at risk when its usage reaches this percentage of its limit.
    type: int
    default: 90
  request_timeout:
    description:
      - Seconds to wait for each Kubernetes API request before giving up.
    type: int
    default: 30
extends_documentation_fragment:
  - aiops.k8s.k8s_auth
  - aiops.k8s.prometheus
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode runs the same report.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
requirements:
  - python >= 3.8
  - kubernetes >= 24.2.0 (live cluster only)
notes:
  - Reading usage needs get/list on C(pods) and C(nodes) in API group C(metrics.k8s.io). When metrics-server is
    absent, forbidden or not ready, the report is still returned, without usage, with one problem note.
  - Follow-up changes go through M(aiops.k8s.remediation_plan) and the approval gate like any other remediation.
seealso:
  - module: aiops.k8s.pod_diagnose
"""

EXAMPLES = r"""
- name: Right-size the shop namespace
  aiops.k8s.resource_usage_info:
    namespace: shop
  register: usage

- name: Use a day of Prometheus history for the peaks
  aiops.k8s.resource_usage_info:
    prometheus_url: https://prometheus.example:9090
    prometheus_token: "{{ prometheus_token }}"
    prometheus_window: 86400
  register: usage

- name: Show what right-sizing would free
  ansible.builtin.debug:
    msg: "{{ usage.report.summary.cpu_freed_human }} CPU and {{ usage.report.summary.memory_freed_human }} memory"
"""

RETURN = r"""
report:
  description: The right-sizing report (advice only).
  returned: always
  type: dict
  contains:
    summary:
      description: >-
        Counts (workloads, pods, pods_measured, pods_without_metrics, over_provisioned, at_risk) and totals in cores
        and bytes with human strings (cpu_freed, memory_freed, cpu_requested, memory_requested and their C(_human)).
      type: dict
    over_provisioned:
      description: One row per over-provisioned workload container and resource, largest saving first
        (namespace, kind, name, container, resource, replicas, reason, current, recommended, freed, freed_human).
      type: list
      elements: dict
    at_risk:
      description: One row per workload container and resource at risk, in the same shape.
      type: list
      elements: dict
    workloads:
      description: Every workload with its verdict and, per container and resource, request, limit, usage_max,
        usage_avg, peak, basis, recommended_request, recommended_limit and freed (numbers and C(_human) strings).
      type: list
      elements: dict
    nodes:
      description: Node usage against allocatable (name, timestamp, window, cpu and memory figures with C(text)).
      type: list
      elements: dict
    rules:
      description: The thresholds used (headroom_percent, over_percent, at_risk_percent).
      type: dict
    source:
      description: Where usage came from, V(metrics-server) or V(dump); null when none was available.
      type: str
    history_window:
      description: The Prometheus window the peaks cover, or null.
      type: str
    problems:
      description: Notes about usage that could not be read (metrics-server absent, forbidden, not ready; Prometheus).
      type: list
      elements: str
api_requests:
  description: Kubernetes API requests sent (0 offline).
  returned: always
  type: int
aiops:
  description: "Result type marker: C({kind: resource_usage, version: 1})."
  returned: always
  type: dict
"""

import calendar
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError, InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics, prometheus, rightsize, usage
from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport


def argument_spec():
    return k8s_transport.auth_argument_spec(
        namespace=dict(type="str"),
        label_selector=dict(type="str"),
        dump_dir=dict(type="path"),
        prometheus_url=dict(type="str"),
        prometheus_token=dict(type="str", no_log=True),
        prometheus_window=dict(type="int", default=86400),
        prometheus_validate_certs=dict(type="bool", default=True),
        headroom_percent=dict(type="int", default=20),
        over_provisioned_percent=dict(type="int", default=50),
        at_risk_percent=dict(type="int", default=90),
        request_timeout=dict(type="int", default=30),
    )


def _offline(params):
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target, gather
    target = Target(namespace=params["namespace"], all_namespaces=not params["namespace"],
                    label_selectors=[params["label_selector"]] if params["label_selector"] else [])
    gathered = gather(DumpSource(params["dump_dir"]), target)
    entries, nodes = [], {}
    for evidence in gathered.pods:
        if (evidence.pod.get("status") or {}).get("phase") != "Running":
            continue
        top = evidence.top_owner or {"kind": "Pod", "name": evidence.name}
        entries.append((evidence.pod, (top["kind"], top["name"])))
        if evidence.node:
            nodes[evidence.node["metadata"]["name"]] = evidence.node
    return entries, list(nodes.values()), metrics.read_dump(params["dump_dir"]), gathered.as_of


def report(params, transport=None):
    """The module's result (without the aiops marker), live through ``transport`` or offline."""
    for key in ("headroom_percent", "over_provisioned_percent", "at_risk_percent", "prometheus_window"):
        if params[key] is None or params[key] < 1:
            raise InvalidInput("%s must be a whole number >= 1, got %r" % (key, params[key]))
    if params["dump_dir"]:
        entries, nodes, reading, as_of = _offline(params)
        now = calendar.timegm(as_of.utctimetuple()) if as_of else time.time()
    else:
        entries, nodes = rightsize.read_live(transport, params["namespace"], params["label_selector"])
        namespaces = [params["namespace"]] if params["namespace"] else None
        node_names = set((pod.get("spec") or {}).get("nodeName") for pod, _w in entries)
        reading = metrics.read_live(transport, namespaces=namespaces if entries else [],
                                    nodes=node_names if entries else [])
        now = time.time()
    history = None
    if params["prometheus_url"] and entries:
        history = prometheus.read_history(
            params["prometheus_url"], now, namespaces=sorted(set(p["metadata"]["namespace"] for p, _w in entries)),
            window=params["prometheus_window"], token=params["prometheus_token"],
            validate_certs=params["prometheus_validate_certs"], timeout=params["request_timeout"])
    result = rightsize.analyse(entries, reading, history, headroom_percent=params["headroom_percent"],
                               over_percent=params["over_provisioned_percent"], at_risk_percent=params["at_risk_percent"])
    result["nodes"] = [n for n in (usage.node_usage(node, reading) for node in nodes) if n]
    result["nodes"].sort(key=lambda n: n["name"])
    return {"report": result, "api_requests": transport.request_count if transport is not None else 0}


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    transport = None
    try:
        if not params["dump_dir"]:
            if not k8s_transport.HAS_K8S:
                module.fail_json(msg=missing_required_lib("kubernetes"), exception=k8s_transport.K8S_IMPORT_ERROR)
            transport = k8s_transport.transport_from_module(module)
        result = report(params, transport)
    except AiopsError as exc:
        module.fail_json(msg=str(exc), changed=False)
    result["aiops"] = {"kind": "resource_usage", "version": 1}
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
