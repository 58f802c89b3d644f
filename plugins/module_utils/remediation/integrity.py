# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed MACs over plans and operation records that cross a job boundary.

A plan id is a public hash: anyone can edit a plan and recompute it. When a key is configured
(``AIOPS_K8S_PLAN_KEY``, or a file named by ``AIOPS_K8S_PLAN_KEY_FILE``: an AWX credential or the
Execution Environment, never extra vars), plans and operation records carry an HMAC-SHA256 that only
holders of the key can produce, and the executor refuses anything without a valid one.
"""

from __future__ import absolute_import, division, print_function

import os

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import hmac_hex, same_digest
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput

__metaclass__ = type

ENV_KEY = "AIOPS_K8S_PLAN_KEY"
ENV_KEY_FILE = "AIOPS_K8S_PLAN_KEY_FILE"
FIELD = "mac"
MIN_KEY_BYTES = 16


def load_key(environ=None):
    """The MAC key from the environment (bytes), or None when none is configured."""
    environ = os.environ if environ is None else environ
    key = environ.get(ENV_KEY)
    if not key and environ.get(ENV_KEY_FILE):
        path = os.path.expanduser(environ[ENV_KEY_FILE])
        try:
            with open(path, "rb") as handle:
                key = handle.read().strip()
        except (IOError, OSError) as exc:
            raise InvalidInput("Cannot read the plan key %s (%s): fix %s" % (path, exc.strerror or exc, ENV_KEY_FILE))
    if not key:
        return None
    key = key.encode("utf-8") if isinstance(key, str) else key
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInput("The plan key in %s is shorter than %d bytes: use a random key (openssl rand -hex 32)"
                           % (ENV_KEY_FILE if environ.get(ENV_KEY_FILE) else ENV_KEY, MIN_KEY_BYTES))
    return key


def _body(document):
    return {k: v for k, v in document.items() if k != FIELD}


def sign(document, key):
    """The document with its MAC (unchanged when no key is configured)."""
    if key is None:
        return document
    signed = dict(document)
    signed[FIELD] = hmac_hex(key, _body(document))
    return signed


def verify(document, key):
    """True when no key is configured, or the document carries a valid MAC under it."""
    if key is None:
        return True
    return isinstance(document, dict) and same_digest(document.get(FIELD), hmac_hex(key, _body(document)))
