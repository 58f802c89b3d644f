"""The object store: resourceVersions, bulk loading, reads, LIST paging and Event mirroring."""

from __future__ import annotations

import base64
import bisect
import copy
import json
import threading
import uuid

from tests.support.emulator.api import ApiError, _default_structs, _dumps, _strip_type, not_found, now_rfc3339
from tests.support.emulator.selectors import (_selector_string, field_match, label_match, parse_field_selector,
                                              parse_label_selector)


def core_to_events_v1(event):
    """A core/v1 Event as events.k8s.io/v1 serves it (pkg/apis/events/v1 conversion)."""
    source = event.get("source") or {}
    converted = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": event.get("metadata") or {},
                 "eventTime": event.get("eventTime"),
                 "reportingController": event.get("reportingComponent") or source.get("component") or "",
                 "reportingInstance": event.get("reportingInstance") or source.get("host") or "",
                 "action": event.get("action"), "reason": event.get("reason"),
                 "regarding": event.get("involvedObject") or {}, "related": event.get("related"),
                 "note": event.get("message"), "type": event.get("type"), "series": event.get("series"),
                 "deprecatedSource": source or None, "deprecatedFirstTimestamp": event.get("firstTimestamp"),
                 "deprecatedLastTimestamp": event.get("lastTimestamp"), "deprecatedCount": event.get("count")}
    return {k: v for k, v in converted.items() if v is not None}


def events_v1_to_core(event):
    """An events.k8s.io/v1 Event as core/v1 serves it."""
    source = dict(event.get("deprecatedSource") or {})
    if not source and event.get("reportingController"):
        source = {"component": event["reportingController"]}
        if event.get("reportingInstance"):
            source["host"] = event["reportingInstance"]
    converted = {"apiVersion": "v1", "kind": "Event", "metadata": event.get("metadata") or {},
                 "involvedObject": event.get("regarding") or {}, "reason": event.get("reason"),
                 "message": event.get("note"), "source": source or None,
                 "firstTimestamp": event.get("deprecatedFirstTimestamp"),
                 "lastTimestamp": event.get("deprecatedLastTimestamp"), "count": event.get("deprecatedCount"),
                 "type": event.get("type"), "eventTime": event.get("eventTime"), "series": event.get("series"),
                 "action": event.get("action"), "related": event.get("related"),
                 "reportingComponent": event.get("reportingController"),
                 "reportingInstance": event.get("reportingInstance")}
    return {k: v for k, v in converted.items() if v is not None}


class _Entry(object):
    """A stored object plus its list-item JSON, serialised once (that makes big LISTs cheap).

    Entries are never mutated (a write stores a new one), so the cached bytes cannot go stale and
    filling them from a warm-up thread is safe.
    """

    __slots__ = ("obj", "_item", "rv")

    def __init__(self, obj, eager=True):
        self.obj = obj
        self._item = _dumps(_strip_type(obj)) if eager else None
        self.rv = int(obj["metadata"]["resourceVersion"])

    @property
    def item(self):
        item = self._item
        if item is None:
            item = self._item = _dumps(_strip_type(self.obj))
        return item


def _warm(entries):
    for entry in entries:
        entry.item  # noqa: B018 - fills the cache


