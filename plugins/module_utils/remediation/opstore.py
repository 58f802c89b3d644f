# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operation store: one JSON file per operation holding the full pre-change object.

Written before anything changes, atomically (temp file + rename, mode 0600 in a 0700 directory), so a
crash mid-change still leaves what rollback needs. Files may hold plain env values of a workload,
hence the modes; results only carry the path and a digest, never the object.

The store also keeps the ledger of used approvals (``approvals.jsonl``): an approval is consumed once,
under the store's lock, before the change is applied; using it again is refused.
"""

from __future__ import absolute_import, division, print_function

import contextlib
import fcntl
import json
import os
import re
import tempfile

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import sha256_hex
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import compact
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity

__metaclass__ = type

ENV_STATE_DIR = "AIOPS_K8S_STATE_DIR"
DEFAULT_STATE_DIR = "~/.local/state/aiops-k8s/operations"
OPERATION_ID_RE = re.compile(r"^op-\d{14}-[0-9a-f]{6}$")
LEDGER = "approvals.jsonl"
LOCK = ".lock"


class OpStoreError(AiopsError):
    """The store cannot be read or written (one-line message naming the file)."""


class ApprovalReplayed(OpStoreError):
    """This approval was already used by another operation."""


def state_dir(explicit=None, environ=None):
    """Where operations live: the option, else $AIOPS_K8S_STATE_DIR, else ~/.local/state/aiops-k8s/operations."""
    environ = os.environ if environ is None else environ
    chosen = explicit or environ.get(ENV_STATE_DIR) or DEFAULT_STATE_DIR
    return os.path.abspath(os.path.expanduser(chosen))


def new_operation_id(now, random_hex=None):
    """op-<UTC yyyymmddHHMMSS>-<6 hex>."""
    suffix = random_hex if random_hex is not None else os.urandom(3).hex()
    return "op-%s-%s" % (compact(now), suffix)


def digest(obj):
    """sha256 of the canonical JSON of an object (what pre_state_digest reports)."""
    return sha256_hex(obj)


@contextlib.contextmanager
def locked(directory):
    """The store's exclusive lock (a flock on <store>/.lock), so two runs never interleave ledger updates."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        handle = os.open(os.path.join(directory, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise OpStoreError("Cannot lock the operation store %s: %s" % (directory, exc.strerror or exc))
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def approval_key(approval, plan_id):
    """What identifies one approval: the plan it approves, who, when, and its nonce (signature) if any."""
    approval = approval or {}
    return sha256_hex({"plan_id": plan_id, "approver": approval.get("approver"),
                       "decided_at": approval.get("decided_at"), "nonce": approval.get("nonce") or
                       approval.get("signature") or approval.get("awx_workflow_job_id")})


def consume_approval(directory, approval, plan_id, operation_id, used_at):
    """Record an approval as used, or raise ApprovalReplayed if it already was (under the store lock)."""
    key = approval_key(approval, plan_id)
    path = os.path.join(directory, LEDGER)
    with locked(directory):
        try:
            with open(path) as stream:
                for line in stream:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if entry.get("key") == key:
                        raise ApprovalReplayed(
                            "Approval of plan %s by %s (decided %s) was already used by operation %s at %s: an "
                            "approval is valid once; approve again" % (
                                plan_id, (approval or {}).get("approver"), (approval or {}).get("decided_at"),
                                entry.get("operation_id"), entry.get("used_at")))
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) != 2:
                raise OpStoreError("Cannot read the approval ledger %s: %s" % (path, exc))
        entry = {"key": key, "plan_id": plan_id, "approver": (approval or {}).get("approver"),
                 "decided_at": (approval or {}).get("decided_at"), "operation_id": operation_id, "used_at": used_at}
        try:
            handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(handle, "a") as stream:
                stream.write(json.dumps(entry, sort_keys=True) + "\n")
                stream.flush()
                os.fsync(stream.fileno())
        except (IOError, OSError) as exc:
            raise OpStoreError("Cannot write the approval ledger %s: %s" % (path, exc))
    return key


def record_path(directory, operation_id):
    if not isinstance(operation_id, str) or not OPERATION_ID_RE.match(operation_id):
        raise OpStoreError("Operation id %r is not of the form op-<yyyymmddHHMMSS>-<6 hex>" % (operation_id,))
    return os.path.join(directory, operation_id + ".json")


def write_json_atomic(path, data, what, prefix=".op-"):
    """Write ``data`` as JSON to ``path`` (0600, fsynced, renamed into place): whole or not at all.

    ``what`` names the store in the one-line error ("the operation store", "the shown plans").
    """
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OpStoreError("Cannot write %s %s: %s" % (what, directory, exc.strerror or exc))
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as stream:
            json.dump(data, stream, indent=1, sort_keys=True, default=str)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except (OSError, TypeError, ValueError) as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise OpStoreError("Cannot write %s %s: %s" % (what, path, exc))
    return path


def save(directory, record, key=None):
    """Write record atomically (with a MAC when a plan key is configured); returns its path."""
    return write_json_atomic(record_path(directory, record.get("operation_id")), integrity.sign(record, key),
                             "the operation store")


def save_operation(directory, record, operation, key=None, strict=False):
    """Save the record with this operation state; a failure is a warning on the operation unless strict."""
    record["operation"] = operation
    try:
        save(directory, record, key)
    except OpStoreError as exc:
        if strict:
            raise
        operation.setdefault("warnings", []).append(str(exc))


def load(directory, operation_id, key=None):
    path = record_path(directory, operation_id)
    try:
        with open(path) as stream:
            record = json.load(stream)
    except (IOError, OSError):
        raise OpStoreError("Operation %s not found in %s: check the id and the state_dir used when remediating"
                           % (operation_id, directory))
    except ValueError:
        raise OpStoreError("Operation record %s is not valid JSON" % path)
    if not isinstance(record, dict) or record.get("operation_id") != operation_id or "pre_state" not in record:
        raise OpStoreError("Operation record %s is incomplete (no pre_state)" % path)
    if digest(record["pre_state"]) != record.get("pre_state_digest"):
        raise OpStoreError("Operation record %s was modified: pre_state no longer matches its digest" % path)
    if not integrity.verify(record, key):
        raise OpStoreError("Operation record %s carries no valid MAC for this site's plan key: it was not written "
                           "by remediate here, or it was edited; refusing it" % path)
    return record
