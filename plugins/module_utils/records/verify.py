# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification of a record directory. Read-only; what each check proves is stated in docs/phr.md.

- the hash chain and every file digest (edits by someone who does not recompute the chain);
- with the HMAC key: every entry's MAC (a chain recomputed without the key);
- with an anchor (expected head, head file, minimum entries): truncation, appended entries, a wipe;
- revisions of one record form a line (each supersedes the one before, none forks);
- unindexed files, operations of the operation store without a record, records left ``applying``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import hmac_hex, same_digest, sha256_file
from ansible_collections.aiops.k8s.plugins.module_utils.records.store import (
    GENESIS_HASH, INDEX_NAME, RecordStore, entry_hash, operation_store_ids)


def parse_anchor(value):
    """An anchor as given by a user: ``<seq>:<hash>`` (from a PHR-SUMMARY line) or a bare hash."""
    if value in (None, ""):
        return None
    if isinstance(value, dict):
        return value
    text = str(value).strip()
    if ":" in text:
        seq, _colon, digest = text.partition(":")
        return {"seq": int(seq) if seq.strip().isdigit() else None, "hash": digest.strip()}
    return {"seq": None, "hash": text}


def verify_store(root, state_dir=None, key=None, anchor=None, min_entries=None):
    """Check a record directory; returns {ok, entries, records, first_broken, broken_count,
    unindexed_files, missing_records, applying, keyed, anchored, head, message}.

    first_broken = {seq, line, record_id, file, check, expected, actual} of the first bad link.
    anchor: {seq, hash} of a head kept elsewhere (job log, head file); min_entries: the least number
    of entries the index must hold.
    """
    store = RecordStore(root)
    key = key.encode("utf-8") if isinstance(key, str) else key
    anchor = parse_anchor(anchor)
    result = {"ok": True, "entries": 0, "records": 0, "first_broken": None, "broken_count": 0,
              "unindexed_files": [], "missing_records": [], "applying": [], "record_dir": store.root,
              "keyed": key is not None, "anchored": bool(anchor or min_entries), "head": None, "message": ""}

    def broken(line, entry, check, expected, actual, file_name=None):
        result["broken_count"] += 1
        if result["first_broken"] is None:
            result["first_broken"] = {"line": line, "seq": (entry or {}).get("seq"),
                                      "record_id": (entry or {}).get("record_id"),
                                      "file": file_name or (entry or {}).get("file"),
                                      "check": check, "expected": expected, "actual": actual}

    lines = []
    if os.path.exists(store.index_path):
        with open(store.index_path, "rb") as handle:
            lines = handle.read().splitlines()
    elif not os.path.isdir(store.root) and not (anchor or min_entries):
        result.update(ok=False, message="PHR record directory %s does not exist" % store.root)
        return result

    previous_hash, indexed, newest, last = GENESIS_HASH, set(), {}, None
    revisions = {}
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except ValueError:
            broken(number, None, "index_json", "a JSON object", raw[:80].decode("utf-8", "replace"), INDEX_NAME)
            previous_hash = None
            continue
        result["entries"] += 1
        last = dict(entry, line=number)
        if previous_hash is not None and entry.get("prev_hash") != previous_hash:
            broken(number, entry, "prev_hash", previous_hash, entry.get("prev_hash"), INDEX_NAME)
        actual_hash = entry_hash(entry)
        if entry.get("hash") != actual_hash:
            broken(number, entry, "entry_hash", entry.get("hash"), actual_hash, INDEX_NAME)
        if key is not None and not same_digest(entry.get("mac"), hmac_hex(key, entry.get("hash") or "")):
            broken(number, entry, "mac", "an HMAC under the configured key",
                   "missing" if not entry.get("mac") else "a MAC made with another key (chain recomputed?)",
                   INDEX_NAME)
        previous_hash = entry.get("hash")
        revisions.setdefault(entry.get("record_id"), []).append((number, entry))
        newest[entry.get("record_id")] = entry
        for file_key, digest_key in (("file", "sha256"), ("md_file", "md_sha256")):
            rel = entry.get(file_key)
            if not rel:
                continue
            indexed.add(os.path.normpath(rel))
            path = os.path.join(store.root, rel)
            if not os.path.isfile(path):
                broken(number, entry, "file_missing", entry.get(digest_key), None, rel)
                continue
            digest = sha256_file(path)
            if digest != entry.get(digest_key):
                broken(number, entry, "file_sha256", entry.get(digest_key), digest, rel)
    result["records"] = len(newest)
    _check_revisions(store, revisions, broken)
    _check_anchor(result, last, anchor, min_entries, broken)
    result["head"] = {"seq": last.get("seq"), "hash": last.get("hash")} if last else None
    result["unindexed_files"] = _unindexed(store.root, indexed)
    result["missing_records"] = sorted(operation_store_ids(state_dir) - set(newest))
    result["applying"] = sorted(record_id for record_id, entry in newest.items()
                                if _status(store, entry) in ("applying", "interrupted"))
    return _verdict(result)


