"""The record chain under attack, through the real playbooks: a key and an anchor kept outside the record
directory detect a recomputed chain, a cut tail, an appended entry and a wipe; lessons are appended as a
chained revision and listed in the report."""

from __future__ import annotations

import json
import os
import shutil

from tests.integration.test_phr_callback import (
    NO_PHR, OP_ID, REPO, full_run_tasks, index, load, run, run_playbook)

KEY = "phr-chain-key-kept-outside"


def verify(records, *args, env=None, check=False):
    extra = ["-e", "record_dir=%s" % records, "-e", "check_operations=false"]
    for arg in args:
        extra += ["-e", arg]
    return run(os.path.join(REPO, "playbooks", "phr_verify.yml"), records, dict(NO_PHR, **(env or {})), check, extra)


def keyed_run(tmp_path, records, head, op_id=OP_ID):
    from tests.integration.test_phr_callback import operation
    return run_playbook(tmp_path, full_run_tasks(operation(op_id=op_id)), records,
                        {"AIOPS_K8S_PHR_KEY": KEY, "AIOPS_K8S_PHR_HEAD_FILE": str(head)})


def recompute(records):
    """Rewrite the approver and recompute every digest and hash, as the owner of the directory can."""
    from ansible_collections.aiops.k8s.plugins.module_utils.records.store import GENESIS_HASH, entry_hash, sha256_hex
    entries = index(records)
    path = records / entries[0]["file"]
    record = json.loads(path.read_text())
    record["decision"]["approver"] = "mallory"
    data = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()
    path.write_bytes(data)
    previous = GENESIS_HASH
    for entry in entries:
        entry.pop("mac", None)
        if entry["file"] == entries[0]["file"]:
            entry["sha256"] = sha256_hex(data)
        entry["prev_hash"] = previous
        entry["hash"] = entry_hash(entry)
        previous = entry["hash"]
    (records / "index.jsonl").write_text("".join(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n"
                                                 for e in entries))


def test_key_and_anchor_detect_each_kind_of_tampering(tmp_path):
    records, head = tmp_path / "phr", tmp_path / "anchor" / "head.json"
    proc = keyed_run(tmp_path, records, head)
    keyed_run(tmp_path, records, head, op_id="op-20261125191000-bbbbbb")
    summary = json.loads([line for line in proc.stdout.splitlines() if "PHR-SUMMARY" in line][0].split(": ", 1)[1])
    first = index(records)[0]
    assert (summary["seq"], summary["hash"], summary["prev_hash"]) == (1, first["hash"], first["prev_hash"])
    ok = verify(records, "head_file=%s" % head, env={"AIOPS_K8S_PHR_KEY": KEY})
    assert ok.returncode == 0 and "chain intact (keyed, anchored)" in ok.stdout

    saved = tmp_path / "saved"
    shutil.copytree(records, saved)
    recompute(records)
    assert verify(records).returncode == 0  # without the key a full recomputation is undetectable
    keyed = verify(records, env={"AIOPS_K8S_PHR_KEY": KEY})
    assert keyed.returncode != 0 and ": mac expected an HMAC under the configured key" in keyed.stdout

    shutil.rmtree(records)
    shutil.copytree(saved, records)
    lines = (records / "index.jsonl").read_text().splitlines(True)
    (records / "index.jsonl").write_text(lines[0])
    cut = verify(records, "head_file=%s" % head)
    assert cut.returncode != 0 and ": truncated expected head at seq 2" in cut.stdout

    shutil.rmtree(records)
    shutil.copytree(saved, records)
    anchor = json.loads(head.read_text())
    keyed_run(tmp_path, records, tmp_path / "elsewhere.json", op_id="op-20261125192000-cccccc")
    appended = verify(records, "expected_head=%d:%s" % (anchor["seq"], anchor["hash"]))
    assert appended.returncode != 0 and ": appended expected %s" % anchor["hash"] in appended.stdout

    shutil.rmtree(records)
    records.mkdir()
    wiped = verify(records, "head_file=%s" % head)
    assert wiped.returncode != 0 and ": wiped expected head" in wiped.stdout
    assert "wiped" in verify(records, "min_entries=2").stdout


def test_lessons_are_a_chained_revision_listed_in_the_report(tmp_path):
    records = tmp_path / "phr"
    run_playbook(tmp_path, full_run_tasks(), records)
    follow_ups = json.dumps({"follow_ups": [{"text": "Size limits from usage", "owner": "dave", "due": "2026-12-10"}]})
    proc = run(os.path.join(REPO, "playbooks", "phr_annotate.yml"), records, NO_PHR, True, [
        "-e", "record_dir=%s" % records, "-e", "record_id=%s" % OP_ID, "-e", "author=carol",
        "-e", "text=limits came from staging", "-e", follow_ups])
    assert "%s revision 2" % OP_ID in proc.stdout and "1 open follow-up(s)" in proc.stdout
    first, second = index(records)
    revision = load(records, second)
    assert revision["supersedes"]["file"] == first["file"] and second["prev_hash"] == first["hash"]
    assert revision["lessons"][0]["author"] == "carol" and revision["follow_up_items"][0]["id"] == "F1"
    missing = run(os.path.join(REPO, "playbooks", "phr_annotate.yml"), records, NO_PHR, False, [
        "-e", "record_dir=%s" % records, "-e", "record_id=op-20261125235959-ffffff", "-e", "author=carol",
        "-e", "text=x"])
    assert missing.returncode != 0 and "PHR record op-20261125235959-ffffff not found in" in missing.stdout
    out = tmp_path / "report"
    run(os.path.join(REPO, "playbooks", "phr_report.yml"), records, NO_PHR,
        args=["-e", "record_dir=%s" % records, "-e", "report_dir=%s" % out])
    markdown = (out / "phr-report.md").read_text()
    assert "| `%s` | Size limits from usage | dave | 2026-12-10 |" % OP_ID in markdown
    assert "chain intact" in verify(records).stdout


def test_rollback_of_an_operation_without_record_is_rebuilt_from_the_operation_store(tmp_path):
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore
    from tests.integration.test_phr_callback import PLAN, approval, operation, task

    records = tmp_path / "phr"
    pre_state = {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "DB_PASS", "value": "only-in-the-store"}]}]}}}}
    path = opstore.save(str(tmp_path / "operations"), {
        "operation_id": OP_ID, "plan": PLAN, "approval": approval(), "pre_state": pre_state,
        "pre_state_digest": opstore.digest(pre_state),
        "operation": operation("applied", diff=None, pre_state_ref=None, pre_state_digest=None)})
    rollback = {"operation_id": OP_ID, "rollback": {"attempted": True, "succeeded": True,
                                                    "started_at": "2026-11-25T19:30:00Z",
                                                    "finished_at": "2026-11-25T19:31:00Z"}}
    run_playbook(tmp_path, [task("Roll back", "rollback", rollback, changed=True)], records, name="rollback.yml")
    (entry,) = index(records)
    record = load(records, entry)
    assert record["reconstructed"] is True and record["status"] == "rolled_back"
    assert record["decision"]["approver"] == "alice" and "reconstructed from the operation store" in \
        " ".join(record["problems"])
    assert record["rollback"]["pre_state_digest"] == opstore.digest(pre_state)
    assert record["rollback"]["pre_state_ref"] == path
    assert "only-in-the-store" not in (records / entry["file"]).read_text()
