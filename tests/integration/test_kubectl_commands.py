"""Every kubectl command the diagnoses suggest parses with kubectl's own parser (kubectl 1.32, the emulator).

The commands are collected from the proposals of every corpus case (both halves, tests/unit/classify/corpus and
the messy cases): manual steps and rollback hints. Each is cut out of its sentence (``... : kubectl ...``,
``(kubectl ...)``, ``a; b``, ``a | grep``, ``# comment``), its ``<placeholders>`` filled with plausible
values, and run against the emulator: read-only verbs as they are, mutating verbs with ``--dry-run=client``.
NotFound and other API answers are fine (the emulator holds none of the corpus objects); a usage error
(unknown flag or command, wrong argument count: kubectl's "See 'kubectl ... -h'" answers) fails the test, and so
does a value that was never filled in (``None``, ``?``). Commands are deduplicated by shape (verb, resource and
flag names) and run in parallel.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import PodEvidence, merge_events
from ansible_collections.aiops.k8s.plugins.module_utils.runner import with_proposals
from tests.unit.classify.podbuilder import AS_OF
from tests.unit.classify.test_classify_corpus import CORPUS as MESSY
from tests.unit.classify.test_realworld_corpus import CASES, classify_case

pytestmark = pytest.mark.integration

KUBECTL = shutil.which("kubectl")
MUTATING = ("create", "patch", "set", "taint", "cordon", "uncordon", "scale", "label", "annotate", "delete",
            "rollout", "apply", "drain")
# kubectl's answers to a command line it cannot parse (cobra usage errors and cmdutil.UsageErrorf).
USAGE_ERROR = re.compile(r"unknown (?:flag|shorthand flag|command)|for help and examples|for usage|"
                         r"flag needs an argument|invalid argument .* for|accepts \d+ arg|requires at least|"
                         r"exactly one NAME|unknown resource type", re.I)
PLACEHOLDERS = [
    (re.compile(r"<image:[^>]*>"), "registry.example/app:1.0"),
    (re.compile(r"<usage\*1\.5>"), "192Mi"),
    (re.compile(r"<usage>"), "128Mi"),
    (re.compile(r"<at least [^>]*>"), "1Gi"),
    (re.compile(r"<node>"), "node-1"),
    (re.compile(r"<key>-"), "dedicated-"),
    (re.compile(r"<probe command[^>]*>"), "true"),
    (re.compile(r"<[^>]+>"), "x"),
]


def _diagnoses():
    for case in CASES:
        diagnosis = with_proposals(classify_case(case))
        if diagnosis:
            yield case["id"], diagnosis
    for name, _expected, pod_obj, events in MESSY:
        yield "messy-" + name, with_proposals(classify_pod(PodEvidence(pod_obj, events=merge_events(events),
                                                                       as_of=AS_OF)))


def command_texts(diagnosis):
    """Every text of a diagnosis' proposals that suggests a kubectl command."""
    for proposal in diagnosis.get("remediations") or []:
        for text in list(proposal.get("manual_steps") or []) + [proposal.get("rollback") or ""]:
            if "kubectl " in text:
                yield text


def extract(text):
    """The kubectl command lines in one step's text: [str] (comments, pipes and prose cut off)."""
    at = text.find("kubectl ")
    body = text[at:]
    if at > 0 and text[at - 1] == "(":
        body = body.split(")", 1)[0]
    body = re.split(r"\s+#", body, 1)[0]
    commands = []
    for part in body.split(";"):
        part = part.split(" | ", 1)[0].strip()
        if part.startswith("kubectl "):
            commands.append(part)
    return commands


def fill(command):
    for pattern, value in PLACEHOLDERS:
        command = pattern.sub(value, command)
    return command


def shape(argv):
    """Verb, sub-verb/resource type and flag names, names abstracted: commands of one shape parse alike."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    flags = tuple(sorted(a.split("=", 1)[0] for a in argv[1:] if a.startswith("-")))
    two_words = ("create", "set", "rollout", "get", "describe", "top", "taint")
    keep = 3 if words[:2] == ["create", "secret"] else 2 if words[0] in two_words else 1
    head = tuple(w.split("/", 1)[0] + "/N" if "/" in w else w for w in words[:keep])
    return head, flags, len(words)


def collect():
    """{shape: (argv, source text, case id)} over the whole corpus, and every (case, text) with a bad value."""
    shapes, unfilled = {}, []
    for case_id, diagnosis in _diagnoses():
        for text in command_texts(diagnosis):
            for command in extract(text):
                if re.search(r"(?:^|[ =/])(?:None|\?)(?:$|[ =])", command):
                    unfilled.append((case_id, command))
                argv = shlex.split(fill(command))
                shapes.setdefault(shape(argv), (argv, text, case_id))
    return shapes, unfilled


def run(argv, env):
    verb = argv[1]
    if verb in MUTATING and not any(a.startswith("--dry-run") for a in argv):
        argv = argv + ["--dry-run=client"]
    done = subprocess.run([KUBECTL] + argv[1:], env=env, capture_output=True, text=True, timeout=60, check=False)
    return argv, done.returncode, (done.stderr or "") + (done.stdout or "")[:200]


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_every_suggested_kubectl_command_parses(kube_api, capsys):
    shapes, unfilled = collect()
    assert len(shapes) >= 20
    env = dict(os.environ, KUBECONFIG=kube_api.kubeconfig)
    env.pop("KUBERNETES_SERVICE_HOST", None)
    kube_api.load([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda item: (item[1], run(item[1][0], env)), sorted(shapes.items())))
    bad = []
    for (argv, text, case_id), (ran, code, output) in results:
        if code != 0 and USAGE_ERROR.search(output):
            bad.append("%s: %s -> %s" % (case_id, " ".join(shlex.quote(a) for a in ran), output.strip()[:200]))
    with capsys.disabled():
        print("\nkubectl commands suggested across the corpus: %d shapes run, %d usage errors, %d unfilled values"
              % (len(shapes), len(bad), len(unfilled)))
        for line in bad:
            print("  usage error  " + line)
        for case_id, command in sorted(set(unfilled)):
            print("  unfilled     %s: %s" % (case_id, command))
    assert not bad
    assert not unfilled
