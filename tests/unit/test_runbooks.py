"""The runbooks are part of the product: every diagnosis links one, so they must exist and stay consistent.

These tests read the Markdown files as data: headings, the fix table and links. They check what a
reader at 3 a.m. relies on (the file for the category exists, the sections are where expected, links
work, tiers and actions are ones the collection actually knows), not the prose.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common import vocabulary as categories

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / categories.RUNBOOK_DIR

SECTIONS = (
    "Symptoms",
    "How aiops.k8s detects it",
    "Diagnosis steps",
    "Root causes and fixes",
    "Rollback",
    "Prevention",
    "Escalation and related runbooks",
)

# Tier floors per action, from the tier rules in runbooks/README.md (and docs/remediation.md):
# changing resources/image, undo and scale are at least medium; finalizers and nodes are critical.
ACTION_MIN_TIER = {
    "delete_pod": "trivial",
    "rollout_restart": "low",
    "rollout_undo": "medium",
    "set_memory_limit": "medium",
    "set_resources": "medium",
    "set_image": "medium",
    "scale": "medium",
    "remove_finalizers": "critical",
    "cordon_node": "critical",
    "manual": "trivial",
}

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)


def _runbook(category):
    return ROOT / categories.runbook_path(category)


def _sections(text):
    """{heading: body} for the level-2 headings of a runbook."""
    found = {}
    matches = list(HEADING.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        found[match.group(1)] = text[match.end():end]
    return found


def _table_rows(body):
    """Data rows of the first Markdown table in a section, as lists of stripped cells."""
    rows = []
    for line in body.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append(cells)
    # rows[0] is the header, rows[1] the --- separator.
    return rows[0] if rows else [], rows[2:]


def _fix_rows(category):
    body = _sections(_runbook(category).read_text(encoding="utf-8"))["Root causes and fixes"]
    header, rows = _table_rows(body)
    return header, rows


def _code(cell):
    """The text inside the first backtick span of a table cell (actions and tiers are code)."""
    match = re.search(r"`([^`]+)`", cell)
    return match.group(1) if match else cell


def test_every_category_has_a_runbook():
    missing = [c for c in categories.CATEGORIES if not _runbook(c).is_file()]
    assert not missing, "categories without runbooks/<Category>.md: %s" % missing


def test_no_runbook_without_a_category():
    names = {p.stem for p in RUNBOOKS.glob("*.md")} - {"README"}
    assert names == set(categories.CATEGORIES)


@pytest.mark.parametrize("category", categories.CATEGORIES)
def test_runbook_has_the_seven_sections_in_order(category):
    text = _runbook(category).read_text(encoding="utf-8")
    headings = list(HEADING.findall(text))
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS), headings
    assert text.startswith("# "), "runbook must start with a level-1 title"
    assert category in text.splitlines()[0], "the title names the category"
    for name, body in _sections(text).items():
        if name in SECTIONS:
            assert body.strip(), "section %r of %s is empty" % (name, category)


@pytest.mark.parametrize("category", categories.CATEGORIES)
def test_runbook_length_fits_a_3am_read(category):
    lines = _runbook(category).read_text(encoding="utf-8").splitlines()
    assert 50 <= len(lines) <= 160, "%s has %d lines" % (category, len(lines))


@pytest.mark.parametrize("category", categories.CATEGORIES)
def test_fix_table_uses_known_actions_and_tiers(category):
    header, rows = _fix_rows(category)
    lowered = [h.lower() for h in header]
    assert lowered == ["cause", "fix", "action", "tier", "proposed"], header
    assert rows, "%s has no fix rows" % category
    for row in rows:
        assert len(row) == len(header), "malformed row in %s: %s" % (category, row)
        assert all(row), "empty cell in %s: %s" % (category, row)
        assert row[4] in ("yes", "no"), "%s: Proposed must be yes or no, not %r" % (category, row[4])
        action, tier = _code(row[2]), _code(row[3])
        assert action in categories.ACTIONS, "%s: unknown action %r" % (category, action)
        assert tier in categories.RISK_TIERS, "%s: unknown tier %r" % (category, tier)
        assert categories.tier_rank(tier) >= categories.tier_rank(ACTION_MIN_TIER[action]), (
            "%s: %s at tier %s is below the documented floor %s"
            % (category, action, tier, ACTION_MIN_TIER[action]))


def test_documented_floors_match_the_planner():
    """The floors this test enforces on the runbooks are the ones the safety policy enforces on plans."""
    policy = pytest.importorskip("ansible_collections.aiops.k8s.plugins.module_utils.remediation.policy")
    expected = dict(policy.ACTION_FLOORS, manual="trivial")   # a manual step's tier is what the human changes
    assert ACTION_MIN_TIER == expected


@pytest.mark.parametrize("category", categories.CATEGORIES)
def test_bare_pod_and_node_fixes_are_critical(category):
    """The tier rules: touching a bare pod, a node, or a StatefulSet's storage is always critical."""
    _fix, rows = _fix_rows(category)
    for row in rows:
        text = (row[0] + " " + row[1]).lower()
        if "bare pod" in text and _code(row[2]) != "manual":
            assert _code(row[3]) == "critical", row


@pytest.mark.parametrize("category", [c for c in categories.CATEGORIES if c != categories.HEALTHY])
def test_diagnosis_steps_give_the_commands(category):
    sections = _sections(_runbook(category).read_text(encoding="utf-8"))
    steps = sections["Diagnosis steps"]
    assert "ansible-playbook aiops.k8s.diagnose_pod" in steps
    assert "kubectl " in steps


