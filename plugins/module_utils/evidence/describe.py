# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pasted `kubectl describe pod` and `kubectl get events` text turned into PodEvidence.

Support tickets carry text, not dumps. kubectl prints describe output with its "prefix writer"
(k8s.io/kubectl/pkg/describe: two spaces per level, "Key:<padding>value") and events with a tabwriter
table whose header gives the column positions. Both changed little between 1.19 and 1.32: the events
table's "From" column read "kubelet, node-1" before 1.20 and "kubelet" after; `get events` gained
"-A" (NAMESPACE first) and "-o wide" (more columns). Several pods per file are split on top-level
"Name:" lines.

Relative ages ("11m", "6m10s (x5 over 8m)") are relative to the moment of the capture, which the text
does not say. When the caller does not give it, the newest absolute timestamp in the capture stands in
(a lower bound) and the diagnosis says so; with no absolute timestamp at all, ages stay unknown.
Whatever the capture lacks (container statuses, node object, logs, owners) is listed as a problem.
"""

from __future__ import annotations

import datetime
import re

import os

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import UTC, isoformat, parse_time
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import assemble as sc
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import (
    NODE_UNKNOWN, PodEvidence, merge_events,
)

_KEY_RE = re.compile(r"^( *)([A-Za-z][A-Za-z0-9 ./()-]*?):(?:[ \t]+(.*?))?\s*$")
_AGE_PART = re.compile(r"(\d+)([dhms])")
_AGE_RE = re.compile(r"^(<unknown>|<invalid>|\d+[dhms](?:\d+[dhms])*)(?: \(x(\d+) over (\d+[dhms](?:\d+[dhms])*)\))?")
_PROBE_RE = re.compile(r"^(http-get|tcp-socket|exec|grpc)\s+(\S.*?)\s+delay=(\d+)s\s+timeout=(\d+)s\s+period=(\d+)s\s+"
                       r"#success=(\d+)\s+#failure=(\d+)")
_HTTP_TARGET = re.compile(r"^(https?)://[^:/]*:([\w-]+)(/\S*)?")
_SECTION_KEYS = ("Init Containers", "Containers", "Ephemeral Containers", "Conditions", "Volumes", "Events",
                 "Tolerations", "Node-Selectors", "QoS Class", "Readiness Gates")
_STATE_KEYS = {"Reason": "reason", "Message": "message", "Exit Code": "exitCode", "Signal": "signal",
               "Started": "startedAt", "Finished": "finishedAt"}


def age_seconds_text(text):
    """'6m10s' -> 370; None when not an age."""
    parts = _AGE_PART.findall(text or "")
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    mult = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(n) * mult[u] for n, u in parts)


def _time(text):
    """kubectl's RFC 1123 with numeric zone ('Mon, 17 Aug 2020 15:05:17 +0800'); None otherwise."""
    text = (text or "").strip()
    for fmt in ("%a, %d %b %Y %H:%M:%S %z", "%d %b %Y %H:%M:%S %z"):
        try:
            return datetime.datetime.strptime(text, fmt).astimezone(UTC)
        except ValueError:
            continue
    return None


def split_pods(text):
    """One text block per described pod."""
    blocks, current = [], []
    for line in (text or "").splitlines():
        if line.startswith("Name:") and current and any(item.startswith("Namespace:") for item in current):
            blocks.append(current)
            current = []
        current.append(line.rstrip("\r"))
    if current and any(item.startswith("Name:") for item in current):
        blocks.append(current)
    return blocks


