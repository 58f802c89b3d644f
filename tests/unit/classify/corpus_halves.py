"""Corpus discipline: every real-world case is in the development half or the held-out half.

The half of a pre-existing case is a hash of its id (recorded as ``half:`` in the YAML, checked here);
cases added later are written straight into the held-out half before the classifier is run on them.
Rules are tuned on the development half only; the held-out score is the one that says whether they generalise.
"""

from __future__ import annotations

import collections
import hashlib

from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import HEALTHY

DEV = "dev"
HELDOUT = "heldout"


def hash_half(case_id):
    """The deterministic half of a case id (sha256 parity)."""
    return HELDOUT if int(hashlib.sha256(case_id.encode("utf-8")).hexdigest(), 16) % 2 else DEV


def score(pairs):
    """pairs: [(case_id, expected, got)] -> dict with right, total, false alarms, per-category P/R, confusion."""
    confusion = collections.Counter((expected, got) for _cid, expected, got in pairs)
    cats = sorted({e for _c, e, _g in pairs} | {g for _c, _e, g in pairs})
    per = {}
    for cat in cats:
        tp = confusion[(cat, cat)]
        predicted = sum(n for (e, g), n in confusion.items() if g == cat)
        actual = sum(n for (e, g), n in confusion.items() if e == cat)
        per[cat] = {"tp": tp, "predicted": predicted, "actual": actual,
                    "precision": tp / predicted if predicted else None, "recall": tp / actual if actual else None}
    return {
        "right": sum(1 for _c, e, g in pairs if e == g),
        "total": len(pairs),
        "false_alarms": [c for c, e, g in pairs if e == HEALTHY and g != HEALTHY],
        "misses": [(c, e, g) for c, e, g in pairs if e != g],
        "per_category": per,
        "confusion": confusion,
    }


def _pct(value):
    return "  -  " if value is None else "%5.1f" % (100.0 * value)


def render(title, result):
    """Printable text: overall score, per-category precision/recall, confusion pairs off the diagonal."""
    total = result["total"] or 1
    lines = ["%s: %d/%d right (%.1f%%), false alarms on healthy: %d"
             % (title, result["right"], result["total"], 100.0 * result["right"] / total, len(result["false_alarms"]))]
    lines.append("  %-36s %5s %6s %6s" % ("category", "n", "prec%", "rec%"))
    for cat, row in sorted(result["per_category"].items()):
        lines.append("  %-36s %5d %6s %6s" % (cat, row["actual"], _pct(row["precision"]), _pct(row["recall"])))
    off = sorted(((e, g, n) for (e, g), n in result["confusion"].items() if e != g))
    lines.append("  confusion (expected -> got, off-diagonal):" + ("" if off else " none"))
    for expected, got, n in off:
        lines.append("    %-34s -> %-34s %d" % (expected, got, n))
    for cid, expected, got in result["misses"]:
        lines.append("    miss %s: %s -> %s" % (cid, expected, got))
    return "\n".join(lines)
