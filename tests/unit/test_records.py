"""Pure record logic: result recognition, record building, the hash-chained store, metrics."""

from __future__ import annotations

import datetime
import json
import os
import threading

import jsonschema
import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.records import collect as rcollect
from ansible_collections.aiops.k8s.plugins.module_utils.records import model as rmodel
from ansible_collections.aiops.k8s.plugins.module_utils.records import report as rreport
from ansible_collections.aiops.k8s.plugins.module_utils.records import store as rstore
from ansible_collections.aiops.k8s.plugins.module_utils.records import verify as rverify
from ansible_collections.aiops.k8s.plugins.plugin_utils import sink as psink
from ansible_collections.aiops.k8s.plugins.plugin_utils.charts import report_charts

UTC = datetime.timezone.utc
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = json.load(open(os.path.join(REPO, "docs", "schemas", "phr-record-v1.schema.json")))
NOW = datetime.datetime(2026, 11, 25, 20, 0, 0, tzinfo=UTC)
RUN = {"playbook": "/p/remediate_pod.yml", "user": "alice", "controller": "ctl", "ansible_version": "2.19.4",
       "started_at": "2026-11-25T19:00:00+00:00", "finished_at": "2026-11-25T19:10:00+00:00", "tasks": [],
       "callback_errors": []}


def diagnosis(**over):
    base = {"kind": "Pod", "namespace": "shop", "name": "web-1", "category": "OOMKilled", "summary": "oom",
            "severity": "high", "diagnosis_id": "d1", "observed_at": "2026-11-25T19:00:00+00:00", "restarts": 3,
            "evidence": [{"source": "event BackOff", "detail": "firstTimestamp=2026-11-25T18:30:00Z"},
                         {"source": "status.containerStatuses[app].lastState.terminated",
                          "detail": "finishedAt=2026-11-25T18:45:00Z"}]}
    base.update(over)
    return base


def plan(tier="medium", **over):
    base = {"plan_id": "p1", "diagnosis_id": "d1", "action": "set_memory_limit", "risk_tier": tier,
            "target": {"kind": "Deployment", "namespace": "shop", "name": "web"}, "params": {},
            "created_at": "2026-11-25T19:01:00+00:00", "expires_at": "2026-11-25T19:31:00+00:00"}
    base.update(over)
    return base


def approval(decided="2026-11-25T19:03:00+00:00", decision="approve"):
    return {"plan_id": "p1", "decision": decision, "approver": "bob", "justification": "INC-1",
            "decided_at": decided, "mode": "interactive"}


def operation(status="validated", op_id="op-20261125190500-aaaaaa", **over):
    base = {"operation_id": op_id, "plan_id": "p1", "diagnosis_id": "d1", "action": "set_memory_limit",
            "target": {"kind": "Deployment", "namespace": "shop", "name": "web"}, "risk_tier": "medium",
            "status": status, "dry_run": {"accepted": True}, "diff": {"before": {"a": 1}, "after": {"a": 2}},
            "pre_state_ref": "/ops/%s.json" % op_id, "pre_state_digest": "b" * 64,
            "applied_at": "2026-11-25T19:05:00+00:00", "finished_at": "2026-11-25T19:06:00+00:00",
            "validation": {"passed": status == "validated", "checks": [], "window_seconds": 60},
            "rollback": {"attempted": False}}
    base.update(over)
    return base


def collect(*results):
    collector = rcollect.RunCollector()
    for number, (kind, payload, status) in enumerate(results):
        payload = dict(payload, aiops={"kind": kind, "version": 1})
        collector.add("t%d" % number, "task %d" % number, "aiops.k8s.x", "localhost", status, payload)
    return collector


def full(op=None, appr=None, tier="medium"):
    return collect(("diagnosis", {"diagnoses": [diagnosis()]}, "ok"), ("plan", {"plan": plan(tier)}, "ok"),
                   ("operation", {"operation": dict(op or operation(), approval=appr or approval(), risk_tier=tier),
                                  "changed": True}, "ok"))


