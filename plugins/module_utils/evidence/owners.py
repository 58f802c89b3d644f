# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who owns a failing object, and the few facts about it that a fix needs: the diagnosis' ``subject``.

The subject is computed once from evidence and travels inside the diagnosis, so proposals can be
recomputed from a saved diagnosis without the evidence (``remediation_plan`` only has the diagnosis).
It holds facts, never whole objects and never annotations' raw text.
"""

from __future__ import annotations

import json

from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import api_version

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
_REVISION = "deployment.kubernetes.io/revision"
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _annotation(obj, key):
    if not isinstance(obj, dict):
        return None     # an owner without its object (the common case): nothing to read
    return _dict(_dict(obj.get("metadata")).get("annotations")).get(key)


def infer_owners(pod):
    """Owner chain from the pod's own ownerReferences when the source did not resolve it.

    A ReplicaSet named "<deployment>-<pod-template-hash>" belongs to that Deployment (the hash is the
    pod's pod-template-hash label), so the fix targets the Deployment, as with a resolved chain.
    """
    meta = _dict(_dict(pod).get("metadata"))
    refs = [r for r in _list(meta.get("ownerReferences")) if isinstance(r, dict) and r.get("kind") and r.get("name")]
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if ref is None:
        return []
    kind, name = str(ref.get("kind")), str(ref.get("name"))
    chain = [{"kind": kind, "name": name, "uid": ref.get("uid") or "",
              "api_version": ref.get("apiVersion") or api_version(kind), "object": None}]
    template_hash = _dict(meta.get("labels")).get("pod-template-hash")
    if kind == "ReplicaSet" and isinstance(template_hash, str) and template_hash and name.endswith("-" + template_hash):
        chain.append({"kind": "Deployment", "name": name[:-len(template_hash) - 1], "uid": "",
                      "api_version": "apps/v1", "object": None})
    return chain


def owner_chain(evidence):
    """The resolved owner chain of a pod's evidence, else the one its ownerReferences imply."""
    owners = [o for o in _list(getattr(evidence, "owners", None)) if isinstance(o, dict)]
    return owners or infer_owners(getattr(evidence, "pod", None))


def rollout_undo_info(evidence, owners=None):
    """{"kind", "name", "revision"} when the pod runs the newest revision and an older one exists."""
    owners = owner_chain(evidence) if owners is None else owners
    rs = deploy = sts = None
    for owner in owners:    # the first owner of each kind, in one pass
        kind = owner.get("kind")
        if kind == "ReplicaSet":
            rs = owner if rs is None else rs
        elif kind == "Deployment":
            deploy = owner if deploy is None else deploy
        elif kind == "StatefulSet":
            sts = owner if sts is None else sts
    if rs and deploy:
        rs_obj, dep_obj = _dict(rs.get("object")), _dict(deploy.get("object"))
        rs_rev = _int(_annotation(rs_obj, _REVISION))
        dep_rev = _int(_annotation(dep_obj, _REVISION)) if dep_obj else None
        if rs_rev and rs_rev > 1 and (dep_rev is None or dep_rev == rs_rev):
            return {"kind": "Deployment", "name": deploy.get("name"), "revision": rs_rev}
        return None
    pod = _dict(getattr(evidence, "pod", None)) if sts else None
    if sts and isinstance(sts.get("object"), dict) and pod:
        status = _dict(sts["object"].get("status"))
        labels = _dict(_dict(pod.get("metadata")).get("labels"))
        update, current = status.get("updateRevision"), status.get("currentRevision")
        if update and current and update != current and labels.get("controller-revision-hash") == update:
            return {"kind": "StatefulSet", "name": sts.get("name"), "revision": update}
    return None


def _pod_containers(pod):
    spec = _dict(_dict(pod).get("spec"))
    return [c for c in _list(spec.get("containers")) + _list(spec.get("initContainers")) if isinstance(c, dict)]


def previous_images(evidence, owners=None):
    """{container: image} the owner chain shows each container used before (kubectl last-applied)."""
    owners = owner_chain(evidence) if owners is None else owners
    current = None      # built only when some owner has a last-applied annotation (most have none)
    found = {}
    for owner in reversed(owners):
        raw = _annotation(owner.get("object"), _LAST_APPLIED)
        if not isinstance(raw, str):
            continue
        if current is None:
            current = {c.get("name"): c.get("image") for c in _pod_containers(getattr(evidence, "pod", None))}
        try:
            applied = json.loads(raw)
        except ValueError:
            continue
        spec = _dict(_dict(_dict(_dict(applied).get("spec")).get("template")).get("spec"))
        for item in _list(spec.get("containers")) + _list(spec.get("initContainers")):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            name, image = item["name"], item.get("image")
            if isinstance(image, str) and image and image != current.get(name) and name not in found:
                found[name] = image
    return found


def previous_image(evidence, container):
    """An image the owner chain shows this container used before, else None."""
    return previous_images(evidence).get(container)


def is_static_pod(pod):
    """Static (mirror) pods belong to the kubelet: deleting the API object does nothing useful."""
    meta = _dict(_dict(pod).get("metadata"))
    if MIRROR_ANNOTATION in _dict(meta.get("annotations")):
        return True
    return any(isinstance(r, dict) and r.get("kind") == "Node" for r in _list(meta.get("ownerReferences")))


def pod_facts(pod):
    """{phase, reason, bare, static, containers: {name: {image, resources}}} of a raw pod."""
    pod = _dict(pod)
    status = _dict(pod.get("status"))
    meta = _dict(pod.get("metadata"))
    refs = _list(meta.get("ownerReferences"))
    controllers = [r for r in refs if isinstance(r, dict) and r.get("kind")]
    containers = {}
    for item in _pod_containers(pod):
        if isinstance(item.get("name"), str):
            resources = item.get("resources")
            kept = {}
            if isinstance(resources, dict):
                for key in ("requests", "limits"):
                    value = resources.get(key)
                    if value and isinstance(value, dict):
                        kept[key] = dict(value)
            containers[item["name"]] = {"image": item.get("image"), "resources": kept}
    # is_static_pod(pod), from the metadata already in hand
    static = MIRROR_ANNOTATION in _dict(meta.get("annotations")) or \
        any(isinstance(r, dict) and r.get("kind") == "Node" for r in refs)
    return {"phase": status.get("phase"), "reason": status.get("reason"),
            "bare": not controllers, "static": static, "containers": containers}


def _slim(owner):
    kind = str(owner.get("kind") or "")
    return {"kind": kind, "name": owner.get("name"), "api_version": owner.get("api_version") or api_version(kind),
            "uid": owner.get("uid") or ""}


def subject(evidence, owners=None):
    """The facts proposals need about a pod's evidence (see the module docstring).

    ``owners``: the owner chain when the caller already has it (owner_chain(evidence)).
    """
    owners = owner_chain(evidence) if owners is None else owners
    pod = getattr(evidence, "pod", None)
    return {"owners": [_slim(o) for o in owners],
            "rollout_undo": rollout_undo_info(evidence, owners),
            "previous_images": previous_images(evidence, owners),
            "pod": pod_facts(pod) if isinstance(pod, dict) else None}


def workload_subject(evidence):
    """The subject of a workload diagnosis: its own owners; the workload itself is the target."""
    owners = [o for o in _list(getattr(evidence, "owners", None)) if isinstance(o, dict)]
    obj = _dict(getattr(evidence, "object", None))
    itself = {"kind": obj.get("kind"), "name": _dict(obj.get("metadata")).get("name"), "object": obj}
    return {"owners": [_slim(o) for o in owners], "rollout_undo": None,
            "previous_images": previous_images(evidence, [itself] + owners), "pod": None}
