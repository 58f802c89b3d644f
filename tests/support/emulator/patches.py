"""JSON merge, strategic merge and JSON patches."""

from __future__ import annotations

import copy

from tests.support.emulator.api import MERGE_KEYS, MERGE_SCALAR_LISTS, ApiError


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target, patch):
    """Strategic merge patch for the list fields real Kubernetes merges by key (MERGE_KEYS)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in (result.get(field) or []) if v not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, MERGE_KEYS[key])
        elif isinstance(value, list) and key in MERGE_SCALAR_LISTS and isinstance(result.get(key), list):
            merged = list(result[key])
            merged.extend(v for v in value if v not in merged)
            result[key] = merged
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current, patch, merge_key):
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            result.append(copy.deepcopy(item))
            continue
        index = next((i for i, existing in enumerate(result)
                      if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "the server rejected our request due to an error in our request: "
                            "invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc, parts, create=False):
    current = doc
    for part in parts[:-1]:
        if isinstance(current, list):
            current = current[int(part)]
        elif isinstance(current, dict):
            if part not in current:
                raise KeyError(part)
            current = current[part]
        else:
            raise KeyError(part)
    return current, parts[-1]


def json_patch(doc, operations):
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise ApiError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in operations:
        try:
            kind = op["op"]
            parts = _pointer(op["path"])
            if kind == "test":
                parent, last = _resolve(doc, parts)
                current = parent[int(last)] if isinstance(parent, list) else parent[last]
                if current != op.get("value"):
                    raise ApiError(422, "the server rejected our request due to an error in our request: "
                                        "testing value %s failed" % op["path"])
                continue
            if kind in ("move", "copy"):
                source_parts = _pointer(op["from"])
                parent, last = _resolve(doc, source_parts)
                value = parent[int(last)] if isinstance(parent, list) else parent[last]
                if kind == "move":
                    if isinstance(parent, list):
                        parent.pop(int(last))
                    else:
                        del parent[last]
                doc = _json_add(doc, parts, copy.deepcopy(value))
                continue
            if kind == "add":
                doc = _json_add(doc, parts, copy.deepcopy(op.get("value")))
            elif kind in ("remove", "replace"):
                if not parts:
                    doc = copy.deepcopy(op.get("value"))
                    continue
                parent, last = _resolve(doc, parts)
                if isinstance(parent, list):
                    index = int(last)
                    if index >= len(parent):
                        raise IndexError(index)
                    if kind == "remove":
                        parent.pop(index)
                    else:
                        parent[index] = copy.deepcopy(op.get("value"))
                else:
                    if last not in parent:
                        raise KeyError(last)
                    if kind == "remove":
                        del parent[last]
                    else:
                        parent[last] = copy.deepcopy(op.get("value"))
            else:
                raise ApiError(422, "the server rejected our request due to an error in our request: "
                                    "Unexpected kind: %s" % kind)
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                                "jsonpatch %s operation does not apply: doc is missing path: \"%s\""
                           % (op.get("op") if isinstance(op, dict) else op,
                              op.get("path") if isinstance(op, dict) else ""))
    return doc


def _json_add(doc, parts, value):
    if not parts:
        return value
    parent, last = _resolve(doc, parts)
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            index = int(last)
            if index > len(parent):
                raise IndexError(index)
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise KeyError(last)
    return doc
