# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Optional, advisory AI explanation of finished diagnoses through the kubectl-ai CLI.

The deterministic diagnosis is final; this only attaches a second opinion. What leaves the
process is a compact summary built from the diagnoses (never Secret data, never whole logs),
passed through the shared redactor, optionally with names masked by a reversible map, and capped
in size. kubectl-ai (GoogleCloudPlatform/kubectl-ai) runs with ``--quiet`` (one-shot, no REPL)
and never with ``--skip-permissions``; beyond that, its reach is bounded by construction
(ai_child.py): a minimal environment, a kubeconfig with the diagnosed cluster only, and a read-only
identity, or no start at all. A timeout, failure or refusal returns None plus a warning.

Pure apart from ``explain``'s injected ``run_command`` (AnsibleModule.run_command signature), so
everything is unit-testable without Ansible or a real binary.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re
import shutil
import sys
import tempfile

from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact, redact_obj
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis import ai_child

# Module options; the doc fragment aiops.k8s.ai_options documents exactly these.
AI_ARGUMENT_SPEC = dict(
    ai_explain=dict(type="bool", default=False),
    ai_provider=dict(type="str"),
    ai_model=dict(type="str"),
    ai_timeout=dict(type="int", default=60),
    ai_binary=dict(type="str", default="kubectl-ai"),
    ai_mask_names=dict(type="bool", default=False),
    ai_max_input_bytes=dict(type="int", default=16384),
    ai_env_file=dict(type="path"),
    ai_kubeconfig=dict(type="path"),
    ai_context=dict(type="str"),
    ai_impersonate=dict(type="str"),
    ai_allow_write_identity=dict(type="bool", default=False),
)

# The question goes as the positional argument (kubectl-ai --quiet requires one); the evidence
# follows on stdin, which kubectl-ai appends to the query. Evidence therefore never shows up in
# the process list.
QUERY = ("Explain the most likely root cause of the failing Kubernetes workloads summarised below "
         "and what an operator should check next. Be brief. Do not modify the cluster.")

TIMEOUT_RC = 124
MAX_ANSWER_CHARS = 8000
MAX_DETAIL_CHARS = 300
MAX_LOG_DETAIL_CHARS = 200
MAX_EVIDENCE_ITEMS = 8
# Keys that can carry secret material or bulk data; dropped wherever they appear.
_DROP_KEYS = frozenset(("data", "stringData", "binaryData", "env", "envFrom", "token", "password",
                        "logs", "log", "remediations", "manual_steps"))
_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "none": 4}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")

# Runs the binary with a hard timeout and exactly the environment given on the first stdin line
# (AnsibleModule.run_command has no timeout and always passes the module's whole environment on). The
# wrapper (same interpreter as the module) kills the whole process group and exits 124.
_WRAPPER = (
    "import json,os,signal,subprocess,sys\n"
    "t=float(sys.argv[1]);cmd=sys.argv[2:];env=json.loads(sys.stdin.buffer.readline());"
    "data=sys.stdin.buffer.read()\n"
    "try:\n"
    " p=subprocess.Popen(cmd,stdin=subprocess.PIPE,stdout=subprocess.PIPE,stderr=subprocess.PIPE,"
    "start_new_session=True,env=env)\n"
    "except OSError as e:\n"
    " sys.stderr.write('cannot run %s: %s\\n'%(cmd[0],e.strerror));sys.exit(127)\n"
    "try:\n"
    " out,err=p.communicate(data,timeout=t)\n"
    "except subprocess.TimeoutExpired:\n"
    " os.killpg(p.pid,signal.SIGKILL);p.wait();sys.stderr.write('timed out\\n');sys.exit(124)\n"
    "sys.stdout.buffer.write(out);sys.stderr.buffer.write(err)\n"
    "sys.exit(p.returncode if p.returncode>=0 else 128-p.returncode)\n"
)


