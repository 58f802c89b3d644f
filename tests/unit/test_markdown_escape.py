"""Cluster text in the Markdown reports stays literal: no links, images, HTML, rows or headings from a value."""

import re

import pytest

from ansible_collections.aiops.k8s.plugins.plugin_utils.markdown import md_code, md_escape, md_inline
from ansible_collections.aiops.k8s.plugins.plugin_utils.render import render_record_markdown

HOSTILE = ("Back-off [click here](http://evil.example/x) ![i](http://evil.example/i.png) "
           "<img src=x onerror=alert(1)> *bold* _it_ `code` ~~s~~ a|b\n# Injected heading\n| forged | row |\n- item")


def test_inline_removes_every_construct_a_value_could_open():
    out = md_inline(HOSTILE)
    assert "\n" not in out
    assert "<img" not in out and "&lt;img" in out
    assert "](" not in out.replace("\\](", "")          # no unescaped link target
    assert re.search(r"(?<!\\)[|`*_\[\]]", out) is None  # every markup character is escaped


def test_escape_keeps_lines_but_neutralises_line_starts():
    out = md_escape("ok\n# heading\n- item\n1. step\n> quote")
    assert out.splitlines() == ["ok", "\\# heading", "\\- item", "1\\. step", "&gt; quote"]


@pytest.mark.parametrize("value,expected", [
    ("kubectl get pod web", "`kubectl get pod web`"),
    ("echo `id`", "`` echo `id` ``"),
    ("`tick", "`` `tick ``"),
    ("a\nb", "`a b`"),
    (None, "``"),
])
def test_code_span_fence_outgrows_backticks_inside(value, expected):
    assert md_code(value) == expected


def test_plain_words_stay_readable():
    assert md_inline("Container app was OOMKilled 5 times (limit 128Mi).") == \
        "Container app was OOMKilled 5 times (limit 128Mi)."


def test_record_markdown_renders_hostile_event_and_justification_literally():
    record = {
        "record_id": "r1", "revision": 1, "record_type": "operation", "status": "validated",
        "created_at": "2026-12-02T00:00:00Z",
        "runs": [{"playbook": "remediate_pod.yml", "user": "ops", "controller": "bastion", "ansible_version": "2.19",
                  "tasks": [{"task": "x | y", "action": "a", "ok": 1, "changed": 0, "failed": 0, "skipped": 0,
                             "unreachable": 0}]}],
        "completeness": {"complete": True, "missing": []},
        "analysis": {"diagnoses": [{"kind": "Pod", "namespace": "shop", "name": "web", "category": "CrashLoopBackOff",
                                    "severity": "high", "confidence": 0.9, "summary": HOSTILE,
                                    "root_cause": HOSTILE, "diagnosis_id": "d1", "observed_at": "t",
                                    "evidence": [{"source": "event", "detail": HOSTILE}]}]},
        "decision": {"approval": {"decided_at": "t"}, "decision": "approve", "approver": "alice",
                     "justification": HOSTILE, "mode": "signed", "sla_seconds": None,
                     "latency_seconds": None},
        "safety": {}, "pre_state": {}, "actions": [], "validations": [], "rollback": {"plan": "p"},
        "timeline": {"mttd_seconds": None, "mttr_seconds": None}, "lessons_learned": HOSTILE, "problems": [HOSTILE],
    }
    text = render_record_markdown(record)
    assert "<img" not in text
    assert "[click here](http" not in text and "![i](http" not in text
    assert not any(line.startswith("# Injected") or line.startswith("| forged") for line in text.splitlines())
