# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: phr
type: aggregate
short_description: Write a tamper-evident operation history record (PHR) of every aiops.k8s run
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Collects what the collection's modules return (diagnoses, plans, approval decisions, remediation
    operations, validations, rollbacks; recognised by their C(aiops) marker, not by task names) plus the
    playbook, user, controller host, ansible-core version, start and end times and per-task outcomes.
  - At the end of the run writes one record per operation to C(<record_dir>/<YYYY-MM-DD>/<operation-id>.json)
    and a Markdown rendering next to it, atomically and never overwriting a file, and appends a hash-chained
    entry to C(<record_dir>/index.jsonl) under a file lock. A diagnose-only run gets one C(diag-...) record.
  - Write-ahead - before a task of M(aiops.k8s.remediate) or M(aiops.k8s.rollback) starts, chains a provisional
    C(run-...) record (plan, approval, diagnosis, status C(applying)); the end of the run revises it to C(completed)
    naming the final records. On Ctrl-C or SIGTERM the records collected so far are written and the provisional
    record is revised to C(interrupted); after SIGKILL it stays C(applying). M(aiops.k8s.phr_verify) reports both.
  - A follow-up of an operation whose run left no record is rebuilt from the operation store and marked
    C(reconstructed).
  - Follow-up validations and rollbacks of an earlier operation are written as new revisions
    (C(<operation-id>.v2.json), ...) with their own chained index entry; old files are never edited.
  - Everything passes through the collection's redactor plus O(redact_patterns); extra vars are left out
    unless O(include_extra_vars) is set.
  - Prints one summary line per record saying whether and where it was written. A run that changed the
    cluster without a written record is displayed as an error. A callback cannot change the exit code of
    C(ansible-playbook); the C(playbooks/phr_verify.yml) playbook (module M(aiops.k8s.phr_verify)) detects operations without a record.
  - Enable it with C(callbacks_enabled = aiops.k8s.phr) in C(ansible.cfg) or C(ANSIBLE_CALLBACKS_ENABLED).
requirements:
  - jinja2 (shipped with ansible-core)
options:
  record_dir:
    description: Directory that holds the records and the index.
    type: path
    default: ~/.local/state/aiops-k8s/phr
    env:
      - name: AIOPS_K8S_PHR_DIR
    ini:
      - section: aiops_k8s_phr
        key: record_dir
  formats:
    description:
      - Renderings written next to the JSON record. The JSON record is always written because the index
        hashes it.
    type: list
    elements: str
    default: [json, md]
    env:
      - name: AIOPS_K8S_PHR_FORMATS
    ini:
      - section: aiops_k8s_phr
        key: formats
  sinks:
    description:
      - Where records go. V(file) writes the record directory, V(http) POSTs each record as JSON to
        O(http_url), V(stdout) prints the compact summary line (kept in AWX job output).
    type: list
    elements: str
    default: [file, stdout]
    env:
      - name: AIOPS_K8S_PHR_SINKS
    ini:
      - section: aiops_k8s_phr
        key: sinks
  http_url:
    description: URL the V(http) sink POSTs each record to.
    type: str
    env:
      - name: AIOPS_K8S_PHR_HTTP_URL
    ini:
      - section: aiops_k8s_phr
        key: http_url
  http_token:
    description: Bearer token sent by the V(http) sink. Environment only, so it never sits in a file.
    type: str
    env:
      - name: AIOPS_K8S_PHR_HTTP_TOKEN
  http_timeout:
    description: Seconds before one POST attempt times out.
    type: float
    default: 10
    env:
      - name: AIOPS_K8S_PHR_HTTP_TIMEOUT
    ini:
      - section: aiops_k8s_phr
        key: http_timeout
  http_retries:
    description: Retries after a failed POST (connection error, HTTP 5xx or 429), with exponential backoff.
    type: int
    default: 3
    env:
      - name: AIOPS_K8S_PHR_HTTP_RETRIES
    ini:
      - section: aiops_k8s_phr
        key: http_retries
  redact_patterns:
    description:
      - Extra regular expressions masked in every output, on top of the collection's built-in patterns.
      - From the environment the list is comma separated, so a pattern cannot contain a comma there.
    type: list
    elements: str
    default: []
    env:
      - name: AIOPS_K8S_PHR_REDACT_PATTERNS
    ini:
      - section: aiops_k8s_phr
        key: redact_patterns
  head_file:
    description:
      - A file OUTSIDE the record directory where the chain head (seq, hash) is written after every
        record. Pass it to M(aiops.k8s.phr_verify) as its C(head_file) option to detect a cut
        tail, appended entries or a wiped directory.
      - The chain is keyed (HMAC-SHA256) when E(AIOPS_K8S_PHR_KEY) or E(AIOPS_K8S_PHR_KEY_FILE) is set; see docs/phr.md.
    type: path
    env:
      - name: AIOPS_K8S_PHR_HEAD_FILE
    ini:
      - section: aiops_k8s_phr
        key: head_file
  include_extra_vars:
    description: Also record the run's extra vars (redacted). Off by default because they often hold secrets.
    type: bool
    default: false
    env:
      - name: AIOPS_K8S_PHR_INCLUDE_EXTRA_VARS
    ini:
      - section: aiops_k8s_phr
        key: include_extra_vars
