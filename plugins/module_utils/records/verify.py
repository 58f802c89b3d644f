# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification of a record directory: the hash chain, every file digest, unindexed files and
operations of the operation store that have no record. Read-only; what it proves is in docs/phr.md."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import sha256_file
from ansible_collections.aiops.k8s.plugins.module_utils.records.store import (
    GENESIS_HASH, INDEX_NAME, RecordStore, entry_hash, operation_store_ids)


def verify_store(root, state_dir=None):
    """Check the hash chain, every file digest, unindexed files and operations without a record.

    Returns {ok, entries, records, first_broken, broken_count, unindexed_files, missing_records, message}.
    first_broken = {seq, line, record_id, file, check, expected, actual} of the first bad link.
    """
    store = RecordStore(root)
    result = {"ok": True, "entries": 0, "records": 0, "first_broken": None, "broken_count": 0,
              "unindexed_files": [], "missing_records": [], "record_dir": store.root, "message": ""}
    if not os.path.isdir(store.root):
        result.update(ok=False, message="PHR record directory %s does not exist" % store.root)
        return result

    def broken(line, entry, check, expected, actual, file_name=None):
        result["broken_count"] += 1
        if result["first_broken"] is None:
            result["first_broken"] = {"line": line, "seq": (entry or {}).get("seq"),
                                      "record_id": (entry or {}).get("record_id"),
                                      "file": file_name or (entry or {}).get("file"),
                                      "check": check, "expected": expected, "actual": actual}

    previous_hash = GENESIS_HASH
    indexed = set()
    record_ids = set()
    lines = []
    if os.path.exists(store.index_path):
        with open(store.index_path, "rb") as handle:
            lines = handle.read().splitlines()
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
        record_ids.add(entry.get("record_id"))
        if previous_hash is not None and entry.get("prev_hash") != previous_hash:
            broken(number, entry, "prev_hash", previous_hash, entry.get("prev_hash"), INDEX_NAME)
        actual_hash = entry_hash(entry)
        if entry.get("hash") != actual_hash:
            broken(number, entry, "entry_hash", entry.get("hash"), actual_hash, INDEX_NAME)
        previous_hash = entry.get("hash")
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
    result["records"] = len(record_ids)
    for folder in sorted(os.listdir(store.root)):
        path = os.path.join(store.root, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.startswith(".tmp-") or not (name.endswith(".json") or name.endswith(".md")):
                continue
            rel = os.path.normpath(os.path.join(folder, name))
            if rel not in indexed:
                result["unindexed_files"].append(rel)
    result["missing_records"] = sorted(operation_store_ids(state_dir) - record_ids)
    problems = []
    if result["first_broken"]:
        first = result["first_broken"]
        problems.append("first broken link at index line %s (record %s, file %s): %s expected %s, found %s"
                        % (first["line"], first["record_id"], first["file"], first["check"], first["expected"],
                           first["actual"]))
    if result["unindexed_files"]:
        problems.append("%d record file(s) not in the index, first %s" % (len(result["unindexed_files"]),
                                                                          result["unindexed_files"][0]))
    if result["missing_records"]:
        problems.append("%d operation(s) in the operation store without a record: %s"
                        % (len(result["missing_records"]), ", ".join(result["missing_records"][:10])))
    result["ok"] = not problems
    result["message"] = "; ".join(problems) if problems else "%d index entries, %d records: chain intact" % (
        result["entries"], result["records"])
    return result