class _Describe(object):
    """The parsed fields of one `kubectl describe pod` block."""

    def __init__(self, lines):
        self.top = {}
        self.containers = {"Init Containers": [], "Containers": []}
        self.conditions = []
        self.event_lines = []
        self.times = []
        self._parse(lines)

    def _parse(self, lines):
        section = None
        current = None
        sub = None
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip(" "))
            match = _KEY_RE.match(line)
            if indent == 0:
                key, value = (match.group(2), match.group(3) or "") if match else (line.strip(), "")
                section = key if key in _SECTION_KEYS else None
                current = sub = None
                if section is None:
                    self.top[key] = value
                    if key == "Start Time":
                        self._stamp(value)
                elif key == "Events" and value.strip() == "<none>":
                    section = None
                continue
            if section == "Events":
                self.event_lines.append(line)
            elif section == "Conditions":
                parts = line.split()
                if len(parts) >= 2 and parts[0] != "Type":
                    self.conditions.append({"type": parts[0], "status": parts[1]})
            elif section in self.containers:
                if indent == 2 and match and not match.group(3):
                    current = {"name": match.group(2), "fields": {}, "state": {}, "last": {}, "lists": {}}
                    self.containers[section].append(current)
                    sub = None
                elif current is not None and match:
                    key, value = match.group(2), match.group(3) or ""
                    if indent == 4:
                        sub = key
                        current["fields"][key] = value
                        if key == "State":
                            current["state"] = {"_kind": value}
                        elif key == "Last State":
                            current["last"] = {"_kind": value}
                    elif indent >= 6 and sub in ("State", "Last State") and key in _STATE_KEYS:
                        target = current["state"] if sub == "State" else current["last"]
                        target[_STATE_KEYS[key]] = value
                        if key in ("Started", "Finished"):
                            self._stamp(value)
                    elif indent >= 6 and sub is not None:
                        current["lists"].setdefault(sub, []).append((key, value))
                elif current is not None and sub is not None and indent >= 6:
                    current["lists"].setdefault(sub, []).append((line.strip(), ""))

    def _stamp(self, value):
        when = _time(value)
        if when is not None:
            self.times.append(when)


def _probe(text):
    """'http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3' -> probe spec."""
    match = _PROBE_RE.match(text or "")
    if not match:
        return None
    kind, target = match.group(1), match.group(2)
    spec = {"initialDelaySeconds": int(match.group(3)), "timeoutSeconds": int(match.group(4)),
            "periodSeconds": int(match.group(5)), "successThreshold": int(match.group(6)),
            "failureThreshold": int(match.group(7))}
    if kind == "http-get":
        http = _HTTP_TARGET.match(target)
        if http:
            port = http.group(2)
            spec["httpGet"] = {"scheme": http.group(1).upper(), "path": http.group(3) or "/",
                               "port": int(port) if port.isdigit() else port}
    elif kind == "tcp-socket":
        port = target.rsplit(":", 1)[-1]
        spec["tcpSocket"] = {"port": int(port) if port.isdigit() else port}
    elif kind == "grpc":
        port = re.search(r"(\d+)", target)
        spec["grpc"] = {"port": int(port.group(1)) if port else 0}
    else:
        spec["exec"] = {"command": target.strip("[]").split()}
    return spec


def _state(parsed, times):
    kind = parsed.get("_kind", "")
    body = {}
    for key, value in parsed.items():
        if key == "_kind" or value in ("", None):
            continue
        if key == "exitCode" or key == "signal":
            body[key] = int(value) if value.lstrip("-").isdigit() else value
        elif key in ("startedAt", "finishedAt"):
            when = _time(value)
            body[key] = isoformat(when) if when is not None else None
        else:
            body[key] = value
    word = kind.split()[0].lower() if kind else ""
    if word in ("waiting", "running", "terminated"):
        return {word: body}
    return {}


def _container(entry):
    fields = entry["fields"]
    spec = {"name": entry["name"]}
    if fields.get("Image"):
        spec["image"] = fields["Image"]
    resources = {}
    for section, key in (("Limits", "limits"), ("Requests", "requests")):
        values = dict((k, v) for k, v in entry["lists"].get(section, []) if v)
        if values:
            resources[key] = values
    if resources:
        spec["resources"] = resources
    for label, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"), ("Startup", "startupProbe")):
        probe = _probe(fields.get(label))
        if probe:
            spec[key] = probe
    for label, key in (("Command", "command"), ("Args", "args")):
        items = [k for k, _v in entry["lists"].get(label, [])]
        if items:
            spec[key] = items
    status = {"name": entry["name"], "image": fields.get("Image", "")}
    known = False
    if entry["state"]:
        status["state"] = _state(entry["state"], None)
        known = bool(status["state"])
    if entry["last"]:
        status["lastState"] = _state(entry["last"], None)
    if fields.get("Ready") in ("True", "False"):
        status["ready"] = fields["Ready"] == "True"
        known = True
    if fields.get("Restart Count", "").isdigit():
        status["restartCount"] = int(fields["Restart Count"])
        known = True
    if fields.get("Started") in ("True", "False"):
        status["started"] = fields["Started"] == "True"
    return spec, (status if known else None)


