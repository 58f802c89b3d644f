"""Writes: create, replace, patch, status/scale subresources, delete, eviction, dry runs."""

from __future__ import annotations

import copy
import random
import uuid

from tests.support.emulator.api import (DNS1123_LABEL, DNS1123_SUBDOMAIN, GENERATE_NAME_CHARS, LABEL_MSG, SUBDOMAIN_MSG,
                                        ApiError, _default_structs, _details, _dumps, invalid, not_found, now_rfc3339)
from tests.support.emulator.patches import json_patch, merge_patch, strategic_merge_patch
from tests.support.emulator.selectors import _selector_string, label_match, parse_field_selector, parse_label_selector


def _qos_class(pod):
    containers = (pod.get("spec") or {}).get("containers") or []
    requests_set = limits_set = guaranteed = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            requests_set = True
        if limits:
            limits_set = True
        for kind in ("cpu", "memory"):
            if kind not in limits or requests.get(kind, limits.get(kind)) != limits.get(kind):
                guaranteed = False
    if guaranteed and limits_set and containers:
        return "Guaranteed"
    return "Burstable" if requests_set else "BestEffort"


class WritesMixin(object):
    """Every write goes through _update or _put under the store lock, so resourceVersions stay ordered."""

    def _validate_object(self, res, obj, name):
        if not isinstance(obj, dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        kind = obj.get("kind")
        if kind and kind != res.kind and not (res.kind == "Scale"):
            raise ApiError(400, "the kind of the provided object (%s) does not match the expected kind (%s)"
                           % (kind, res.kind))
        api_version = obj.get("apiVersion")
        if api_version and api_version != res.api_version:
            raise ApiError(400, "the API version in the data (%s) does not match the expected API version (%s)"
                           % (api_version, res.api_version))
        if res.group == "rbac.authorization.k8s.io":
            # RBAC names only need to be valid path segments (system:metrics-server is legal).
            if not name or name in (".", "..") or "/" in name or "%" in name:
                raise invalid(res, name, "metadata.name", 'may not contain "/" or "%"', value=name)
        else:
            pattern, message = (DNS1123_LABEL, LABEL_MSG) if res.kind == "Namespace" \
                else (DNS1123_SUBDOMAIN, SUBDOMAIN_MSG)
            if len(name) > 253 or not pattern.match(name):
                raise invalid(res, name, "metadata.name", message, value=name)
        if res.kind == "Pod" and not ((obj.get("spec") or {}).get("containers")):
            raise invalid(res, name, "spec.containers", "Required value", cause_type="FieldValueRequired")

    def _create(self, res, ns, obj, dry_run, keep_status=False):
        if not isinstance(obj, dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            body_ns = meta.get("namespace")
            if ns is None:
                raise ApiError(404, "the server could not find the requested resource")
            if body_ns and body_ns != ns:
                raise ApiError(400, "the namespace of the provided object does not match the namespace sent on "
                                    "the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        with self._lock:
            name = meta.get("name")
            if not name:
                if meta.get("generateName"):
                    name = meta["generateName"] + "".join(random.choice(GENERATE_NAME_CHARS) for _index in range(5))
                    meta["name"] = name
                else:
                    raise invalid(res, "", "metadata.name", "Required value: name or generateName is required",
                                  cause_type="FieldValueRequired")
            self._validate_object(res, obj, name)
            if (ns or "", name) in self._store[res.key]:
                raise ApiError(409, '%s "%s" already exists' % (res.qualified, name), "AlreadyExists",
                               _details(res, name))
            obj["apiVersion"] = res.api_version
            obj["kind"] = res.kind
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            for transient in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
                meta.pop(transient, None)
            if res.generation:
                meta["generation"] = 1
            if not keep_status and "status" in res.subresources:
                obj.pop("status", None)
                if res.kind == "Pod":
                    obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj)}
            _default_structs(obj)
            if dry_run:
                return obj
            if res.namespaced:
                self._ensure_namespace(ns)
            meta["resourceVersion"] = self._next_rv()
            self._put(res, ns, name, obj)
            return copy.deepcopy(obj)

    def _replace(self, res, ns, name, sub, obj, dry_run):
        if not isinstance(obj, dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        with self._lock:
            entry = self._get_entry(res, ns, name)
            if sub == "scale":
                return self._write_scale(res, ns, name, entry, obj, dry_run)
            body_name = (obj.get("metadata") or {}).get("name")
            if body_name and body_name != name:
                raise ApiError(400, "the name of the object (%s) does not match the name on the URL (%s)"
                               % (body_name, name))
            return self._update(res, ns, name, entry, obj, sub, dry_run, check_rv=True)

    def _patch(self, res, ns, name, sub, payload, content_type, dry_run):
        with self._lock:
            store = self._store[res.key]
            entry = store.get((ns or "", name))
            if entry is None:
                if content_type == "application/apply-patch+yaml" and sub is None:
                    obj = copy.deepcopy(payload)
                    return self._create(res, ns, obj, dry_run)
                raise not_found(res, name)
            current = self._scale_of(copy.deepcopy(entry.obj)) if sub == "scale" else copy.deepcopy(entry.obj)
            if content_type == "application/json-patch+json":
                patched = json_patch(current, payload)
            elif content_type == "application/merge-patch+json" or content_type == "application/apply-patch+yaml":
                if not isinstance(payload, dict):
                    raise ApiError(400, "the body of the request was in an unknown format")
                patched = merge_patch(current, payload)
            elif content_type == "application/strategic-merge-patch+json":
                if not isinstance(payload, dict):
                    raise ApiError(400, "the body of the request was in an unknown format")
                patched = strategic_merge_patch(current, payload)
            else:
                raise ApiError(415, 'the server does not support the media type "%s" for PATCH' % content_type)
            if sub == "scale":
                return self._write_scale(res, ns, name, entry, patched, dry_run)
            check = bool(isinstance(payload, dict) and (payload.get("metadata") or {}).get("resourceVersion"))
            return self._update(res, ns, name, entry, patched, sub, dry_run, check_rv=check)

    def _update(self, res, ns, name, entry, new, sub, dry_run, check_rv):
        old = entry.obj
        self._validate_object(res, new, name)
        new_meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        wanted_rv = new_meta.get("resourceVersion")
        if check_rv and wanted_rv and wanted_rv != old_meta["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been modified; please '
                                'apply your changes to the latest version and try again' % (res.qualified, name),
                           "Conflict", _details(res, name))
        if "status" in res.subresources:
            if sub == "status":
                # A status write changes status only (metadata labels/annotations aside).
                status = new.get("status")
                new = copy.deepcopy(old)
                if status is None:
                    new.pop("status", None)
                else:
                    new["status"] = status
                new_meta = new["metadata"]
            elif "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        for fixed in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if fixed in old_meta:
                new_meta[fixed] = old_meta[fixed]
            else:
                new_meta.pop(fixed, None)
        new_meta["name"] = name
        if res.namespaced:
            new_meta["namespace"] = ns
        new["apiVersion"] = res.api_version
        new["kind"] = res.kind
        _default_structs(new)
        if res.generation:
            generation = old_meta.get("generation", 1)
            if sub is None and new.get("spec") != old.get("spec"):
                generation += 1
            new_meta["generation"] = generation
        new_meta["resourceVersion"] = old_meta["resourceVersion"]
        if new == old:
            return copy.deepcopy(old)
        if dry_run:
            return new
        if new_meta.get("deletionTimestamp") and not new_meta.get("finalizers"):
            self._remove(res, ns, name)
            return new
        new_meta["resourceVersion"] = self._next_rv()
        self._put(res, ns, name, new)
        return copy.deepcopy(new)

    def _write_scale(self, res, ns, name, entry, scale, dry_run):
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise invalid(res, name, "spec.replicas", "must be greater than or equal to 0", value=replicas)
        wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != entry.obj["metadata"]["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been modified; please '
                                'apply your changes to the latest version and try again' % (res.qualified, name),
                           "Conflict", _details(res, name))
        new = copy.deepcopy(entry.obj)
        new.setdefault("spec", {})["replicas"] = replicas
        updated = self._update(res, ns, name, entry, new, None, dry_run, check_rv=False)
        return self._scale_of(updated)

    def _delete(self, res, ns, name, dry_run, query, options):
        with self._lock:
            entry = self._get_entry(res, ns, name)
            obj = copy.deepcopy(entry.obj)
            meta = obj["metadata"]
            precondition = (options.get("preconditions") or {})
            if precondition.get("uid") and precondition["uid"] != meta.get("uid"):
                raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": Precondition failed: UID in '
                                    'precondition: %s, UID in object meta: %s'
                               % (res.qualified, name, precondition["uid"], meta.get("uid")), "Conflict",
                               _details(res, name))
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = now_rfc3339()
                    grace = query.get("gracePeriodSeconds", options.get("gracePeriodSeconds"))
                    meta["deletionGracePeriodSeconds"] = int(grace) if grace not in (None, "") else 0
                    if not dry_run:
                        meta["resourceVersion"] = self._next_rv()
                        self._put(res, ns, name, obj)
                return copy.deepcopy(obj)
            if not dry_run:
                self._remove(res, ns, name)
                if res.kind == "Namespace":
                    for other in self.resources:
                        if other.namespaced:
                            for key in [k for k in self._store[other.key] if k[0] == name]:
                                self._remove(other, key[0], key[1])
                    for key in [k for k in self._logs if k[0] == name]:
                        del self._logs[key]
            return obj

    def _delete_collection(self, res, ns, query, dry_run):
        with self._lock:
            labels = parse_label_selector(query.get("labelSelector"))
            fields = parse_field_selector(res, query.get("fieldSelector"))
            names = [key for key, _entry in self._matching_store(res, ns, labels, fields, None)]
            deleted = [self._delete(res, key[0] or None, key[1], dry_run, query, {}) for key in names]
        return {"kind": res.list_kind, "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self._rv)}, "items": deleted}

    def _evict(self, res, ns, name, dry_run):
        with self._lock:
            pod = self._get_entry(res, ns, name).obj
            labels = pod["metadata"].get("labels") or {}
            pdbs = self._by_path[("policy", "v1", "poddisruptionbudgets")]
            for (pdb_ns, _pdb_name), entry in self._store[pdbs.key].items():
                if pdb_ns != ns:
                    continue
                selector = (entry.obj.get("spec") or {}).get("selector")
                if selector is None or not label_match(labels, parse_label_selector(_selector_string(selector))):
                    continue
                if (entry.obj.get("status") or {}).get("disruptionsAllowed", 0) <= 0:
                    # pkg/registry/core/pod/storage/eviction.go
                    raise ApiError(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                                   "TooManyRequests",
                                   {"causes": [{"reason": "DisruptionBudget",
                                                "message": "The disruption budget %s needs %s healthy pods "
                                                           "and has %s currently" % (
                                                               entry.obj["metadata"]["name"],
                                                               entry.obj.get("status", {}).get("desiredHealthy", 0),
                                                               entry.obj.get("status", {}).get("currentHealthy", 0))}]})
            self._delete(res, ns, name, dry_run, {}, {})
        return 201, "application/json", _dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                "status": "Success", "code": 201})
