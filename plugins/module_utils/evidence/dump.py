# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence from an offline dump, without any cluster access.

Reads, as-is, the tree ``kubectl cluster-info dump [--all-namespaces] --output-directory DIR`` writes
(nodes.json; <ns>/pods.json, events.json, replicasets.json, deployments.json, daemonsets.json,
services.json, replication-controllers.json; <ns>/<pod>/logs.txt with kubectl's
``==== START logs for container C of pod NS/P ====`` ... ``==== END ...`` markers), plus the bundle
extension written by the collect_bundle playbook: <ns>/<pod>/<container>.log and
<container>.previous.log, and <ns>/{statefulsets,jobs,cronjobs,persistentvolumeclaims,configmaps}.json.
Any directory of .json/.yaml object files, or one such file, works too: objects are routed by kind.
A .tar.gz / .tgz / .zip of any of these is extracted safely first (evidence/archive.py).

The clock is the dump's own (``as_of`` or the newest timestamp in it), never the wall clock.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import model as ev
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import archive
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import assemble as sc
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import DumpError, InvalidInput, NotFound
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import SCOPE_CLUSTER, SCOPE_POD

# File stem -> kind, for list items that carry no kind of their own.
KIND_BY_FILE = {
    "pods": "Pod", "events": "Event", "nodes": "Node", "namespaces": "Namespace",
    "replicasets": "ReplicaSet", "deployments": "Deployment", "daemonsets": "DaemonSet",
    "statefulsets": "StatefulSet", "jobs": "Job", "cronjobs": "CronJob",
    "replicationcontrollers": "ReplicationController", "replication-controllers": "ReplicationController",
    "persistentvolumeclaims": "PersistentVolumeClaim", "configmaps": "ConfigMap", "services": "Service",
}
OBJECT_EXTENSIONS = (".json", ".yaml", ".yml")

_MARKER = re.compile(r"^==== (START|END) logs for container (\S+) of pod ([^/\s]+)/(\S+) ====\s*$")
_LOG_ERROR = re.compile(r"^(?:Request log error|Create log request error): ")


def iter_lines(handle, limit):
    """Lines of a text file, each at most ``limit`` characters (the rest of an overlong line is
    skipped), so one 100 MB line cannot fill memory. Yields (line, cut)."""
    limit = max(1, limit)
    while True:
        line = handle.readline(limit)
        if not line:
            return
        if len(line) >= limit and not line.endswith("\n"):
            rest = handle.readline(limit)
            while rest and not rest.endswith("\n"):
                rest = handle.readline(limit)
            yield line + "\n", True
        else:
            yield line, False


def parse_logs_txt(path, wanted, tail_lines, max_bytes):
    """Read kubectl's per-pod logs.txt: {container: (text or None, truncated)} for ``wanted`` containers.

    Streams the file, keeping only a bounded tail per container. A section holding only kubectl's
    "Request log error: ..." line means the log was unavailable (None).
    """
    wanted = set(wanted)
    tails = {}
    errors = {}
    current = None
    with open(path, "r", encoding="utf-8", errors="replace") as handle:
        # Markers must be read whole even with a tiny cap; LogTail trims long lines itself.
        for line, cut in iter_lines(handle, max(max_bytes, 8192) + 1):
            match = _MARKER.match(line) if line.startswith("==== ") else None
            if match:
                kind, container = match.group(1), match.group(2)
                if kind == "START":
                    current = container if container in wanted else None
                    if current is not None:
                        tails[current] = sc.LogTail(tail_lines, max_bytes)
                else:
                    current = None
                continue
            if current is None:
                continue
            tail = tails[current]
            if not tail.lines and _LOG_ERROR.match(line):
                errors[current] = line.strip()
                continue
            tail.add(line)
            tail.truncated = tail.truncated or cut
    result = {}
    for container, tail in tails.items():
        if container in errors and not tail.lines:
            result[container] = (None, False)
        else:
            result[container] = (tail.text(), tail.truncated)
    return result


