# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report metrics over records: the seed's success figures. Pure: records in, numbers out (chart
geometry and rendering are controller-side, in plugin_utils)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import (
    human_duration as fmt_duration, isoformat, parse_time, utcnow)
from ansible_collections.aiops.k8s.plugins.module_utils.records.model import (
    APPROVAL_SLA_SECONDS, AUDITED_TIERS, ROLLBACK_TARGET_SECONDS, RecordError)



def parse_since(value, now=None):
    """A range bound: RFC 3339, a date (YYYY-MM-DD), or relative like 30m, 12h, 7d, 2w."""
    if value in (None, ""):
        return None
    now = now or utcnow()
    match = re.match(r"^\s*(\d+)\s*([smhdw])\s*$", str(value))
    if match:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
        return now - datetime.timedelta(seconds=int(match.group(1)) * unit)
    text = str(value).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        text += "T00:00:00+00:00"
    when = parse_time(text)
    if when is None:
        raise RecordError("Cannot read the time %r: use RFC 3339 (2026-11-25T10:00:00Z), a date (2026-11-25) "
                          "or a relative time such as 24h or 7d" % (value,))
    return when


def _stats(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return {"count": 0, "mean_seconds": None, "median_seconds": None, "max_seconds": None,
                "mean": "n/a", "median": "n/a", "max": "n/a"}
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2.0
    mean = sum(values) / float(len(values))
    return {"count": len(values), "mean_seconds": round(mean, 1), "median_seconds": round(median, 1),
            "max_seconds": values[-1], "mean": fmt_duration(mean), "median": fmt_duration(median),
            "max": fmt_duration(values[-1])}


def compute_report(records, since=None, until=None, now=None):
    """The seed's metrics over records: MTTD, MTTR, approval latency/SLA per tier, record
    completeness of medium/critical operations, rollbacks and their durations."""
    now = now or utcnow()
    operations = [r for r in records if r.get("record_type") == "operation"]
    by_status, rows = {}, []
    for record in records:
        status = (record.get("operation") or {}).get("status") or (record.get("decision") or {}).get(
            "decision") or record.get("record_type")
        by_status[status] = by_status.get(status, 0) + 1
        decision, timeline, rollback = (record.get("decision") or {}), (record.get("timeline") or {}), (
            record.get("rollback") or {})
        primary = (record.get("analysis") or {}).get("primary") or {}
        target = (record.get("operation") or {}).get("target") or {}
        rows.append({"record_id": record.get("record_id"), "type": record.get("record_type"), "status": status,
                     "tier": decision.get("tier") or "-", "category": primary.get("category") or "-",
                     "target": "%s %s/%s" % (target.get("kind", ""), target.get("namespace", ""),
                                             target.get("name", "")) if target else
                     "%s/%s" % (primary.get("namespace", ""), primary.get("name", "")),
                     "created_at": record.get("created_at"),
                     "mttd": fmt_duration(timeline.get("mttd_seconds")),
                     "mttr": fmt_duration(timeline.get("mttr_seconds")),
                     "approval_latency": fmt_duration(decision.get("latency_seconds")),
                     "sla_breached": decision.get("sla_breached"),
                     "rollback": fmt_duration(rollback.get("duration_seconds")) if rollback.get("attempted") else "-",
                     "rollback_seconds": rollback.get("duration_seconds") if rollback.get("attempted") else None,
                     "complete": (record.get("completeness") or {}).get("complete")})
    mttd = _stats([(r.get("timeline") or {}).get("mttd_seconds") for r in records])
    mttr = _stats([(r.get("timeline") or {}).get("mttr_seconds") for r in operations])

    tiers = []
    for tier in ("trivial", "low", "medium", "critical"):
        decided = [r for r in records if (r.get("decision") or {}).get("tier") == tier]
        latencies = [(r["decision"] or {}).get("latency_seconds") for r in decided]
        stats = _stats(latencies)
        stats.update(tier=tier, decisions=len(decided), sla_seconds=APPROVAL_SLA_SECONDS.get(tier),
                     sla=fmt_duration(APPROVAL_SLA_SECONDS.get(tier)) if tier in APPROVAL_SLA_SECONDS else "none",
                     breaches=sum(1 for r in decided if (r.get("decision") or {}).get("sla_breached")))
        tiers.append(stats)

    audited = [r for r in operations if (r.get("decision") or {}).get("tier") in AUDITED_TIERS]
    complete = [r for r in audited if (r.get("completeness") or {}).get("complete")]
    share = (len(complete) / float(len(audited))) if audited else None

    rolled = [r for r in operations if (r.get("rollback") or {}).get("attempted")]
    durations = [(r["rollback"] or {}).get("duration_seconds") for r in rolled]
    rollbacks = _stats(durations)
    rollbacks.update(attempted=len(rolled),
                     succeeded=sum(1 for r in rolled if (r.get("rollback") or {}).get("succeeded")),
                     over_target=sum(1 for d in durations if d is not None and d > ROLLBACK_TARGET_SECONDS),
                     target_seconds=ROLLBACK_TARGET_SECONDS, target=fmt_duration(ROLLBACK_TARGET_SECONDS))

    return {
        "title": "aiops.k8s operations report",
        "generated_at": isoformat(now),
        "since": isoformat(since),
        "until": isoformat(until),
        "record_count": len(records),
        "operation_count": len(operations),
        "by_status": [{"status": k, "count": v} for k, v in sorted(by_status.items())],
        "mttd": mttd,
        "mttr": mttr,
        "tiers": tiers,
        "sla_breaches": sum(t["breaches"] for t in tiers),
        "completeness": {"audited": len(audited), "complete": len(complete), "share": share,
                         "share_text": "n/a" if share is None else "%.0f%%" % (share * 100),
                         "target_met": share is None or share >= 1.0,
                         "incomplete": [{"record_id": r.get("record_id"),
                                         "missing": ", ".join((r.get("completeness") or {}).get("missing") or [])}
                                        for r in audited if not (r.get("completeness") or {}).get("complete")]},
        "rollbacks": rollbacks,
        "rows": rows,
    }
