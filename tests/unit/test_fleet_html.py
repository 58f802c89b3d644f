"""Fleet report templates: the aggregation (fleet_model.json.j2) through Ansible's own templar, and the HTML
page in headless Chromium (the Debian ``chromium`` package; scripts/ensure_system_deps.sh installs it).

Regenerate the screenshot in the docs with:
    .venv/bin/python -m tests.unit.test_fleet_html docs/images/fleet-report.png
"""

from __future__ import annotations

import html.parser
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "playbooks", "templates")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EVIL = '<img src=x onerror="document.title=1">'


def diagnosis(namespace, name, category, severity, restarts=0, owner=None, root_cause=None, kind="Pod"):
    return {"kind": kind, "namespace": namespace, "name": name, "owner": owner, "category": category,
            "severity": severity, "restarts": restarts, "summary": "%s on %s" % (category, name),
            "root_cause": root_cause or "%s: see the runbook" % category, "runbook": "runbooks/%s.md" % category,
            "diagnosis_id": ("%012x" % (abs(hash((namespace, name))) % (1 << 48)))}


def sample_hostvars(hostile=True):
    """Five clusters: two with failures, one clean, one forbidden, one that never reported back.

    hostile=True names one pod and its root cause with markup, to prove the page escapes them.
    """
    web = {"kind": "Deployment", "name": "web"}
    prod_eu = [diagnosis("shop", "web-1", "CrashLoopBackOff", "high", 9, web,
                         "Container app exits with code 1: missing env DATABASE_URL"),
               diagnosis("shop", "web-2", "CrashLoopBackOff", "high", 5, web),
               diagnosis("shop", "web-3", "CrashLoopBackOff", "high", 1, web),
               diagnosis("batch", "report-x", "OOMKilled", "critical", 12, {"kind": "Job", "name": "report"},
                         "Container report exceeded its memory limit of 256Mi (exit 137)"),
               diagnosis("shop", EVIL, "ImagePullBackOff", "high", 0, None, "<script>alert(1)</script> not found")
               if hostile else
               diagnosis("pay", "ledger-0", "ImagePullBackOff", "high", 0, None,
                         "Image registry.example/pay/ledger:2.1 not found in the registry")]
    prod_us = [diagnosis("shop", "cart-1", "ImagePullBackOff", "high", 0, {"kind": "Deployment", "name": "cart"}),
               diagnosis("ops", "old-1", "Evicted", "low", 0, None),
               # A controller that cannot create pods: a workload finding, never counted as a pod.
               diagnosis("shop", "api", "FailedCreate", "high", 0, None, "quota exceeded", kind="Deployment")]

    def ok(diagnoses, scanned, healthy):
        summary = {"Healthy": healthy}
        for d in diagnoses:
            summary[d["category"]] = summary.get(d["category"], 0) + 1
        return {"status": "ok", "scanned": scanned, "summary": summary, "diagnoses": diagnoses,
                "as_of": "2026-11-25T20:00:00+00:00", "problems": [], "duration_seconds": 4.2}

    def host(name, result=None):
        hv = {"aiops_k8s_context": name, "aiops_k8s_cluster": name,
              "aiops_k8s_server": "https://%s.example.invalid:6443" % name}
        if result is not None:
            hv["aiops_fleet_result"] = result
        return hv

    return {
        "prod-eu": host("prod-eu", ok(prod_eu, 1800, 1795)),
        "prod-us": host("prod-us", ok(prod_us, 950, 948)),
        "staging": host("staging", ok([], 400, 400)),
        "edge-7": host("edge-7", {"status": "forbidden", "duration_seconds": 0.4,
                                  "error": 'pods is forbidden: User "aiops" cannot list resource "pods"'}),
        "lab": host("lab"),
    }


