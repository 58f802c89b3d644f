#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_bundle
short_description: Write an offline diagnosis bundle of a cluster or namespace, redacted, in one pass
version_added: 0.3.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Lists nodes, pods, events, the workload controllers (ReplicaSets, Deployments, DaemonSets, StatefulSets, Jobs,
    CronJobs, ReplicationControllers), Services and PersistentVolumeClaims of one namespace or of the whole cluster,
    reads the logs of containers that crashed or exited (current and previous), and the usage metrics-server serves,
    and writes them in the layout of C(kubectl cluster-info dump --output-directory) that
    M(aiops.k8s.pod_diagnose) O(aiops.k8s.pod_diagnose#module:dump_dir) reads offline.
  - One paged LIST per kind for the whole scope and one request per log, read concurrently; a cluster with many
    namespaces costs no more requests than one with a single namespace.
  - Everything is redacted before it is written, because a bundle is made to be sent to someone else. Log lines,
    messages and arguments are masked by the same rules as M(aiops.k8s.pod_diagnose) (tokens, passwords, keys,
    credentials in URLs, plus O(redact_patterns)); the values of secret-named environment variables are masked;
    C(managedFields) and the C(kubectl.kubernetes.io/last-applied-configuration) annotation are dropped.
    Secrets and ConfigMaps are never requested.
  - Reads the cluster only; it writes files on the host it runs on.
options:
  dest:
    description:
      - Directory the bundle is written to. It is created (mode C(0750)) when missing; files are written with mode
        C(0640) through a temporary file, so an interrupted run never leaves half a file.
      - Files of an earlier bundle in the same directory are kept, except usage files under C(metrics/) that this
        collection did not write. Use a new directory for each bundle.
    type: path
    required: true
  namespace:
    description:
      - Collect this namespace only (nodes and node metrics are always cluster-wide). Without it every namespace is
        collected.
    type: str
  metrics:
    description:
      - Read PodMetrics and NodeMetrics from C(metrics.k8s.io) (metrics-server, installed by the
        M(aiops.k8s.metrics_server) role) and write C(metrics/pod-metrics.json), C(metrics/node-metrics.json),
        C(metrics/top-pods.txt) and C(metrics/top-nodes.txt).
      - When metrics-server is absent (404), forbidden (403) or not ready (503), or with V(false), the bundle gets
        C(metrics/NOT-COLLECTED.txt) saying why instead, and the collection still succeeds.
    type: bool
    default: true
  log_tail_lines:
    description:
      - Number of log lines kept per container log.
    type: int
    default: 500
  log_max_bytes:
    description:
      - Maximum bytes read per container log; longer logs keep their end.
    type: int
    default: 1048576
  log_concurrency:
    description:
      - How many logs are read at the same time at first; grows while the API server keeps up (up to 32, or this
        value when higher) and halves on 429 Too Many Requests.
    type: int
    default: 8
  redact_patterns:
    description:
      - Extra regular expressions whose matches are masked, on top of the built-in patterns.
    type: list
    elements: str
    default: []
  request_timeout:
    description:
      - Seconds to wait for each Kubernetes API request (connect and read) before giving up.
    type: int
    default: 30
extends_documentation_fragment:
  - aiops.k8s.k8s_auth
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: Reads the cluster and reports which files would change, without writing or deleting any.
  diff_mode:
    support: none
    description: The files are snapshots of the cluster; RV(changed_files) lists what would change instead.
requirements:
  - python >= 3.8
  - kubernetes >= 24.2.0
notes:
  - Needs get/list on what is listed above and on C(pods/log), as granted by the read-only ClusterRole
    C(docs/rbac/diagnose-readonly.yaml), and, for usage, on C(pods) and C(nodes) of API group C(metrics.k8s.io)
    (granted by the M(aiops.k8s.metrics_server) role). A kind that cannot be listed (403 or 404) leaves no file for it and a note in RV(problems);
    pods that cannot be listed fail the collection.
  - Logs are read for containers that restarted, terminated or wait after a crash; C(<container>.log) is the current
    log, C(<container>.previous.log) the one before the last restart.
seealso:
  - module: aiops.k8s.pod_diagnose
"""

EXAMPLES = r"""
- name: Collect a bundle of the shop namespace
  aiops.k8s.cluster_bundle:
    dest: /tmp/bundle
    namespace: shop
  register: bundle

- name: Diagnose it offline (anywhere, no cluster needed)
  aiops.k8s.pod_diagnose:
    dump_dir: /tmp/bundle
    metrics: true
  register: diagnosis

- name: Whole cluster, more log lines, mask an internal ticket token too
  aiops.k8s.cluster_bundle:
    dest: "{{ playbook_dir }}/bundle-{{ now(utc=true, fmt='%Y%m%dT%H%M%SZ') }}"
    log_tail_lines: 2000
    redact_patterns:
      - "TCK-[0-9a-f]{16}"
"""

RETURN = r"""
dest:
  description: Absolute path of the bundle directory.
  returned: always
  type: str
  sample: /tmp/bundle
namespaces:
  description: Namespaces written (the one asked for, else every namespace an object was found in).
  returned: always
  type: list
  elements: str
  sample: [kube-system, shop]
objects:
  description: Objects written per kind (after the namespace filter); kinds that could not be listed are absent.
  returned: always
  type: dict
  sample: {Node: 3, Pod: 41, Event: 120}
logs:
  description: Container logs written (current and previous count separately).
  returned: always
  type: int
  sample: 6
files:
  description: Files the bundle holds after this run.
  returned: always
  type: int
  sample: 40
changed_files:
  description: Files (relative to RV(dest)) written or removed because their content differed; in check mode, those
    that would be.
  returned: always
  type: list
  elements: str
metrics:
  description: Usage collection.
  returned: always
  type: dict
  contains:
    served:
      description: Metrics kinds written (V(PodMetrics), V(NodeMetrics)).
      type: list
      elements: str
    refused:
      description: Why each kind that was not written is missing (also in C(metrics/NOT-COLLECTED.txt)).
      type: dict
problems:
  description: Notes about what could not be collected (a kind or logs that were refused); the bundle is still written.
  returned: always
  type: list
  elements: str
api_requests:
  description: Kubernetes API requests sent.
  returned: always
  type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.heap import collector_paused
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import bundle
from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.auth_spec import auth_argument_spec


def argument_spec():
    return auth_argument_spec(
        dest=dict(type="path", required=True),
        namespace=dict(type="str"),
        metrics=dict(type="bool", default=True),
        log_tail_lines=dict(type="int", default=bundle.DEFAULT_TAIL_LINES),
        log_max_bytes=dict(type="int", default=bundle.DEFAULT_MAX_BYTES),
        log_concurrency=dict(type="int", default=8),
        redact_patterns=dict(type="list", elements="str", default=[]),
        request_timeout=dict(type="int", default=30),
    )


def run(params, transport, check_mode=False):
    """Collect through ``transport`` and write (or, in check mode, compare) the bundle; the module's result."""
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
    source = LiveSource(transport, log_tail_lines=params["log_tail_lines"], log_max_bytes=params["log_max_bytes"],
                        redact_patterns=params["redact_patterns"], log_concurrency=params["log_concurrency"])
    namespace = (params["namespace"] or "").strip() or None
    with collector_paused():  # many decoded objects, all kept until written (common/heap.py)
        collected = bundle.collect(transport, source, namespace=namespace, with_metrics=params["metrics"])
        files = bundle.render(collected)
    dest = os.path.abspath(params["dest"])
    changed_files = bundle.write(dest, files, check_mode=check_mode)
    objects = dict((kind, len(items)) for kind, items in collected.lists.items())
    if collected.nodes is not None:
        objects["Node"] = len(collected.nodes)
    return {
        "changed": bool(changed_files),
        "dest": dest,
        "namespaces": collected.namespaces(),
        "objects": objects,
        "logs": len(collected.logs),
        "files": len(files),
        "changed_files": changed_files,
        "metrics": {"served": sorted(collected.metrics), "refused": collected.metrics_refused},
        "problems": collected.problems,
        "api_requests": transport.request_count,
    }


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not k8s_transport.HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=k8s_transport.K8S_IMPORT_ERROR)
    try:
        transport = k8s_transport.transport_from_module(module)
        result = run(module.params, transport, check_mode=module.check_mode)
    except AiopsError as exc:
        module.fail_json(msg=str(exc), changed=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
