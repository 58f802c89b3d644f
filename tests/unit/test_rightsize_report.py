"""Right-sizing rules (evidence/rightsize.py) and the report templates, the HTML page in headless Chromium.

Regenerate the screenshot in the docs with:
    .venv/bin/python -m tests.unit.test_rightsize_report docs/images/rightsize-report.png
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile

import jinja2
import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import rightsize, usage
from ansible_collections.aiops.k8s.plugins.plugin_utils.markdown import md_inline

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "playbooks", "templates")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MI = 2 ** 20
EVIL = '<img src=x onerror="document.title=1">'


def pod(ns, name, containers, node="node-1"):
    return {"metadata": {"namespace": ns, "name": name},
            "spec": {"nodeName": node, "containers": [{"name": c, "resources": r} for c, r in containers]}}


def res(cpu_request=None, memory_request=None, cpu_limit=None, memory_limit=None):
    requests = dict((k, v) for k, v in (("cpu", cpu_request), ("memory", memory_request)) if v)
    limits = dict((k, v) for k, v in (("cpu", cpu_limit), ("memory", memory_limit)) if v)
    return {"requests": requests, "limits": limits}


def sample_report(hostile=False):
    """Four workloads: an idle API, a JVM at its memory limit, a throttled worker, a healthy cache."""
    entries, samples = [], {}

    def add(ns, workload, index, containers, figures):
        name = "%s-%d" % (workload[1], index)
        entries.append((pod(ns, name, containers), workload))
        samples["%s/%s" % (ns, name)] = {"timestamp": "2026-11-25T19:00:00Z", "window": "15s", "total": None,
                                         "containers": dict((c, {"cpu": f[0], "memory": f[1]})
                                                            for (c, _r), f in zip(containers, figures))}
    for i in range(6):
        add("shop", ("Deployment", "api"), i, [("app", res("1", "2Gi", memory_limit="2Gi"))], [(0.04, 180 * MI)])
    for i in range(3):
        add("shop", ("StatefulSet", "catalog"), i, [("jvm", res("500m", "512Mi", memory_limit="512Mi"))],
            [(0.3, 505 * MI)])
    for i in range(2):
        add("batch", ("Deployment", EVIL if hostile else "worker"), i, [("app", res("250m", "256Mi", "500m"))],
            [(0.49, 200 * MI)])
    for i in range(2):
        add("shop", ("Deployment", "cache"), i, [("redis", res("200m", "1Gi", memory_limit="1Gi"))],
            [(0.15, 700 * MI)])
    reading = {"source": "metrics-server", "pods": samples, "nodes": {
        "node-1": {"cpu": 3.1, "memory": 9 * 2 ** 30, "timestamp": "2026-11-25T19:00:00Z", "window": "20s"}},
        "problems": []}
    report = rightsize.analyse(entries, reading)
    node = {"metadata": {"name": "node-1"}, "status": {"allocatable": {"cpu": "3900m", "memory": "16Gi"}}}
    report["nodes"] = [usage.node_usage(node, reading)]
    return report


def render(kind, report, scope="all namespaces"):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["aiops.k8s.md_inline"] = md_inline  # the collection filter the template uses
    return env.get_template("rightsize_report.%s.j2" % kind).render(
        aiops_rightsize=report, aiops_rightsize_scope=scope, aiops_rightsize_generated_at="2026-11-25T19:05:00Z")


def test_rules_classify_idle_at_limit_throttled_and_healthy():
    report = sample_report()
    verdicts = dict((w["name"], w["verdict"]) for w in report["workloads"])
    assert verdicts == {"api": "over_provisioned", "catalog": "at_risk", "worker": "at_risk", "cache": "ok"}
    api = next(w for w in report["workloads"] if w["name"] == "api")["containers"][0]
    # 180Mi + 20 % = 216Mi; 2Gi - 216Mi = 1832Mi per replica, 6 replicas.
    assert api["memory"]["recommended_request_human"] == "216Mi" and api["memory"]["freed"] == 6 * 1832 * MI
    assert api["cpu"]["recommended_request"] == 0.048 and api["cpu"]["freed"] == pytest.approx(6 * 0.952)
    catalog = next(r for r in report["at_risk"] if r["name"] == "catalog")
    assert catalog["reason"] == "working set at 99% of its 512Mi limit: the next spike is an OOM kill"
    assert catalog["recommended"] == "707Mi" and catalog["current"] == "512Mi"
    worker = next(r for r in report["at_risk"] if r["name"] == "worker")
    assert worker["resource"] == "cpu" and "it is being throttled" in worker["reason"]
    assert (worker["current"], worker["recommended"]) == ("500m", "686m")
    assert report["summary"]["over_provisioned"] == 1 and report["summary"]["at_risk"] == 2
    # cache uses 68 % of its request: not over-provisioned, not at risk.
    assert not [r for r in report["over_provisioned"] + report["at_risk"] if r["name"] == "cache"]


def test_memory_above_request_without_limit_is_at_risk():
    entries = [(pod("a", "p", [("c", res("100m", "128Mi"))]), ("Pod", "p"))]
    reading = {"pods": {"a/p": {"containers": {"c": {"cpu": 0.05, "memory": 200 * MI}}}}}
    report = rightsize.analyse(entries, reading)
    assert [(r["resource"], r["reason"]) for r in report["at_risk"]] == [
        ("memory", "working set above its 128Mi request with no limit: first to be evicted under memory pressure")]


def test_markdown_and_html_render_the_rows_and_escape_cluster_values():
    report = sample_report(hostile=True)
    markdown = render("md", report)
    assert "| shop | Deployment/api | app | memory | 6 | uses 180Mi of its 2Gi request (9%) | 2Gi | 216Mi | 11Gi |" \
        in markdown
    assert "| node-1 | 3.1 of 3.9 (79%) | 9Gi of 16Gi (56%) |" in markdown
    page = render("html", report)
    assert EVIL not in page and "&lt;img src=x" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_renders_the_page_without_running_injected_markup(tmp_path):
    page = tmp_path / "rightsize.html"
    page.write_text(render("html", sample_report(hostile=True)))
    proc = _chromium(str(tmp_path), "--dump-dom", "file://%s" % page)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "<title>Right-sizing report all namespaces</title>" in dom
    assert dom.count("<section>") == 3 and dom.count('class="bar"') == 2
    assert "<img" not in dom


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_screenshot_is_a_full_page_image(tmp_path):
    target = tmp_path / "rightsize.png"
    proc = screenshot(str(target), width=1200, height=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1200, 900)
    assert len(data) > 30000  # a blank page is a few KB


def _chromium(tmp, *args):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
             "--user-data-dir=%s" % os.path.join(tmp, "profile")]
    return subprocess.run([CHROMIUM] + flags + list(args), capture_output=True, text=True, check=False, timeout=120)


def screenshot(path, width=1400, height=1000):
    tmp = tempfile.mkdtemp(prefix="aiops-rightsize-html-")
    try:
        page = os.path.join(tmp, "rightsize-report.html")
        with open(page, "w") as handle:
            handle.write(render("html", sample_report(), scope="namespaces shop, batch"))
        return _chromium(tmp, "--hide-scrollbars", "--window-size=%d,%d" % (width, height),
                         "--screenshot=%s" % os.path.abspath(path), "file://%s" % page)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    result = screenshot(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "images", "rightsize-report.png"))
    sys.stderr.write(result.stderr[-2000:] if result.returncode else "")
    sys.exit(result.returncode)