def render(template, variables):
    """Render a playbook template with Ansible's templar, as the template lookup/module would."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    try:  # ansible-core >= 2.19 renders only text marked as trusted
        from ansible.template import trust_as_template
    except ImportError:  # older cores (make test-matrix) trust every template
        def trust_as_template(value):
            return value

    with open(os.path.join(TEMPLATES, template)) as handle:
        source = trust_as_template(handle.read())
    templar = Templar(loader=DataLoader(), variables=variables)
    try:
        return templar.template(source, convert_data=False)  # older cores would turn JSON text into objects
    except TypeError:  # 2.19 dropped convert_data (it never converts)
        return templar.template(source)


def build_model(hostvars, top=25):
    import json

    text = render("fleet_model.json.j2", {"hostvars": hostvars, "aiops_fleet_hosts_list": list(hostvars),
                                          "aiops_fleet_top": top, "aiops_fleet_generated_at": "2026-11-25T20:05:00Z",
                                          "aiops_fleet_label_selectors": []})
    return json.loads(text)


def render_html(model):
    return render("fleet_report.html.j2", {"aiops_fleet": model, "aiops_fleet_runbook_base": ROOT})


def test_model_counts_statuses_matrix_and_offenders():
    model = build_model(sample_hostvars())
    clusters = {c["name"]: c for c in model["clusters"]}
    # Worst first: pods needing attention, then severity; not-diagnosed clusters last (by name).
    assert [c["name"] for c in model["clusters"]] == ["prod-eu", "prod-us", "staging", "edge-7", "lab"]
    assert [c["rank"] for c in model["clusters"]] == [1, 2, 3, 4, 5]
    assert [c["name"] for c in model["clusters"] if c["worst"]] == ["prod-eu"] == [model["worst_cluster"]]
    assert {n: c["status"] for n, c in clusters.items()} == {
        "prod-eu": "ok", "prod-us": "ok", "staging": "ok", "edge-7": "forbidden", "lab": "unreachable"}
    assert "no result" in clusters["lab"]["error"]
    # Pods and workloads apart: prod-us has two failing pods and one Deployment that cannot create pods.
    assert (clusters["prod-us"]["failing"], clusters["prod-us"]["workloads"]) == (2, 1)
    assert clusters["prod-eu"]["worst_severity"] == "critical" and clusters["prod-us"]["worst_severity"] == "high"
    assert model["totals"] == {"clusters": 5, "ok": 3, "not_ok": 2, "scanned": 3150, "failing": 7, "workloads": 1,
                               "offenders": 6}
    # Categories ordered by how many findings they have across the fleet (ties by name).
    assert model["categories"] == ["CrashLoopBackOff", "ImagePullBackOff", "Evicted", "FailedCreate", "OOMKilled"]
    assert model["category_totals"] == {"CrashLoopBackOff": 3, "ImagePullBackOff": 2, "Evicted": 1,
                                        "FailedCreate": 1, "OOMKilled": 1}
    ranked = [(o["severity"], o["cluster"], o["workload"], o["pods"], o["restarts"]) for o in model["offenders"]]
    assert ranked[0] == ("critical", "prod-eu", "Job/report", 1, 12)
    # Three crash-looping replicas of one Deployment are one row; its worst pod speaks for it.
    assert ranked[1] == ("high", "prod-eu", "Deployment/web", 3, 15)
    assert model["offenders"][1]["name"] == "web-1"
    assert ranked[-1][0] == "low"
    assert len(build_model(sample_hostvars(), top=2)["offenders"]) == 2


def test_ranking_puts_more_failing_pods_first_then_severity():
    hostvars = sample_hostvars(False)
    # Same pod count as prod-us but only low severity: ranks after it; more pods beat a worse severity.
    low = [diagnosis("a", "x-%d" % i, "Evicted", "low") for i in range(2)]
    many = [diagnosis("b", "y-%d" % i, "Evicted", "medium") for i in range(6)]
    hostvars["dev-low"] = dict(hostvars["staging"], aiops_fleet_result=dict(
        hostvars["staging"]["aiops_fleet_result"], diagnoses=low, summary={"Evicted": 2}))
    hostvars["dev-many"] = dict(hostvars["staging"], aiops_fleet_result=dict(
        hostvars["staging"]["aiops_fleet_result"], diagnoses=many, summary={"Evicted": 6}))
    order = [c["name"] for c in build_model(hostvars)["clusters"]]
    assert order == ["dev-many", "prod-eu", "prod-us", "dev-low", "staging", "edge-7", "lab"]


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.fetching, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag in ("script", "link", "img", "iframe", "object", "embed") or "src" in attrs:
            self.fetching.append((tag, attrs))
        if tag == "a":
            self.links.append(attrs.get("href"))


def test_html_is_self_contained_and_escapes_cluster_data():
    page = render_html(build_model(sample_hostvars()))
    parsed = _Collector()
    parsed.feed(page)
    assert parsed.fetching == []
    assert "default-src 'none'" in page
    assert "&lt;img src=x" in page and "&lt;script&gt;alert(1)" in page
    assert all(link.startswith(ROOT + "/runbooks/") and link.endswith(".md") for link in parsed.links)
    assert "%s/runbooks/OOMKilled.md" % ROOT in parsed.links


def _chromium(tmp, *args):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
             "--user-data-dir=%s" % os.path.join(tmp, "profile")]
    return subprocess.run([CHROMIUM] + flags + list(args), capture_output=True, text=True, check=False, timeout=120)


def screenshot(path, html_text=None, width=1280, height=1400):
    """Render the sample fleet report in headless Chromium and write a PNG screenshot to ``path``."""
    tmp = tempfile.mkdtemp(prefix="aiops-fleet-html-")
    try:
        page = os.path.join(tmp, "fleet-report.html")
        with open(page, "w") as handle:
            handle.write(html_text if html_text is not None else render_html(build_model(wide_hostvars())))
        proc = _chromium(tmp, "--hide-scrollbars", "--window-size=%d,%d" % (width, height),
                         "--screenshot=%s" % os.path.abspath(path), "file://%s" % page)
        return proc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_renders_every_section_without_running_injected_markup(tmp_path):
    page = tmp_path / "fleet-report.html"
    page.write_text(render_html(build_model(sample_hostvars())))
    proc = _chromium(str(tmp_path), "--dump-dom", "file://%s" % page)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    # The browser built the tables and the chart from the page alone.
    for marker in ('<section id="clusters">', '<section id="matrix">', '<section id="offenders">',
                   '<svg id="category-chart"', 'data-cluster="edge-7" data-status="forbidden"',
                   'data-cluster="lab" data-status="unreachable"'):
        assert marker in dom
    assert dom.count("<rect ") == 5
    assert 'id="worst-cluster"' in dom and '<tr data-cluster="prod-eu" data-status="ok" data-rank="1" class="worst">' in dom
    # Injected markup stayed text: no <img> element and no script ran (it would have changed the title).
    assert "<img" not in dom
    assert "<title>Fleet diagnosis report 2026-11-25T20:05:00Z</title>" in dom


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_screenshot_is_a_full_page_image(tmp_path):
    target = tmp_path / "fleet.png"
    proc = screenshot(str(target), width=1200, height=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 900)
    # A blank page compresses to a few KB; tables, badges and the chart do not.
    assert len(data) > 30000


def wide_hostvars():
    """The sample fleet with realistic category counts: a dozen categories make the matrix wider than 1280 px."""
    hostvars = sample_hostvars(False)
    extra = ["CreateContainerConfigError", "RunContainerError", "ProbeFailure", "FailedScheduling", "NodeLost",
             "VolumeMountFailure", "InitContainerFailure", "DeadlineExceeded"]
    result = hostvars["prod-us"]["aiops_fleet_result"]
    diagnoses = result["diagnoses"] + [diagnosis("ops", "p-%d" % i, category, "medium", i)
                                       for i, category in enumerate(extra)]
    summary = dict(result["summary"])
    for category in extra:
        summary[category] = 1
    updated = dict(result, diagnoses=diagnoses, summary=summary)
    hostvars["prod-us"] = dict(hostvars["prod-us"], aiops_fleet_result=updated)
    return hostvars


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_at_1280_px_wide_tables_scroll_inside_their_card_not_the_page(tmp_path):
    """Layout measured by Chromium itself: a test copy of the page (CSP relaxed for this one script) writes
    the page's and each card's scroll widths into the DOM, then --dump-dom reads them back."""
    page = render_html(build_model(wide_hostvars()))
    probe = ("<script>var r=[document.documentElement.scrollWidth, window.innerWidth];"
             "document.querySelectorAll('section').forEach(function(s){r.push(s.id+':'+s.scrollWidth+':'+s.clientWidth);});"
             "var w=document.querySelector('.scroll table.heat');r.push('heat:'+w.scrollWidth+':'+w.parentNode.clientWidth);"
             "document.body.setAttribute('data-layout', r.join(','));</script>")
    page = page.replace("default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'").replace(
        "</body>", probe + "</body>")
    path = tmp_path / "fleet-report.html"
    path.write_text(page)
    proc = _chromium(str(tmp_path), "--window-size=1280,900", "--dump-dom", "file://%s" % path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    layout = proc.stdout.split('data-layout="', 1)[1].split('"', 1)[0].split(",")
    page_width, viewport = int(layout[0]), int(layout[1])
    assert viewport == 1280 and page_width <= viewport, layout  # the page itself never scrolls sideways
    for entry in layout[2:-1]:
        name, scroll_width, client_width = entry.split(":")
        assert int(scroll_width) <= int(client_width), entry  # no card overflows
    _heat, table_width, box_width = layout[-1].split(":")
    assert int(table_width) > int(box_width), layout  # the matrix really is wider, and scrolls in its card


if __name__ == "__main__":
    result = screenshot(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "images", "fleet-report.png"))
    sys.stderr.write(result.stderr[-2000:] if result.returncode else "")
    sys.exit(result.returncode)