def _clip(text, limit):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _clean(value):
    """Copy of a JSON-like value without keys that may hold secrets or bulk data."""
    if isinstance(value, dict):
        return dict((k, _clean(v)) for k, v in value.items() if k not in _DROP_KEYS)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def summarise(diagnoses):
    """The compact, unredacted facts per non-healthy diagnosis, most severe first.

    Log evidence is reduced to one clipped line: the full log never leaves the module.
    """
    items = []
    for diag in diagnoses or []:
        if not isinstance(diag, dict) or diag.get("category") == "Healthy":
            continue
        evidence = []
        for item in (diag.get("evidence") or [])[:MAX_EVIDENCE_ITEMS]:
            if not isinstance(item, dict):
                continue
            source = str(item.get("source") or "")
            limit = MAX_LOG_DETAIL_CHARS if source.startswith("log") else MAX_DETAIL_CHARS
            detail = str(item.get("detail") or "").strip().splitlines()
            evidence.append({"source": _clip(source, 120), "detail": _clip(detail[0] if detail else "", limit)})
        items.append({
            "kind": diag.get("kind"),
            "namespace": diag.get("namespace"),
            "name": diag.get("name"),
            "owner": _clean(diag.get("owner")),
            "node": diag.get("node"),
            "category": diag.get("category"),
            "severity": diag.get("severity"),
            "confidence": diag.get("confidence"),
            "uid": diag.get("uid"),
            "restarts": diag.get("restarts"),
            "summary": _clip(diag.get("summary") or "", MAX_DETAIL_CHARS),
            "root_cause": _clip(diag.get("root_cause") or "", MAX_DETAIL_CHARS),
            "culprit": _clean(diag.get("culprit") or {}),
            "evidence": evidence,
            "secondary": [{"category": s.get("category"), "summary": _clip(s.get("summary") or "", 160)}
                          for s in (diag.get("secondary") or []) if isinstance(s, dict)],
        })
    items.sort(key=lambda d: _SEVERITY_ORDER.get(d.get("severity"), 5))
    return items


def _label_values(value):
    """Label/selector values found in culprit facts (keys named like labels or selectors)."""
    found = []
    if isinstance(value, dict):
        for key, sub in value.items():
            if "label" in key.lower() or "selector" in key.lower():
                if isinstance(sub, dict):
                    found.extend(str(v) for v in sub.values() if v)
                elif isinstance(sub, str) and "=" in sub:
                    found.extend(part.split("=", 1)[1] for part in sub.split(",") if "=" in part)
            else:
                found.extend(_label_values(sub))
    elif isinstance(value, list):
        for sub in value:
            found.extend(_label_values(sub))
    return found


def build_mask(items):
    """A reversible {real: placeholder} map for namespaces, names, owners, nodes and label values."""
    mapping = {}
    counters = {}

    def add(real, prefix):
        if not real or not isinstance(real, str) or real in mapping or len(real) < 2:
            return
        counters[prefix] = counters.get(prefix, 0) + 1
        mapping[real] = "%s-%d" % (prefix, counters[prefix])

    for item in items:
        add(item.get("name"), "pod" if item.get("kind") == "Pod" else "workload")
        add(item.get("uid"), "uid")
    for item in items:
        add(item.get("namespace"), "ns")
        owner = item.get("owner") or {}
        add(owner.get("name"), "workload")
        add(item.get("node"), "node")
        culprit = item.get("culprit") or {}
        add(culprit.get("container"), "container")
        for value in _label_values(culprit):
            add(value, "label")
    return mapping


def _boundary_pattern(words):
    # Longest first so a pod name is replaced before the Deployment name it starts with. "_" is a
    # boundary: Kubernetes names never contain it, and the kubelet writes "<pod>_<namespace>(<uid>)".
    ordered = sorted(words, key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z0-9-])(" + "|".join(re.escape(w) for w in ordered) + r")(?![A-Za-z0-9-])")


