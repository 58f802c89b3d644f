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
    human_duration as fmt_duration, isoformat, parse_time, seconds_between, utcnow)
from ansible_collections.aiops.k8s.plugins.module_utils.records.model import (
    AUDITED_TIERS, CHECKPOINTS, ROLLBACK_TARGET_SECONDS, RecordError)


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


# The seed's targets: what a manager reads off the tiles.
TARGETS = {"mttd_seconds": 5 * 60, "mttr_seconds": 15 * 60, "rollback_seconds": ROLLBACK_TARGET_SECONDS,
           "compliance_share": 1.0}


def incident_key(record):
    """Records of one incident share the target and the diagnosis category: it counts once."""
    primary = (record.get("analysis") or {}).get("primary") or {}
    target = (record.get("operation") or {}).get("target") or ((record.get("decision") or {}).get("plan") or {}).get(
        "target") or {}
    namespace = target.get("namespace") or primary.get("namespace") or ""
    name = target.get("name") or primary.get("owner") or primary.get("name") or record.get("record_id")
    return "%s/%s %s/%s" % (target.get("kind") or primary.get("kind") or "", namespace, name,
                            primary.get("category") or "-")


def _row(record):
    decision, timeline, rollback = (record.get("decision") or {}), (record.get("timeline") or {}), (
        record.get("rollback") or {})
    primary = (record.get("analysis") or {}).get("primary") or {}
    target = (record.get("operation") or {}).get("target") or {}
    checks = [{"checkpoint": v.get("checkpoint"), "passed": v.get("passed")} for v in record.get("validations") or []]
    return {"record_id": record.get("record_id"), "type": record.get("record_type"),
            "status": record.get("status") or record.get("record_type"),
            "tier": decision.get("tier") or "-", "category": primary.get("category") or "-",
            "target": "%s %s/%s" % (target.get("kind", ""), target.get("namespace", ""), target.get("name", ""))
            if target else "%s/%s" % (primary.get("namespace", ""), primary.get("name", "")),
            "incident": incident_key(record),
            "created_at": isoformat(record.get("created_at")),
            "mttd": fmt_duration(timeline.get("mttd_seconds")) if timeline.get("mttd_seconds") is not None
            else "unknown",
            "mttr": fmt_duration(timeline.get("mttr_seconds")),
            "approval_latency": fmt_duration(decision.get("latency_seconds")),
            "sla_breached": decision.get("sla_breached"),
            "checks": checks,
            "checks_text": ", ".join("%s %s" % (c["checkpoint"], "pass" if c["passed"] else "FAIL") for c in checks)
            or "-",
            "rollback": fmt_duration(rollback.get("duration_seconds")) if rollback.get("attempted") else "-",
            "rollback_seconds": rollback.get("duration_seconds") if rollback.get("attempted") else None,
            "rollback_failed": bool(rollback.get("attempted") and rollback.get("succeeded") is False),
            "complete": (record.get("completeness") or {}).get("complete")}


def _times(group, key):
    found = [parse_time((r.get("timeline") or {}).get(key) or "") for r in group]
    return sorted(t for t in found if t is not None)


def due_checks(record, now):
    """Follow-up checkpoints (5 min, 1 h) that are due for a changed operation but were never recorded."""
    operation = record.get("operation") or {}
    applied = parse_time(operation.get("applied_at") or "")
    if applied is None or record.get("status") in ("rolled_back", "rollback_failed", "refused", "dry_run"):
        return []
    done = set(v.get("checkpoint") for v in record.get("validations") or [])
    return [{"record_id": record.get("record_id"), "checkpoint": label,
             "due_at": isoformat(applied + datetime.timedelta(seconds=seconds))}
            for seconds, label in CHECKPOINTS[1:]
            if label not in done and applied + datetime.timedelta(seconds=seconds) <= now]


def _tile(tile_id, label, value, target_text, holds, sub=""):
    return {"id": tile_id, "label": label, "value": value, "target": target_text, "sub": sub,
            "state": "unknown" if holds is None else ("good" if holds else "bad")}