class StoreMixin(object):
    """Objects by resource, keyed (namespace, name); entries are replaced, never mutated."""

    def load(self, objects, logs=None):
        """Bulk-load objects as they are (status, uid, timestamps kept; missing metadata filled)."""
        count = 0
        entries = []
        stamp = now_rfc3339()
        with self._lock:
            for obj in objects:
                res = self._resource_for(obj)
                meta = obj.setdefault("metadata", {})
                if not meta.get("name"):
                    raise ApiError(400, "object of kind %s has no metadata.name" % obj.get("kind"))
                ns = meta.get("namespace") if res.namespaced else None
                if res.namespaced:
                    if not ns:
                        ns = meta["namespace"] = "default"
                    self._ensure_namespace(ns)
                else:
                    meta.pop("namespace", None)
                obj["apiVersion"] = res.api_version
                obj["kind"] = res.kind
                _default_structs(obj)
                if "uid" not in meta:
                    meta["uid"] = str(uuid.uuid4())
                if "creationTimestamp" not in meta:
                    meta["creationTimestamp"] = stamp
                if res.generation:
                    meta.setdefault("generation", 1)
                meta["resourceVersion"] = self._next_rv()
                entries.append(self._put(res, ns, meta["name"], obj, eager=False))
                count += 1
            for item in logs or []:
                if isinstance(item, dict):
                    self.set_log(item["namespace"], item["pod"], item["container"], item["text"],
                                 item.get("previous", False))
                else:
                    (namespace, pod, container, previous), text = item
                    self.set_log(namespace, pod, container, text, previous)
        # Serialise list items off the request path; a LIST that comes first fills them itself.
        warm = threading.Thread(target=_warm, args=(entries,), name="kube-emulator-warm", daemon=True)
        warm.start()
        self._warmers.append(warm)
        return count

    def settle(self, timeout=30):
        """Wait until bulk-loaded objects are serialised, so the next LIST is steady-state fast."""
        while self._warmers:
            self._warmers.pop().join(timeout)

    def objects(self, kind=None, api_version=None):
        """Every stored object (deep copies), optionally of one kind."""
        with self._lock:
            found = []
            for res in self.resources:
                if kind and res.kind != kind:
                    continue
                if api_version and res.api_version != api_version:
                    continue
                found.extend(copy.deepcopy(entry.obj) for entry in self._store[res.key].values())
            return found

    # -- store helpers ----------------------------------------------------------------------
    def _resource_for(self, obj):
        if not isinstance(obj, dict):
            raise ApiError(400, "every object must be a JSON object")
        key = (obj.get("apiVersion") or "v1", obj.get("kind"))
        res = self._by_kind.get(key)
        if res is None:
            raise ApiError(400, "no resource for apiVersion %s kind %s in the emulator" % key)
        return res

    def _next_rv(self):
        self._rv += 1
        return str(self._rv)

    def _put(self, res, ns, name, obj, eager=True):
        store = self._store[res.key]
        key = (ns or "", name)
        if key not in store:
            self._sorted.pop(res.key, None)
        entry = store[key] = _Entry(obj, eager)
        return entry

    def _remove(self, res, ns, name):
        self._store[res.key].pop((ns or "", name), None)
        self._sorted.pop(res.key, None)

    def _ensure_namespace(self, ns):
        res = self._by_path[("", "v1", "namespaces")]
        if ("", ns) in self._store[res.key]:
            return
        obj = {"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": ns, "uid": str(uuid.uuid4()), "resourceVersion": self._next_rv(),
                            "creationTimestamp": now_rfc3339(),
                            "labels": {"kubernetes.io/metadata.name": ns}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        self._put(res, None, ns, obj)

    def _sorted_keys(self, res):
        keys = self._sorted.get(res.key)
        if keys is None:
            keys = sorted(self._store[res.key])
            self._sorted[res.key] = keys
        return keys

    def _get_entry(self, res, ns, name):
        entry = self._store[res.key].get((ns or "", name))
        if entry is None:
            raise not_found(res, name)
        return entry

    # -- reads -------------------------------------------------------------------------------
    def _read(self, res, ns, name, sub):
        with self._lock:
            other, convert = self._mirror(res)
            mirrored = other is not None and (ns or "", name) not in self._store[res.key] and \
                self._store[other.key].get((ns or "", name))
            if mirrored:
                return copy.deepcopy(convert(mirrored.obj))
            obj = copy.deepcopy(self._get_entry(res, ns, name).obj)
        if sub == "scale":
            return self._scale_of(obj)
        return obj

    @staticmethod
    def _scale_of(obj):
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        selector = spec.get("selector") or {}
        if obj["kind"] == "ReplicationController":
            selector_text = ",".join("%s=%s" % kv for kv in sorted(selector.items()))
        else:
            selector_text = _selector_string(selector)
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                  "creationTimestamp") if k in meta},
                "spec": {"replicas": spec.get("replicas", 1)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": selector_text}}

    def _mirror(self, res):
        """The other Event API and the conversion into ``res``'s shape, or (None, None)."""
        if res.key == ("", "events"):
            return self._by_path[("events.k8s.io", "v1", "events")], events_v1_to_core
        if res.key == ("events.k8s.io", "events"):
            return self._by_path[("", "v1", "events")], core_to_events_v1
        return None, None

    def _matching(self, res, ns, query):
        """(key, entry) pairs in key order that match the query's selectors (Events: both APIs)."""
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(res, query.get("fieldSelector"))
        other, convert = self._mirror(res)
        if other is None or not self._store[other.key]:
            return self._matching_store(res, ns, labels, fields, None)
        merged = dict(self._matching_store(other, ns, labels, fields, convert))
        merged.update(self._matching_store(res, ns, labels, fields, None))
        return sorted(merged.items(), key=lambda pair: pair[0])

    def _matching_store(self, res, ns, labels, fields, convert):
        store = self._store[res.key]
        keys = self._sorted_keys(res)
        if ns is not None:
            start = bisect.bisect_left(keys, (ns, ""))
            end = bisect.bisect_left(keys, (ns + "\x00", ""))
            keys = keys[start:end]
        for key in keys:
            entry = store[key]
            if convert is not None:
                entry = _Entry(convert(entry.obj))
            meta = entry.obj["metadata"]
            if labels and not label_match(meta.get("labels"), labels):
                continue
            if fields and not field_match(entry.obj, fields):
                continue
            yield key, entry

    def _list(self, res, ns, query):
        limit = int(query.get("limit") or 0)
        token = query.get("continue")
        start_after = None
        if token:
            try:
                start_after = tuple(json.loads(base64.urlsafe_b64decode(token.encode()).decode())["k"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "continue key is not valid: illegal base64 data")
        with self._lock:
            items, last_key, remaining = [], None, 0
            for key, entry in self._matching(res, ns, query):
                if start_after is not None and key <= start_after:
                    continue
                if limit and len(items) >= limit:
                    remaining += 1
                    continue
                items.append(entry.item)
                last_key = key
            rv = str(self._rv)
        meta = {"resourceVersion": rv}
        if remaining:
            meta["continue"] = base64.urlsafe_b64encode(json.dumps({"k": list(last_key)}).encode()).decode()
            meta["remainingItemCount"] = remaining
        head = _dumps({"kind": res.list_kind, "apiVersion": res.api_version, "metadata": meta})[:-1] + b',"items":['
        if not items:
            return head + b"]}"
        # One join, no intermediate copies of a multi-megabyte body.
        items[0] = head + items[0]
        items[-1] = items[-1] + b"]}"
        return b",".join(items)
