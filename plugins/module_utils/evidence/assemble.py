# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What both sources share: turning raw objects into evidence.

A source (live API or dump) fills a Snapshot with raw objects and a way to read logs; ``assemble``
builds the same PodEvidence / WorkloadEvidence from it, so the two sources cannot drift apart.
Pure Python: no client, no Ansible, no clock (the source passes ``as_of``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import model as ev
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import compile_patterns, redact

# Controllers we follow up the owner chain: kind -> (apiVersion, plural). ReplicaSet -> Deployment,
# Job -> CronJob; the others are top controllers.
OWNER_KINDS = collections.OrderedDict((
    ("ReplicaSet", ("apps/v1", "replicasets")),
    ("Deployment", ("apps/v1", "deployments")),
    ("StatefulSet", ("apps/v1", "statefulsets")),
    ("DaemonSet", ("apps/v1", "daemonsets")),
    ("Job", ("batch/v1", "jobs")),
    ("CronJob", ("batch/v1", "cronjobs")),
    ("ReplicationController", ("v1", "replicationcontrollers")),
))
# Controllers whose failure to create pods becomes WorkloadEvidence.
WORKLOAD_KINDS = ("ReplicaSet", "StatefulSet", "Job", "DaemonSet", "ReplicationController")
# Waiting reasons that mean a container crashed or could not run: read its logs.
CRASH_WAITING = ("CrashLoopBackOff", "RunContainerError", "Error")
# Waiting reasons where a missing ConfigMap/Secret is the usual cause: check references.
CONFIG_WAITING = ("CreateContainerConfigError", "ContainerCreating")

DEFAULT_TAIL_LINES = 50
DEFAULT_MAX_BYTES = 65536
MAX_OWNER_DEPTH = 6


def meta(obj):
    value = obj.get("metadata") if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def key_of(obj):
    """(namespace, name) of an object."""
    data = meta(obj)
    return (data.get("namespace") or "", data.get("name") or "")


def check_object(obj):
    """Why an object cannot be used (None when fine): a non-dict or one without metadata.name."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    if not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name"):
        return "%s without metadata.name" % (obj.get("kind") or "object")
    return None


# -- selectors (the dump matches locally what the API server matches live) ---------------------

_SET_EXPR = re.compile(r"^\s*([^\s!=()]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


def _split_requirements(text):
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def parse_label_selector(text):
    """List of (key, op, values) for "app=web,tier in (a,b),!canary" (ops: =, !=, in, notin, exists, !)."""
    requirements = []
    for part in _split_requirements(text or ""):
        match = _SET_EXPR.match(part)
        if match:
            values = set(v.strip() for v in match.group(3).split(",") if v.strip())
            requirements.append((match.group(1), match.group(2), values))
        elif "!=" in part:
            key, value = part.split("!=", 1)
            requirements.append((key.strip(), "!=", set([value.strip()])))
        elif "==" in part or "=" in part:
            key, value = part.split("==", 1) if "==" in part else part.split("=", 1)
            requirements.append((key.strip(), "=", set([value.strip()])))
        elif part.startswith("!"):
            requirements.append((part[1:].strip(), "!", set()))
        elif re.match(r"^[A-Za-z0-9./_-]+$", part):
            requirements.append((part, "exists", set()))
        else:
            raise InvalidInput('Label selector "%s" is not valid: use key=value, key!=value, key in (a,b) or key'
                               % part)
    return requirements


def labels_match(labels, requirements):
    labels = labels if isinstance(labels, dict) else {}
    for key, op, values in requirements:
        present = key in labels
        value = labels.get(key)
        if op in ("=", "in") and (not present or value not in values):
            return False
        if op in ("!=", "notin") and present and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


def parse_field_selector(text):
    requirements = []
    for part in _split_requirements(text or ""):
        if "!=" in part:
            field, value = part.split("!=", 1)
            requirements.append((field.strip(), False, value.strip()))
        elif "=" in part:
            field, value = part.split("==", 1) if "==" in part else part.split("=", 1)
            requirements.append((field.strip(), True, value.strip()))
        else:
            raise InvalidInput('Field selector "%s" is not valid: use field=value or field!=value' % part)
    return requirements


def _field(obj, path):
    value = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def fields_match(obj, requirements):
    for field, equal, value in requirements:
        if (_field(obj, field) == value) != equal:
            return False
    return True


def pod_matches(pod, target):
    """Local selector matching for the dump source (the API server does it live)."""
    if target.label_selectors and not labels_match(meta(pod).get("labels"),
                                                   parse_label_selector(target.label_selector)):
        return False
    if target.field_selectors and not fields_match(pod, parse_field_selector(target.field_selector)):
        return False
    return True


# -- what a pod needs -----------------------------------------------------------------------------

def log_requests(pod):
    """[(container, want_current, want_previous)] for containers that crashed or exited."""
    wanted = []
    for _role, spec, status in ev.container_pairs(pod):
        name = spec.get("name")
        if not name or not isinstance(status, dict):
            continue
        state = status.get("state") or {}
        last = status.get("lastState") or {}
        restarts = status.get("restartCount") or 0
        waiting = (state.get("waiting") or {}).get("reason")
        crashed = waiting in CRASH_WAITING
        current = bool(state.get("terminated")) or crashed or (restarts > 0 and bool(state.get("running")))
        previous = bool(last.get("terminated")) or (isinstance(restarts, int) and restarts > 0)
        if current or previous:
            wanted.append((name, current, previous))
    return wanted


def needs_config_refs(pod):
    for _role, _spec, status in ev.container_pairs(pod):
        waiting = ((status or {}).get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in CONFIG_WAITING:
            return True
    return False


def config_references(pod):
    """(configmap names, secret names) a pod refers to through env, envFrom, volumes and projections."""
    configmaps, secrets = set(), set()
    spec = pod.get("spec") or {}
    for _role, container, _status in ev.container_pairs(pod):
        for env in container.get("env") or []:
            source = (env or {}).get("valueFrom") or {}
            if (source.get("configMapKeyRef") or {}).get("name"):
                configmaps.add(source["configMapKeyRef"]["name"])
            if (source.get("secretKeyRef") or {}).get("name"):
                secrets.add(source["secretKeyRef"]["name"])
        for env_from in container.get("envFrom") or []:
            if ((env_from or {}).get("configMapRef") or {}).get("name"):
                configmaps.add(env_from["configMapRef"]["name"])
            if ((env_from or {}).get("secretRef") or {}).get("name"):
                secrets.add(env_from["secretRef"]["name"])
    for volume in spec.get("volumes") or []:
        volume = volume or {}
        if (volume.get("configMap") or {}).get("name"):
            configmaps.add(volume["configMap"]["name"])
        if (volume.get("secret") or {}).get("secretName"):
            secrets.add(volume["secret"]["secretName"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if ((source or {}).get("configMap") or {}).get("name"):
                configmaps.add(source["configMap"]["name"])
            if ((source or {}).get("secret") or {}).get("name"):
                secrets.add(source["secret"]["name"])
    return sorted(configmaps), sorted(secrets)


def claim_names(pod):
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        claim = ((volume or {}).get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            names.append(claim)
    return names


def controller_ref(obj):
    """The controlling ownerReference of an object (controller: true, else the first), or None."""
    refs = [ref for ref in meta(obj).get("ownerReferences") or [] if isinstance(ref, dict) and ref.get("kind")]
    for ref in refs:
        if ref.get("controller"):
            return ref
    return refs[0] if refs else None


def strip_configmap(obj):
    """Keep a ConfigMap's metadata and key names only: values never leave the source."""
    keys = sorted(set(list((obj.get("data") or {}).keys()) + list((obj.get("binaryData") or {}).keys())))
    return {"kind": "ConfigMap", "metadata": {"name": meta(obj).get("name"), "namespace": meta(obj).get("namespace")},
            "keys": keys}


# -- logs -----------------------------------------------------------------------------------------

def tail_text(text, tail_lines, max_bytes):
    """Last ``tail_lines`` lines of ``text`` within ``max_bytes``; returns (text, truncated)."""
    if text is None:
        return None, False
    lines = text.splitlines(True)
    truncated = False
    if tail_lines is not None and len(lines) > tail_lines:
        lines = lines[-tail_lines:] if tail_lines > 0 else []
        truncated = True
    total = sum(len(line.encode("utf-8")) for line in lines)
    while lines and total > max_bytes:
        total -= len(lines[0].encode("utf-8"))
        lines.pop(0)
        truncated = True
    return "".join(lines), truncated


class LogTail(object):
    """Keeps the last lines of a stream within a line and byte budget (memory stays bounded)."""

    def __init__(self, tail_lines, max_bytes):
        self.tail_lines = max(0, tail_lines)
        self.max_bytes = max(0, max_bytes)
        self.lines = collections.deque()
        self.size = 0
        self.truncated = False

    def add(self, line):
        encoded = len(line.encode("utf-8"))
        if encoded > self.max_bytes:
            line = line[-self.max_bytes:] if self.max_bytes else ""
            encoded = len(line.encode("utf-8"))
            self.truncated = True
        self.lines.append(line)
        self.size += encoded
        while self.lines and (len(self.lines) > self.tail_lines or self.size > self.max_bytes):
            self.size -= len(self.lines.popleft().encode("utf-8"))
            self.truncated = True

    def text(self):
        return "".join(self.lines)


def clean_log(text, truncated, tail_lines, max_bytes, patterns):
    """Tail, cap and redact one log; returns (text, truncated)."""
    text, cut = tail_text(text, tail_lines, max_bytes)
    if text is None:
        return None, truncated
    return redact(text, patterns), truncated or cut


# -- redaction of free text the API carries ------------------------------------------------------

def normalise_events(raw_events, patterns=None):
    """Normalised events with their messages redacted (image pull errors can echo registry credentials)."""
    events = []
    for raw in raw_events:
        if not isinstance(raw, dict):
            continue
        event = ev.normalise_event(raw)
        if event["message"]:
            event["message"] = redact(event["message"], patterns)
        events.append(event)
    return events


def redact_pod_messages(pod, patterns=None):
    """Redact, in place, the free-text messages of a pod's status.

    A container's termination message is whatever the app wrote to /dev/termination-log (often a
    stack trace); status and condition messages can echo image references with credentials.
    """
    status = pod.get("status")
    if not isinstance(status, dict):
        return pod
    if isinstance(status.get("message"), str):
        status["message"] = redact(status["message"], patterns)
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and isinstance(condition.get("message"), str):
            condition["message"] = redact(condition["message"], patterns)
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for item in status.get(key) or []:
            if not isinstance(item, dict):
                continue
            for state_key in ("state", "lastState"):
                for detail in ((item.get(state_key) or {}).values() if isinstance(item.get(state_key), dict)
                               else ()):
                    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
                        detail["message"] = redact(detail["message"], patterns)
    return pod


# -- assembly -------------------------------------------------------------------------------------

class Snapshot(object):
    """Raw objects a source collected, indexed for assembly.

    ``nodes``/``claims``/``configmaps`` are None when the source has no data for them (not fetched,
    forbidden, absent from the dump): evidence then says "unknown" instead of "missing".
    """

    def __init__(self):
        self.pods = []
        self.events = []                  # normalised events
        self.owners = {}                  # (kind, namespace, name) -> raw object
        self.owner_kinds_known = set()    # kinds whose absence means "does not exist"
        self.nodes = None                 # name -> raw Node, or None when unknown
        self.claims = None                # (namespace, name) -> raw PVC, or None when unknown
        self.configmaps = None            # (namespace, name) -> stripped ConfigMap, or None when unknown
        self.logs = {}                    # (namespace, pod, container) -> {"current", "previous", "truncated"}
        self.problems = []

    def add_owner(self, obj, kind=None):
        kind = kind or obj.get("kind")
        namespace, name = key_of(obj)
        self.owners[(kind, namespace, name)] = obj


def index_events(events):
    """Events grouped by involved uid and by (kind, namespace, name)."""
    by_uid = collections.defaultdict(list)
    by_name = collections.defaultdict(list)
    for event in events:
        if event.get("uid"):
            by_uid[event["uid"]].append(event)
        by_name[(event.get("kind"), event.get("namespace"), event.get("name"))].append(event)
    return by_uid, by_name


def events_for(kind, obj, by_uid, by_name):
    """All events about one object: by uid, plus name matches without a uid (dumps, old events)."""
    namespace, name = key_of(obj)
    uid = meta(obj).get("uid")
    found = list(by_uid.get(uid, ())) if uid else []
    for event in by_name.get((kind, namespace, name), ()):
        if not event.get("uid") or not uid:
            found.append(event)
    return ev.merge_events(found)


def owner_chain(obj, snapshot):
    chain = []
    current = obj
    seen = set()
    for _depth in range(MAX_OWNER_DEPTH):
        ref = controller_ref(current)
        if ref is None:
            break
        namespace = meta(current).get("namespace") or meta(obj).get("namespace") or ""
        key = (ref.get("kind"), namespace, ref.get("name"))
        if key in seen:
            break
        seen.add(key)
        owner = snapshot.owners.get(key)
        chain.append({"kind": ref.get("kind"), "name": ref.get("name"), "uid": ref.get("uid") or "",
                      "api_version": ref.get("apiVersion") or "", "object": owner})
        if owner is None:
            break
        current = owner
    return chain


def referenced_owner_keys(objects):
    """{kind: set((namespace, name))} of controllers referenced by ownerReferences."""
    wanted = collections.defaultdict(set)
    for obj in objects:
        ref = controller_ref(obj)
        if ref and ref.get("kind") in OWNER_KINDS:
            wanted[ref["kind"]].add((meta(obj).get("namespace") or "", ref.get("name")))
    return wanted


def _failed_by_deadline(obj):
    """A Job stopped by activeDeadlineSeconds; its pods may already be gone."""
    return any(isinstance(c, dict) and c.get("type") == "Failed" and c.get("status") == "True"
               and c.get("reason") == "DeadlineExceeded"
               for c in (obj.get("status") or {}).get("conditions") or [])


def workload_keys(snapshot):
    """Controllers that need a diagnosis of their own: FailedCreate events, a ReplicaFailure
    condition, or a Job that hit its deadline."""
    keys = set()
    job_pods = set()
    for pod in snapshot.pods:
        for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("kind") == "Job":
                job_pods.add(((pod.get("metadata") or {}).get("namespace") or "", ref.get("name")))
    for event in snapshot.events:
        if event.get("kind") in WORKLOAD_KINDS and event.get("reason") == "FailedCreate":
            keys.add((event["kind"], event.get("namespace") or "", event.get("name") or ""))
    for (kind, namespace, name), obj in snapshot.owners.items():
        if kind not in WORKLOAD_KINDS:
            continue
        if kind == "Job" and _failed_by_deadline(obj) and (namespace, name) not in job_pods:
            keys.add((kind, namespace, name))  # with pods left, the pods' diagnoses say it
        for condition in (obj.get("status") or {}).get("conditions") or []:
            if isinstance(condition, dict) and condition.get("type") == "ReplicaFailure" \
                    and condition.get("status") == "True":
                keys.add((kind, namespace, name))
    return keys


def assemble(snapshot, as_of, source):
    """(pod evidence list, workload evidence list) from a filled Snapshot."""
    by_uid, by_name = index_events(snapshot.events)
    pods = []
    for pod in snapshot.pods:
        namespace, name = key_of(pod)
        problems = []
        node_name = (pod.get("spec") or {}).get("nodeName")
        node, node_state = None, ev.NODE_UNKNOWN
        if node_name and snapshot.nodes:
            node = snapshot.nodes.get(node_name)
            node_state = ev.NODE_PRESENT if node is not None else ev.NODE_MISSING
        elif node_name and snapshot.nodes is not None:
            # An empty node list while a pod is bound to a node is missing data (an RBAC-filtered list,
            # a dump without nodes.json content), never proof that every node was deleted.
            problems.append("node data unavailable: the node list is empty, so node %s could not be checked"
                            % node_name)
        claims = {}
        for claim in claim_names(pod):
            if snapshot.claims is None:
                continue
            claims[claim] = snapshot.claims.get((namespace, claim))
        if claim_names(pod) and snapshot.claims is None:
            problems.append("PersistentVolumeClaims not available; claim checks skipped")
        referenced = {"configmaps": {}, "secrets": {}, "configmap_keys": {}}
        if needs_config_refs(pod):
            configmaps, secrets = config_references(pod)
            for cm_name in configmaps:
                if snapshot.configmaps is None:
                    referenced["configmaps"][cm_name] = None
                    continue
                found = snapshot.configmaps.get((namespace, cm_name))
                referenced["configmaps"][cm_name] = found is not None
                if found is not None:
                    referenced["configmap_keys"][cm_name] = list(found.get("keys") or [])
            for secret_name in secrets:
                referenced["secrets"][secret_name] = None  # never read: the kubelet message names it
        logs = {}
        for container, _current, _previous in log_requests(pod):
            entry = snapshot.logs.get((namespace, name, container))
            if entry is not None:
                logs[container] = entry
        pods.append(ev.PodEvidence(
            pod=pod,
            events=events_for("Pod", pod, by_uid, by_name),
            owners=owner_chain(pod, snapshot),
            node=node, node_state=node_state, claims=claims, logs=logs, referenced=referenced,
            as_of=as_of, source=source, problems=problems))
    workloads = []
    for kind, namespace, name in sorted(workload_keys(snapshot)):
        obj = snapshot.owners.get((kind, namespace, name))
        problems = []
        if obj is None:
            problems.append("%s %s/%s itself was not available; only its events were" % (kind, namespace, name))
            obj = {"kind": kind, "apiVersion": OWNER_KINDS[kind][0],
                   "metadata": {"name": name, "namespace": namespace}}
        workloads.append(ev.WorkloadEvidence(
            obj, events=events_for(kind, obj, by_uid, by_name), owners=owner_chain(obj, snapshot),
            as_of=as_of, source=source, problems=problems))
    return pods, workloads


class Gathered(object):
    """What ``gather`` returns (see docs/design/contracts.md)."""

    __slots__ = ("pods", "workloads", "scanned", "as_of", "problems", "source", "requests", "usage")

    def __init__(self, pods, workloads, as_of, source, problems=None, requests=0, usage=None):
        self.pods = pods
        self.usage = usage or {}  # "ns/name" -> evidence.usage.pod_usage(...) (a LazyUsage) when metrics were read
        self.workloads = workloads
        self.scanned = len(pods)
        self.as_of = as_of
        self.source = source
        self.problems = problems or []
        self.requests = requests


def caps(log_tail_lines=None, log_max_bytes=None, redact_patterns=None):
    """Validated log caps and compiled redaction patterns."""
    tail = DEFAULT_TAIL_LINES if log_tail_lines is None else log_tail_lines
    size = DEFAULT_MAX_BYTES if log_max_bytes is None else log_max_bytes
    if not isinstance(tail, int) or tail < 0:
        raise InvalidInput("log_tail_lines must be a whole number >= 0, got %r" % (tail,))
    if not isinstance(size, int) or size < 1:
        raise InvalidInput("log_max_bytes must be a whole number >= 1, got %r" % (size,))
    try:
        patterns = compile_patterns(redact_patterns)
    except ValueError as exc:
        raise InvalidInput(str(exc))
    return tail, size, patterns