def _columns(header):
    """Column names and start positions of a table header (tab-separated in older pastes)."""
    if "\t" in header:
        return None, [c.strip() for c in re.split(r"\t+", header.strip())]
    found = list(re.finditer(r"\S+(?: \S+)*", header))
    return [m.start() for m in found], [m.group(0) for m in found]


def parse_event_lines(lines, pod_name, namespace, as_of):
    """Rows of the describe Events table (header, dashes, rows; wrapped messages continue a row)."""
    rows = [row for row in lines if row.strip()]
    if not rows:
        return []
    starts, names = _columns(rows[0])
    events = []
    for row in rows[1:]:
        if set(row.strip()) <= set("-\t "):
            continue
        cells = _cells(row, starts, names)
        if cells is None:
            if events:     # a wrapped message line
                events[-1]["message"] += " " + row.strip()
            continue
        events.append(cells)
    result = []
    for cells in events:
        raw = _raw_event(cells, pod_name, namespace, as_of)
        if raw:
            result.append(raw)
    return result


def _cells(row, starts, names):
    cells = {}
    if starts is None:
        values = [v.strip() for v in re.split(r"\t+", row.strip())]
        if len(values) < len(names) - 1:
            return None
        if len(values) == len(names) - 1 and "SubObjectPath" in names:
            values.insert(names.index("SubObjectPath"), "")     # kubectl leaves the cell empty
        for pos, name in enumerate(names):
            if pos == len(names) - 1:
                cells[name] = "\t".join(values[pos:])
            else:
                cells[name] = values[pos] if pos < len(values) else ""
    else:
        if len(row) <= starts[0] or not row[starts[0]:starts[0] + 1].strip():
            return None
        for pos, name in enumerate(names):
            end = starts[pos + 1] if pos + 1 < len(starts) else None
            cells[name] = (row[starts[pos]:end] if end else row[starts[pos]:]).strip()
    type_ = cells.get("Type") or cells.get("TYPE") or ""
    if type_ not in ("Normal", "Warning"):
        return None
    cells["message"] = cells.get("Message") or cells.get("MESSAGE") or ""
    return cells


def _raw_event(cells, pod_name, namespace, as_of):
    """One core/v1-shaped Event from table cells."""
    age = cells.get("Age") or cells.get("LAST SEEN") or cells.get("LastSeen") or ""
    match = _AGE_RE.match(age)
    count, first_age, last_age = 1, None, None
    if match:
        last_age = age_seconds_text(match.group(1))
        if match.group(2):
            count = int(match.group(2))
            first_age = age_seconds_text(match.group(3))
    count_text = cells.get("COUNT") or cells.get("Count") or ""
    if count_text.isdigit():
        count = int(count_text)
    first_text = cells.get("FIRST SEEN") or cells.get("FirstSeen")
    if first_text:
        first_age = age_seconds_text(first_text)
    if last_age is None and cells.get("LastSeen"):
        last_age = age_seconds_text(cells["LastSeen"])
    source = (cells.get("From") or cells.get("SOURCE") or "").strip("{}")
    obj = cells.get("OBJECT") or ""
    field_path = cells.get("SUBOBJECT") or cells.get("SubObjectPath") or ""
    raw = {"type": cells.get("Type") or cells.get("TYPE"), "reason": cells.get("Reason") or cells.get("REASON"),
           "message": cells["message"], "count": count,
           "source": {"component": source.split(",")[0].strip()},
           "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": namespace, "fieldPath": field_path}}
    if obj:
        kind, _sep, name = obj.partition("/")
        raw["involvedObject"].update({"kind": _KIND_BY_PREFIX.get(kind.lower(), kind), "name": name or kind})
    if as_of is not None and last_age is not None:
        raw["lastTimestamp"] = isoformat(as_of - datetime.timedelta(seconds=last_age))
        raw["firstTimestamp"] = isoformat(as_of - datetime.timedelta(
            seconds=first_age if first_age is not None else last_age))
    return raw


