# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Geometry of the SVG bar charts of the PHR report (controller only: never in a module payload).

The template draws what this computes, so no layout arithmetic lives in Jinja.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import human_duration

RED, BLUE, GREEN, PURPLE = "#c0392b", "#2e86c1", "#1e8449", "#7d3c98"


def bar_chart(title, bars, unit_label, target=None, target_label=None, width=560, bar_height=22):
    """Geometry of a horizontal bar chart for the SVG template (no layout logic in the template).

    bars: [{label, value, text}] with value >= 0; target: a value drawn as a dashed line.
    """
    left, right, top = 150, 180, 30
    values = [b["value"] for b in bars if b.get("value") is not None] + ([target] if target else [])
    scale_max = max(values) if values and max(values) > 0 else 1.0
    inner = width - left - right
    rows = []
    for number, item in enumerate(bars):
        value = item.get("value") or 0
        length = int(round(inner * value / scale_max))
        over = target is not None and value > target
        rows.append({"label": item["label"], "text": item.get("text", ""), "x": left,
                     "y": top + number * (bar_height + 8), "width": max(length, 1 if value else 0),
                     "height": bar_height, "text_x": left + max(length, 0) + 6,
                     "text_y": top + number * (bar_height + 8) + bar_height - 6,
                     "label_y": top + number * (bar_height + 8) + bar_height - 6,
                     "fill": RED if over else item.get("fill", BLUE)})
    height = top + max(len(bars), 1) * (bar_height + 8) + 24
    chart = {"title": title, "width": width, "height": height, "bars": rows, "unit": unit_label,
             "label_x": left - 8, "empty": not bars, "target": None}
    if target:
        x = left + int(round(inner * target / scale_max))
        chart["target"] = {"x": x, "y1": top - 6, "y2": height - 20, "label": target_label or "",
                           "label_y": height - 6}
    return chart


def report_charts(report):
    """The report's three charts: approval latency per tier, rollback durations, records by outcome."""
    target = (report.get("rollbacks") or {}).get("target_seconds")
    rolled = [row for row in report.get("rows") or [] if row.get("rollback_seconds") is not None]
    return [
        bar_chart("Mean approval latency by tier (red: SLA breached)",
                  [{"label": t["tier"], "value": t["mean_seconds"] or 0,
                    "text": "%s (n=%d, %d over SLA)" % (t["mean"], t["count"], t["breaches"]),
                    "fill": RED if t["breaches"] else BLUE}
                   for t in report.get("tiers") or [] if t["tier"] != "trivial"], "seconds"),
        bar_chart("Rollback duration per operation (dashed: %s target)" % human_duration(target),
                  [{"label": (r["record_id"] or "")[-13:], "value": r["rollback_seconds"] or 0,
                    "text": human_duration(r["rollback_seconds"])} for r in rolled],
                  "seconds", target=target, target_label=human_duration(target)),
        bar_chart("Records by outcome",
                  [{"label": str(s["status"]), "value": s["count"], "text": str(s["count"]), "fill": PURPLE}
                   for s in report.get("by_status") or []], "records"),
    ]
