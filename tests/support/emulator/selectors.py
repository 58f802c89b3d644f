"""Label and field selectors, parsed and matched the way the API server does."""

from __future__ import annotations

import re

from tests.support.emulator.api import FIELD_ALIASES, FIELD_LABELS, ApiError

_SET_REQ = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


def _split_top(text):
    """Split a selector on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_label_selector(text):
    """Parse a label selector into (key, op, values) requirements; ApiError 400 when malformed."""
    requirements = []
    for part in _split_top(text or ""):
        match = _SET_REQ.match(part)
        if match:
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            requirements.append((match.group(1), match.group(2), values))
            continue
        if part.startswith("!"):
            key = part[1:].strip()
            op, values = "!", set()
        elif "!=" in part:
            key, value = part.split("!=", 1)
            op, values = "!=", {value.strip()}
        elif "==" in part:
            key, value = part.split("==", 1)
            op, values = "=", {value.strip()}
        elif "=" in part:
            key, value = part.split("=", 1)
            op, values = "=", {value.strip()}
        else:
            key, op, values = part, "exists", set()
        key = key.strip()
        if not key or not re.match(r"^[A-Za-z0-9_./-]+$", key) or any(" " in v for v in values):
            raise ApiError(400, "unable to parse requirement: invalid label selector %r" % part)
        requirements.append((key, op, values))
    return requirements


def label_match(labels, requirements):
    labels = labels or {}
    for key, op, values in requirements:
        present = key in labels
        value = labels.get(key)
        if op == "=" and (not present or value not in values):
            return False
        if op in ("!=", "notin") and present and value in values:
            return False
        if op == "in" and (not present or value not in values):
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


def parse_field_selector(res, text):
    requirements = []
    allowed = {"metadata.name", "metadata.namespace"} | FIELD_LABELS.get(res.key, set())
    for part in _split_top(text or ""):
        if "!=" in part:
            field, value = part.split("!=", 1)
            negate = True
        elif "==" in part:
            field, value = part.split("==", 1)
            negate = False
        elif "=" in part:
            field, value = part.split("=", 1)
            negate = False
        else:
            raise ApiError(400, "invalid selector: '%s'; can't understand '%s'" % (text, part))
        field = field.strip()
        if field not in allowed:
            raise ApiError(400, '"%s" is not a known field selector: only "%s"' % (
                field, '", "'.join(sorted(allowed))) if res.key in FIELD_LABELS
                else "field label not supported: %s" % field)
        path = FIELD_ALIASES.get(field, field).split(".")
        requirements.append((path, value.strip(), negate))
    return requirements


def _field_value(obj, path):
    current = obj
    for part in path:
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def field_match(obj, requirements):
    for path, value, negate in requirements:
        if (_field_value(obj, path) == value) == negate:
            return False
    return True


# --------------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------------
def _selector_string(selector):
    labels = (selector or {}).get("matchLabels") or {}
    parts = ["%s=%s" % (k, v) for k, v in sorted(labels.items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        op = expr.get("operator", "")
        key = expr.get("key", "")
        if op == "In":
            parts.append("%s in (%s)" % (key, ",".join(expr.get("values") or [])))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (key, ",".join(expr.get("values") or [])))
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append("!" + key)
    return ",".join(parts)
