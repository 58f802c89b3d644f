# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only code that writes to a cluster: execute one approved plan, validate it, roll back on failure.

Every action is expressed as "the object as it should be" and sent as a JSON merge patch computed
against the object as read (with its resourceVersion, so a concurrent writer makes the API refuse
instead of us overwriting it). Merge patches replace lists whole, which is what we want for container
lists and what every API server (and the test emulator) agrees on. Order of an execution:

    gate -> read + drift check -> save pre-state -> dry run (dryRun=All) -> diff -> [check mode stops]
    -> apply -> validate for a window -> on failure restore the saved object (PUT, retried on conflict)
    -> verify the restore -> one operation record
"""

from __future__ import absolute_import, division, print_function

import copy
import datetime
import re
import time

from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import NotFound
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import validate as checks
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import (
    GateRefusal,
    check_approval,
    drift_reason,
)
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import canonical_json, describe_target
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError

__metaclass__ = type

UTC = datetime.timezone.utc
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"
MERGE_PATCH = "application/merge-patch+json"

# kind -> (apiVersion, plural, namespaced)
KINDS = {
    "Pod": ("v1", "pods", True),
    "Node": ("v1", "nodes", False),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims", True),
    "PersistentVolume": ("v1", "persistentvolumes", False),
    "Namespace": ("v1", "namespaces", False),
    "Service": ("v1", "services", True),
    "ConfigMap": ("v1", "configmaps", True),
    "Deployment": ("apps/v1", "deployments", True),
    "StatefulSet": ("apps/v1", "statefulsets", True),
    "DaemonSet": ("apps/v1", "daemonsets", True),
    "ReplicaSet": ("apps/v1", "replicasets", True),
    "Job": ("batch/v1", "jobs", True),
    "CronJob": ("batch/v1", "cronjobs", True),
}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
ACTION_KINDS = {
    "delete_pod": ("Pod",),
    "rollout_restart": ("Deployment", "StatefulSet", "DaemonSet"),
    "rollout_undo": ("Deployment",),
    "set_memory_limit": WORKLOADS,
    "set_resources": WORKLOADS,
    "set_image": WORKLOADS,
    "scale": ("Deployment", "StatefulSet", "ReplicaSet"),
    "remove_finalizers": tuple(KINDS),
    "cordon_node": ("Node",),
}
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_VOLATILE_META = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")


class ActionError(AiopsError):
    """The plan cannot be executed against this object (one-line message); nothing was changed."""


def http_status(exc):
    """HTTP status carried by a transport error, whatever its class (None when not an HTTP error)."""
    for attr in ("status", "status_code", "code", "http_status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    return None


def resource_path(kind, name=None, namespace=None, subresource=None, api_version=None):
    if kind not in KINDS:
        raise ActionError("Kind %s is not supported by remediate: use one of %s" % (kind, ", ".join(sorted(KINDS))))
    default_version, plural, namespaced = KINDS[kind]
    version = api_version or default_version
    base = "/api/%s" % version if "/" not in version else "/apis/%s" % version
    if namespaced:
        if not namespace:
            raise ActionError("%s %s needs a namespace" % (kind, name or ""))
        base += "/namespaces/%s" % namespace
    path = "%s/%s" % (base, plural)
    if name:
        path += "/" + name
    if subresource:
        path += "/" + subresource
    return path


def target_path(target, subresource=None):
    return resource_path(target.get("kind"), target.get("name"), target.get("namespace"), subresource,
                         target.get("api_version"))


class Cluster(object):
    """Thin verbs over the shared transport (``request_json``); records every call for the audit/RBAC."""

    def __init__(self, transport):
        self.transport = transport
        self.calls = []

    def request(self, method, path, query=None, body=None, content_type=None):
        self.calls.append({"method": method, "path": path, "dry_run": bool(query and query.get("dryRun"))})
        return self.transport.request_json(method, path, query=query, body=body, content_type=content_type)

    def get(self, path):
        try:
            return self.request("GET", path)
        except NotFound:
            return None
        except Exception as exc:  # any transport's HTTP error: 404 is a value here, the rest propagates
            if http_status(exc) == 404:
                return None
            raise

    def list(self, path, labels=None):
        query = {"labelSelector": ",".join("%s=%s" % item for item in sorted((labels or {}).items()))} \
            if labels else None
        items = (self.request("GET", path, query=query) or {}).get("items") or []
        # Filter again: a selector the server ignored must not widen what we judge.
        return [item for item in items if checks.matches_labels(item, labels)]


# ---------------------------------------------------------------- desired state per action

def merge_patch(current, desired):
    """RFC 7386 merge patch turning ``current`` into ``desired`` (None = delete key; lists whole)."""
    patch = {}
    for key in set(current) | set(desired):
        if key not in desired:
            patch[key] = None
        elif key not in current:
            patch[key] = copy.deepcopy(desired[key])
        elif isinstance(current[key], dict) and isinstance(desired[key], dict):
            sub = merge_patch(current[key], desired[key])
            if sub:
                patch[key] = sub
        elif current[key] != desired[key]:
            patch[key] = copy.deepcopy(desired[key])
    return patch


def _pod_spec(obj):
    return obj.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})


def _container(obj, name, what):
    containers = _pod_spec(obj).get("containers") or []
    if not name:
        if len(containers) == 1:
            return containers[0]
        raise ActionError("%s has %d containers: the plan must name one (target.container)" % (what, len(containers)))
    for container in containers + (_pod_spec(obj).get("initContainers") or []):
        if container.get("name") == name:
            return container
    raise ActionError("%s has no container %s: diagnose again" % (what, name))


def _quantity(value, key):
    if value is None:
        return None
    text = str(value)
    if not _QUANTITY.match(text):
        raise ActionError("%s %r is not a Kubernetes quantity (e.g. 512Mi, 250m)" % (key, value))
    return text


def _set_resources(container, limits, requests):
    resources = container.setdefault("resources", {})
    for section, values in (("limits", limits), ("requests", requests)):
        for resource, value in (values or {}).items():
            bucket = resources.setdefault(section, {})
            if value is None:
                bucket.pop(resource, None)
            else:
                bucket[resource] = _quantity(value, "%s.%s" % (section, resource))
    # A request above the new limit is invalid: lower it to the limit rather than be refused.
    for resource, limit in (resources.get("limits") or {}).items():
        request = (resources.get("requests") or {}).get(resource)
        if request is not None and _to_number(request) > _to_number(limit):
            resources["requests"][resource] = limit


_UNITS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
          "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}


def _to_number(quantity):
    match = re.match(r"^([0-9.]+)([a-zA-Z]*)$", str(quantity))
    if not match or match.group(2) not in _UNITS:
        return 0.0
    return float(match.group(1)) * _UNITS[match.group(2)]


def _previous_template(cluster, deployment, to_revision):
    """The pod template of the ReplicaSet to roll back to (kubectl rollout undo semantics)."""
    meta = deployment.get("metadata") or {}
    rsets = cluster.list(resource_path("ReplicaSet", namespace=meta.get("namespace")),
                         checks.selector_labels(deployment))
    owned = []
    for rs in rsets:
        refs = (rs.get("metadata") or {}).get("ownerReferences") or []
        if any(ref.get("uid") == meta.get("uid") for ref in refs):
            revision = ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION)
            if revision and str(revision).isdigit():
                owned.append((int(revision), rs))
    if not owned:
        raise ActionError("Deployment %s/%s has no ReplicaSet with a revision annotation: nothing to undo to"
                          % (meta.get("namespace"), meta.get("name")))
    owned.sort(key=lambda pair: pair[0])
    current = (meta.get("annotations") or {}).get(REVISION)
    current = int(current) if current and str(current).isdigit() else owned[-1][0]
    if to_revision:
        chosen = [rs for revision, rs in owned if revision == int(to_revision)]
        if not chosen:
            raise ActionError("Deployment %s/%s has no revision %s"
                              % (meta.get("namespace"), meta.get("name"), to_revision))
        rs = chosen[0]
    else:
        older = [rs for revision, rs in owned if revision < current]
        if not older:
            raise ActionError("Deployment %s/%s has no revision before %d: nothing to undo to"
                              % (meta.get("namespace"), meta.get("name"), current))
        rs = older[-1]
    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)
    return template, (rs.get("metadata") or {}).get("name")


def is_controller_owned(obj):
    return any(ref.get("controller") for ref in ((obj.get("metadata") or {}).get("ownerReferences") or []))


def build_change(plan, current, cluster, now):
    """What to send: {method, path, body, content_type, desired, noop, summary}. Raises ActionError."""
    action = plan.get("action")
    target = plan.get("target") or {}
    params = plan.get("params") or {}
    what = describe_target(target)
    if target.get("kind") not in ACTION_KINDS.get(action, ()):
        raise ActionError("%s cannot be applied to %s: it works on %s" % (
            action, what, ", ".join(ACTION_KINDS.get(action, ("nothing",)))))
    path = target_path(target)
    desired = copy.deepcopy(current)
    desired.pop("status", None)
    base = copy.deepcopy(current)
    base.pop("status", None)
    meta = current.get("metadata") or {}

    if action == "delete_pod":
        if not is_controller_owned(current) and plan.get("risk_tier") != "critical":
            raise ActionError("Pod %s/%s has no controller: deleting it loses it for good; only a critical-tier "
                              "plan may delete a bare pod" % (target.get("namespace"), target.get("name")))
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": meta.get("uid")}}
        if isinstance(params.get("grace_period_seconds"), int):
            body["gracePeriodSeconds"] = params["grace_period_seconds"]
        return {"method": "DELETE", "path": path, "body": body, "content_type": None, "desired": None,
                "noop": False, "summary": "delete %s" % what}

    if action == "scale":
        replicas = params.get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ActionError("scale of %s needs params.replicas as a whole number >= 0" % what)
        desired.setdefault("spec", {})["replicas"] = replicas
        noop = (current.get("spec") or {}).get("replicas", 1) == replicas
        return {"method": "PATCH", "path": target_path(target, "scale"),
                "body": {"spec": {"replicas": replicas}}, "content_type": MERGE_PATCH, "desired": desired,
                "noop": noop, "summary": "scale %s to %d replicas" % (what, replicas)}

    if action == "rollout_restart":
        template = desired.setdefault("spec", {}).setdefault("template", {})
        template.setdefault("metadata", {}).setdefault("annotations", {})[RESTARTED_AT] = \
            now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        summary = "restart %s (pod template annotation %s)" % (what, RESTARTED_AT)
    elif action == "rollout_undo":
        template, rs_name = _previous_template(cluster, current, params.get("to_revision"))
        desired.setdefault("spec", {})["template"] = template
        summary = "roll %s back to the template of ReplicaSet %s" % (what, rs_name)
    elif action in ("set_memory_limit", "set_resources", "set_image"):
        container = _container(desired, target.get("container") or params.get("container"), what)
        if action == "set_memory_limit":
            limit = params.get("memory_limit")
            if not limit:
                raise ActionError("set_memory_limit of %s needs params.memory_limit" % what)
            _set_resources(container, {"memory": limit}, None)
            summary = "set memory limit of container %s in %s to %s" % (container["name"], what, limit)
        elif action == "set_resources":
            if not params.get("limits") and not params.get("requests"):
                raise ActionError("set_resources of %s needs params.limits and/or params.requests" % what)
            _set_resources(container, params.get("limits"), params.get("requests"))
            summary = "set resources of container %s in %s" % (container["name"], what)
        else:
            image = params.get("image")
            if not isinstance(image, str) or not image.strip() or " " in image:
                raise ActionError("set_image of %s needs params.image (a valid image reference)" % what)
            container["image"] = image
            summary = "set image of container %s in %s to %s" % (container["name"], what, image)
    elif action == "remove_finalizers":
        present = list(meta.get("finalizers") or [])
        remove = params.get("finalizers")
        keep = [f for f in present if remove and f not in remove]
        desired.setdefault("metadata", {})["finalizers"] = keep
        if not keep:
            desired["metadata"].pop("finalizers", None)
        summary = "remove finalizers %s from %s" % (", ".join(f for f in present if f not in keep) or "(none)", what)
    elif action == "cordon_node":
        desired.setdefault("spec", {})["unschedulable"] = True
        summary = "cordon %s (spec.unschedulable=true)" % what
    else:
        raise ActionError("Action %s is not executable by remediate" % action)

    patch = merge_patch(base, desired)
    noop = not patch
    if not noop:
        patch.setdefault("metadata", {})["resourceVersion"] = meta.get("resourceVersion")
    return {"method": "PATCH", "path": path, "body": patch, "content_type": MERGE_PATCH, "desired": desired,
            "noop": noop, "summary": summary}


# ---------------------------------------------------------------- diff, restore, verify

def comparable(obj):
    """Object without status and server-managed metadata: what a diff and a restore check compare."""
    if obj is None:
        return None
    clean = copy.deepcopy(obj)
    clean.pop("status", None)
    meta = clean.get("metadata") or {}
    for key in _VOLATILE_META:
        meta.pop(key, None)
    return clean


def restored(saved, current, action):
    """True when the live object has the saved spec (and finalizers, for remove_finalizers) again."""
    if current is None:
        return False
    if (saved.get("kind") == "Pod") and action == "delete_pod":
        keep = ("containers", "initContainers", "volumes")
        return all((saved.get("spec") or {}).get(k) == (current.get("spec") or {}).get(k) for k in keep)
    if canonical_json(saved.get("spec")) != canonical_json(current.get("spec")):
        return False
    if action == "remove_finalizers":
        return sorted((saved.get("metadata") or {}).get("finalizers") or []) == \
            sorted((current.get("metadata") or {}).get("finalizers") or [])
    return True


def restore(cluster, saved, action, attempts=5):
    """Put the saved object back: PUT with the live resourceVersion, re-read and retry on 409.

    A bare pod deleted by delete_pod is re-created from its saved manifest. Returns (ok, detail).
    """
    meta = saved.get("metadata") or {}
    kind = saved.get("kind")
    path = resource_path(kind, meta.get("name"), meta.get("namespace"), api_version=saved.get("apiVersion"))
    last = ""
    for _attempt in range(attempts):
        current = cluster.get(path)
        if current is None:
            if kind == "Pod" and action == "delete_pod":
                body = comparable(saved)
                body.get("spec", {}).pop("nodeName", None)
                body["metadata"].pop("ownerReferences", None)
                cluster.request("POST", resource_path("Pod", namespace=meta.get("namespace")), body=body)
                return True, "re-created pod %s/%s from its saved manifest" % (meta.get("namespace"), meta.get("name"))
            return False, "%s %s no longer exists: nothing to restore onto" % (kind, meta.get("name"))
        if restored(saved, current, action):
            return True, "already equal to the saved object"
        body = copy.deepcopy(saved)
        body.pop("status", None)
        body["metadata"].pop("managedFields", None)
        body["metadata"]["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
        try:
            cluster.request("PUT", path, body=body)
            return True, "restored the saved object"
        except Exception as exc:  # retried only on conflict; anything else is reported
            last = _error_text(exc)
            if http_status(exc) != 409:
                return False, "restore failed: %s" % last
    return False, "restore still conflicting after %d attempts: %s" % (attempts, last)


def _error_text(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def _iso(when):
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------- validation through the API

def _workload_for(plan):
    """(kind, name, namespace) whose rollout says whether the fix worked; None for nodes."""
    target = plan.get("target") or {}
    if target.get("kind") in WORKLOADS:
        return target.get("kind"), target.get("name"), target.get("namespace")
    owner = plan.get("owner") or {}
    if target.get("kind") == "Pod" and owner.get("kind") in WORKLOADS:
        return owner.get("kind"), owner.get("name"), target.get("namespace")
    return None


def _pods_of(cluster, workload):
    meta = workload.get("metadata") or {}
    labels = checks.selector_labels(workload)
    if not labels:
        return []
    return cluster.list(resource_path("Pod", namespace=meta.get("namespace")), labels)


def baseline_restarts(cluster, plan):
    ref = _workload_for(plan)
    if not ref:
        return {}
    workload = cluster.get(resource_path(ref[0], ref[1], ref[2]))
    return checks.restart_snapshot(_pods_of(cluster, workload)) if workload else {}


def _check_once(cluster, plan, baseline, applied_at):
    """(ok, fatal, detail) of one look at the target after the change."""
    action = plan.get("action")
    target = plan.get("target") or {}
    what = describe_target(target)
    if action == "cordon_node":
        node = cluster.get(target_path(target))
        ok = bool(node and (node.get("spec") or {}).get("unschedulable"))
        return ok, False, "%s is %s" % (what, "cordoned" if ok else "still schedulable")
    if action == "remove_finalizers":
        obj = cluster.get(target_path(target))
        ok = obj is None or not (obj.get("metadata") or {}).get("finalizers")
        return ok, False, "%s %s" % (what, "is gone" if obj is None else (
            "has no finalizers" if ok else "still has finalizers"))
    details = []
    ok = True
    if action == "delete_pod":
        pod = cluster.get(target_path(target))
        gone = pod is None or (pod.get("metadata") or {}).get("uid") != plan.get("target_uid")
        ok = gone
        details.append("%s %s" % (what, "is gone" if gone else "still exists"))
    ref = _workload_for(plan)
    if ref:
        workload = cluster.get(resource_path(ref[0], ref[1], ref[2]))
        if workload is None:
            return False, True, "%s %s/%s disappeared" % (ref[0], ref[2], ref[1])
        complete, detail = checks.rollout_status(workload)
        ok = ok and complete
        details.append("%s %s/%s %s" % (ref[0], ref[2], ref[1], detail))
        problems = checks.restart_problems(baseline, _pods_of(cluster, workload), applied_at)
        if problems:
            return False, True, "; ".join(problems)
    return ok, False, "; ".join(details)


def validate_window(cluster, plan, baseline, applied_at, window, interval, clock, sleep):
    """Poll for ``window`` seconds: fail fast on a restart/OOM, else judge the last look.

    Returns {passed, checks: [...], window_seconds, started_at, finished_at}.
    """
    started = clock()
    deadline = time.monotonic() + max(window, 0)
    seen = []
    ok, fatal, detail = False, False, ""
    while True:
        try:
            ok, fatal, detail = _check_once(cluster, plan, baseline, applied_at)
        except Exception as exc:  # an unreadable target during validation is a failed validation
            ok, fatal, detail = False, False, "could not read the target: %s" % _error_text(exc)
        if not seen or seen[-1] != detail:
            seen.append(detail)
        if fatal or time.monotonic() >= deadline:
            break
        sleep(min(interval, max(deadline - time.monotonic(), 0.01)))
    return {"passed": bool(ok and not fatal), "checks": seen[-5:], "window_seconds": window,
            "started_at": _iso(started), "finished_at": _iso(clock())}


# ---------------------------------------------------------------- one operation end to end

def _empty_rollback():
    return {"attempted": False, "succeeded": None, "started_at": None, "finished_at": None, "reason": None}


def new_operation(plan, approval, operation_id, now):
    return {
        "operation_id": operation_id,
        "plan_id": plan.get("plan_id"),
        "diagnosis_id": plan.get("diagnosis_id"),
        "action": plan.get("action"),
        "target": plan.get("target"),
        "risk_tier": plan.get("risk_tier"),
        "approval": approval,
        "status": "refused",
        "summary": "",
        "dry_run": None,
        "diff": None,
        "pre_state_ref": None,
        "pre_state_digest": None,
        "started_at": _iso(now),
        "applied_at": None,
        "finished_at": None,
        "validation": None,
        "rollback": _empty_rollback(),
        "error": None,
        "requests": [],
    }


def do_rollback(cluster, saved, action, reason, clock, verify_path):
    """Restore and verify; returns the rollback dict of the contract."""
    result = {"attempted": True, "succeeded": False, "started_at": _iso(clock()), "finished_at": None,
              "reason": reason, "detail": None}
    try:
        ok, detail = restore(cluster, saved, action)
        if ok:
            current = cluster.get(verify_path)
            ok = restored(saved, current, action)
            detail += "; verified" if ok else "; verification failed: live spec differs from the saved one"
    except Exception as exc:  # report, never raise: the caller must still record the operation
        ok, detail = False, "restore failed: %s" % _error_text(exc)
    result.update(succeeded=ok, detail=detail, finished_at=_iso(clock()))
    return result


def execute(cluster, plan, approval, options, clock, sleep=time.sleep):
    """Run one plan. Returns (changed, operation, diff). ``operation['status']`` tells the outcome.

    options: state_dir, check_mode, validation_window, poll_interval, rollback_on_failure.
    """
    now = clock()
    store = options.get("state_dir")
    operation = new_operation(plan, approval, opstore.new_operation_id(now), now)

    def finish(status, error=None):
        operation["status"] = status
        operation["error"] = error
        operation["finished_at"] = _iso(clock())
        operation["requests"] = list(cluster.calls)
        return operation

    try:
        approved = check_approval(plan, approval, now)
    except GateRefusal as exc:
        return False, finish("refused", str(exc)), None
    operation["plan_id"] = approved["plan_id"]
    what = describe_target(approved.get("target") or {})
    path = target_path(approved["target"])
    try:
        current = cluster.get(path)
    except Exception as exc:
        return False, finish("failed", "Cannot read %s: %s" % (what, _error_text(exc))), None
    if current is None and approved["action"] == "delete_pod":
        operation["validation"] = {"passed": True, "checks": ["%s is already gone" % what], "window_seconds": 0}
        return False, finish("validated"), None
    reason = drift_reason(approved, current)
    if reason:
        return False, finish("refused", reason), None
    try:
        change = build_change(approved, current, cluster, now)
    except ActionError as exc:
        return False, finish("failed", str(exc)), None
    operation["summary"] = change["summary"]
    before = comparable(current)
    if change["noop"]:
        operation["diff"] = {"before": before, "after": before}
        operation["validation"] = {"passed": True, "checks": ["%s is already in the desired state" % what],
                                   "window_seconds": 0}
        return False, finish("validated"), None

    record = {"operation_id": operation["operation_id"], "plan": approved, "approval": approval,
              "pre_state": current, "pre_state_digest": opstore.digest(current), "operation": operation}
    baseline = {}
    if not options.get("check_mode"):
        try:
            baseline = baseline_restarts(cluster, approved)
        except Exception:  # a missing baseline only makes the restart check stricter (all restarts count)
            baseline = {}
        record["baseline_restarts"] = baseline
        try:
            operation["pre_state_ref"] = opstore.save(store, record)
        except opstore.OpStoreError as exc:
            return False, finish("failed", "%s: nothing changed" % exc), None
        operation["pre_state_digest"] = record["pre_state_digest"]

    try:
        response = cluster.request(change["method"], change["path"], query={"dryRun": "All"},
                                   body=change["body"], content_type=change["content_type"])
    except Exception as exc:
        operation["dry_run"] = {"accepted": False, "message": _error_text(exc)}
        return False, finish("failed", "Server-side dry run of %s refused: %s; nothing changed"
                             % (change["summary"], _error_text(exc))), None
    operation["dry_run"] = {"accepted": True, "method": change["method"], "path": change["path"],
                            "kind": (response or {}).get("kind")}
    if change["method"] == "DELETE":
        after = None
    elif isinstance(response, dict) and "spec" in response and response.get("kind") == current.get("kind"):
        after = comparable(response)
    else:
        after = comparable(change["desired"])
    operation["diff"] = {"before": before, "after": after}
    diff = {"before": before, "after": after, "before_header": what, "after_header": what}
    if options.get("check_mode"):
        return False, finish("dry_run"), diff

    try:
        cluster.request(change["method"], change["path"], body=change["body"], content_type=change["content_type"])
    except Exception as exc:
        error = "Applying %s failed: %s" % (change["summary"], _error_text(exc))
        operation["rollback"] = _rollback_after_error(cluster, current, change, approved, error, clock, path)
        status = "rolled_back" if operation["rollback"]["succeeded"] else "rollback_failed"
        _save_quietly(store, record, operation)
        return bool(operation["rollback"].get("changed")), finish(status, error), diff
    operation["applied_at"] = _iso(clock())
    operation["status"] = "applied"

    applied_at = clock()
    operation["validation"] = validate_window(cluster, approved, baseline, applied_at,
                                              options.get("validation_window", 60),
                                              options.get("poll_interval", 2), clock, sleep)
    if operation["validation"]["passed"]:
        finish("validated")
    elif not options.get("rollback_on_failure", True):
        finish("failed", "Validation of %s failed: %s" % (what, "; ".join(operation["validation"]["checks"])))
    elif approved["action"] == "delete_pod" and is_controller_owned(current):
        operation["rollback"] = {"attempted": False, "succeeded": None, "started_at": None, "finished_at": None,
                                 "reason": "the deleted pod belongs to a controller, which replaces it; "
                                           "nothing to restore"}
        finish("failed", "Validation of %s failed: %s" % (what, "; ".join(operation["validation"]["checks"])))
    else:
        reason = "validation failed: %s" % "; ".join(operation["validation"]["checks"])
        operation["rollback"] = do_rollback(cluster, current, approved["action"], reason, clock, path)
        succeeded = operation["rollback"]["succeeded"]
        outcome = "rolled back" if succeeded else "ROLLBACK FAILED: " + operation["rollback"]["detail"]
        finish("rolled_back" if succeeded else "rollback_failed",
               "Validation of %s failed; %s" % (what, outcome))
    _save_quietly(store, record, operation)
    return True, operation, diff


def _rollback_after_error(cluster, saved, change, plan, error, clock, path):
    """After a failed write: restore only if our change (partly) landed; never overwrite someone else's."""
    try:
        live = cluster.get(path)
    except Exception as exc:
        return {"attempted": True, "succeeded": False, "started_at": _iso(clock()), "finished_at": _iso(clock()),
                "reason": error, "detail": "cannot re-read the target: %s" % _error_text(exc)}
    if live is not None and restored(saved, live, plan["action"]) and \
            (live.get("metadata") or {}).get("uid") == (saved.get("metadata") or {}).get("uid"):
        stamp = _iso(clock())
        return {"attempted": True, "succeeded": True, "started_at": stamp, "finished_at": stamp, "reason": error,
                "detail": "re-read the target: it still has the saved spec, nothing to restore"}
    desired = change.get("desired")
    if live is not None and desired is not None and \
            canonical_json((desired or {}).get("spec")) != canonical_json(live.get("spec")):
        stamp = _iso(clock())
        return {"attempted": True, "succeeded": False, "started_at": stamp, "finished_at": stamp, "reason": error,
                "detail": "the target was changed by someone else meanwhile; not overwriting it: inspect it"}
    result = do_rollback(cluster, saved, plan["action"], error, clock, path)
    result["changed"] = True
    return result


