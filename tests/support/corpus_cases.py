"""The held-out half of the classifier corpus as API objects, for serving it live through the emulator.

Every held-out case (tests/unit/classify/corpus/*.yaml and the messy Python cases of
tests/unit/classify/test_classify_corpus.py) becomes what a real API server would hold for it: the Pod (or the
workload) with the metadata a server always fills, its core/v1 or events.k8s.io/v1 Events with real
timestamps and an ``involvedObject`` naming the pod, the owner objects, the node when the case captured one,
and the container logs. The offline category is computed exactly as tests/unit/classify/test_corpus_halves.py
computes it, so a live run can be compared case by case.

What the capture did not contain is not invented: a case without a node object is served with the node
API refusing reads (403), which is how the live gatherer learns "node data unavailable", the same
``unknown`` node state the offline run has. The pod's creationTimestamp, which every real pod has and most
captures omit, is the earliest instant the case itself records (an event, a container start or finish, a
condition) so the pod is never younger than its own evidence; without any, one hour before ``as_of``.
"""

from __future__ import annotations

import copy
import datetime

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import PodEvidence, merge_events, parse_time
from tests.unit.classify.corpus_halves import HELDOUT, hash_half
from tests.unit.classify.podbuilder import AS_OF
from tests.unit.classify.test_classify_corpus import CORPUS as MESSY
from tests.unit.classify.test_realworld_corpus import CASES, DEFAULT_AS_OF, classify_case

_WORKLOAD_API = {"ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "Deployment": "apps/v1",
                 "Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1"}


def _stamp(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class ServedCase(object):
    """One corpus case as objects + logs for the emulator, its target and its offline category."""

    def __init__(self, case_id, expected, offline, as_of, objects, logs, kind, namespace, name, node_unreadable,
                 node_missing=False):
        self.id = case_id
        self.expected = expected
        self.offline = offline
        self.as_of = as_of
        self.objects = objects
        self.logs = logs
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.node_unreadable = node_unreadable
        # The capture says the node is gone (node_state: missing): served without it, nodes readable.
        self.node_missing = node_missing


def _raw_event(raw, as_of, involved, index):
    """A corpus event (``ago``/``first_ago`` shorthand) as the API would serve it."""
    raw = dict(raw)
    ago = raw.pop("ago", None)
    first_ago = raw.pop("first_ago", None)
    # A flow-mapping message with an unquoted comma leaves a stray key (``will be restarted: null``): drop it.
    raw = dict((k, v) for k, v in raw.items() if v is not None or k in ("message",))
    v1 = raw.get("apiVersion") == "events.k8s.io/v1"
    if ago is not None:
        last = as_of - datetime.timedelta(seconds=ago)
        first = as_of - datetime.timedelta(seconds=first_ago if first_ago is not None else ago)
        if v1:
            raw.setdefault("eventTime", _stamp(last))
            raw.setdefault("deprecatedFirstTimestamp", _stamp(first))
        else:
            raw.setdefault("lastTimestamp", _stamp(last))
            raw.setdefault("firstTimestamp", _stamp(first))
    ref_key = "regarding" if v1 else "involvedObject"
    ref = dict(involved)
    ref.update(raw.get(ref_key) or raw.get("involvedObject") or {})
    # The case's pod (or workload) is the object; a stray name in a hand-built event does not move it.
    ref.update(involved)
    raw.pop("involvedObject", None)
    raw[ref_key] = ref
    meta = dict(raw.get("metadata") or {})
    meta["name"] = "%s.%04d" % (involved["name"], index)
    meta["namespace"] = involved["namespace"]
    raw["metadata"] = meta
    raw["apiVersion"] = "events.k8s.io/v1" if v1 else "v1"
    raw["kind"] = "Event"
    return raw


def _times(obj):
    """Every timestamp-looking string in ``obj`` (nested), parsed."""
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, str) and (key.endswith("At") or key.endswith("Time") or key.endswith("Timestamp")):
                when = parse_time(value)
                if when is not None:
                    found.append(when)
            else:
                found.extend(_times(value))
    elif isinstance(obj, list):
        for item in obj:
            found.extend(_times(item))
    return found


def _with_server_metadata(obj, kind, api_version, earliest):
    obj = copy.deepcopy(obj)
    obj["kind"] = kind
    obj["apiVersion"] = api_version
    meta = obj.setdefault("metadata", {})
    meta.setdefault("namespace", "default")
    meta.setdefault("creationTimestamp", _stamp(earliest))
    return obj


