"""The HTML metrics page is self-contained and renders in headless Chromium.

Chromium comes from the Debian package (apt-get install chromium). Set AIOPS_UPDATE_SCREENSHOT=1 to
refresh docs/images/phr-report.png from the same sample data.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import struct
import subprocess

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.records import collect as rcollect
from ansible_collections.aiops.k8s.plugins.module_utils.records import model as rmodel
from ansible_collections.aiops.k8s.plugins.module_utils.records import report as rreport
from ansible_collections.aiops.k8s.plugins.plugin_utils import render as prender

UTC = datetime.timezone.utc
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOW = datetime.datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RUN = {"playbook": "remediate_pod.yml", "user": "alice", "controller": "ctl", "ansible_version": "2.19",
       "started_at": None, "finished_at": None, "tasks": [], "callback_errors": []}


def sample_records():
    """Five operations: fast and slow approvals, a failed rollback over target, one incomplete record,
    a regressed 5-min check, lessons with an open follow-up."""
    out = []
    specs = [("medium", "validated", 180, None, True), ("low", "validated", 420, None, True),
             ("critical", "rolled_back", 2400, 390, True), ("medium", "rolled_back", 900, 95, True),
             ("medium", "validated", 600, None, False)]
    for number, (tier, status, latency, rollback, saved) in enumerate(specs):
        created = datetime.datetime(2026, 11, 25, 10 + number, 0, tzinfo=UTC)
        decided = created + datetime.timedelta(seconds=latency)
        applied = decided + datetime.timedelta(seconds=30)
        sla = {"low": 300, "medium": 1800, "critical": 7200}[tier]
        op = {"operation_id": "op-20261125%02d0000-00000%d" % (10 + number, number), "plan_id": "p%d" % number,
              "diagnosis_id": "d%d" % number, "action": "set_memory_limit", "risk_tier": tier, "status": status,
              "target": {"kind": "Deployment", "namespace": "shop", "name": "web-%d" % number},
              "dry_run": {"accepted": True}, "diff": {"before": {}, "after": {}},
              "pre_state_ref": "/ops/x.json" if saved else None, "pre_state_digest": "c" * 64 if saved else None,
              "applied_at": applied.isoformat(), "finished_at": (applied + datetime.timedelta(seconds=60)).isoformat(),
              "validation": {"passed": status == "validated", "checks": [], "window_seconds": 60},
              "approval": {"plan_id": "p%d" % number, "decision": "approve", "approver": "bob",
                           "justification": "INC", "decided_at": decided.isoformat(), "mode": "interactive"},
              "gate": {"verdict": "approved", "reason": "ok", "approver": "bob", "mode": "interactive",
                       "decided_at": decided.isoformat(), "plan_shown_at": created.isoformat(), "sla_seconds": sla,
                       "latency_seconds": latency, "sla_breached": latency > sla},
              "drift": {"checked": True, "drifted": False, "reason": None},
              "rollback": {"attempted": bool(rollback)}}
        if rollback:
            op["rollback"].update(succeeded=number != 2, started_at=op["finished_at"],
                                  finished_at=(applied + datetime.timedelta(seconds=60 + rollback)).isoformat())
        collector = rcollect.RunCollector()
        collector.add("a", "Diagnose", "aiops.k8s.pod_diagnose", "localhost", "ok", {
            "aiops": {"kind": "diagnosis", "version": 1}, "diagnoses": [{
                "kind": "Pod", "namespace": "shop", "name": "web-%d-abc" % number, "category": "OOMKilled",
                "summary": "oom", "diagnosis_id": "d%d" % number,
                "observed_at": (created - datetime.timedelta(minutes=2)).isoformat(),
                "failure_started_at": (created - datetime.timedelta(minutes=3 + 2 * number)).isoformat()}]})
        collector.add("b", "Plan", "aiops.k8s.remediation_plan", "localhost", "ok", {
            "aiops": {"kind": "plan", "version": 1}, "plan": {"plan_id": "p%d" % number, "risk_tier": tier,
                                                              "created_at": created.isoformat(), "sla_seconds": sla}})
        collector.add("c", "Remediate", "aiops.k8s.remediate", "localhost", "ok", {
            "aiops": {"kind": "operation", "version": 1}, "operation": op, "changed": True})
        out.extend(rmodel.build_records(collector, RUN, now=created)["records"])
    out[0] = rmodel.follow_up_revision(out[0], "lessons", {"lessons": {
        "author": "carol", "text": "limits came from staging",
        "follow_ups": [{"id": "F1", "text": "size limits from usage", "owner": "dave", "due": "2026-12-10",
                        "state": "open"}]}}, RUN, now=NOW)
    out[1] = rmodel.follow_up_revision(out[1], "validation", {"validation": {
        "passed": False, "checkpoint_seconds": 300, "checks": []}}, RUN, now=NOW)
    return out


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    verification = {"ok": True, "message": "9 index entries, 5 records: chain intact (keyed, anchored)",
                    "keyed": True, "anchored": True, "missing_records": []}
    report = rreport.compute_report(sample_records(), now=NOW, verification=verification)
    text = prender.render_report(report, "html")
    path = tmp_path_factory.mktemp("html") / "phr-report.html"
    path.write_text(text)
    return path, text


def test_page_is_self_contained(html):
    _path, text = html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text)
    assert "@import" not in text and "url(" not in text and "<script" not in text
    assert "default-src 'none'" in text
    assert text.count("<svg") == 3


def test_values_escaped(tmp_path):
    report = rreport.compute_report([], now=NOW)
    report["title"] = "<script>alert(1)</script>"
    assert "<script>alert" not in prender.render_report(report, "html")


def _png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _chromium(tmp_path, *args):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           "--user-data-dir=%s" % (tmp_path / "profile")] + list(args),
                          capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_renders_in_headless_chromium(html, tmp_path):
    path, _text = html
    dom = _chromium(tmp_path, "--dump-dom", "file://%s" % path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The browser parsed the page into the expected structure: three charts, the tier and record tables.
    # backgrounds + tier bars + rollback bars + outcome bars (validated, regressed, rolled_back, rollback_failed)
    assert dom.stdout.count("<svg") == 3 and dom.stdout.count("<rect") == 3 + 3 + 2 + 4
    assert re.search(r'class="card bad" id="complete">.*?75%', dom.stdout, re.S)
    assert re.search(r'class="card bad" id="rollback">.*?1 failed', dom.stdout, re.S)
    assert re.search(r'class="card bad" id="sla">', dom.stdout)  # the low-tier approval took 7 min
    assert re.search(r'id="verification">Record chain: 9 index entries', dom.stdout)
    # tiers, incidents, records, open follow-ups: header + rows each
    assert dom.stdout.count("<tr>") == (1 + 4) + (1 + 5) + (1 + 5) + (1 + 1)
    assert "regressed" in dom.stdout and "5 min FAIL" in dom.stdout
    shot = tmp_path / "shot.png"
    result = _chromium(tmp_path, "--hide-scrollbars", "--window-size=1280,1000", "--screenshot=%s" % shot,
                       "file://%s" % path)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    assert _png_size(shot) == (1280, 1000) and shot.stat().st_size > 20000
    if os.environ.get("AIOPS_UPDATE_SCREENSHOT"):
        shutil.copy(str(shot), os.path.join(REPO, "docs", "images", "phr-report.png"))