_KIND_BY_PREFIX = {"pod": "Pod", "replicaset": "ReplicaSet", "deployment": "Deployment", "job": "Job",
                   "statefulset": "StatefulSet", "daemonset": "DaemonSet", "node": "Node",
                   "persistentvolumeclaim": "PersistentVolumeClaim", "cronjob": "CronJob"}


def parse_events_table(text, as_of=None, default_namespace="default"):
    """`kubectl get events` output (default, -A, -o wide, pre-1.14 columns) -> raw events, as_of used."""
    lines = [row.rstrip("\r") for row in (text or "").splitlines() if row.strip()]
    raws = []
    starts = names = None
    for line in lines:
        if re.match(r"^\s*(?:NAMESPACE\s+)?LAST SEEN\s", line):
            starts, names = _columns(line)
            continue
        if names is None:
            continue
        cells = _cells(line, starts, names)
        if cells is None:
            if raws:
                raws[-1]["message"] += " " + line.strip()
            continue
        if "OBJECT" not in cells and cells.get("NAME"):
            # Before 1.14: NAME is the event's name, "<pod>.<hex>", and KIND a separate column.
            cells["OBJECT"] = "%s/%s" % (cells.get("KIND", "Pod").lower(), cells["NAME"].rsplit(".", 1)[0])
        raw = _raw_event(cells, "", cells.get("NAMESPACE") or default_namespace, as_of)
        raw["involvedObject"]["namespace"] = cells.get("NAMESPACE") or default_namespace
        raws.append(raw)
    return raws


def _events(raws, patterns):
    return merge_events(sc.normalise_events(raws, patterns))


def parse_describe(text, events_text=None, as_of=None, patterns=None):
    """PodEvidence for every pod in a `kubectl describe pod` text (plus pods only named in events_text).

    as_of: when the capture was taken (datetime), if known. Never raises on odd text: unparseable
    parts become problems on the evidence.
    """
    evidences = []
    extra = parse_events_table(events_text, as_of) if events_text else []
    blocks = [_Describe(lines) for lines in split_pods(text)]
    clock = as_of
    clock_note = None
    if clock is None:
        stamps = [t for block in blocks for t in block.times]
        if stamps:
            clock = max(stamps)
            clock_note = ("capture time unknown: event ages are counted from the newest timestamp in the capture "
                          "(%s), so real ages are at least that old" % isoformat(clock))
        if extra and clock is not None:
            extra = parse_events_table(events_text, clock)
    seen = set()
    for block in blocks:
        evidence = _evidence(block, extra, clock, clock_note, patterns)
        seen.add((evidence.pod["metadata"]["namespace"], evidence.pod["metadata"]["name"]))
        evidences.append(evidence)
    by_pod = {}
    for raw in extra:
        inv = raw["involvedObject"]
        if inv.get("kind") == "Pod" and (inv.get("namespace"), inv.get("name")) not in seen:
            by_pod.setdefault((inv.get("namespace"), inv.get("name")), []).append(raw)
    for (namespace, name), raws in sorted(by_pod.items()):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "status": {}}
        problems = ["no `kubectl describe` for this pod: diagnosed from its events alone (no spec, no status)"]
        if clock is None:
            problems.append("capture time unknown and no timestamps: event ages are unknown")
        evidences.append(PodEvidence(pod, events=_events(raws, patterns), as_of=clock,
                                     source="capture", problems=problems, node_state=NODE_UNKNOWN))
    return evidences


