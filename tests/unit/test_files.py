"""common/files.replace_atomic: whole or not at all."""

from __future__ import annotations

import os

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.files import replace_atomic


def test_replaces_with_the_mode_asked_for(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    replace_atomic(str(target), "néw\n", mode=0o600)
    assert target.read_bytes() == "néw\n".encode("utf-8")
    assert oct(os.stat(str(target)).st_mode & 0o777) == "0o600"
    replace_atomic(str(target), b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes" and oct(os.stat(str(target)).st_mode & 0o777) == "0o640"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "head.json"
    target.write_text("old")
    with pytest.raises(IsADirectoryError):
        os.mkdir(str(tmp_path / "dir"))
        replace_atomic(str(tmp_path / "dir"), "x")  # rename over a directory fails after the data was written
    assert target.read_text() == "old"
    assert sorted(os.listdir(str(tmp_path))) == ["dir", "head.json"]
