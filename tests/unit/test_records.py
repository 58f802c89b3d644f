"""Pure record logic: result recognition, record building, the hash-chained store, verification, metrics."""

from __future__ import annotations

import datetime
import json
import os
import threading

import jsonschema
import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import MASK
from ansible_collections.aiops.k8s.plugins.module_utils.records import collect as rcollect
from ansible_collections.aiops.k8s.plugins.module_utils.records import model as rmodel
from ansible_collections.aiops.k8s.plugins.module_utils.records import report as rreport
from ansible_collections.aiops.k8s.plugins.module_utils.records import store as rstore
from ansible_collections.aiops.k8s.plugins.module_utils.records import verify as rverify
from ansible_collections.aiops.k8s.plugins.plugin_utils import sink as psink
from ansible_collections.aiops.k8s.plugins.plugin_utils.charts import report_charts

UTC = datetime.timezone.utc
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "docs", "schemas", "phr-record-v1.schema.json")) as _handle:
    SCHEMA = json.load(_handle)
NOW = datetime.datetime(2026, 11, 25, 20, 0, 0, tzinfo=UTC)
RUN = {"playbook": "/p/remediate_pod.yml", "user": "alice", "controller": "ctl", "ansible_version": "2.19.4",
       "started_at": "2026-11-25T19:00:00Z", "finished_at": "2026-11-25T19:10:00Z", "tasks": [],
       "callback_errors": []}
OP_ID = "op-20261125190500-aaaaaa"


def diagnosis(**over):
    base = {"kind": "Pod", "namespace": "shop", "name": "web-1", "category": "OOMKilled", "summary": "oom",
            "severity": "high", "diagnosis_id": "d1", "observed_at": "2026-11-25T19:00:00Z", "restarts": 3,
            "failure_started_at": "2026-11-25T18:30:00Z", "container": "app",
            # Timestamps in evidence text are NOT a failure start: only the classifier's field is.
            "evidence": [{"source": "event BackOff", "detail": "firstTimestamp=2026-11-25T10:00:00Z"}]}
    base.update(over)
    return base


def plan(tier="medium", **over):
    base = {"plan_id": "p1", "diagnosis_id": "d1", "action": "set_memory_limit", "risk_tier": tier,
            "target": {"kind": "Deployment", "namespace": "shop", "name": "web"}, "params": {},
            "created_at": "2026-11-25T19:01:00Z", "expires_at": "2026-11-25T19:31:00Z", "sla_seconds": 1800}
    base.update(over)
    return base


def approval(decided="2026-11-25T19:03:00Z", decision="approve"):
    return {"plan_id": "p1", "decision": decision, "approver": "bob", "justification": "INC-1",
            "decided_at": decided, "mode": "interactive"}


def gate(latency=120, sla=1800, verdict="approved"):
    return {"verdict": verdict, "reason": "approval names this plan", "approver": "bob", "mode": "interactive",
            "decided_at": "2026-11-25T19:03:00Z", "plan_shown_at": "2026-11-25T19:01:00Z", "sla_seconds": sla,
            "latency_seconds": latency, "sla_breached": latency > sla}


def operation(status="validated", op_id=OP_ID, **over):
    base = {"operation_id": op_id, "plan_id": "p1", "diagnosis_id": "d1", "action": "set_memory_limit",
            "target": {"kind": "Deployment", "namespace": "shop", "name": "web"}, "risk_tier": "medium",
            "status": status, "dry_run": {"accepted": True}, "diff": {"before": {"a": 1}, "after": {"a": 2}},
            "pre_state_ref": "/ops/%s.json" % op_id, "pre_state_digest": "b" * 64,
            "applied_at": "2026-11-25T19:05:00Z", "finished_at": "2026-11-25T19:06:00Z",
            "validation": {"passed": status == "validated", "checks": [], "window_seconds": 60},
            "rollback": {"attempted": False}, "gate": gate(), "drift": {"checked": True, "drifted": False,
                                                                        "reason": None}}
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


def one(collector):
    (record,) = rmodel.build_records(collector, RUN, now=NOW)["records"]
    return record


