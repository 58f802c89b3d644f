#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pod_diagnose
short_description: Find out why Kubernetes pods are failing, from a live cluster or an offline dump
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Gathers the evidence for one pod, the pods matching selectors, a namespace or every namespace (pod spec and
    status, every container state, all events, the owner chain, the node, volume claims and the logs of
    containers that crashed or exited) and classifies it into a root cause that names the exact culprit.
  - Reads a live cluster through the same connection options as M(kubernetes.core.k8s_info), or a directory
    written by C(kubectl cluster-info dump) (or by the C(aiops.k8s.collect_bundle) playbook) with
    O(dump_dir), without any cluster access.
  - Also reads text pasted into a ticket, C(kubectl describe pod) output (O(describe_file)) and/or C(kubectl get
    events) output (O(events_file)), kubectl 1.19 to 1.32 layouts, several pods per file; the diagnosis lists
    the evidence such a capture lacks in RV(problems).
  - Namespace-wide and cluster-wide scans use paged LIST calls, never one request per pod; logs are read only
    for containers that crashed or exited, tail-limited, byte-capped and redacted.
  - Read-only. Never reads Secret data.
options:
  name:
    description:
      - Name of one pod to diagnose. Requires O(namespace).
    type: str
    aliases: [pod]
  namespace:
    description:
      - Namespace to diagnose, or the namespace of O(name).
      - With neither O(namespace) nor O(all_namespaces), every namespace is scanned.
    type: str
  all_namespaces:
    description:
      - Scan every namespace. Mutually exclusive with O(namespace).
    type: bool
    default: false
  label_selectors:
    description:
      - Label selectors the pods must match, for example V(app=web). All must match.
    type: list
    elements: str
    default: []
  field_selectors:
    description:
      - Field selectors the pods must match, for example V(spec.nodeName=node-1). All must match.
    type: list
    elements: str
    default: []
  include_healthy:
    description:
      - Also return a diagnosis for pods classified as V(Healthy). Counts in RV(summary) always include them.
    type: bool
    default: false
  dump_dir:
    description:
      - Diagnose offline from this directory (a C(kubectl cluster-info dump --output-directory) tree, a bundle
        written by C(aiops.k8s.collect_bundle), a directory of JSON/YAML object files, or one such file).
      - When set, no cluster is contacted and the connection options are ignored.
    type: path
  describe_file:
    description:
      - Diagnose offline from a text file holding C(kubectl describe pod) output (one or several pods).
      - Cannot be combined with O(dump_dir). Environment values in the text are never copied into the result.
    type: path
  events_file:
    description:
      - Diagnose offline from a text file holding C(kubectl get events) output (default, C(-A) or older layouts).
      - Alone, every pod named in the events is diagnosed from its events; with O(describe_file), the events are
        merged into the described pods. Cannot be combined with O(dump_dir).
    type: path
  as_of:
    description:
      - Offline only. The time the dump was taken (RFC 3339). Every age (event age, pull age, grace periods) is
        measured against it. Defaults to the newest timestamp found in the dump, never the current time.
      - For O(describe_file)/O(events_file), the time the text was captured (kubectl prints relative ages); by
        default the newest absolute timestamp in the text stands in, and the diagnosis says so.
    type: str
  log_tail_lines:
    description:
      - Number of log lines kept per container (current and previous logs).
    type: int
    default: 50
  log_max_bytes:
    description:
      - Maximum bytes read per container log. Larger logs are cut; memory use stays bounded.
    type: int
    default: 65536
  log_concurrency:
    description:
      - How many logs are read from the API at the same time at first. The number grows by one per answer while
        the API server keeps up, up to 32 (or this value when higher), and halves whenever the server answers
        429 Too Many Requests; throttled reads are retried after the server's Retry-After.
    type: int
    default: 8
  request_timeout:
    description:
      - Seconds to wait for each Kubernetes API request (connect and read) before giving up.
    type: int
    default: 30
  metrics:
    description:
      - Also read resource usage from metrics-server (C(metrics.k8s.io), installed by the C(aiops.k8s.metrics_server)
        role) and add it to each diagnosis as RV(diagnoses[].usage) - container working set and CPU against their
        request and limit, and node usage against allocatable.
      - Live, one GET for a single pod (plus one for its node), or one LIST per namespace (plus one node LIST).
        With O(dump_dir), the metrics files of the dump are read (C(metrics/pod-metrics.json),
        C(metrics/node-metrics.json), C(metrics/top-pods.txt), C(metrics/top-nodes.txt)); none is an error.
      - When metrics-server is absent (404), forbidden (403) or not ready (503), RV(problems) gets one note and the
        diagnosis completes without usage. One sample is not a peak; see C(docs/metrics.md).
      - The OOMKilled root cause then states the usage figure and the proposed memory limit is computed from it.
    type: bool
    default: false
  prometheus_window:
    description:
      - With O(metrics=true) and O(prometheus_url), seconds of history the peaks are taken over, ending at the
        evidence clock.
    type: int
    default: 3600
  redact_patterns:
    description:
      - Extra regular expressions whose matches are masked in logs and messages, on top of the built-in
        patterns for tokens, passwords, keys and credentials in URLs.
    type: list
    elements: str
    default: []
  report_dir:
    description:
      - Also write the report there, on the controller, as C(diagnosis.json) (the result without the task keys),
        C(diagnosis.md) (rendered from the collection's C(playbooks/templates/diagnosis_report.md.j2)) and, unless
        O(docs_base_url) is set, the runbooks the report links to under C(runbooks/), so the links stay valid
        wherever the folder is sent. Created when missing. Give an absolute path (the C(aiops.k8s.diagnose_pod)
        playbook resolves its C(report_dir) against the directory it is run from).
      - Written by the action plugin in one pass, far faster for hundreds of diagnoses than templating the
        registered result in later tasks.
    type: path
  docs_base_url:
    description:
      - With O(report_dir) or O(report_text), link runbooks to this docs site (for example
        V(https://docs.example.com/aiops)) instead of copying them next to the report.
    type: str
  report_text:
    description:
      - Also return the console report as RV(report_text) and a compact index of the diagnoses as RV(report_index),
        rendered on the controller (the C(aiops.k8s.diagnose_pod) playbook prints and publishes these).
    type: bool
    default: false
extends_documentation_fragment:
  - aiops.k8s.k8s_auth
  - aiops.k8s.prometheus
  - aiops.k8s.ai_options
attributes:
  check_mode:
    support: full
    description: The module never changes anything; check mode runs the same read-only diagnosis.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
requirements:
  - python >= 3.8
  - kubernetes >= 24.2.0 (live cluster only)
notes:
  - The shipped least-privilege ClusterRole for this module is C(docs/rbac/diagnose-readonly.yaml).
  - With a local connection and C(ansible_python_interpreter) set to the controller's own Python (the value of
    C(ansible_playbook_python), as in every shipped playbook), the action plugin runs the diagnosis inside the
    controller's worker instead of starting a module process, with the same result. Any other setup, O(ai_explain),
    or the variable C(aiops_in_process=false) (or C(aiops_diagnose_in_process=false)) runs the module as usual.
  - Events expire after about an hour on most clusters; the classifier then falls back to container states and
    conditions, and says so in the evidence.
  - Every diagnosis names the runbook for its category (RV(diagnoses[].runbook)), shipped in the collection's
    C(runbooks/) folder.
seealso:
  - module: kubernetes.core.k8s_info
    description: Reads the same objects one kind at a time; pod_diagnose shares its connection options.
"""

EXAMPLES = r"""
- name: Diagnose one pod
  aiops.k8s.pod_diagnose:
    name: web-7d4b9c6f5-x2x9z
    namespace: shop
  register: diag

- name: Diagnose every failing pod of an app, using a specific kubeconfig context
  aiops.k8s.pod_diagnose:
    namespace: shop
    label_selectors:
      - app=web
    kubeconfig: ~/.kube/prod
    context: prod-eu

- name: Triage the whole cluster
  aiops.k8s.pod_diagnose:
    all_namespaces: true
  register: triage

- name: Triage the whole cluster and keep a JSON + Markdown report with its runbooks
  aiops.k8s.pod_diagnose:
    all_namespaces: true
    report_dir: /srv/reports/today

- name: Diagnose offline from a cluster-info dump sent by a customer
  aiops.k8s.pod_diagnose:
    dump_dir: /tmp/customer-dump
    as_of: "2026-11-25T09:30:00Z"

- name: Show the root cause of every failing pod
  ansible.builtin.debug:
    msg: "{{ item.namespace }}/{{ item.name }}: {{ item.category }} - {{ item.root_cause }}"
  loop: "{{ triage.diagnoses }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
diagnoses:
  description: One diagnosis per failing pod (and per workload that cannot create pods), worst first.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Kind of the diagnosed object (V(Pod), or the workload kind for pod-creation failures).
      type: str
      sample: Pod
    namespace:
      description: Namespace of the object.
      type: str
      sample: shop
    name:
      description: Name of the object.
      type: str
      sample: web-7d4b9c6f5-x2x9z
    uid:
      description: UID of the object, empty when unknown.
      type: str
    owner:
      description: Top controller (kind and name), null for a bare pod.
      type: dict
      sample: {"kind": "Deployment", "name": "web"}
    node:
      description: Node the pod is bound to, if any.
      type: str
    category:
      description: Root-cause category; one of the names listed in C(docs/classifier.md).
      type: str
      sample: OOMKilled
    severity:
      description: How urgently a human should look (critical, high, medium, low, none).
      type: str
      sample: high
    confidence:
      description: Confidence of the classification, 0 to 1.
      type: float
      sample: 0.95
    summary:
      description: One line for humans.
      type: str
    root_cause:
      description: The cause, naming the culprit (container, image, key, taint, bytes over the limit).
      type: str
    culprit:
      description: Machine-readable facts naming the culprit.
      type: dict
    evidence:
      description: Pointers to the exact fields, events and log lines used, each with C(source) and C(detail).
      type: list
      elements: dict
    secondary:
      description: Other findings on the same object.
      type: list
      elements: dict
    restarts:
      description: Total container restarts of the pod.
      type: int
    container:
      description: Name of the culprit container, null when the cause is not one container.
      type: str
      sample: app
    facts:
      description: Facts of the winning finding (for example C(memory_limit)), so proposals can be recomputed from a
        saved diagnosis.
      type: dict
      sample: {"memory_limit": "128Mi"}
    subject:
      description: Facts about the diagnosed object that proposals need (owner chain, rollout undo target, previous
        images, pod phase and container resources); never whole objects.
      type: dict
    failure_started_at:
      description: When the failure started (RFC 3339, earliest warning event, restart or not-ready transition), null
        when unknown.
      type: str
      sample: "2026-11-25T18:55:00Z"
    usage:
      description:
        - Resource usage of the pod from metrics-server (and its node), present only with O(metrics=true) when a
          sample exists.
        - C(containers) lists per container C(cpu) and C(memory) figures (C(usage), C(request), C(limit), C(peak),
          C(percent_of_request), C(percent_of_limit), C(text)); C(node) has the node's figures against allocatable;
          C(timestamp) and C(window) are the sample's.
      returned: when metrics is true and metrics-server had a sample for the pod
      type: dict
      sample: {"containers": [{"name": "app", "memory": {"text": "126Mi of 128Mi (98%)"}}],
               "node": {"name": "node-2", "cpu": {"text": "3.1 of 3.9 (79%)"}}}
    remediations:
      description:
        - Remediation options (action, target, params, risk_tier, description, reversible, rollback, manual_steps).
        - "C(basis) names the figure a proposed size was computed from (C(source), C(figure), C(text), for example
          C(sample 126Mi at 19:00:00Z) or C(no usage: +50 %)), null for proposals that set no size."
      type: list
      elements: dict
    runbook:
      description: Path of the runbook for the category, relative to the collection root.
      type: str
      sample: runbooks/OOMKilled.md
    diagnosis_id:
      description: Stable identifier of this diagnosis.
      type: str
      sample: 3f2a9c1d7e4b
    observed_at:
      description: The evidence clock the diagnosis was made at.
      type: str
    problems:
      description: Evidence that could not be gathered for this object.
      type: list
      elements: str
summary:
  description: Number of scanned objects per category, Healthy included.
  returned: always
  type: dict
  sample: {"CrashLoopBackOff": 2, "Healthy": 40}
scanned:
  description: Number of pods examined.
  returned: always
  type: int
healthy:
  description: Number of pods classified as Healthy.
  returned: always
  type: int
source:
  description: Where the evidence came from, V(live), V(dump) or V(capture) (describe/events text).
  returned: always
  type: str
as_of:
  description: The evidence clock (RFC 3339).
  returned: always
  type: str
problems:
  description: Evidence that could not be gathered (for example a forbidden optional read), with what was skipped.
  returned: always
  type: list
  elements: str
api_requests:
  description: Number of Kubernetes API requests made (0 offline).
  returned: always
  type: int
ai_analysis:
  description: Advisory text from kubectl-ai when O(ai_explain=true); never replaces the categories.
  returned: when ai_explain is true and the analysis succeeded
  type: dict
  contains:
    provider:
      description: LLM provider kubectl-ai used (V(default) when not set).
      type: str
    model:
      description: Model kubectl-ai used (V(default) when not set).
      type: str
    text:
      description: The advisory answer, redacted.
      type: str
    masked:
      description: Whether object names were masked before they were sent to the model.
      type: bool
    identity:
      description: One line saying which Kubernetes identity the kubectl-ai child ran with (a read-only kubeconfig,
        an impersonated account, or the module's own identity when O(ai_allow_write_identity=true)).
      type: str
      sample: read-only identity from ai_kubeconfig (context ro)
    cluster:
      description: API server URL of the cluster the child was pointed at (the diagnosed one), null when unknown.
      type: str
      sample: https://127.0.0.1:6443
report_files:
  description: The files written for O(report_dir) (C(json), C(markdown), and the C(runbooks) copied).
  returned: when report_dir is set
  type: dict
  sample: {"json": "/srv/reports/diagnosis.json", "markdown": "/srv/reports/diagnosis.md",
           "runbooks": ["/srv/reports/runbooks/OOMKilled.md"]}
report_text:
  description: The console report (C(playbooks/templates/diagnosis_report.txt.j2)) of this result.
  returned: when report_text is true
  type: str
report_index:
  description: One entry per diagnosis with C(id), C(kind), C(namespace), C(name) and C(category) (the compact
    list the diagnose_pod playbook publishes with set_stats).
  returned: when report_text is true
  type: list
  elements: dict
  sample: [{"id": "3f2a9c1d7e4b", "kind": "Pod", "namespace": "shop", "name": "web-1", "category": "OOMKilled"}]
aiops:
  description: Marker the aiops.k8s.phr callback uses to recognise this result.
  returned: always
  type: dict
  sample: {"kind": "diagnosis", "version": 1}
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# The kubernetes client (imported by k8s.transport) is loaded only for a live scan: a dump scan never needs it.
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.auth_spec import auth_argument_spec, kubeconfig_problem
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.heap import collector_paused
from ansible_collections.aiops.k8s.plugins.module_utils import runner
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target, gather
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis import ai_explain


def argument_spec():
    spec = auth_argument_spec(
        name=dict(type="str", aliases=["pod"]),
        namespace=dict(type="str"),
        all_namespaces=dict(type="bool", default=False),
        label_selectors=dict(type="list", elements="str", default=[]),
        field_selectors=dict(type="list", elements="str", default=[]),
        include_healthy=dict(type="bool", default=False),
        dump_dir=dict(type="path"),
        describe_file=dict(type="path"),
        events_file=dict(type="path"),
        as_of=dict(type="str"),
        log_tail_lines=dict(type="int", default=50),
        log_max_bytes=dict(type="int", default=65536),
        log_concurrency=dict(type="int", default=8),
        metrics=dict(type="bool", default=False),
        prometheus_url=dict(type="str"),
        prometheus_token=dict(type="str", no_log=True),
        prometheus_window=dict(type="int", default=3600),
        prometheus_validate_certs=dict(type="bool", default=True),
        redact_patterns=dict(type="list", elements="str", default=[]),
        request_timeout=dict(type="int", default=30),
        # Written on the controller by the action plugin (plugins/action/pod_diagnose.py); unused here.
        report_dir=dict(type="path"),
        docs_base_url=dict(type="str"),
        report_text=dict(type="bool", default=False),
    )
    spec.update(copy.deepcopy(ai_explain.AI_ARGUMENT_SPEC))
    return spec


class Refused(Exception):
    """Input the module refuses before gathering: ``msg`` (one line) and, optionally, a traceback text."""

    def __init__(self, msg, exception=None):
        super(Refused, self).__init__(msg)
        self.msg = msg
        self.exception = exception


def build_source(params):
    """The dump reader for dump_dir, otherwise the live reader over kubernetes.core's client."""
    caps = dict(log_tail_lines=params["log_tail_lines"], log_max_bytes=params["log_max_bytes"],
                redact_patterns=params["redact_patterns"])
    if params["describe_file"] or params["events_file"]:
        if params["dump_dir"]:
            raise Refused("dump_dir cannot be combined with describe_file/events_file: give one offline input")
        from ansible_collections.aiops.k8s.plugins.module_utils.evidence.describe import CaptureSource
        return CaptureSource(params["describe_file"], params["events_file"], as_of=params["as_of"],
                             redact_patterns=params["redact_patterns"]), None
    if params["dump_dir"]:
        from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource
        return DumpSource(params["dump_dir"], as_of=params["as_of"], **caps), None
    from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
    if not k8s_transport.HAS_K8S:
        raise Refused(missing_required_lib("kubernetes"), exception=k8s_transport.K8S_IMPORT_ERROR)
    if "kubeconfig" not in params:  # auth_argument_spec found no kubernetes.core
        raise Refused("The kubernetes.core collection is required for live diagnosis: "
                      "install it (ansible-galaxy collection install kubernetes.core) or use dump_dir.")
    problem = kubeconfig_problem(params)
    if problem:
        raise Refused(problem)
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
    transport = k8s_transport.transport_from_module(params)
    return LiveSource(transport, log_concurrency=params["log_concurrency"], metrics=params["metrics"],
                      **caps), transport


def run(params, run_command=None):
    """The diagnosis for validated ``params``: (result, warnings). Raises Refused or AiopsError.

    Shared by main() and the action plugin (plugins/action/pod_diagnose.py), which runs it inside the
    controller for a local connection on the controller's own Python, skipping the AnsiballZ round trip.
    ``run_command`` (AnsibleModule.run_command's signature) is needed only for ai_explain.
    """
    target = Target(
        name=params["name"],
        namespace=params["namespace"],
        all_namespaces=params["all_namespaces"] or not (params["namespace"] or params["name"]),
        label_selectors=params["label_selectors"],
        field_selectors=params["field_selectors"],
        include_healthy=params["include_healthy"],
    )
    source, transport = build_source(params)
    with collector_paused():  # the scan's data is built faster without the collector (common/heap.py)
        gathered = gather(source, target)
        if params["metrics"] and params["dump_dir"]:
            runner.attach_dump_usage(gathered, params["dump_dir"])
        if params["metrics"] and params["prometheus_url"]:
            runner.attach_history(gathered, params)
        result = runner.diagnose(gathered, include_healthy=params["include_healthy"])
    result["api_requests"] = transport.request_count if transport is not None else 0
    warnings = []
    if params["ai_explain"]:
        analysis, warnings = ai_explain.explain(result["diagnoses"], params, run_command)
        if analysis is not None:
            result["ai_analysis"] = analysis
    result["aiops"] = {"kind": "diagnosis", "version": 1}
    return result, warnings


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
    )
    try:
        result, warnings = run(module.params, module.run_command)
    except Refused as exc:
        if exc.exception:
            module.fail_json(msg=exc.msg, exception=exc.exception)
        module.fail_json(msg=exc.msg, changed=False)
    except AiopsError as exc:
        module.fail_json(msg=str(exc), changed=False)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