@pytest.mark.parametrize("category", categories.CATEGORIES)
def test_automated_fixes_explain_the_rollback_command(category):
    _fix, rows = _fix_rows(category)
    automated = [r for r in rows if _code(r[2]) != "manual"]
    rollback = _sections(_runbook(category).read_text(encoding="utf-8"))["Rollback"]
    if automated:
        assert "ansible-playbook aiops.k8s.rollback -e operation_id=" in rollback


def _all_markdown():
    return sorted(RUNBOOKS.glob("*.md"))


@pytest.mark.parametrize("path", _all_markdown(), ids=lambda p: p.name)
def test_relative_links_resolve(path):
    text = path.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        assert resolved.exists(), "%s links to missing %s" % (path.name, target)
        assert ROOT in resolved.parents, "%s links outside the collection: %s" % (path.name, target)


@pytest.mark.parametrize("category", [c for c in categories.CATEGORIES if c != categories.HEALTHY])
def test_runbook_links_to_related_runbooks(category):
    body = _sections(_runbook(category).read_text(encoding="utf-8"))["Escalation and related runbooks"]
    related = [t for t in LINK.findall(body) if t.endswith(".md")]
    assert related, "%s lists no related runbooks" % category


def test_index_lists_every_category_with_its_link():
    text = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    linked = set(LINK.findall(text))
    for category in categories.CATEGORIES:
        assert "%s.md" % category in linked, "README.md does not link %s" % category


def test_index_states_every_tier_and_the_rules():
    text = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    for tier in categories.RISK_TIERS:
        assert "`%s`" % tier in text


def test_table_parser_rejects_unknown_values():
    """Guard the guard: the parser really reads actions and tiers out of a table."""
    body = ("\n| Cause | Fix | Action | Tier | Proposed |\n| --- | --- | --- | --- | --- |\n"
            "| x | y | `nuke` | `huge` | no |\n\nafter the table\n| not | a row |\n")
    header, rows = _table_rows(body)
    assert header == ["Cause", "Fix", "Action", "Tier", "Proposed"]
    assert len(rows) == 1
    assert _code(rows[0][2]) == "nuke" and _code(rows[0][2]) not in categories.ACTIONS
    assert _code(rows[0][3]) not in categories.RISK_TIERS


# -- the kubectl commands in the runbooks must be valid kubectl ------------------------------------

KUBECTL = shutil.which("kubectl")
PLACEHOLDERS = {"ns": "shop", "pod": "web-1", "container": "app", "c": "app", "node": "node-1", "name": "web"}
USAGE_ERROR = re.compile(r"unknown (?:shorthand )?flag|unknown command|for usage|flag needs an argument|"
                         r"invalid argument|error parsing|unterminated", re.I)


def _kubectl_lines():
    for path in _all_markdown():
        for block in re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            for line in block.splitlines():
                if line.strip().startswith("kubectl "):
                    yield path.name, line.strip()


def _argv(line):
    """The kubectl part of a shell line (up to the first pipe), placeholders filled in."""
    line = re.sub(r"<([a-z-]+)>", lambda m: PLACEHOLDERS.get(m.group(1), "x"), line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|;&")
    lexer.whitespace_split = True
    argv = []
    for token in lexer:
        if token in ("|", "||", ";", "&&", "&"):
            break
        argv.append(token)
    return argv


def _output_template(argv):
    for index, arg in enumerate(argv):
        value = None
        if arg == "-o" and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--output="):
            value = arg.split("=", 1)[1]
        if value and value.startswith(("jsonpath", "go-template")):
            return value
    return None


def _check_line(name, line, env, pod_file):
    """Problems kubectl itself reports for one runbook line, without any cluster.

    Flags are parsed before kubectl connects, so an unreachable server still reveals usage errors;
    output templates are checked by rendering them locally (`label --local`) on a sample pod.
    """
    argv = _argv(line)
    problems = []
    run = subprocess.run([KUBECTL, "--server=http://127.0.0.1:1", "--request-timeout=1s"] + argv[1:],
                         capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL, check=False)
    if USAGE_ERROR.search(run.stderr):
        problems.append("%s: %s -> %s" % (name, line, run.stderr.strip().splitlines()[0]))
    template = _output_template(argv)
    if template:
        run = subprocess.run([KUBECTL, "label", "-f", pod_file, "checked=yes", "--local", "-o", template],
                             capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL, check=False)
        if run.returncode:
            problems.append("%s: %s -> %s" % (name, template, run.stderr.strip()[:200]))
    return problems


@pytest.fixture(scope="module")
def offline_kubectl(tmp_path_factory):
    if not KUBECTL:
        pytest.skip("kubectl is not installed")
    tmp = tmp_path_factory.mktemp("kubectl")
    (tmp / "kubeconfig").write_text("")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"},
           "spec": {"containers": [{"name": "app", "image": "registry.example.com/shop/web:1.4.2"}]},
           "status": {"phase": "Running"}}
    (tmp / "pod.json").write_text(json.dumps(pod))
    return dict(os.environ, KUBECONFIG=str(tmp / "kubeconfig")), str(tmp / "pod.json")


def test_kubectl_commands_parse(offline_kubectl):
    env, pod_file = offline_kubectl
    lines = list(_kubectl_lines())
    assert len(lines) > 100, "expected the runbooks to carry their diagnosis commands"
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = pool.map(lambda item: _check_line(item[0], item[1], env, pod_file), lines)
    problems = [problem for result in results for problem in result]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("line", [
    "kubectl -n <ns> logs <pod> --previos",
    "kubectl -n <ns> get pod <pod> -o jsonpath='{.spec.containers[*.name}'",
])
def test_kubectl_check_catches_mistakes(offline_kubectl, line):
    """Guard the guard: a misspelt flag and a broken jsonpath are reported."""
    env, pod_file = offline_kubectl
    assert _check_line("example.md", line, env, pod_file)
