# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one canonical JSON form and its sha256: plan ids, pre-state digests and the record chain all hash
the same bytes, so a value hashed by one stage verifies in another."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json


def canonical_json(value):
    """Stable text: sorted keys, no whitespace, UTF-8 kept, non-JSON values (datetimes, tags) as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def canonical_bytes(value):
    return canonical_json(value).encode("utf-8")


def sha256_hex(value):
    """sha256 of the canonical JSON of ``value`` (bytes are hashed as they are)."""
    data = value if isinstance(value, bytes) else canonical_bytes(value)
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def hmac_hex(key, value):
    """HMAC-SHA256 of the canonical JSON of ``value`` under ``key`` (bytes or text)."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    data = value if isinstance(value, bytes) else canonical_bytes(value)
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def same_digest(left, right):
    """Constant-time comparison of two hex digests (a MAC check must not leak by timing)."""
    return isinstance(left, str) and isinstance(right, str) and hmac.compare_digest(left, right)