def _save_quietly(store, record, operation):
    record["operation"] = operation
    try:
        opstore.save(store, record)
    except opstore.OpStoreError as exc:
        operation.setdefault("warnings", []).append(str(exc))


def cluster_from_module(module):
    """A Cluster over the shared transport built from the module's kubernetes.core auth options."""
    from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
    return Cluster(k8s_transport.transport_from_module(module))


def utcnow():
    return datetime.datetime.now(UTC)


def rollback_operation(cluster, record, clock, check_mode=False):
    """Restore the pre-change object of a recorded operation. Returns (changed, rollback dict)."""
    saved = record["pre_state"]
    plan = record.get("plan") or {}
    action = plan.get("action")
    meta = saved.get("metadata") or {}
    path = resource_path(saved.get("kind"), meta.get("name"), meta.get("namespace"),
                         api_version=saved.get("apiVersion"))
    started = clock()
    reason = "rollback of %s requested" % record.get("operation_id")
    current = cluster.get(path)
    if current is not None and restored(saved, current, action):
        return False, {"attempted": True, "succeeded": True, "started_at": _iso(started),
                       "finished_at": _iso(clock()), "reason": reason,
                       "detail": "already equal to the saved object", "duration_seconds": 0.0}
    if action == "delete_pod" and current is None and is_controller_owned(saved):
        return False, {"attempted": False, "succeeded": False, "started_at": _iso(started),
                       "finished_at": _iso(clock()), "reason": reason,
                       "detail": "the deleted pod belonged to a controller, which replaces it; nothing to restore"}
    if check_mode:
        if current is None:
            detail = "would re-create the object"
        else:
            body = copy.deepcopy(saved)
            body.pop("status", None)
            body["metadata"].pop("managedFields", None)
            body["metadata"]["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
            cluster.request("PUT", path, query={"dryRun": "All"}, body=body)
            detail = "dry run: the API accepted the restore"
        return False, {"attempted": False, "succeeded": None, "started_at": _iso(started),
                       "finished_at": _iso(clock()), "reason": reason, "detail": detail}
    result = do_rollback(cluster, saved, action, reason, clock, path)
    finished = datetime.datetime.fromisoformat(result["finished_at"].replace("Z", "+00:00"))
    result["duration_seconds"] = round((finished - started).total_seconds(), 3)
    return True, result


def followup_validation(cluster, record, window, interval, clock, sleep=time.sleep):
    """Re-run the validation of a recorded operation now (the 5-minute and 1-hour checks)."""
    plan = record.get("plan") or {}
    operation = record.get("operation") or {}
    applied = operation.get("applied_at")
    applied_at = datetime.datetime.fromisoformat(applied.replace("Z", "+00:00")) if applied else None
    if operation.get("status") in ("rolled_back", "rollback_failed"):
        # The change was undone: judge the restored object, not the fix.
        return {"passed": False, "checks": ["operation %s was %s; nothing to validate"
                                            % (record.get("operation_id"), operation.get("status"))],
                "window_seconds": 0}
    return validate_window(cluster, plan, record.get("baseline_restarts") or {}, applied_at, window, interval,
                           clock, sleep)
