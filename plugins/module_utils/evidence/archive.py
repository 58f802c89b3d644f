# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A dump sent as one .tar.gz / .tgz / .tar / .zip file, extracted safely to a private temporary directory.

Dumps arrive from customers, so the archive is untrusted: members with absolute paths or ``..`` are refused
(path traversal), links and device files are skipped, and the total size and member count are capped so a
compression bomb cannot fill the disk. Detection is by content (magic bytes), not only by file name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import os
import shutil
import tarfile
import tempfile
import zipfile

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import DumpError

# A 5,000-pod cluster-info dump with logs is ~200 MB; 2 GiB leaves room without letting a bomb fill a disk.
MAX_EXTRACTED_BYTES = 2 * 1024 ** 3
MAX_MEMBERS = 200000
_CHUNK = 1024 * 1024


def archive_type(path):
    """"zip", "tar" or None, from the first bytes of the file (a renamed archive is still recognised)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except (IOError, OSError):
        return None
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00" or head[257:262] == b"ustar":
        return "tar"
    return None


def _safe_relpath(name, archive):
    """The member name as a relative path inside the extraction directory, or DumpError."""
    normalised = name.replace("\\", "/")
    parts = [part for part in normalised.split("/") if part not in ("", ".")]
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":") or ".." in parts:
        raise DumpError("Archive %s holds an unsafe member path %r (absolute or with '..'): refusing to extract it; "
                        "re-create the archive with relative paths (tar -czf dump.tar.gz -C DIR .)" % (archive, name),
                        path=archive)
    return os.path.join(*parts) if parts else ""


class _Budget(object):
    def __init__(self, archive, max_bytes, max_members):
        self.archive, self.max_bytes, self.max_members = archive, max_bytes, max_members
        self.bytes = 0
        self.members = 0

    def member(self):
        self.members += 1
        if self.members > self.max_members:
            raise DumpError("Archive %s has more than %d members: refusing to extract it; extract it yourself and "
                            "pass the directory as dump_dir" % (self.archive, self.max_members), path=self.archive)

    def add(self, count):
        self.bytes += count
        if self.bytes > self.max_bytes:
            raise DumpError("Archive %s expands to more than %d MiB: refusing to extract it; extract it yourself and "
                            "pass the directory as dump_dir" % (self.archive, self.max_bytes // (1024 * 1024)),
                            path=self.archive)


def _copy(source, dest_path, budget):
    """Stream one member to disk, counting the bytes really written (declared sizes can lie)."""
    with open(dest_path, "wb") as out:
        while True:
            chunk = source.read(_CHUNK)
            if not chunk:
                return
            budget.add(len(chunk))
            out.write(chunk)


def _extract_tar(path, dest, budget, skipped):
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            budget.member()
            rel = _safe_relpath(member.name, path)
            if not rel:
                continue
            target = os.path.join(dest, rel)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                _copy(archive.extractfile(member), target, budget)
            else:
                skipped.append(member.name)


def _extract_zip(path, dest, budget, skipped):
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            budget.member()
            rel = _safe_relpath(info.filename, path)
            if not rel:
                continue
            target = os.path.join(dest, rel)
            mode = (info.external_attr >> 16) & 0o170000
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
            elif mode and mode != 0o100000:   # symlink or device recorded by a Unix zip
                skipped.append(info.filename)
            else:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with archive.open(info) as source:
                    _copy(source, target, budget)


def _dump_root(directory):
    """A tar of a directory usually holds one top-level folder: descend into it (once per level)."""
    while True:
        entries = [e for e in os.listdir(directory) if not e.startswith(".")]
        if len(entries) != 1 or not os.path.isdir(os.path.join(directory, entries[0])):
            return directory
        directory = os.path.join(directory, entries[0])


def extract(path, kind, max_bytes=MAX_EXTRACTED_BYTES, max_members=MAX_MEMBERS):
    """Extract archive ``path`` (kind from archive_type) -> (dump root directory, temporary directory, skipped).

    The caller removes the temporary directory with cleanup(); an exit hook removes it too, so a failing run
    leaves nothing behind.
    """
    temp = tempfile.mkdtemp(prefix="aiops-dump-")
    atexit.register(cleanup, temp)
    skipped = []
    budget = _Budget(path, max_bytes, max_members)
    try:
        if kind == "zip":
            _extract_zip(path, temp, budget, skipped)
        else:
            _extract_tar(path, temp, budget, skipped)
    except DumpError:
        cleanup(temp)
        raise
    except (tarfile.TarError, zipfile.BadZipfile, EOFError, OSError, IOError) as exc:
        cleanup(temp)
        raise DumpError("Cannot extract archive %s: %s; check that the file is complete (copy it again) or extract "
                        "it yourself and pass the directory as dump_dir" % (path, exc), path=path)
    return _dump_root(temp), temp, skipped


def cleanup(temp):
    if temp and os.path.isdir(temp):
        shutil.rmtree(temp, ignore_errors=True)