def compute_report(records, since=None, until=None, now=None, verification=None):
    """The seed's metrics over records, by incident: MTTD, MTTR, approval latency against each plan's
    SLA, follow-up checkpoints, rollbacks, record compliance (unrecorded and stub operations count
    against it), open follow-up items, and the chain verification shown first."""
    now = now or utcnow()
    verification = verification or {}
    # A write-ahead record whose run completed is bookkeeping; one left applying/interrupted is reported.
    records = [r for r in records if not r.get("write_ahead") or r.get("status") in ("applying", "interrupted")]
    decided = [r for r in records if r.get("record_type") in ("operation", "decision")]
    operations = [r for r in records if r.get("record_type") == "operation"]
    rows = [_row(r) for r in records]
    by_status = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1

    incidents = {}
    for record in records:
        incidents.setdefault(incident_key(record), []).append(record)
    firsts = []  # one figure per incident: the earliest failure start and first diagnosis / validated fix
    for key, group in sorted(incidents.items()):
        starts = _times(group, "failure_started_at")
        start = starts[0] if starts else None
        diagnosed, validated = _times(group, "diagnosed_at"), _times(group, "validated_at")
        firsts.append({"incident": key, "records": len(group), "failure_started_at": isoformat(start),
                       "mttd_seconds": seconds_between(start, diagnosed[0]) if start and diagnosed else None,
                       "mttr_seconds": seconds_between(start, validated[0]) if start and validated else None,
                       "status": sorted(group, key=lambda r: r.get("created_at") or "")[-1].get("status")})
        firsts[-1]["mttd_text"] = fmt_duration(firsts[-1]["mttd_seconds"]) if start else "unknown"
        firsts[-1]["mttr_text"] = fmt_duration(firsts[-1]["mttr_seconds"]) if start else "unknown"
    mttd = _stats([i["mttd_seconds"] for i in firsts])
    mttr = _stats([i["mttr_seconds"] for i in firsts])

    tiers = []
    for tier in ("trivial", "low", "medium", "critical"):
        group = [r for r in decided if (r.get("decision") or {}).get("tier") == tier]
        stats = _stats([(r["decision"] or {}).get("latency_seconds") for r in group])
        slas = sorted(set((r.get("decision") or {}).get("sla_seconds") for r in group) - {None})
        stats.update(tier=tier, decisions=len(group), sla_seconds=slas[0] if len(slas) == 1 else None,
                     sla=", ".join(fmt_duration(v) for v in slas) or ("none" if tier == "trivial" else "unknown"),
                     breaches=sum(1 for r in group if (r.get("decision") or {}).get("sla_breached")),
                     unknown=sum(1 for r in group if (r.get("decision") or {}).get("sla_breached") is None))
        tiers.append(stats)
    breaches = sum(t["breaches"] for t in tiers)

    audited = [r for r in operations if (r.get("decision") or {}).get("tier") in AUDITED_TIERS
               or r.get("stub")]
    complete = [r for r in audited if (r.get("completeness") or {}).get("complete")]
    unrecorded = list(verification.get("missing_records") or [])
    denominator = len(audited) + len(unrecorded)
    share = (len(complete) / float(denominator)) if denominator else None
    incomplete = [{"record_id": r.get("record_id"),
                   "missing": ", ".join((r.get("completeness") or {}).get("missing") or [])}
                  for r in audited if not (r.get("completeness") or {}).get("complete")]
    incomplete.extend({"record_id": op_id, "missing": "no record at all"} for op_id in unrecorded)

    rolled = [r for r in operations if (r.get("rollback") or {}).get("attempted")]
    durations = [(r["rollback"] or {}).get("duration_seconds") for r in rolled]
    rollbacks = _stats(durations)
    failed_rollbacks = [r.get("record_id") for r in rolled if (r.get("rollback") or {}).get("succeeded") is False]
    rollbacks.update(attempted=len(rolled), succeeded=len(rolled) - len(failed_rollbacks), failed=failed_rollbacks,
                     over_target=sum(1 for d in durations if d is not None and d > ROLLBACK_TARGET_SECONDS),
                     target_seconds=ROLLBACK_TARGET_SECONDS, target=fmt_duration(ROLLBACK_TARGET_SECONDS))

    missing_checks = [item for r in operations for item in due_checks(r, now)]
    open_items = [dict(item, record_id=r.get("record_id")) for r in records
                  for item in r.get("follow_up_items") or [] if item.get("state", "open") == "open"]
    tiles = [
        _tile("mttd", "MTTD (failure start to diagnosis)", mttd["mean"], "< 5 min",
              None if mttd["count"] == 0 else mttd["mean_seconds"] < TARGETS["mttd_seconds"],
              "median %s · %d incidents" % (mttd["median"], mttd["count"])),
        _tile("mttr", "MTTR (failure start to validated fix)", mttr["mean"], "< 15 min",
              None if mttr["count"] == 0 else mttr["mean_seconds"] < TARGETS["mttr_seconds"],
              "median %s · %d incidents" % (mttr["median"], mttr["count"])),
        _tile("sla", "Approvals within the tier SLA", str(breaches) + " breached", "0 breaches",
              None if not decided else breaches == 0, "SLA from each plan's policy"),
        _tile("rollback", "Rollbacks", "%d (%d failed)" % (len(rolled), len(failed_rollbacks)), "< 5 min, none failed",
              None if not rolled else not failed_rollbacks and not rollbacks["over_target"],
              "max %s · %d over target" % (rollbacks["max"], rollbacks["over_target"])),
        _tile("complete", "Medium/critical with a complete record", "n/a" if share is None else "%.0f%%" % (share * 100),
              "100%", None if share is None else share >= TARGETS["compliance_share"],
              "%d/%d · %d unrecorded" % (len(complete), denominator, len(unrecorded))),
    ]
    return {
        "title": "aiops.k8s operations report",
        "generated_at": isoformat(now),
        "since": isoformat(since),
        "until": isoformat(until),
        "verification": {"ok": verification.get("ok"), "message": verification.get("message") or "not run",
                         "keyed": verification.get("keyed"), "anchored": verification.get("anchored"),
                         "applying": verification.get("applying") or []},
        "tiles": tiles,
        "record_count": len(records),
        "operation_count": len(operations),
        "decision_count": len(decided),
        "incident_count": len(incidents),
        "incidents": firsts,
        "by_status": [{"status": k, "count": v} for k, v in sorted(by_status.items())],
        "mttd": mttd,
        "mttr": mttr,
        "tiers": tiers,
        "sla_breaches": breaches,
        "completeness": {"audited": denominator, "complete": len(complete), "share": share,
                         "share_text": "n/a" if share is None else "%.0f%%" % (share * 100),
                         "target_met": share is None or share >= 1.0, "unrecorded": unrecorded,
                         "incomplete": incomplete},
        "rollbacks": rollbacks,
        "missing_checks": missing_checks,
        "open_follow_ups": open_items,
        "rows": rows,
    }