"""

import atexit
import getpass
import json
import os
import signal
import socket
import traceback

from ansible.module_utils.urls import open_url
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ansible_version

try:
    from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import redact
    from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, utcnow
    from ansible_collections.aiops.k8s.plugins.module_utils.records import model as records
    from ansible_collections.aiops.k8s.plugins.module_utils.records.collect import RunCollector
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore
    from ansible_collections.aiops.k8s.plugins.module_utils.records.store import RecordStore, load_key
    from ansible_collections.aiops.k8s.plugins.module_utils.records.writeahead import provisional_record, reconstruct_record
    from ansible_collections.aiops.k8s.plugins.plugin_utils.render import render_record_markdown
    from ansible_collections.aiops.k8s.plugins.plugin_utils.sink import http_post
    IMPORT_ERROR = None
except Exception as exc:  # the record is lost otherwise: say so loudly at the end of the run
    records = None
    IMPORT_ERROR = "%s: %s" % (type(exc).__name__, exc)

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "templates", "phr")


class CallbackModule(CallbackBase):
    """Collect collection results during the run, write the PHR records at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "aiops.k8s.phr"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._collector = RunCollector() if records else None
        self._errors = []
        self._playbook = None
        self._extra_vars = None
        self._started = None
        self._finished = False
        self._interrupted = None
        self._pending = []          # write-ahead records written before a mutating task: (record, entry)
        self._pid = os.getpid()     # forked workers inherit the handlers: only the controller writes
        atexit.register(self._on_exit)
        try:
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        except ValueError:  # not the main thread (embedded use): no handler, the next run flags the record
            self._previous_sigterm = None

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._record_dir = self.get_option("record_dir")
        self._formats = [f.strip() for f in self.get_option("formats") or [] if f.strip()]
        self._sinks = [s.strip() for s in self.get_option("sinks") or [] if s.strip()]
        self._http_url = self.get_option("http_url")
        self._http_token = self.get_option("http_token")
        self._http_timeout = float(self.get_option("http_timeout"))
        self._http_retries = int(self.get_option("http_retries"))
        self._patterns = [p for p in self.get_option("redact_patterns") or [] if p]
        self._include_extra_vars = self.get_option("include_extra_vars")
        self._head_file = self.get_option("head_file")

    # ---- collection hooks: never raise, remember what went wrong for the record

    def _guard(self, what, func, *args):
        try:
            func(*args)
        except Exception as exc:
            self._errors.append("%s: %s: %s" % (what, type(exc).__name__, exc))

    def v2_playbook_on_start(self, playbook):
        self._started = utcnow() if records else None
        self._playbook = os.path.abspath(getattr(playbook, "_file_name", "") or "")

    def v2_playbook_on_play_start(self, play):
        if self._include_extra_vars and self._extra_vars is None:
            self._guard("extra vars", self._read_extra_vars, play)

    def _read_extra_vars(self, play):
        manager = play.get_variable_manager()
        self._extra_vars = records.plain(dict(manager.extra_vars)) if manager else {}

    def _record_result(self, result, status):
        if self._collector is None:
            return
        task = result.task
        self._collector.add(task._uuid, task.get_name(), task.action, result.host.get_name(), status,
                            result.result)

    def v2_runner_on_ok(self, result):
        self._guard("task result", self._record_result, result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._guard("task result", self._record_result, result, "failed")

    def v2_runner_on_skipped(self, result):
        self._guard("task result", self._record_result, result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._guard("task result", self._record_result, result, "unreachable")

    # ---- end of run

    # ---- write-ahead: a provisional record before a task that can change the cluster

    def v2_runner_on_start(self, host, task):
        if records is not None and _short(task.action) in MUTATING and "file" in self._sinks:
            self._guard("write-ahead record", self._write_ahead, task)

    def _write_ahead(self, task):
        """Chain a provisional ``applying`` record (plan, approval, diagnosis seen so far) before the task
        runs: a run killed during the change leaves it behind, and phr_verify lists it."""
        run = self._run_info()
        record = provisional_record(self._collector, run, task.get_name(), task.action)
        store = RecordStore(self._record_dir, key=load_key(self._record_dir), head_file=self._head_file)
        self._pending.append((self._clean(record), store.begin(self._clean(record))))

    def _close_pending(self, status, written):
        """Revise each write-ahead record: completed (naming the final records) or interrupted."""
        store = RecordStore(self._record_dir, key=load_key(self._record_dir), head_file=self._head_file)
        for record, _entry in self._pending:
            final = dict(record, status=status, completed_by=written)
            if status == "interrupted":
                final["problems"] = list(record.get("problems") or []) + [
                    "the run was interrupted (%s) after this write-ahead record: check the target and the "
                    "operation store" % self._interrupted]
            store.finish(final)
        self._pending = []

    def _on_sigterm(self, signum, frame):
        if os.getpid() == self._pid:
            self._interrupt("SIGTERM")
        handler = self._previous_sigterm
        if callable(handler):
            handler(signum, frame)
        raise SystemExit(128 + signum)

    def _on_exit(self):
        """Ctrl-C ends ansible-playbook without v2_playbook_on_stats: write what the run produced."""
        if os.getpid() == self._pid and not self._finished:
            self._interrupt("SIGINT or an early exit")

    def _interrupt(self, reason):
        if self._finished or records is None:
            return
        self._interrupted = reason
        self._errors.append("run interrupted: %s" % reason)
        self.v2_playbook_on_stats(None)

    def v2_playbook_on_stats(self, stats):
        if self._finished:
            return
        self._finished = True
        if records is None:
            self._display.error("PHR: the aiops.k8s.phr callback cannot load its record code (%s): NO record "
                                "was written for this run." % IMPORT_ERROR)
            return
        try:
            self._finish()
        except Exception as exc:
            self._errors.append("finalize: %s: %s" % (type(exc).__name__, exc))
            self._display.vvv(traceback.format_exc())
            self._fallback()

    def _run_info(self):
        run = {
            "playbook": self._playbook,
            "user": _user(),
            "controller": socket.gethostname(),
            "ansible_version": ansible_version,
            "started_at": isoformat(self._started),
            "finished_at": isoformat(utcnow()),
            "tasks": self._collector.tasks if self._collector else [],
            "callback_errors": list(self._errors),
        }
        if self._include_extra_vars:
            run["extra_vars"] = self._extra_vars or {}
        return run

    def _finish(self):
        run = self._run_info()
        built = records.build_records(self._collector, run)
        store = RecordStore(self._record_dir, key=load_key(self._record_dir), head_file=self._head_file)
        outcomes = []
        for record in built["records"]:
            outcomes.append(self._emit(store, record))
        for op_id, kind, payload in built["follow_ups"]:
            outcomes.append(self._emit_follow_up(store, op_id, kind, payload, run))
        if self._pending:
            written = [summary["record_id"] for summary, _record in outcomes if summary["written"]]
            self._close_pending("interrupted" if self._interrupted else "completed", written)
        self._report(outcomes)

    def _emit_follow_up(self, store, op_id, kind, payload, run):
        """A follow-up revision, built from the newest revision INSIDE the store lock (no forks)."""
        def build(previous, entry):
            note = None
            if previous is None:
                previous = self._reconstruct(op_id, run)
            if previous is None:
                note = "follow-up %s of %s: no earlier record found in %s" % (kind, op_id, store.root)
            return self._clean(records.follow_up_revision(previous, kind, payload, run, entry=entry, note=note))

        if "file" not in self._sinks:
            return self._emit(store, build(None, None))
        try:
            record, entry = store.revise(op_id, build, self._markdown)
        except Exception as exc:
            self._errors.append("revising record %s: %s" % (op_id, _one_line(exc)))
            return self._emit(store, build(None, None))
        return self._publish_record(record, os.path.join(store.root, entry["file"]), None, entry)

    def _reconstruct(self, op_id, run):
        """The operation store's copy of an operation whose run left no record (None when it has none)."""
        try:
            directory = opstore.state_dir()
            return reconstruct_record(opstore.load(directory, op_id), opstore.record_path(directory, op_id), run)
        except (opstore.OpStoreError, OSError, ValueError):
            return None

    def _clean(self, record):
        record["runs"][-1]["callback_errors"] = list(self._errors)
        return records.redact_record(record, self._patterns)

    def _markdown(self, record):
        return render_record_markdown(record, TEMPLATE_DIR) if "md" in self._formats else None

    def _emit(self, store, record):
        """Redact, render, write and publish one record; returns (summary, record)."""
        clean = self._clean(record)
        written, error, entry = None, None, None
        if "file" in self._sinks:
            try:
                entry = store.write(clean, self._markdown)
                written = os.path.join(store.root, entry["file"])
            except Exception as exc:
                error = _one_line(exc)
                # Keep what we have: the JSON without the rendering, if only rendering failed.
                if not isinstance(exc, (records.RecordError, OSError)):
                    try:
                        clean["problems"].append("rendering failed: %s" % error)
                        entry = store.write(clean, None)
                        written, error = os.path.join(store.root, entry["file"]), None
                    except Exception as second:
                        error = "%s; fallback write failed too: %s" % (error, _one_line(second))
        return self._publish_record(clean, written, error, entry)

    def _publish_record(self, clean, written, error, entry):
        """The HTTP sink: the record plus its chain position, so the receiver holds an anchor too."""
        chain = dict((k, (entry or {}).get(k)) for k in ("seq", "hash", "prev_hash", "sha256"))
        if "http" in self._sinks:
            if not self._http_url:
                self._errors.append("http sink enabled but AIOPS_K8S_PHR_HTTP_URL is not set")
            else:
                ok, attempts, detail = http_post(self._http_url, dict(clean, chain=chain), _open_url,
                                                 timeout=self._http_timeout, retries=self._http_retries,
                                                 token=self._http_token)
                if not ok:
                    message = "HTTP sink %s failed after %d attempt(s): %s" % (
                        redact(self._http_url), attempts, detail)
                    self._display.warning("PHR: %s" % message)
                    if "file" not in self._sinks:
                        error = message
                elif "file" not in self._sinks:
                    written = self._http_url
        return records.summary_line(clean, written, error, entry), clean

    def _report(self, outcomes):
        for summary, record in outcomes:
            status = (record.get("operation") or {}).get("status")
            changed = status in ("applied", "validated", "rolled_back", "rollback_failed")
            self._publish(summary, changed)
        if not outcomes and self._collector.changed_cluster:
            self._display.error("PHR: this run changed the cluster but produced no record.")

    def _publish(self, summary, changed):
        if summary["written"]:
            self._display.display("PHR: record %s (%s) written to %s" % (
                summary["record_id"], summary["status"], summary["path"]))
        else:
            line = "PHR: record %s NOT written: %s" % (summary["record_id"], summary["error"] or "no sink wrote it")
            if changed:
                self._display.error(line + " -- this run CHANGED THE CLUSTER without an audit record; "
                                           "keep this output and run the aiops.k8s.phr_verify playbook")
            else:
                self._display.warning(line)
        if "stdout" in self._sinks:
            self._display.display("PHR-SUMMARY: %s" % json.dumps(records.redact_record(summary, self._patterns),
                                                                 sort_keys=True, default=str))

    def _fallback(self):
        """Something failed while building records: write what we have, plus the error."""
        try:
            run = self._run_info()
            record = records.new_record(records.new_record_id("run"), "run", run, isoformat(utcnow()))
            record["problems"].append("the PHR callback failed while building records; raw collected results "
                                      "are kept under raw_results")
            record["raw_results"] = self._collector.payloads if self._collector else []
            record["completeness"] = records.completeness(record)
            store = RecordStore(self._record_dir, head_file=self._head_file)
            summary, clean = self._emit(store, record)
            self._display.warning("PHR: building the records failed (%s); writing a fallback record with the raw "
                                  "results instead" % redact("; ".join(self._errors)))
            self._publish(summary, bool(self._collector and self._collector.changed_cluster))
        except Exception as exc:
            self._display.error("PHR: NO record was written for this run (%s; earlier: %s)"
                                % (_one_line(exc), redact("; ".join(self._errors))))


MUTATING = ("remediate", "rollback")


def _short(action):
    text = str(action or "")
    return text[len("aiops.k8s."):] if text.startswith("aiops.k8s.") else None


def _open_url(url, data=None, headers=None, method=None, timeout=10):
    """open_url without following redirects: a redirected POST would re-send the record elsewhere."""
    return open_url(url, data=data, headers=headers, method=method, timeout=timeout, follow_redirects="none",
                    use_proxy=True)


def _user():
    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USER") or "unknown"


def _one_line(exc):
    return " ".join(("%s" % exc).split()) or exc.__class__.__name__