def test_markers_found_at_top_level_in_loops_and_in_facts():
    result = {"results": [{"aiops": {"kind": "plan", "version": 1}, "plan": {"plan_id": "x"}, "invocation": {}}],
              "ansible_facts": {"gate": {"approval": {"plan_id": "x", "decision": "approve", "approver": "a"}},
                                "aiops_approval": {"plan_id": "x", "decision": "reject", "approver": "b"},
                                "unrelated": {"plan_id": "x", "decision": "maybe", "approver": "c"}}}
    found = rcollect.result_markers(result)
    assert [entry[0] for entry in found] == ["plan", "approval", "approval"]
    assert found[2][1]["approval"]["decision"] == "reject"
    assert "invocation" not in found[0][1]
    assert rcollect.result_markers({"msg": "hello"}) == []


def test_failure_start_is_the_earliest_evidence_time():
    assert rmodel.failure_started_at(diagnosis()).isoformat() == "2026-11-25T18:30:00+00:00"
    assert rmodel.failure_started_at(diagnosis(evidence=[])) is None
    explicit = diagnosis(failure_started_at="2026-11-25T10:00:00Z")
    assert rmodel.failure_started_at(explicit).hour == 10


def test_operation_record_is_schema_valid_and_complete():
    (record,) = rmodel.build_records(full(), RUN, now=NOW)["records"]
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["completeness"]["complete"] is True
    assert record["timeline"]["mttd_seconds"] == 1800 and record["timeline"]["mttr_seconds"] == 2160
    assert record["decision"]["latency_seconds"] == 120 and record["decision"]["sla_breached"] is False


def test_missing_approval_and_pre_state_make_the_record_incomplete():
    op = operation(pre_state_ref=None, pre_state_digest=None)
    collector = collect(("diagnosis", {"diagnoses": [diagnosis()]}, "ok"), ("plan", {"plan": plan()}, "ok"),
                        ("operation", {"operation": op}, "ok"))
    (record,) = rmodel.build_records(collector, RUN, now=NOW)["records"]
    assert record["completeness"]["missing"] == ["decision", "safety", "rollback_plan"]
    assert record["safety"]["approval_valid"] is False


def test_approval_after_plan_expiry_is_not_valid_and_breaches_sla():
    late = approval(decided="2026-11-25T19:40:00+00:00")
    (record,) = rmodel.build_records(full(appr=late), RUN, now=NOW)["records"]
    assert record["safety"]["approval_valid"] is False
    assert record["decision"]["latency_seconds"] == 2340 and record["decision"]["sla_breached"] is True


def test_diagnose_only_run_gets_a_diag_record_id():
    collector = collect(("diagnosis", {"diagnoses": [diagnosis()]}, "ok"))
    (record,) = rmodel.build_records(collector, RUN, now=NOW, id_token="abc123")["records"]
    assert record["record_id"] == "diag-20261125200000-abc123" and record["record_type"] == "diagnosis"
    jsonschema.Draft202012Validator(SCHEMA).validate(record)


def test_follow_up_for_an_earlier_operation_is_returned_separately():
    collector = collect(("validation", {"operation_id": "op-20261125190500-aaaaaa",
                                        "validation": {"passed": True, "window_seconds": 3600}}, "ok"))
    built = rmodel.build_records(collector, RUN, now=NOW)
    assert built["records"] == [] and built["follow_ups"][0][:2] == ("op-20261125190500-aaaaaa", "validation")