def test_markers_only_marked_payloads_count():
    marked = dict(approval(), aiops={"kind": "approval", "version": 1})
    result = {"results": [{"aiops": {"kind": "plan", "version": 1}, "plan": {"plan_id": "x"}, "invocation": {}}],
              "ansible_facts": {"aiops_approval": marked,
                                # approval-shaped but unmarked: never guessed into an approval
                                "lookalike": {"approval": approval()}, "other": approval()}}
    found = rcollect.result_markers(result)
    assert [entry[0] for entry in found] == ["plan", "approval"]
    assert "invocation" not in found[0][1]
    assert rcollect.result_markers({"msg": "hello"}) == []


def test_failure_start_is_the_classifiers_field_only():
    assert rmodel.failure_started_at(diagnosis()).isoformat() == "2026-11-25T18:30:00+00:00"
    assert rmodel.failure_started_at(diagnosis(failure_started_at=None)) is None
    record = one(collect(("diagnosis", {"diagnoses": [diagnosis(failure_started_at=None)]}, "ok")))
    assert record["timeline"]["failure_started_at"] == "unknown" and record["timeline"]["mttd_seconds"] is None


def test_operation_record_is_schema_valid_complete_and_copies_the_gate():
    record = one(full())
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert record["completeness"]["complete"] is True and record["status"] == "validated"
    assert record["timeline"]["mttd_seconds"] == 1800 and record["timeline"]["mttr_seconds"] == 2160
    assert record["decision"]["source"] == "gate" and record["decision"]["verdict"] == "approved"
    assert record["decision"]["latency_seconds"] == 120 and record["decision"]["sla_breached"] is False
    assert record["safety"]["drift_check"] == "passed" and record["safety"]["gate_verdict"] == "approved"
    assert record["created_at"].endswith("Z") and record["timeline"]["applied_at"] == "2026-11-25T19:05:00Z"


def test_gate_verdict_is_copied_not_judged_again():
    # The plan expired before the approval; the gate (the one judge) still said approved: the record says so.
    refused = operation(gate=gate(latency=2400, sla=600, verdict="refused"), status="refused")
    record = one(full(refused, approval(decided="2026-11-25T19:40:00Z")))
    assert record["decision"]["verdict"] == "refused" and record["decision"]["sla_seconds"] == 600
    assert record["decision"]["latency_seconds"] == 2400 and record["decision"]["sla_breached"] is True


def test_old_operation_without_gate_or_drift_shows_unknown():
    old = operation()
    del old["gate"], old["drift"]
    record = one(full(old))
    assert record["safety"]["drift_check"] == "unknown" and record["decision"]["verdict"] == "unknown"
    # latency is measured from the plan's created_at, the SLA is the plan's own
    assert record["decision"]["latency_seconds"] == 120 and record["decision"]["sla_seconds"] == 1800


def test_pre_approval_40_minutes_after_the_plan_breaches_the_medium_sla():
    op = operation()
    del op["gate"]
    record = one(full(op, approval(decided="2026-11-25T19:41:00Z")))
    assert record["decision"]["latency_seconds"] == 2400 and record["decision"]["sla_breached"] is True
    report = rreport.compute_report([record], now=NOW)
    assert report["sla_breaches"] == 1 and [t for t in report["tiles"] if t["id"] == "sla"][0]["state"] == "bad"


def test_plan_without_decision_is_a_plan_record_not_a_decision():
    record = one(collect(("diagnosis", {"diagnoses": [diagnosis()]}, "ok"), ("plan", {"plan": plan()}, "ok")))
    assert record["record_type"] == "plan" and record["completeness"]["missing"] == []
    report = rreport.compute_report([record], now=NOW)
    assert report["decision_count"] == 0 and all(t["decisions"] == 0 for t in report["tiers"])
    marked = dict(approval(decision="reject"), aiops={"kind": "approval", "version": 1})
    rejected = one(collect(("diagnosis", {"diagnoses": [diagnosis()]}, "ok"), ("plan", {"plan": plan()}, "ok"),
                           ("approval", marked, "ok")))
    assert rejected["record_type"] == "decision" and rejected["decision"]["decision"] == "reject"
    jsonschema.Draft202012Validator(SCHEMA).validate(rejected)