_UUID = re.compile(r"(?<![0-9a-fA-F-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                   r"(?![0-9a-fA-F-])")


def apply_mask(text, mapping):
    """Replace every real name in ``text`` by its placeholder (whole tokens only); hide any other UID."""
    if not mapping or not text:
        return text
    return _UUID.sub("uid-other", _boundary_pattern(mapping).sub(lambda m: mapping[m.group(1)], text))


def unmask(text, mapping):
    """Put the real names back into the model's answer."""
    if not mapping or not text:
        return text
    reverse = dict((v, k) for k, v in mapping.items())
    return _boundary_pattern(reverse).sub(lambda m: reverse[m.group(1)], text)


def render_input(items, max_bytes, extra_patterns=None):
    """Redacted JSON text of the summary within ``max_bytes``: drops least severe items first."""
    max_bytes = max(int(max_bytes or 0), 256)
    kept = list(items)
    while True:
        payload = {"diagnoses": kept}
        omitted = len(items) - len(kept)
        if omitted:
            payload["omitted_diagnoses"] = omitted
        text = redact(json.dumps(redact_obj(payload), sort_keys=True, separators=(",", ":")),
                      extra_patterns=extra_patterns)
        if len(text.encode("utf-8")) <= max_bytes:
            return text, omitted
        if len(kept) > 1:
            kept = kept[:-1]
            continue
        # One diagnosis still too big: keep its head, marked as cut (still valid UTF-8).
        cut = text.encode("utf-8")[:max_bytes - 20].decode("utf-8", "ignore")
        return cut + " ...[truncated]", omitted


def build_command(binary, provider, model, query=QUERY, kubeconfig=None):
    """argv for kubectl-ai: --quiet always, --skip-permissions never, the run's own kubeconfig."""
    args = [binary, "--quiet"]
    if kubeconfig:
        args.extend(["--kubeconfig", kubeconfig])
    if provider:
        args.extend(["--llm-provider", provider])
    if model:
        args.extend(["--model", model])
    args.append(query)
    return args


def read_env_file(path):
    """KEY=VALUE pairs from the env file the aiops.k8s.kubectl_ai role writes (0600)."""
    env = {}
    with open(path, "r") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            if line.startswith("export "):
                line = line[len("export "):]
            key, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def resolve_binary(binary):
    """Absolute path of the kubectl-ai binary, or None when it cannot be found/executed."""
    if os.sep in binary:
        return binary if os.path.isfile(binary) and os.access(binary, os.X_OK) else None
    return shutil.which(binary)


def clean_answer(text, mapping=None, extra_patterns=None):
    text = _ANSI.sub("", text or "").strip()
    text = redact(text, extra_patterns=extra_patterns)
    text = unmask(text, mapping or {})
    if len(text) > MAX_ANSWER_CHARS:
        text = text[:MAX_ANSWER_CHARS] + "\n...[answer truncated]"
    return text


def explain(diagnoses, params, run_command, environ=None):
    """Ask kubectl-ai about the diagnoses. Returns (analysis dict or None, [warnings]).

    ``params`` are the module params (AI_ARGUMENT_SPEC keys plus the connection options, which say
    which cluster was diagnosed; ``redact_patterns`` is honoured if present). ``run_command`` has
    AnsibleModule.run_command's signature. ``environ`` defaults to os.environ. Never raises.
    """
    warnings = []
    provider = params.get("ai_provider") or None
    model = params.get("ai_model") or None
    timeout = params.get("ai_timeout") or 60
    extra = params.get("redact_patterns") or None
    environ = os.environ if environ is None else environ
    workdir = None
    try:
        items = summarise(diagnoses)
        if not items:
            return None, ["ai_explain: every pod is healthy, nothing was sent to kubectl-ai"]
        binary = resolve_binary(params.get("ai_binary") or "kubectl-ai")
        if binary is None:
            return None, ["ai_explain: kubectl-ai binary %r not found or not executable; install it with the "
                          "aiops.k8s.kubectl_ai role or set ai_binary" % (params.get("ai_binary") or "kubectl-ai")]
        provider_env = {}
        if params.get("ai_env_file"):
            try:
                provider_env = read_env_file(params["ai_env_file"])
            except (IOError, OSError) as exc:
                return None, ["ai_explain: cannot read ai_env_file %s (%s); no analysis requested"
                              % (params["ai_env_file"], exc.strerror or exc)]
        try:
            kubeconfig, identity = ai_child.child_kubeconfig(params, environ)
            workdir = tempfile.mkdtemp(prefix="aiops-ai-")
            kubeconfig_path = os.path.join(workdir, "kubeconfig")
            descriptor = os.open(kubeconfig_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(kubeconfig, handle)
            child_env = ai_child.child_environment(environ, provider_env, kubeconfig_path)
        except ai_child.Refused as exc:
            return None, ["ai_explain: %s" % redact(str(exc), extra_patterns=extra)]
        mapping = build_mask(items) if params.get("ai_mask_names") else {}
        text, omitted = render_input(items, params.get("ai_max_input_bytes") or 16384, extra)
        text = apply_mask(text, mapping)
        if omitted:
            warnings.append("ai_explain: %d less severe diagnoses were left out to stay within ai_max_input_bytes"
                            % omitted)
        args = [sys.executable, "-c", _WRAPPER, str(timeout)] + build_command(binary, provider, model,
                                                                              kubeconfig=kubeconfig_path)
        rc, out, err = run_command(args, data=json.dumps(child_env) + "\n" + text, binary_data=True)
    except Exception as exc:  # advisory feature: never lose the diagnosis because of it
        return None, warnings + ["ai_explain: analysis skipped: %s" % redact(str(exc), extra_patterns=extra)]
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if rc == TIMEOUT_RC:
        return None, warnings + ["ai_explain: kubectl-ai did not answer within %ss (ai_timeout); "
                                 "the deterministic diagnosis is unaffected" % timeout]
    if rc != 0:
        first = (err or out or "").strip().splitlines()
        reason = redact(first[-1] if first else "no output", extra_patterns=extra)
        return None, warnings + ["ai_explain: kubectl-ai failed (rc=%s): %s" % (rc, _clip(reason, 300))]
    answer = clean_answer(out, mapping, extra)
    if not answer:
        return None, warnings + ["ai_explain: kubectl-ai returned an empty answer"]
    return {"provider": provider or "default", "model": model or "default", "text": answer,
            "masked": bool(mapping), "identity": identity, "cluster": ai_child.server_of(kubeconfig) or None}, warnings