def test_store_chains_entries_and_never_overwrites(tmp_path):
    store = rstore.RecordStore(str(tmp_path))
    (record,) = rmodel.build_records(full(), RUN, now=NOW)["records"]
    first = store.write(record, "# md\n", now=NOW)
    assert first["prev_hash"] == rstore.GENESIS_HASH and first["file"] == "2026-11-25/op-20261125190500-aaaaaa.json"
    with pytest.raises(rmodel.RecordError, match="Refusing to overwrite"):
        store.write(record, None, now=NOW)
    revision = rmodel.follow_up_revision(record, "validation", {"validation": {"passed": True,
                                                                                "window_seconds": 300}}, RUN,
                                          now=NOW, entry=first)
    second = store.write(revision, None, now=NOW)
    assert second["file"].endswith(".v2.json") and second["prev_hash"] == first["hash"]
    assert rverify.verify_store(str(tmp_path))["ok"] is True
    latest, entry = store.latest(record["record_id"])
    assert latest["revision"] == 2 and [v["window"] for v in latest["validations"]] == ["1 min", "5 min"]


def test_verify_names_the_first_broken_link(tmp_path):
    store = rstore.RecordStore(str(tmp_path))
    for number in range(3):
        (record,) = rmodel.build_records(full(operation(op_id="op-20261125190500-00000%d" % number)), RUN,
                                          now=NOW)["records"]
        store.write(record, None, now=NOW)
    lines = (tmp_path / "index.jsonl").read_text().splitlines()
    del lines[1]  # dropping an entry breaks the link of the next one
    (tmp_path / "index.jsonl").write_text("\n".join(lines) + "\n")
    result = rverify.verify_store(str(tmp_path))
    assert result["ok"] is False
    assert result["first_broken"]["line"] == 2 and result["first_broken"]["check"] == "prev_hash"
    assert result["unindexed_files"] == ["2026-11-25/op-20261125190500-000001.json"]


def test_concurrent_writers_in_threads_keep_one_chain(tmp_path):
    def write(number):
        (record,) = rmodel.build_records(full(operation(op_id="op-20261125190500-%06d" % number)), RUN,
                                          now=NOW)["records"]
        rstore.RecordStore(str(tmp_path)).write(record, None, now=NOW)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = rverify.verify_store(str(tmp_path))
    assert result["ok"] is True and result["entries"] == 16


def test_unsafe_record_id_is_refused(tmp_path):
    with pytest.raises(rmodel.RecordError, match="not a safe file name"):
        rstore.RecordStore(str(tmp_path)).write({"record_id": "../../etc/passwd", "created_at": None})


def test_redaction_with_user_patterns():
    cleaned = rmodel.redact_record({"note": "call https://u:pw123456@h/x about ACME-123456",
                                     "password": "hunter2"}, [r"ACME-\d+"])
    assert "pw123456" not in cleaned["note"] and "ACME-123456" not in cleaned["note"]
    assert cleaned["password"] == "[REDACTED]"


def test_report_metrics():
    fast = rmodel.build_records(full(), RUN, now=NOW)["records"][0]
    rolled_op = operation("rolled_back", op_id="op-20261125190600-bbbbbb", rollback={
        "attempted": True, "succeeded": True, "started_at": "2026-11-25T19:06:00+00:00",
        "finished_at": "2026-11-25T19:13:00+00:00"})
    slow = rmodel.build_records(full(rolled_op, approval(decided="2026-11-25T21:30:00+00:00"), "critical"),
                                 RUN, now=NOW)["records"][0]
    report = rreport.compute_report([fast, slow], now=NOW)
    tiers = {t["tier"]: t for t in report["tiers"]}
    assert tiers["medium"]["count"] == 1 and tiers["medium"]["breaches"] == 0
    assert tiers["critical"]["breaches"] == 1 and tiers["critical"]["max_seconds"] == 8940
    assert report["sla_breaches"] == 1
    assert report["rollbacks"]["attempted"] == 1 and report["rollbacks"]["over_target"] == 1
    assert report["rollbacks"]["max_seconds"] == 420
    assert report["completeness"] == {"audited": 2, "complete": 2, "share": 1.0, "share_text": "100%",
                                      "target_met": True, "incomplete": []}
    assert report["mttd"]["mean_seconds"] == 1800 and report["mttr"]["count"] == 1
    assert report_charts(report)[1]["bars"][0]["fill"] == "#c0392b"  # over the 5 min target


