# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record store: immutable record files plus an append-only, hash-chained index.

Layout of a record directory::

    <dir>/index.jsonl                      append-only, one hash-chained entry per written file
    <dir>/index.lock                       fcntl lock serialising writers on one controller
    <dir>/<YYYY-MM-DD>/<record-id>.json    revision 1 (never rewritten)
    <dir>/<YYYY-MM-DD>/<record-id>.v2.json follow-up validation / rollback, a new chained entry
    <dir>/<YYYY-MM-DD>/<record-id>.md      human rendering of the same revision
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import tempfile

from ansible_collections.aiops.k8s.plugins.module_utils.common.files import replace_atomic
from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import hmac_hex, sha256_hex
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import UTC, isoformat, parse_time, utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.records.model import RecordError

GENESIS_HASH = "0" * 64
INDEX_NAME = "index.jsonl"
LOCK_NAME = "index.lock"
ENV_KEY = "AIOPS_K8S_PHR_KEY"
ENV_KEY_FILE = "AIOPS_K8S_PHR_KEY_FILE"

_ID_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def entry_hash(entry):
    """Hash of an index entry over every field except its own hash and MAC."""
    return sha256_hex(dict((k, v) for k, v in entry.items() if k not in ("hash", "mac")))


class _Lock(object):
    """Exclusive fcntl lock on <dir>/index.lock: one writer at a time on this controller."""

    def __init__(self, root):
        self.path = os.path.join(root, LOCK_NAME)
        self.handle = None

    def __enter__(self):
        import fcntl  # POSIX only; imported here so the module still loads for reading elsewhere
        self.handle = open(self.path, "a+")
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        return False


