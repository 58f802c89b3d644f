# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a change changed, and nothing else: records keep the changed paths of an object, not the object.

A whole before/after object carries every env value and the ``last-applied-configuration`` annotation
(a JSON copy of the manifest, secrets included), so records prune both sides to the subtrees that
differ. The pruned sides keep their structure (a container stays ``{name, env: [{name, value}]}``), so
the one redactor in common/redact.py still recognises env pairs and secret-named keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

# Never in a record, sink or console: server bookkeeping and the manifest copy kubectl keeps.
DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
MAX_PATHS = 200


def strip_object(obj):
    """A copy of an API object without managedFields and the last-applied-configuration annotation."""
    if not isinstance(obj, dict):
        return obj
    clean = copy.deepcopy(obj)
    _strip(clean)
    return clean


def _strip(node):
    if isinstance(node, dict):
        node.pop("managedFields", None)
        annotations = node.get("annotations")
        if isinstance(annotations, dict):
            for key in DROPPED_ANNOTATIONS:
                annotations.pop(key, None)
        for value in node.values():
            _strip(value)
    elif isinstance(node, list):
        for item in node:
            _strip(item)


def _named(items):
    """Lists of objects with a unique ``name`` (containers, env, volumes) are matched by name."""
    names = [item.get("name") for item in items if isinstance(item, dict)]
    return len(names) == len(items) and all(isinstance(n, str) for n in names) and len(set(names)) == len(names)


def prune(before, after, path="", paths=None):
    """(before', after', paths): both sides reduced to what differs, and the changed paths as text."""
    paths = [] if paths is None else paths
    if before == after:
        return None, None, paths
    if isinstance(before, dict) != isinstance(after, dict):
        before, after = strip_object(before), strip_object(after)  # a whole side is kept: clean it first
    if isinstance(before, dict) and isinstance(after, dict):
        left, right = {}, {}
        for key in sorted(set(before) | set(after), key=str):
            if key == "managedFields" or (key in DROPPED_ANNOTATIONS and path.endswith("annotations")):
                continue  # never copied, not even as a changed path
            sub_b, sub_a, _p = prune(before.get(key), after.get(key), "%s.%s" % (path, key) if path else str(key),
                                     paths)
            if key in before and before.get(key) != after.get(key):
                left[key] = sub_b
            if key in after and before.get(key) != after.get(key):
                right[key] = sub_a
        return left, right, paths
    if isinstance(before, list) and isinstance(after, list) and _named(before) and _named(after):
        by_b = dict((item["name"], item) for item in before)
        by_a = dict((item["name"], item) for item in after)
        left, right = [], []
        for name in [item["name"] for item in before] + [n["name"] for n in after if n["name"] not in by_b]:
            sub_b, sub_a, _p = prune(by_b.get(name), by_a.get(name), "%s[%s]" % (path, name), paths)
            if name in by_b and by_b.get(name) != by_a.get(name):
                left.append(dict(sub_b or {}, name=name))
            if name in by_a and by_b.get(name) != by_a.get(name):
                right.append(dict(sub_a or {}, name=name))
        return left, right, paths
    if len(paths) < MAX_PATHS:
        paths.append(path or ".")
    return copy.deepcopy(before), copy.deepcopy(after), paths


def changed_only(diff):
    """A remediate ``diff`` ({before, after} objects) as {before, after, paths} of the changed subtrees."""
    if not isinstance(diff, dict):
        return diff
    left, right, paths = prune(diff.get("before"), diff.get("after"))
    return {"before": left, "after": right, "paths": paths}


def resources_of(obj):
    """[{container, resources}] of a workload or pod object (requests/limits only, no env)."""
    if not isinstance(obj, dict):
        return []
    spec = obj.get("spec") or {}
    pod_spec = (spec.get("template") or {}).get("spec") or spec
    return [{"container": c.get("name"), "resources": c.get("resources") or {}}
            for c in pod_spec.get("containers") or [] if isinstance(c, dict)]
