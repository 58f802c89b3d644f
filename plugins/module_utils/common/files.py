# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replacing a file whole or not at all (reports, bundle files, the chain head)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def replace_atomic(path, data, mode=0o640, prefix=".tmp-"):
    """Write ``data`` (str as UTF-8, or bytes) to a temporary file beside ``path``, set ``mode``, then rename it
    over ``path``: a reader, or a run interrupted half way, never sees half a file. The temporary file is removed
    on any failure."""
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    handle, temp = tempfile.mkstemp(prefix=prefix, dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