def read_log_tail(path, tail_lines, max_bytes):
    """Tail of a single-container log file: seeks to the last ``max_bytes`` instead of reading it all."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        start = max(0, size - max_bytes)
        handle.seek(start)
        data = handle.read(max_bytes)
    text = data.decode("utf-8", errors="replace")
    truncated = start > 0
    if truncated:
        newline = text.find("\n")
        text = text[newline + 1:] if newline != -1 else text
    text, cut = sc.tail_text(text, tail_lines, max_bytes)
    return text, truncated or cut


def parse_as_of(value):
    """``as_of`` option (RFC 3339 string or datetime) -> aware datetime, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=ev.UTC)
    parsed = ev.parse_time(str(value))
    if parsed is None:
        raise InvalidInput('as_of "%s" is not an RFC 3339 time such as 2026-11-25T19:00:00Z' % value)
    return parsed


class DumpSource(object):
    """``gather(target) -> Gathered`` from a dump directory or a single object file."""

    def __init__(self, path, as_of=None, log_tail_lines=None, log_max_bytes=None, redact_patterns=None):
        # Messages name the absolute path that was checked, not the path as typed.
        self.path = os.path.abspath(os.path.expanduser(path)) if path else path
        self.as_of = parse_as_of(as_of)
        self.tail_lines, self.max_bytes, self.patterns = sc.caps(log_tail_lines, log_max_bytes, redact_patterns)
        self._loaded = False
        self.problems = []
        self.pods = []
        self.events = []
        self.nodes = None
        self.claims = None
        self.configmaps = None
        self.owners = {}
        self.namespaces = set()
        self.log_files = {}   # (ns, pod) -> {"logs.txt": path, "containers": {name: {"current"/"previous": path}}}
        self.objects_read = 0
        self.newest_mtime = None
        self._extracted = None

    def close(self):
        """Remove the directory an archive was extracted to (also done at interpreter exit)."""
        archive.cleanup(self._extracted)
        self._extracted = None

    # -- loading ----------------------------------------------------------------------------

    def load(self):
        if self._loaded:
            return
        path = self.path
        if not path or not os.path.exists(path):
            raise DumpError("Dump directory %s does not exist: pass the directory written by kubectl cluster-info "
                            "dump --output-directory, a .tar.gz/.zip of it, or a .json/.yaml file" % path, path=path)
        if os.path.isfile(path):
            kind = archive.archive_type(path)
            if kind is not None:
                root, self._extracted, skipped = archive.extract(path, kind)
                self.problems.extend("skipped link or device %s in archive %s" % (name, path) for name in skipped)
                self._walk(root)
            elif path.lower().endswith(OBJECT_EXTENSIONS):
                self._read_object_file(path, None)
            else:
                raise DumpError("Dump %s is neither a directory, a .tar.gz/.zip archive nor a .json/.yaml file: pass "
                                "the directory written by kubectl cluster-info dump --output-directory, or an archive "
                                "of it" % path, path=path)
        else:
            self._walk(path)
        if self.objects_read == 0:
            raise DumpError("Dump directory %s contains no Kubernetes objects: expected nodes.json or "
                            "<namespace>/pods.json (kubectl cluster-info dump --output-directory) or .json/.yaml "
                            "object files" % path, path=path)
        self._loaded = True

    def _walk(self, root):
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            rel = os.path.relpath(directory, root)
            parts = [] if rel == "." else rel.split(os.sep)
            for filename in sorted(files):
                if filename.startswith("."):
                    continue
                full = os.path.join(directory, filename)
                self._note_mtime(full)
                if len(parts) == 2 and (filename == "logs.txt" or filename.endswith(".log")):
                    self._note_log(parts[0], parts[1], filename, full)
                elif filename.lower().endswith(OBJECT_EXTENSIONS):
                    self._read_object_file(full, parts[0] if len(parts) == 1 else None)

    def _note_mtime(self, path):
        try:
            mtime = os.path.getmtime(path)
        except OSError:
            return
        if self.newest_mtime is None or mtime > self.newest_mtime:
            self.newest_mtime = mtime

    def _note_log(self, namespace, pod, filename, full):
        entry = self.log_files.setdefault((namespace, pod), {"logs.txt": None, "containers": {}})
        if filename == "logs.txt":
            entry["logs.txt"] = full
            return
        stem = filename[:-len(".log")]
        which = "current"
        if stem.endswith(".previous"):
            stem, which = stem[:-len(".previous")], "previous"
        entry["containers"].setdefault(stem, {})[which] = full

    def _parse_file(self, path):
        """Decoded documents of one JSON or YAML file; DumpError names the file and line."""
        try:
            with open(path, "r", encoding="utf-8", errors="replace") as handle:
                if path.lower().endswith(".json"):
                    return [self._load_json(handle.read(), path)]
                return self._load_yaml(handle, path)
        except (IOError, OSError) as exc:
            raise DumpError("Cannot read %s: %s; check the file's permissions" % (path, exc.strerror or exc),
                            path=path)

    @staticmethod
    def _load_json(text, path):
        try:
            return json.loads(text)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            raise DumpError("Malformed JSON in %s%s: %s; fix or remove the file" % (
                path, " line %s" % line if line else "", getattr(exc, "msg", exc)), path=path)

    @staticmethod
    def _load_yaml(handle, path):
        try:
            import yaml
        except ImportError:
            raise DumpError("Cannot read %s: PyYAML is not installed; convert the file to JSON" % path, path=path)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            return [doc for doc in yaml.load_all(handle, Loader=loader) if doc is not None]
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise DumpError("Malformed YAML in %s%s: %s; fix or remove the file" % (
                path, " line %s" % (mark.line + 1) if mark is not None else "",
                getattr(exc, "problem", None) or "parse error"), path=path)

    def _read_object_file(self, path, namespace_dir):
        stem = os.path.splitext(os.path.basename(path))[0].lower()
        file_kind = KIND_BY_FILE.get(stem)
        if file_kind:
            self._mark_known(file_kind)
        for doc in self._parse_file(path):
            self._route_document(doc, path, file_kind)

    def _mark_known(self, kind):
        if kind == "Node" and self.nodes is None:
            self.nodes = {}
        elif kind == "PersistentVolumeClaim" and self.claims is None:
            self.claims = {}
        elif kind == "ConfigMap" and self.configmaps is None:
            self.configmaps = {}

    def _route_document(self, doc, path, file_kind):
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            list_kind = doc.get("kind") or ""
            item_kind = list_kind[:-4] if list_kind.endswith("List") and list_kind != "List" else file_kind
            for index, item in enumerate(doc["items"]):
                self._route_object(item, path, index, item_kind)
        elif isinstance(doc, list):
            for index, item in enumerate(doc):
                self._route_object(item, path, index, file_kind)
        else:
            self._route_object(doc, path, None, file_kind)

    def _route_object(self, obj, path, index, default_kind):
        where = "%s%s" % (path, " item %d" % index if index is not None else "")
        problem = sc.check_object(obj)
        if problem:
            self.problems.append("skipped %s in %s" % (problem, where))
            return
        kind = obj.get("kind") or default_kind
        if not kind:
            self.problems.append("skipped object without kind in %s" % where)
            return
        if not obj.get("kind"):
            obj["kind"] = kind
        self.objects_read += 1
        namespace, name = sc.key_of(obj)
        if namespace:
            self.namespaces.add(namespace)
        if kind == "Pod":
            self.pods.append(sc.redact_pod_messages(obj, self.patterns))
        elif kind == "Event":
            self.events.extend(sc.normalise_events([obj], self.patterns))
        elif kind == "Node":
            self._mark_known(kind)
            self.nodes[name] = obj
        elif kind == "PersistentVolumeClaim":
            self._mark_known(kind)
            self.claims[(namespace, name)] = obj
        elif kind == "ConfigMap":
            self._mark_known(kind)
            self.configmaps[(namespace, name)] = sc.strip_configmap(obj)
        elif kind == "Namespace":
            self.namespaces.add(name)
        elif kind in sc.OWNER_KINDS:
            self.owners[(kind, namespace, name)] = obj

    # -- gathering --------------------------------------------------------------------------

    def clock(self):
        """as_of, else the newest timestamp in the dump, else the newest file time (never now)."""
        if self.as_of is not None:
            return self.as_of
        newest = ev.newest_timestamp(self.pods + list((self.nodes or {}).values()))
        for event in self.events:
            for when in (event.get("last_seen"), event.get("first_seen")):
                if when is not None and (newest is None or when > newest):
                    newest = when
        if newest is None and self.newest_mtime is not None:
            self.problems.append("no timestamps in the dump: using its file time as the clock")
            newest = datetime.datetime.fromtimestamp(self.newest_mtime, ev.UTC)
        return newest

    def _select(self, target):
        if target.scope == SCOPE_POD:
            for pod in self.pods:
                if sc.key_of(pod) == (target.namespace, target.name):
                    return [pod]
            if target.namespace not in self.namespaces:
                raise NotFound("Namespace", name=target.namespace,
                               message="Namespace %s not found in dump %s" % (target.namespace, self.path))
            raise NotFound("Pod", target.namespace, target.name,
                           message="Pod %s/%s not found in dump %s" % (target.namespace, target.name, self.path))
        if target.scope != SCOPE_CLUSTER and target.namespace not in self.namespaces:
            raise NotFound("Namespace", name=target.namespace,
                           message="Namespace %s not found in dump %s" % (target.namespace, self.path))
        selected = []
        for pod in self.pods:
            if target.scope != SCOPE_CLUSTER and sc.key_of(pod)[0] != target.namespace:
                continue
            if sc.pod_matches(pod, target):
                selected.append(pod)
        return selected

    def _read_logs(self, pods):
        logs = {}
        for pod in pods:
            wanted = sc.log_requests(pod)
            if not wanted:
                continue
            namespace, name = sc.key_of(pod)
            files = self.log_files.get((namespace, name))
            if not files:
                continue
            from_txt = {}
            missing_current = [c for c, current, _p in wanted if current and "current" not in
                               files["containers"].get(c, {})]
            if files["logs.txt"] and missing_current:
                try:
                    from_txt = parse_logs_txt(files["logs.txt"], missing_current, self.tail_lines, self.max_bytes)
                except (IOError, OSError) as exc:
                    self.problems.append("cannot read %s: %s" % (files["logs.txt"], exc))
            for container, want_current, want_previous in wanted:
                paths = files["containers"].get(container, {})
                entry = {"current": None, "previous": None, "truncated": False}
                for which, wanted_flag in (("current", want_current), ("previous", want_previous)):
                    if not wanted_flag:
                        continue
                    text, cut = None, False
                    if which in paths:
                        try:
                            text, cut = read_log_tail(paths[which], self.tail_lines, self.max_bytes)
                        except (IOError, OSError) as exc:
                            self.problems.append("cannot read %s: %s" % (paths[which], exc))
                    elif which == "current" and container in from_txt:
                        text, cut = from_txt[container]
                    if text is not None:
                        entry[which] = redact(text, self.patterns)
                        entry["truncated"] = entry["truncated"] or cut
                if entry["current"] is not None or entry["previous"] is not None:
                    logs[(namespace, name, container)] = entry
        return logs

    def gather(self, target):
        self.load()
        pods = self._select(target)
        snapshot = sc.Snapshot()
        snapshot.pods = pods
        snapshot.events = self.events
        snapshot.owners = self.owners
        snapshot.nodes = self.nodes
        snapshot.claims = self.claims
        snapshot.configmaps = self.configmaps
        snapshot.logs = self._read_logs(pods)
        as_of = self.clock()
        pod_evidence, workloads = sc.assemble(snapshot, as_of, "dump")
        if target.scope == SCOPE_POD or target.label_selectors or target.field_selectors:
            workloads = []
        elif target.scope != SCOPE_CLUSTER:
            workloads = [w for w in workloads if w.namespace == target.namespace]
        problems = list(dict.fromkeys(self.problems))  # gather() may run more than once
        if self.nodes is None and any((p.get("spec") or {}).get("nodeName") for p in pods):
            problems.append("no nodes in the dump; node checks skipped")
        return sc.Gathered(pod_evidence, workloads, as_of, "dump", problems=problems, requests=0)