def test_parse_since():
    assert rreport.parse_since("7d", NOW) == NOW - datetime.timedelta(days=7)
    assert rreport.parse_since("2026-11-01", NOW).isoformat() == "2026-11-01T00:00:00+00:00"
    with pytest.raises(rmodel.RecordError, match="Cannot read the time 'yesterday'"):
        rreport.parse_since("yesterday", NOW)


def test_http_post_retries_server_errors_then_gives_up():
    import urllib.error

    calls, sleeps = [], []

    def opener(url, data=None, headers=None, method=None, timeout=None):
        calls.append((url, method, headers.get("Authorization"), json.loads(data)))
        raise urllib.error.HTTPError(url, 503, "busy", {}, None)

    ok, attempts, detail = psink.http_post("http://127.0.0.1:9/x", {"a": 1}, opener, timeout=1, retries=2,
                                             token="t0k", sleep=sleeps.append)
    assert (ok, attempts, detail) == (False, 3, "HTTP 503") and sleeps == [0.5, 1.0]
    assert calls[0] == ("http://127.0.0.1:9/x", "POST", "Bearer t0k", {"a": 1})


def test_http_post_does_not_retry_client_errors():
    import urllib.error

    def opener(url, **kwargs):
        raise urllib.error.HTTPError(url, 401, "denied", {}, None)

    assert psink.http_post("http://127.0.0.1:9/x", {}, opener, retries=3, sleep=lambda s: None) == (
        False, 1, "HTTP 401")


def test_durations():
    assert [rreport.fmt_duration(v) for v in (None, 42, 252, 7500)] == ["n/a", "42s", "4m 12s", "2h 05m"]


def test_early_follow_up_is_ignored_but_a_failed_rollback_is_kept():
    collector = rcollect.RunCollector()
    collector.add("a", "Validate", "aiops.k8s.remediation_validate", "localhost", "failed", {
        "aiops": {"kind": "validation", "version": 1}, "operation_id": "op-20261125190500-aaaaaa",
        "msg": "checkpoint is not reached"})
    assert rmodel.build_records(collector, RUN, now=NOW) == {"records": [], "follow_ups": []}
    collector.add("b", "Rollback", "aiops.k8s.rollback", "localhost", "failed", {
        "aiops": {"kind": "rollback", "version": 1}, "operation_id": "op-20261125190500-aaaaaa",
        "msg": "Rollback of op-20261125190500-aaaaaa failed: conflict"})
    (follow_up,) = rmodel.build_records(collector, RUN, now=NOW)["follow_ups"]
    assert follow_up[2]["rollback"] == {"attempted": True, "succeeded": False,
                                        "reason": "Rollback of op-20261125190500-aaaaaa failed: conflict"}
    revision = rmodel.follow_up_revision(None, "rollback", follow_up[2], RUN, now=NOW, note="no earlier record")
    assert revision["revision"] == 1 and revision["record_id"] == "op-20261125190500-aaaaaa"
    assert revision["rollback"]["succeeded"] is False and revision["problems"] == ["no earlier record"]
    jsonschema.Draft202012Validator(SCHEMA).validate(revision)


def test_completeness_counts_only_the_sections_that_apply():
    diagnosed = rmodel.build_records(collect(("diagnosis", {"diagnoses": [diagnosis()]}, "ok")), RUN,
                                      now=NOW)["records"][0]
    assert diagnosed["completeness"] == {"complete": True, "missing": []}
    undecided = rmodel.build_records(collect(("diagnosis", {"diagnoses": [diagnosis()]}, "ok"),
                                              ("plan", {"plan": plan()}, "ok")), RUN, now=NOW)["records"][0]
    assert undecided["record_type"] == "decision" and undecided["completeness"]["missing"] == ["decision"]
