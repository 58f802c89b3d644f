# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed MACs over plans and operation records that cross a job boundary.

A plan id is a public hash: anyone can edit a plan and recompute it, and a hand-written operation
record with a recomputed digest looks genuine. So every plan and record carries an HMAC-SHA256 that
only holders of the key can produce, and the executor and rollback refuse anything without a valid one.

The key comes from trusted configuration, never from extra vars: ``AIOPS_K8S_PLAN_KEY`` or the file
named by ``AIOPS_K8S_PLAN_KEY_FILE`` (an AWX credential, the Execution Environment); without either,
a per-user key file ``$XDG_CONFIG_HOME/aiops-k8s/plan.key`` (else ``~/.config/aiops-k8s/plan.key``),
made from os.urandom on first use. That default proves "written by this OS account's runs", which is
what a CLI user needs; jobs on different hosts or EE containers must share a configured key, since each
container would otherwise make its own and refuse the other's plans (failing closed).
"""

from __future__ import absolute_import, division, print_function

import binascii
import errno
import os
import stat
import tempfile

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import hmac_hex, same_digest
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput

__metaclass__ = type

ENV_KEY = "AIOPS_K8S_PLAN_KEY"
ENV_KEY_FILE = "AIOPS_K8S_PLAN_KEY_FILE"
FIELD = "mac"
MIN_KEY_BYTES = 16
KEY_DIR = "aiops-k8s"
KEY_NAME = "plan.key"


def default_key_path(environ=None):
    """The per-user key file: $XDG_CONFIG_HOME/aiops-k8s/plan.key, else ~/.config/aiops-k8s/plan.key."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or ""
    if not os.path.isabs(base):  # the XDG spec ignores a relative value; so do we (it would follow the cwd)
        home = environ.get("HOME") or _account_home()
        base = os.path.join(home, ".config")
    return os.path.join(base, KEY_DIR, KEY_NAME)


def _account_home():
    import pwd
    try:
        return pwd.getpwuid(os.geteuid()).pw_dir
    except (KeyError, OSError):
        raise InvalidInput("No plan key configured and no home directory to keep one in: set %s or %s"
                           % (ENV_KEY, ENV_KEY_FILE))


def _check_private(info, path, what):
    """Refuse a key file or directory another account owns or could read or replace."""
    if info.st_uid != os.geteuid():
        raise InvalidInput("The plan key %s %s is owned by uid %d, not by you (uid %d): refusing it; remove it or "
                           "set %s" % (what, path, info.st_uid, os.geteuid(), ENV_KEY_FILE))
    if what == "file" and (not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077):
        raise InvalidInput("The plan key file %s is readable or writable by others (mode %o): anyone who reads it "
                           "can forge plans; remove it (a new one is made on the next run) or chmod 600 it"
                           % (path, stat.S_IMODE(info.st_mode)))
    if what == "directory" and info.st_mode & 0o022:
        raise InvalidInput("The plan key directory %s is writable by others (mode %o): chmod 700 it"
                           % (path, stat.S_IMODE(info.st_mode)))


def _read_private(path):
    """The key in ``path`` after the ownership and mode checks, or None when the file does not exist."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise InvalidInput("Cannot read the plan key %s (%s): remove it or set %s"
                           % (path, exc.strerror or exc, ENV_KEY_FILE))
    with os.fdopen(handle, "rb") as stream:
        _check_private(os.fstat(stream.fileno()), path, "file")
        return stream.read().strip()


def user_key(path):
    """The per-user key at ``path``, created atomically (0600, 32 random bytes as hex) when absent."""
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        _check_private(os.stat(directory), directory, "directory")
        key = _read_private(path)
        if key is None:
            handle, temp = tempfile.mkstemp(prefix=".plan-key-", dir=directory)   # mode 0600
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(binascii.hexlify(os.urandom(32)) + b"\n")
                    stream.flush()
                    os.fsync(stream.fileno())
                try:
                    os.link(temp, path)     # appears whole or not at all; never replaces a key another run made
                except OSError as exc:
                    if exc.errno != errno.EEXIST:
                        raise
            finally:
                os.unlink(temp)
            key = _read_private(path)
    except (IOError, OSError) as exc:
        raise InvalidInput("Cannot make the plan key %s (%s): set %s or %s"
                           % (path, exc.strerror or exc, ENV_KEY, ENV_KEY_FILE))
    if not key or len(key) < MIN_KEY_BYTES:
        raise InvalidInput("The plan key file %s is shorter than %d bytes: remove it (a new one is made on the next "
                           "run)" % (path, MIN_KEY_BYTES))
    return key


def load_key(environ=None, state_dir=None):
    """The MAC key (bytes): $AIOPS_K8S_PLAN_KEY, else $AIOPS_K8S_PLAN_KEY_FILE, else the per-user key file.

    Never None: plans and records are always authenticated. ``state_dir``: the operation store of this
    run; a key file inside it is refused (whoever can write records there could read the key beside them).
    """
    environ = os.environ if environ is None else environ
    key = environ.get(ENV_KEY)
    source = ENV_KEY
    if not key and environ.get(ENV_KEY_FILE):
        path = os.path.expanduser(environ[ENV_KEY_FILE])
        _outside(path, state_dir)
        source = ENV_KEY_FILE
        try:
            with open(path, "rb") as handle:
                key = handle.read().strip()
        except (IOError, OSError) as exc:
            raise InvalidInput("Cannot read the plan key %s (%s): fix %s" % (path, exc.strerror or exc, ENV_KEY_FILE))
    if not key:
        path = default_key_path(environ)
        _outside(path, state_dir)
        return user_key(path)
    key = key.encode("utf-8") if isinstance(key, str) else key
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInput("The plan key in %s is shorter than %d bytes: use a random key (openssl rand -hex 32)"
                           % (source, MIN_KEY_BYTES))
    return key


def _outside(path, state_dir):
    if not state_dir:
        return
    path = os.path.realpath(os.path.abspath(path))
    root = os.path.realpath(os.path.abspath(os.path.expanduser(state_dir)))
    if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
        raise InvalidInput("The plan key %s is inside the operation store %s: keep it elsewhere (a key next to the "
                           "records proves nothing)" % (path, root))


def _body(document):
    return {k: v for k, v in document.items() if k != FIELD}


def sign(document, key):
    """The document with its MAC. ``key`` None (library callers and unit tests only) leaves it unchanged:
    the modules always pass load_key(), which never returns None."""
    if key is None:
        return document
    signed = dict(document)
    signed[FIELD] = hmac_hex(key, _body(document))
    return signed


def verify(document, key):
    """True when the document carries a valid MAC under ``key`` (None: a library caller that opted out)."""
    if key is None:
        return True
    return isinstance(document, dict) and same_digest(document.get(FIELD), hmac_hex(key, _body(document)))
