# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each action sends: the object as it should be, as a JSON merge patch against the object as read.

Pure apart from rollout_undo, which lists the Deployment's ReplicaSets. The patch carries the
resourceVersion that was drift-checked, so a concurrent writer makes the API refuse instead of being
overwritten; remove_finalizers is a JSON patch whose ``test`` op binds it to the exact list approved.
Merge patches replace lists whole, which is what we want for container lists.
"""

from __future__ import absolute_import, division, print_function

import copy

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import canonical_json
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import (
    KINDS, PATCHABLE_WORKLOADS, RESTARTABLE_WORKLOADS, SCALABLE_WORKLOADS, resource_path,
)
from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import parse_quantity
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import JSON_PATCH, MERGE_PATCH, target_path
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import describe_target
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.validate import selector_labels

__metaclass__ = type

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"
ACTION_KINDS = {
    "delete_pod": ("Pod",),
    "rollout_restart": RESTARTABLE_WORKLOADS,
    "rollout_undo": ("Deployment",),
    "set_memory_limit": PATCHABLE_WORKLOADS,
    "set_resources": PATCHABLE_WORKLOADS,
    "set_image": PATCHABLE_WORKLOADS,
    "scale": SCALABLE_WORKLOADS,
    "remove_finalizers": tuple(KINDS),
    "cordon_node": ("Node",),
}
_VOLATILE_META = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")


class ActionError(AiopsError):
    """The plan cannot be executed against this object (one-line message); nothing was changed."""


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
    if parse_quantity(text) is None or text.startswith(("-", "+")):
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
        if request is not None and (parse_quantity(request) or 0) > (parse_quantity(limit) or 0):
            resources["requests"][resource] = limit


def _previous_template(cluster, deployment, to_revision):
    """The pod template of the ReplicaSet to roll back to (kubectl rollout undo semantics)."""
    meta = deployment.get("metadata") or {}
    rsets = cluster.list(resource_path("ReplicaSet", namespace=meta.get("namespace")),
                         selector_labels(deployment))
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


def build_change(plan, current, cluster, now, tier):
    """What to send: {method, path, body, content_type, desired, noop, summary}. Raises ActionError.

    ``tier`` is the one the executor derived (never the plan's claim).
    """
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
        if not is_controller_owned(current) and tier != "critical" and \
                (current.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
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
        body = {"metadata": {"resourceVersion": meta.get("resourceVersion")}, "spec": {"replicas": replicas}}
        return {"method": "PATCH", "path": target_path(target, "scale"),
                "body": body, "content_type": MERGE_PATCH, "desired": desired,
                "noop": noop, "summary": "scale %s to %d replicas" % (what, replicas)}

    if action == "rollout_restart":
        template = desired.setdefault("spec", {}).setdefault("template", {})
        template.setdefault("metadata", {}).setdefault("annotations", {})[RESTARTED_AT] = \
            isoformat(now)
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
        approved = params.get("finalizers")
        if not isinstance(approved, list) or not approved or not all(isinstance(f, str) for f in approved):
            raise ActionError("remove_finalizers of %s needs params.finalizers (the exact list approved)" % what)
        if not present:
            desired.setdefault("metadata", {}).pop("finalizers", None)
            return {"method": "PATCH", "path": path, "body": [], "content_type": JSON_PATCH, "desired": desired,
                    "noop": True, "summary": "%s has no finalizers left" % what}
        if present != approved:
            raise ActionError("%s has finalizers %s, not the %s approved: approve the new list" % (
                what, ", ".join(present), ", ".join(approved)))
        desired.setdefault("metadata", {}).pop("finalizers", None)
        # The test op makes the API refuse if the list changed between this read and the write.
        body = [{"op": "test", "path": "/metadata/finalizers", "value": approved},
                {"op": "remove", "path": "/metadata/finalizers"}]
        return {"method": "PATCH", "path": path, "body": body, "content_type": JSON_PATCH, "desired": desired,
                "noop": False, "summary": "remove finalizers %s from %s" % (", ".join(approved), what)}
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


def changed_since(applied, live):
    """None when ``live`` is still what our write produced, else what differs (and who wrote it, if known)."""
    if applied is None:
        return None
    if live is None:
        return "it was deleted"
    old, new = applied.get("metadata") or {}, live.get("metadata") or {}
    if old.get("uid") != new.get("uid"):
        return "it was re-created (uid %s -> %s)" % (old.get("uid"), new.get("uid"))
    differs = []
    if isinstance(old.get("generation"), int) and old.get("generation") != new.get("generation"):
        differs.append("generation %s -> %s" % (old.get("generation"), new.get("generation")))
    elif canonical_json(applied.get("spec")) != canonical_json(live.get("spec")):
        differs.append("spec changed")
    if sorted(old.get("finalizers") or []) != sorted(new.get("finalizers") or []):
        differs.append("finalizers changed")
    if not differs:
        return None
    managers = [m for m in new.get("managedFields") or [] if isinstance(m, dict) and m.get("operation") == "Update"]
    last = max(managers, key=lambda m: m.get("time") or "") if managers else None
    who = " by %s at %s" % (last.get("manager"), last.get("time")) if last else ""
    return "someone changed it after our apply%s (%s, resourceVersion %s -> %s)" % (
        who, ", ".join(differs), old.get("resourceVersion"), new.get("resourceVersion"))