def test_diff_keeps_changed_paths_and_never_last_applied_or_managed_fields():
    secret = '{"env":[{"name":"DB_PASS","value":"hunter2-planted"}]}'
    container = {"name": "app", "image": "shop:1", "env": [{"name": "DB_PASSWORD", "value": "s3cr3t-planted"},
                                                           {"name": "MODE", "value": "prod"}],
                 "resources": {"limits": {"memory": "128Mi"}}}
    before = {"metadata": {"name": "web", "managedFields": [{"manager": "kubectl"}],
                           "annotations": {"kubectl.kubernetes.io/last-applied-configuration": secret}},
              "spec": {"template": {"spec": {"containers": [container]}}}}
    after = json.loads(json.dumps(before))
    after["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "256Mi"
    record = rmodel.redact_record(one(full(operation(diff={"before": before, "after": after}))))
    text = json.dumps(record)
    assert "hunter2-planted" not in text and "s3cr3t-planted" not in text and "managedFields" not in text
    assert "last-applied-configuration" not in text and "MODE" not in text
    diff = record["actions"][0]["diff"]
    assert diff["paths"] == ["spec.template.spec.containers[app].resources.limits.memory"]
    assert diff["after"]["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "resources": {"limits": {"memory": "256Mi"}}}]
    assert record["pre_state"]["resources"] == [{"container": "app", "resources": {"limits": {"memory": "128Mi"}}}]


def test_changed_env_value_stays_structured_for_the_redactor():
    env = [{"name": "DB_PASSWORD", "value": "old-planted"}]
    before = {"spec": {"containers": [{"name": "app", "env": env}]}}
    after = {"spec": {"containers": [{"name": "app", "env": [{"name": "DB_PASSWORD", "value": "new-planted"}]}]}}
    record = rmodel.redact_record(one(full(operation(diff={"before": before, "after": after}))))
    assert "planted" not in json.dumps(record)
    assert record["actions"][0]["diff"]["after"]["spec"]["containers"][0]["env"][0]["value"] == MASK


def test_follow_ups_are_labelled_by_checkpoint_and_a_failed_5_min_check_regresses():
    record = one(full())
    assert [v["checkpoint"] for v in record["validations"]] == ["1 min"]
    five = rmodel.follow_up_revision(record, "validation", {"validation": {
        "passed": False, "checkpoint_seconds": 300, "window_seconds": 0, "checks": []}}, RUN, now=NOW)
    assert [v["checkpoint"] for v in five["validations"]] == ["1 min", "5 min"]
    assert five["status"] == "regressed" and five["revision"] == 2
    rolled = rmodel.follow_up_revision(five, "rollback", {"rollback": {
        "attempted": True, "succeeded": True, "started_at": "2026-11-25T19:11:00Z",
        "finished_at": "2026-11-25T19:12:00Z"}}, RUN, now=NOW)
    assert rolled["status"] == "rolled_back"
    hour = rmodel.follow_up_revision(record, "validation", {"validation": {
        "passed": True, "operation_age_seconds": 3610}}, RUN, now=NOW)
    assert hour["validations"][-1]["checkpoint"] == "1 h" and hour["status"] == "validated"
    jsonschema.Draft202012Validator(SCHEMA).validate(five)


def test_follow_up_for_an_earlier_operation_is_returned_separately():
    collector = collect(("validation", {"operation_id": OP_ID, "validation": {"passed": True}}, "ok"))
    built = rmodel.build_records(collector, RUN, now=NOW)
    assert built["records"] == [] and built["follow_ups"][0][:2] == (OP_ID, "validation")


def test_store_chains_entries_and_never_overwrites(tmp_path):
    store = rstore.RecordStore(str(tmp_path))
    record = one(full())
    first = store.write(record, "# md\n", now=NOW)
    assert first["prev_hash"] == rstore.GENESIS_HASH and first["file"] == "2026-11-25/%s.json" % OP_ID
    with pytest.raises(rmodel.RecordError, match="Refusing to overwrite"):
        store.write(record, None, now=NOW)
    revised, second = store.revise(OP_ID, lambda prev, entry: rmodel.follow_up_revision(
        prev, "validation", {"validation": {"passed": True, "checkpoint_seconds": 300}}, RUN, now=NOW, entry=entry))
    assert second["file"].endswith(".v2.json") and second["prev_hash"] == first["hash"]
    assert revised["supersedes"]["file"] == first["file"]
    assert rverify.verify_store(str(tmp_path))["ok"] is True


def test_five_concurrent_follow_ups_stay_linear(tmp_path):
    store = rstore.RecordStore(str(tmp_path))
    store.write(one(full()), None, now=NOW)
    errors = []

    def follow_up(number):
        try:
            rstore.RecordStore(str(tmp_path)).revise(OP_ID, lambda prev, entry: rmodel.follow_up_revision(
                prev, "validation", {"validation": {"passed": True, "checkpoint_seconds": 300 + number}}, RUN,
                now=NOW, entry=entry))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=follow_up, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = rverify.verify_store(str(tmp_path))
    assert result["ok"] is True and result["entries"] == 6
    latest, _entry = store.latest(OP_ID)
    assert latest["revision"] == 6 and len(latest["validations"]) == 6


def test_a_forked_revision_is_detected(tmp_path):
    store = rstore.RecordStore(str(tmp_path))
    record = one(full())
    first = store.write(record, None, now=NOW)
    second = store.write(rmodel.follow_up_revision(record, "validation", {"validation": {"passed": True}}, RUN,
                                                   now=NOW, entry=first), None, now=NOW)
    # A writer that read revision 1 outside the lock: its revision supersedes v1 although v2 exists.
    forked = rmodel.follow_up_revision(record, "validation", {"validation": {"passed": True}}, RUN, now=NOW,
                                       entry=first)
    forked["revision"] = 3
    store.write(forked, None, now=NOW)
    result = rverify.verify_store(str(tmp_path))
    assert result["ok"] is False and result["first_broken"]["check"] == "revision_fork"
    assert result["first_broken"]["expected"] == second["file"]


def _three(tmp_path, key=None, head=None):
    store = rstore.RecordStore(str(tmp_path), key=key, head_file=head)
    entries = [store.write(one(full(operation(op_id="op-20261125190500-00000%d" % n))), None, now=NOW)
               for n in range(3)]
    return store, entries


def test_verify_names_the_first_broken_link(tmp_path):
    _three(tmp_path)
    lines = (tmp_path / "index.jsonl").read_text().splitlines()
    del lines[1]  # dropping an entry breaks the link of the next one
    (tmp_path / "index.jsonl").write_text("\n".join(lines) + "\n")
    result = rverify.verify_store(str(tmp_path))
    assert result["ok"] is False
    assert result["first_broken"]["line"] == 2 and result["first_broken"]["check"] == "prev_hash"
    assert result["unindexed_files"] == ["2026-11-25/op-20261125190500-000001.json"]


def _rewrite_with_recomputed_chain(tmp_path):
    """What whoever owns the directory can do: edit a record, then recompute every digest and hash."""
    index = tmp_path / "index.jsonl"
    entries = [json.loads(line) for line in index.read_text().splitlines()]
    path = tmp_path / entries[0]["file"]
    record = json.loads(path.read_text())
    record["decision"]["approver"] = "mallory"
    data = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()
    path.write_bytes(data)
    previous = rstore.GENESIS_HASH
    for entry in entries:
        if entry["file"] == entries[0]["file"]:
            entry["sha256"] = rstore.sha256_hex(data)
        entry["prev_hash"] = previous
        entry["hash"] = rstore.entry_hash(entry)
        previous = entry["hash"]
    index.write_text("".join(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n" for e in entries))


def test_recomputed_chain_passes_without_key_and_fails_with_it(tmp_path):
    _three(tmp_path, key="k3y-outside-the-dir")
    _rewrite_with_recomputed_chain(tmp_path)
    # Unkeyed, a full recomputation is undetectable: docs/phr.md says so.
    assert rverify.verify_store(str(tmp_path))["ok"] is True
    keyed = rverify.verify_store(str(tmp_path), key="k3y-outside-the-dir")
    assert keyed["ok"] is False and keyed["first_broken"]["check"] == "mac"


def test_anchor_detects_truncation_append_and_wipe(tmp_path):
    head_file = tmp_path.parent / (tmp_path.name + "-head.json")
    _store, entries = _three(tmp_path, head=str(head_file))
    head = rstore.read_head(str(head_file))
    assert head["seq"] == 3 and head["hash"] == entries[-1]["hash"]
    assert rverify.verify_store(str(tmp_path), anchor=head, min_entries=3)["ok"] is True
    index = tmp_path / "index.jsonl"
    original = index.read_text()

    index.write_text("".join(original.splitlines(True)[:2]))  # truncate the tail (files of entry 3 stay)
    cut = rverify.verify_store(str(tmp_path), anchor="%d:%s" % (head["seq"], head["hash"]))
    assert cut["ok"] is False and cut["first_broken"]["check"] == "truncated"

    index.write_text(original)
    rstore.RecordStore(str(tmp_path)).write(one(full(operation(op_id="op-20261125190500-00000f"))), None, now=NOW)
    appended = rverify.verify_store(str(tmp_path), anchor=head)
    assert appended["ok"] is False and appended["first_broken"]["check"] == "appended"

    for path in sorted(tmp_path.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    wiped = rverify.verify_store(str(tmp_path), anchor=head)
    assert wiped["ok"] is False and wiped["first_broken"]["check"] == "wiped"
    assert rverify.verify_store(str(tmp_path), min_entries=1)["first_broken"]["check"] == "wiped"


def test_key_file_inside_the_record_dir_is_refused(tmp_path):
    (tmp_path / "key").write_text("k")
    with pytest.raises(rmodel.RecordError, match="inside the record directory"):
        rstore.load_key(str(tmp_path), environ={"AIOPS_K8S_PHR_KEY_FILE": str(tmp_path / "key")})
    assert rstore.load_key(str(tmp_path), environ={"AIOPS_K8S_PHR_KEY": "abc"}) == b"abc"
    assert rstore.load_key(str(tmp_path), environ={}) is None


def test_write_ahead_record_left_applying_is_listed(tmp_path):
    store = rstore.RecordStore(str(tmp_path))
    record = one(full(operation(status="applied")))
    store.begin(record, now=NOW)
    result = rverify.verify_store(str(tmp_path))
    assert result["ok"] is False and result["applying"] == [OP_ID] and "left applying" in result["message"]
    store.finish(record, None, now=NOW)
    assert rverify.verify_store(str(tmp_path))["ok"] is True


def test_concurrent_writers_in_threads_keep_one_chain(tmp_path):
    def write(number):
        record = one(full(operation(op_id="op-20261125190500-%06d" % number)))
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


def test_mttd_of_a_three_hour_failure_is_about_three_hours():
    record = one(collect(("diagnosis", {"diagnoses": [diagnosis(failure_started_at="2026-11-25T16:00:00Z")]}, "ok")))
    report = rreport.compute_report([record], now=NOW)
    assert report["mttd"]["mean_seconds"] == 3 * 3600 and report["incidents"][0]["mttd_text"] == "3h 00m"
    assert [t for t in report["tiles"] if t["id"] == "mttd"][0]["state"] == "bad"


def test_report_groups_incidents_and_lists_missing_checks_and_follow_ups():
    fast = one(full())
    again = one(full(operation(op_id="op-20261125190600-cccccc")))
    assert rreport.incident_key(fast) == rreport.incident_key(again)
    rolled_op = operation("rolled_back", op_id="op-20261125190600-bbbbbb", target={
        "kind": "Deployment", "namespace": "shop", "name": "api"}, rollback={
        "attempted": True, "succeeded": False, "started_at": "2026-11-25T19:06:00Z",
        "finished_at": "2026-11-25T19:13:00Z"})
    slow = one(full(rolled_op, tier="critical"))
    five = rmodel.follow_up_revision(fast, "validation", {"validation": {"passed": True, "checkpoint_seconds": 300}},
                                     RUN, now=NOW)
    annotated = rmodel.follow_up_revision(five, "lessons", {"lessons": {
        "author": "carol", "text": "limits were copied from staging",
        "follow_ups": [{"id": "F1", "text": "size limits from usage", "owner": "dave", "due": "2026-12-10",
                        "state": "open"}]}}, RUN, now=NOW)
    report = rreport.compute_report([annotated, again, slow], now=NOW,
                                    verification={"ok": True, "message": "chain intact", "missing_records": [
                                        "op-20261125180000-dddddd"]})
    assert report["incident_count"] == 2 and report["mttd"]["count"] == 2
    assert report["rollbacks"]["failed"] == ["op-20261125190600-bbbbbb"] and report["rollbacks"]["over_target"] == 1
    tiles = dict((t["id"], t) for t in report["tiles"])
    assert tiles["rollback"]["state"] == "bad" and tiles["mttd"]["state"] == "bad"
    # 3 audited records complete + 1 operation with no record at all: 75%
    assert report["completeness"]["share_text"] == "75%" and tiles["complete"]["state"] == "bad"
    assert {"record_id": "op-20261125180000-dddddd", "missing": "no record at all"} in \
        report["completeness"]["incomplete"]
    due = sorted((m["record_id"], m["checkpoint"]) for m in report["missing_checks"])
    # applied 19:05, now 20:00: a 5-min check is overdue where none was recorded; the 1-h ones are not due yet
    assert due == [("op-20261125190600-cccccc", "5 min")]
    later = rreport.compute_report([annotated], now=NOW + datetime.timedelta(minutes=10))
    assert [m["checkpoint"] for m in later["missing_checks"]] == ["1 h"]  # the 5-min one was recorded
    assert report["open_follow_ups"][0]["owner"] == "dave" and "carol" in annotated["lessons_learned"]
    assert report_charts(report)[1]["bars"][0]["fill"] == "#c0392b"  # over the 5 min target


def test_stub_follow_up_counts_against_compliance():
    collector = rcollect.RunCollector()
    collector.add("b", "Rollback", "aiops.k8s.rollback", "localhost", "failed", {
        "aiops": {"kind": "rollback", "version": 1}, "operation_id": OP_ID,
        "msg": "Rollback of %s failed: conflict" % OP_ID})
    (follow_up,) = rmodel.build_records(collector, RUN, now=NOW)["follow_ups"]
    revision = rmodel.follow_up_revision(None, "rollback", follow_up[2], RUN, now=NOW, note="no earlier record")
    assert revision["revision"] == 1 and revision["record_id"] == OP_ID and revision["stub"] is True
    assert revision["status"] == "rollback_failed" and "original_record" in revision["completeness"]["missing"]
    jsonschema.Draft202012Validator(SCHEMA).validate(revision)
    report = rreport.compute_report([revision], now=NOW)
    assert report["completeness"]["share_text"] == "0%"


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


def test_early_follow_up_is_ignored():
    collector = rcollect.RunCollector()
    collector.add("a", "Validate", "aiops.k8s.remediation_validate", "localhost", "failed", {
        "aiops": {"kind": "validation", "version": 1}, "operation_id": OP_ID,
        "msg": "checkpoint is not reached"})
    assert rmodel.build_records(collector, RUN, now=NOW) == {"records": [], "follow_ups": []}


def test_rollback_of_an_unrecorded_operation_is_rebuilt_from_the_operation_store(tmp_path):
    from ansible_collections.aiops.k8s.plugins.module_utils.records import writeahead
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore

    pre_state = {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "DB_PASS", "value": "in-the-store-only"}]}]}}}}
    saved = {"operation_id": OP_ID, "plan": plan(), "approval": approval(), "pre_state": pre_state,
             "pre_state_digest": opstore.digest(pre_state), "operation": operation(status="applied", diff=None, pre_state_ref=None)}
    path = opstore.save(str(tmp_path), saved)
    base = writeahead.reconstruct_record(opstore.load(str(tmp_path), OP_ID), path, RUN, now=NOW)
    revision = rmodel.follow_up_revision(base, "rollback", {"rollback": {
        "attempted": True, "succeeded": True, "started_at": "2026-11-25T19:30:00Z",
        "finished_at": "2026-11-25T19:31:00Z"}}, RUN, now=NOW)
    jsonschema.Draft202012Validator(SCHEMA).validate(revision)
    assert revision["revision"] == 1 and revision["reconstructed"] is True and revision["status"] == "rolled_back"
    assert revision["decision"]["approver"] == "bob" and revision["rollback"]["pre_state_ref"] == path
    assert "original_record" in revision["completeness"]["missing"]
    assert "in-the-store-only" not in json.dumps(revision)  # the saved object is referenced, never copied


def test_a_check_mode_prediction_is_not_a_cluster_change():
    """remediate/rollback report changed=true in check mode for what they would do: the run changed nothing."""
    marker = {"aiops": {"kind": "operation", "version": 1}}
    dry = dict(marker, changed=True, operation={"status": "dry_run"})
    applied = dict(marker, changed=True, operation={"status": "validated"})
    predicted = {"aiops": {"kind": "rollback", "version": 1}, "changed": True, "rollback": {"attempted": False}}
    restored = dict(predicted, rollback={"attempted": True, "succeeded": True})
    for result, changed in ((dry, False), (predicted, False), (applied, True), (restored, True)):
        collector = rcollect.RunCollector()
        collector.add("t1", "task", "aiops.k8s.remediate", "localhost", "ok", result)
        assert collector.changed_cluster is changed, result