def _serve(case_id, expected, offline, as_of, pod=None, workload=None, events=(), logs=None, node=None,
           node_state=None, owners=()):
    objects = []
    subject = pod if pod is not None else workload
    kind = "Pod" if pod is not None else subject.get("kind")
    api_version = "v1" if pod is not None else (subject.get("apiVersion") or _WORKLOAD_API.get(kind, "apps/v1"))
    raw_events_times = []
    for raw in events:
        ago = raw.get("first_ago", raw.get("ago"))
        if ago is not None:
            raw_events_times.append(as_of - datetime.timedelta(seconds=ago))
    known = [t for t in _times(subject) + raw_events_times if t <= as_of]
    earliest = min(known) - datetime.timedelta(seconds=60) if known else as_of - datetime.timedelta(hours=1)
    subject = _with_server_metadata(subject, kind, api_version, earliest)
    meta = subject["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    for owner in owners or ():
        # The offline case hands the owner chain over directly; live, the pod's ownerReference leads to it.
        owner_obj = copy.deepcopy(owner.get("object") or {})
        owner_meta = owner_obj.setdefault("metadata", {})
        owner_meta.update({"name": owner["name"], "namespace": namespace})
        owner_meta["uid"] = owner.get("uid") or owner_meta.get("uid") or "uid-%s" % owner["name"]
        owner_api = owner.get("api_version") or _WORKLOAD_API.get(owner["kind"], "apps/v1")
        objects.append(_with_server_metadata(owner_obj, owner["kind"], owner_api, earliest))
        meta.setdefault("ownerReferences", []).append({
            "apiVersion": owner_api, "kind": owner["kind"], "name": owner["name"], "uid": owner_meta["uid"],
            "controller": True})
    objects.append(subject)
    involved = {"kind": kind, "name": name, "namespace": namespace}
    if pod is not None and meta.get("uid"):
        involved["uid"] = meta["uid"]
    for index, raw in enumerate(events):
        objects.append(_raw_event(raw, as_of, involved, index))
    node_name = ((subject.get("spec") or {}).get("nodeName")) if pod is not None else None
    node_unreadable = False
    if node:
        objects.append(_with_server_metadata(node, "Node", "v1", earliest))
    elif node_name and node_state != "missing":
        node_unreadable = True
    served_logs = []
    for container, entry in sorted((logs or {}).items()):
        for previous in (False, True):
            text = (entry or {}).get("previous" if previous else "current")
            if text is not None:
                served_logs.append({"namespace": namespace, "pod": name, "container": container,
                                    "previous": previous, "text": text})
    return ServedCase(case_id, expected, offline, as_of, objects, served_logs, kind, namespace, name,
                      node_unreadable, node_missing=bool(node_name) and node_state == "missing")


def _category(result):
    return result["category"] if result else None


def _messy_raw(event):
    """A normalised messy-corpus event back in its core/v1 shape (the shape normalise_event read)."""
    raw = {"reason": event["reason"], "message": event["message"], "count": event["count"], "type": event["type"]}
    if event.get("first_seen"):
        raw["first_ago"] = int((AS_OF - event["first_seen"]).total_seconds())
    if event.get("last_seen"):
        raw["ago"] = int((AS_OF - event["last_seen"]).total_seconds())
    if event.get("field_path"):
        raw["involvedObject"] = {"fieldPath": event["field_path"]}
    if event.get("component"):
        raw["source"] = {"component": event["component"]}
    return raw


def heldout_cases():
    """Every held-out case as a ServedCase, in corpus order (YAML files, then the messy Python cases)."""
    served = []
    for case in CASES:
        if case["half"] != HELDOUT:
            continue
        as_of = parse_time(case.get("as_of") or DEFAULT_AS_OF)
        offline = _category(classify_case(case))
        served.append(_serve(case["id"], case["expected"], offline, as_of, pod=case.get("pod"),
                             workload=case.get("workload"), events=case.get("events") or [], logs=case.get("logs"),
                             node=case.get("node"), node_state=case.get("node_state"), owners=case.get("owners")))
    for name, expected, pod_obj, events in MESSY:
        case_id = "messy-" + name
        if hash_half(case_id) != HELDOUT:
            continue
        offline = classify_pod(PodEvidence(pod_obj, events=merge_events(events), as_of=AS_OF))["category"]
        served.append(_serve(case_id, expected, offline, AS_OF, pod=pod_obj, events=[_messy_raw(e) for e in events]))
    return served
