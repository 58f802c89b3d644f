# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operation store: one JSON file per operation holding the full pre-change object.

Written before anything changes, atomically (temp file + rename, mode 0600 in a 0700 directory), so a
crash mid-change still leaves what rollback needs. Files may hold plain env values of a workload,
hence the modes; results only carry the path and a digest, never the object.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import re
import tempfile
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError

__metaclass__ = type

ENV_STATE_DIR = "AIOPS_K8S_STATE_DIR"
DEFAULT_STATE_DIR = "~/.local/state/aiops-k8s/operations"
OPERATION_ID_RE = re.compile(r"^op-\d{14}-[0-9a-f]{6}$")


class OpStoreError(AiopsError):
    """The store cannot be read or written (one-line message naming the file)."""


def state_dir(explicit=None, environ=None):
    """Where operations live: the option, else $AIOPS_K8S_STATE_DIR, else ~/.local/state/aiops-k8s/operations."""
    environ = os.environ if environ is None else environ
    chosen = explicit or environ.get(ENV_STATE_DIR) or DEFAULT_STATE_DIR
    return os.path.abspath(os.path.expanduser(chosen))


def new_operation_id(now, random_hex=None):
    """op-<UTC yyyymmddHHMMSS>-<6 hex>."""
    suffix = random_hex if random_hex is not None else os.urandom(3).hex()
    return "op-%s-%s" % (now.strftime("%Y%m%d%H%M%S"), suffix)


def digest(obj):
    """sha256 of the canonical JSON of an object (what pre_state_digest reports)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_path(directory, operation_id):
    if not isinstance(operation_id, str) or not OPERATION_ID_RE.match(operation_id):
        raise OpStoreError("Operation id %r is not of the form op-<yyyymmddHHMMSS>-<6 hex>" % (operation_id,))
    return os.path.join(directory, operation_id + ".json")


def save(directory, record):
    """Write record atomically; returns its path."""
    path = record_path(directory, record.get("operation_id"))
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".op-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OpStoreError("Cannot write the operation store %s: %s" % (directory, exc.strerror or exc))
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as stream:
            json.dump(record, stream, indent=1, sort_keys=True, default=str)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except (OSError, TypeError, ValueError) as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise OpStoreError("Cannot write operation record %s: %s" % (path, exc))
    return path


def load(directory, operation_id):
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
    return record