def _evidence(block, extra, clock, clock_note, patterns):
    top = block.top
    name, namespace = top.get("Name", ""), top.get("Namespace", "") or "default"
    meta = {"name": name, "namespace": namespace}
    if top.get("Controlled By") and "/" in top["Controlled By"]:
        kind, _sep, owner = top["Controlled By"].partition("/")
        meta["ownerReferences"] = [{"kind": kind, "name": owner, "controller": True}]
    status_text = top.get("Status", "")
    phase = status_text.split()[0] if status_text else ""
    if phase == "Terminating":
        meta["deletionTimestamp"] = isoformat(clock) if clock is not None else None
        phase = "Running"
    spec, status = {}, {"phase": phase}
    node = top.get("Node", "")
    if node and node != "<none>":
        spec["nodeName"] = node.split("/")[0]
    for key, target in (("Reason", "reason"), ("Message", "message")):
        if top.get(key):
            status[target] = top[key]
    start = _time(top.get("Start Time"))
    if start is not None:
        status["startTime"] = isoformat(start)
    problems = []
    for section, spec_key, status_key in (("Init Containers", "initContainers", "initContainerStatuses"),
                                          ("Containers", "containers", "containerStatuses")):
        specs, statuses = [], []
        for entry in block.containers[section]:
            cspec, cstatus = _container(entry)
            specs.append(cspec)
            if cstatus is not None:
                statuses.append(cstatus)
        if specs:
            spec[spec_key] = specs
        if statuses:
            status[status_key] = statuses
    if block.conditions:
        status["conditions"] = block.conditions
    if not block.containers["Containers"]:
        problems.append("the capture has no Containers section: container states, images and probes are missing")
    elif "containerStatuses" not in status and spec.get("nodeName"):
        problems.append("the capture has no container states (State/Ready/Restart Count)")
    raws = parse_event_lines(block.event_lines, name, namespace, clock)
    raws += [r for r in extra if r["involvedObject"].get("kind") == "Pod" and r["involvedObject"].get("name") == name
             and r["involvedObject"].get("namespace") in (namespace, "")]
    if not raws:
        problems.append("no events in the capture (none listed, or they expired)")
    if clock_note and raws:
        problems.append(clock_note)
    if clock is None and raws:
        problems.append("capture time unknown and no timestamps: event ages are unknown")
    if spec.get("nodeName"):
        problems.append("node %s: its Node object is not in the capture (conditions unknown)" % spec["nodeName"])
    problems.append("no container logs in the capture")
    pod = sc.redact_pod_messages({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status},
                                 patterns)
    events = _events(raws, patterns)
    return PodEvidence(pod, events=events, as_of=clock, source="capture", problems=problems,
                       node_state=NODE_UNKNOWN)


class CaptureSource(object):
    """A source over pasted text files, with the same ``gather(target)`` as the dump and live sources.

    describe_file: `kubectl describe pod` output (one or several pods); events_file: `kubectl get events`
    output. Either may be omitted. Environment values in the text are never copied into the evidence;
    messages are redacted like every other source's.
    """

    def __init__(self, describe_file=None, events_file=None, as_of=None, redact_patterns=None):
        if not describe_file and not events_file:
            raise InvalidInput("Give describe_file (kubectl describe pod output) or events_file (kubectl get events "
                               "output)")
        self.texts = []
        for label, path in (("describe_file", describe_file), ("events_file", events_file)):
            if not path:
                self.texts.append(None)
                continue
            if not os.path.isfile(path):
                raise InvalidInput("%s %s does not exist: pass the path of a text file with the kubectl output"
                                   % (label, path))
            with open(path, "rb") as handle:
                self.texts.append(handle.read(8 * 1024 * 1024).decode("utf-8", "replace"))
        self.as_of = parse_time(as_of) if as_of else None
        if as_of and self.as_of is None:
            raise InvalidInput("as_of %r is not an RFC 3339 time: give it like 2026-11-25T12:00:00Z" % (as_of,))
        _tail, _size, self.patterns = sc.caps(redact_patterns=redact_patterns)

    def gather(self, target):
        pods = parse_describe(self.texts[0] or "", self.texts[1], self.as_of, self.patterns)
        if target.name:
            pods = [p for p in pods if p.pod["metadata"]["name"] == target.name]
        if target.namespace and not target.all_namespaces:
            pods = [p for p in pods if p.pod["metadata"]["namespace"] == target.namespace]
        as_of = pods[0].as_of if pods else (self.as_of or datetime.datetime.now(UTC))
        problems = [] if pods else ["no pod found in the capture for %s" % target.describe()]
        return sc.Gathered(pods, [], as_of, "capture", problems=problems, requests=0)


__all__ = ["CaptureSource", "parse_describe", "parse_events_table", "split_pods", "age_seconds_text"]