def _status(store, entry):
    if "status" in entry:
        return entry.get("status")
    try:
        with open(os.path.join(store.root, entry["file"]), "rb") as handle:
            return json.loads(handle.read().decode("utf-8")).get("status")
    except (OSError, ValueError, KeyError):
        return None


def _check_revisions(store, revisions, broken):
    """Revisions 1..n of one record, each superseding the file of the one before: a line, not a fork."""
    for record_id, chain in revisions.items():
        expected = 1
        previous = None
        for number, entry in chain:
            if entry.get("revision") != expected:
                broken(number, entry, "revision_order", expected, entry.get("revision"), entry.get("file"))
            elif previous is not None:
                try:
                    with open(os.path.join(store.root, entry["file"]), "rb") as handle:
                        supersedes = json.loads(handle.read().decode("utf-8")).get("supersedes") or {}
                except (OSError, ValueError):
                    supersedes = {}  # a missing or edited file is reported by the digest check
                if supersedes.get("file") != previous.get("file"):
                    broken(number, entry, "revision_fork", previous.get("file"), supersedes.get("file"),
                           entry.get("file"))
            expected = (entry.get("revision") or expected) + 1
            previous = entry


def _check_anchor(result, last, anchor, min_entries, broken):
    count = result["entries"]
    if min_entries and count < int(min_entries):
        broken(None, last, "wiped" if count == 0 else "truncated", "at least %d entries" % int(min_entries),
               "%d entries" % count, INDEX_NAME)
    if not anchor:
        return
    if last is None:
        broken(None, None, "wiped", "head %s" % anchor.get("hash"), "no index entries", INDEX_NAME)
        return
    seq = anchor.get("seq")
    if seq is not None and last.get("seq", 0) < seq:
        broken(last["line"], last, "truncated", "head at seq %d" % seq, "last seq %s" % last.get("seq"), INDEX_NAME)
    elif last.get("hash") != anchor.get("hash"):
        check = "appended" if seq is not None and last.get("seq", 0) > seq else "head_mismatch"
        broken(last["line"], last, check, anchor.get("hash"), last.get("hash"), INDEX_NAME)


def _unindexed(root, indexed):
    found = []
    if not os.path.isdir(root):
        return found
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.startswith(".tmp-") or not (name.endswith(".json") or name.endswith(".md")):
                continue
            rel = os.path.normpath(os.path.join(folder, name))
            if rel not in indexed:
                found.append(rel)
    return found


def _verdict(result):
    problems = []
    first = result["first_broken"]
    if first:
        problems.append("first broken link at index line %s (record %s, file %s): %s expected %s, found %s"
                        % (first["line"], first["record_id"], first["file"], first["check"], first["expected"],
                           first["actual"]))
    if result["unindexed_files"]:
        problems.append("%d record file(s) not in the index, first %s" % (len(result["unindexed_files"]),
                                                                          result["unindexed_files"][0]))
    if result["missing_records"]:
        problems.append("%d operation(s) in the operation store without a record: %s"
                        % (len(result["missing_records"]), ", ".join(result["missing_records"][:10])))
    if result["applying"]:
        problems.append("%d operation(s) left applying (run interrupted after the write-ahead record): %s"
                        % (len(result["applying"]), ", ".join(result["applying"][:10])))
    result["ok"] = not problems
    proof = ("keyed" if result["keyed"] else "unkeyed") + (", anchored" if result["anchored"] else ", not anchored")
    result["message"] = "; ".join(problems) if problems else "%d index entries, %d records: chain intact (%s)" % (
        result["entries"], result["records"], proof)
    return result