def _write_exclusive(path, data, sync=True):
    """Write bytes to a new file atomically (temp file + link); never replace an existing file.

    ``sync=False`` for renderings (the Markdown is re-derivable from the JSON, whose fsync matters)."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o640)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise RecordError("Refusing to overwrite the existing record %s" % path)
        except OSError:
            # Filesystems without hard links: rename is still atomic; the caller holds the lock.
            if os.path.exists(path):
                raise RecordError("Refusing to overwrite the existing record %s" % path)
            os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _safe_id(record_id):
    if not isinstance(record_id, str) or not _ID_SAFE.match(record_id) or ".." in record_id:
        raise RecordError("Record id %r is not a safe file name: expected letters, digits, '.', '_' or '-'"
                          % (record_id,))
    return record_id


class RecordStore(object):
    """A record directory: date folders of immutable files plus the append-only hash-chained index."""

    def __init__(self, root, key=None, head_file=None):
        self.root = os.path.abspath(os.path.expanduser(root))
        self.index_path = os.path.join(self.root, INDEX_NAME)
        self.key = key.encode("utf-8") if isinstance(key, str) else key
        self.head_file = head_file

    def ensure(self):
        try:
            os.makedirs(self.root, mode=0o750, exist_ok=True)
        except OSError as exc:
            raise RecordError("Cannot create the PHR record directory %s: %s; set AIOPS_K8S_PHR_DIR (or "
                              "[aiops_k8s_phr] record_dir) to a writable directory" % (self.root, exc.strerror or exc))
        if not os.access(self.root, os.W_OK):
            raise RecordError("The PHR record directory %s is not writable; fix its permissions or set "
                              "AIOPS_K8S_PHR_DIR to a writable directory" % self.root)

    def entries(self):
        """Index entries as parsed dicts (raises RecordError naming the line when one is not JSON)."""
        if not os.path.exists(self.index_path):
            return []
        found = []
        with open(self.index_path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    found.append(json.loads(line.decode("utf-8")))
                except ValueError:
                    raise RecordError("%s line %d is not valid JSON" % (self.index_path, number))
        return found

    def _last_entry(self):
        """The last index entry, read from the end of the file (the index only grows)."""
        if not os.path.exists(self.index_path):
            return None
        with open(self.index_path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            block = min(size, 65536)
            while True:
                handle.seek(size - block)
                lines = [line for line in handle.read(block).splitlines() if line.strip()]
                if len(lines) > 1 or block == size:
                    break
                block = min(size, block * 4)
        if not lines:
            return None
        try:
            return json.loads(lines[-1].decode("utf-8"))
        except ValueError:
            raise RecordError("The last line of %s is not valid JSON: run the aiops.k8s.phr_verify playbook"
                              % self.index_path)

    def latest(self, record_id):
        """(record, entry) of the newest revision of a record id, or (None, None)."""
        newest = None
        for entry in self.entries():
            if entry.get("record_id") == record_id and (newest is None or entry.get("revision", 1) >= newest.get(
                    "revision", 1)):
                newest = entry
        if newest is None:
            return None, None
        with open(os.path.join(self.root, newest["file"]), "rb") as handle:
            return json.loads(handle.read().decode("utf-8")), newest

    def write(self, record, markdown=None, now=None):
        """Write a record revision (JSON, optional Markdown) and chain it into the index.

        Everything happens under the index lock, so concurrent runs get consecutive, correctly
        chained entries. ``markdown`` may be a callable of the final record. Returns the index entry.
        """
        self.ensure()
        _safe_id(record.get("record_id"))
        with _Lock(self.root):
            return self._write_locked(record, markdown, now)

    def revise(self, record_id, build, markdown=None, now=None):
        """Append a revision built from the newest one, reading and writing under the same lock.

        build(previous_record_or_None, previous_entry_or_None) -> the new revision. Reading the newest
        revision inside the lock is what keeps the revisions of one record linear when five follow-ups
        run at once: each one supersedes the revision the previous writer just chained.
        """
        self.ensure()
        _safe_id(record_id)
        with _Lock(self.root):
            previous, entry = self.latest(record_id)
            record = build(previous, entry)
            if entry is not None:
                record["revision"] = entry.get("revision", 1) + 1
                record["supersedes"] = {"file": entry["file"], "sha256": entry["sha256"],
                                        "revision": entry.get("revision", 1), "hash": entry.get("hash")}
            return record, self._write_locked(record, markdown, now, previous_entry=entry)

    def _write_locked(self, record, markdown, now, previous_entry=None):
        record_id = record.get("record_id")
        revision = int(record.get("revision") or 1)
        folder = os.path.dirname(previous_entry["file"]) if previous_entry else None
        if revision > 1 and previous_entry is None:
            previous_entry = self.latest(record_id)[1]
            if previous_entry is not None:
                folder = os.path.dirname(previous_entry["file"])
                revision = max(revision, previous_entry.get("revision", 1) + 1)
                record["revision"] = revision
        if folder is None:
            created = parse_time(record.get("created_at") or "") or now or utcnow()
            folder = created.astimezone(UTC).strftime("%Y-%m-%d")
        os.makedirs(os.path.join(self.root, folder), mode=0o750, exist_ok=True)
        stem = record_id if revision == 1 else "%s.v%d" % (record_id, revision)
        json_rel = os.path.join(folder, stem + ".json")
        # One line of key-sorted JSON: indent would force the pure-Python encoder, the slowest step of a write;
        # the Markdown rendering is the human form.
        data = (json.dumps(record, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
            "utf-8")
        _write_exclusive(os.path.join(self.root, json_rel), data)
        entry = {
            "seq": 0,
            "record_id": record_id,
            "revision": revision,
            "record_type": record.get("record_type"),
            "status": record.get("status"),
            "file": json_rel,
            "sha256": sha256_hex(data),
            "md_file": None,
            "md_sha256": None,
            "written_at": isoformat(now or utcnow()),
        }
        text = markdown(record) if callable(markdown) else markdown
        if text is not None:
            md_rel = os.path.join(folder, stem + ".md")
            md_data = text.encode("utf-8")
            _write_exclusive(os.path.join(self.root, md_rel), md_data, sync=False)
            entry["md_file"], entry["md_sha256"] = md_rel, sha256_hex(md_data)
        last = self._last_entry()
        entry["seq"] = (last.get("seq", 0) + 1) if last else 1
        entry["prev_hash"] = last.get("hash") if last else GENESIS_HASH
        entry["hash"] = entry_hash(entry)
        if self.key is not None:
            entry["mac"] = hmac_hex(self.key, entry["hash"])
        line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
        with open(self.index_path, "a") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        if self.head_file:
            write_head(self.head_file, entry)
        return entry

    def begin(self, record, now=None):
        """Write-ahead: chain a provisional revision (status ``applying``) before the first mutating request.

        The end of the run revises it (``finish``); a run killed in between leaves ``applying`` in the
        chain, which phr_verify lists. Returns the index entry.
        """
        record = dict(record, status="applying", provisional=True)
        if isinstance(record.get("operation"), dict):
            record["operation"] = dict(record["operation"], status="applying")
        return self.write(record, None, now)

    def finish(self, record, markdown=None, now=None):
        """The final revision of a write-ahead record: supersedes the provisional one, linearly."""
        def build(previous, _entry):
            return dict(record, provisional=False, revision=int((previous or {}).get("revision") or 0) + 1)
        return self.revise(record["record_id"], build, markdown, now)[1]


def write_head(path, entry):
    """The chain head (seq, hash) kept OUTSIDE the record directory: an anchor that a rewrite, a cut
    tail or a wiped directory no longer matches. Written atomically."""
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    head = {"seq": entry.get("seq"), "hash": entry.get("hash"), "written_at": entry.get("written_at")}
    replace_atomic(path, json.dumps(head, sort_keys=True) + "\n", mode=0o600, prefix=".head-")


def read_head(path):
    """The anchor {seq, hash} from a head file; RecordError naming the file when it cannot be read."""
    try:
        with open(os.path.expanduser(path), "r") as handle:
            head = json.load(handle)
        if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or not head.get("hash"):
            raise ValueError("expected {seq, hash}")
        return head
    except (OSError, ValueError) as exc:
        raise RecordError("Cannot read the PHR head file %s: %s; pass expected_head instead" % (path, exc))


def load_key(record_dir, environ=None):
    """The chain's HMAC key: $AIOPS_K8S_PHR_KEY, else the file named by $AIOPS_K8S_PHR_KEY_FILE.

    A key file inside the record directory proves nothing (whoever rewrites records reads it too), so
    it is refused. None when no key is configured: the chain is then unkeyed (see docs/phr.md).
    """
    environ = os.environ if environ is None else environ
    if environ.get(ENV_KEY):
        return environ[ENV_KEY].encode("utf-8")
    path = environ.get(ENV_KEY_FILE)
    if not path:
        return None
    path = os.path.abspath(os.path.expanduser(path))
    root = os.path.abspath(os.path.expanduser(record_dir))
    if path == root or path.startswith(root + os.sep):
        raise RecordError("The PHR key file %s is inside the record directory %s: keep it elsewhere (a key next "
                          "to the records proves nothing)" % (path, root))
    try:
        with open(path, "rb") as handle:
            key = handle.read().strip()
    except OSError as exc:
        raise RecordError("Cannot read the PHR key file %s: %s" % (path, exc.strerror or exc))
    if not key:
        raise RecordError("The PHR key file %s is empty" % path)
    return key


def operation_store_ids(state_dir):
    """Operation ids that have a saved pre-change object in the operation store."""
    found = set()
    if not state_dir or not os.path.isdir(state_dir):
        return found
    for name in os.listdir(state_dir):
        match = re.match(r"^(op-\d{14}-[0-9a-f]{6})(?:\..*)?\.json$", name)
        if match:
            found.add(match.group(1))
    return found


def load_latest_records(root, since=None, until=None):
    """The newest revision of every record first written inside [since, until)."""
    store = RecordStore(root)
    first_seen, newest = {}, {}
    for entry in store.entries():
        record_id = entry.get("record_id")
        if record_id not in first_seen:
            first_seen[record_id] = parse_time(entry.get("written_at") or "")
        if record_id not in newest or entry.get("revision", 1) >= newest[record_id].get("revision", 1):
            newest[record_id] = entry
    records = []
    for record_id, entry in newest.items():
        when = first_seen.get(record_id)
        if since is not None and (when is None or when < since):
            continue
        if until is not None and (when is None or when >= until):
            continue
        path = os.path.join(store.root, entry["file"])
        try:
            with open(path, "rb") as handle:
                records.append(json.loads(handle.read().decode("utf-8")))
        except (OSError, ValueError) as exc:
            raise RecordError("Cannot read record %s: %s; run the aiops.k8s.phr_verify playbook" % (path, exc))
    records.sort(key=lambda r: r.get("created_at") or "")
    return records
