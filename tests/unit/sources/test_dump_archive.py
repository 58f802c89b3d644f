"""A dump given as one .tar.gz / .zip: read like the directory, extracted safely, cleaned up after."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import DumpError
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import archive
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
from tests.unit.sources.dumpbuilder import event, node, pod, write_dump


@pytest.fixture
def dump_dir(tmp_path):
    objects = [pod("shop", "web-a", crash=True), pod("shop", "web-b"),
               event("shop", "web-a", "BackOff", "Back-off restarting failed container app", count=3)]
    logs = {("shop", "web-a"): [("app", "panic: cannot reach db\n")]}
    return write_dump(tmp_path / "dump", objects, nodes=[node("node-1")], logs=logs)


def categories(gathered_source):
    gathered = gathered_source.gather(Target(namespace="shop"))
    return sorted((e.name, sorted(e.logs)) for e in gathered.pods)


def tar_of(directory, dest, arcname="cluster-dump", mode="w:gz"):
    with tarfile.open(dest, mode) as out:
        out.add(directory, arcname=arcname)
    return str(dest)


def zip_of(directory, dest):
    with zipfile.ZipFile(dest, "w") as out:
        for base, _dirs, files in os.walk(directory):
            for name in files:
                full = os.path.join(base, name)
                out.write(full, os.path.relpath(full, directory))
    return str(dest)


@pytest.mark.parametrize("maker", ["tar.gz", "tar-flat", "zip", "renamed"])
def test_archive_reads_like_the_directory(dump_dir, tmp_path, maker):
    if maker == "tar.gz":
        path = tar_of(dump_dir, tmp_path / "dump.tar.gz")
    elif maker == "tar-flat":
        path = tar_of(dump_dir, tmp_path / "dump.tgz", arcname=".")
    elif maker == "zip":
        path = zip_of(dump_dir, tmp_path / "dump.zip")
    else:  # recognised by content, not name
        path = tar_of(dump_dir, tmp_path / "dump.bin")
    expected = categories(DumpSource(str(dump_dir)))
    source = DumpSource(path)
    assert categories(source) == expected
    assert [e for e in expected if e[0] == "web-a"][0][1]  # the log inside the archive was read
    extracted = source._extracted
    assert extracted and os.path.isdir(extracted)
    source.close()
    assert not os.path.exists(extracted)


def _tar_with(dest, name, data=b"{}", kind=tarfile.REGTYPE, linkname=""):
    with tarfile.open(dest, "w:gz") as out:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        out.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return str(dest)


@pytest.mark.parametrize("name", ["../evil.json", "/etc/evil.json", "ns/../../evil.json", "C:/evil.json"])
def test_traversal_is_refused(tmp_path, name):
    path = _tar_with(tmp_path / "bad.tar.gz", name)
    with pytest.raises(DumpError) as err:
        DumpSource(path).gather(Target(all_namespaces=True))
    assert "unsafe member path" in str(err.value) and path in str(err.value)
    assert not (tmp_path / "evil.json").exists()


def test_zip_traversal_is_refused(tmp_path):
    path = str(tmp_path / "bad.zip")
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("../evil.json", "{}")
    with pytest.raises(DumpError, match="unsafe member path"):
        DumpSource(path).gather(Target(all_namespaces=True))


def test_links_are_skipped_not_followed(dump_dir, tmp_path):
    path = str(tmp_path / "links.tar.gz")
    with tarfile.open(path, "w:gz") as out:
        out.add(dump_dir, arcname="d")
        info = tarfile.TarInfo("d/shop/secret.json")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        out.addfile(info)
    gathered = DumpSource(path).gather(Target(namespace="shop"))
    assert any("skipped link or device d/shop/secret.json" in p for p in gathered.problems)


def test_size_cap(dump_dir, tmp_path):
    path = tar_of(dump_dir, tmp_path / "dump.tar.gz")
    with pytest.raises(DumpError, match="expands to more than"):
        archive.extract(path, "tar", max_bytes=100)
    with pytest.raises(DumpError, match="more than 2 members"):
        archive.extract(path, "tar", max_members=2)


def test_truncated_archive_is_one_clear_line(dump_dir, tmp_path):
    good = tar_of(dump_dir, tmp_path / "dump.tar.gz")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(open(good, "rb").read()[:200])
    with pytest.raises(DumpError) as err:
        DumpSource(str(cut)).gather(Target(all_namespaces=True))
    assert str(err.value).startswith("Cannot extract archive %s" % cut) and "\n" not in str(err.value)


def test_other_file_is_named_not_parsed_as_yaml(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello: [unclosed\n")
    with pytest.raises(DumpError) as err:
        DumpSource(str(notes)).gather(Target(all_namespaces=True))
    assert "is neither a directory, a .tar.gz/.zip archive nor a .json/.yaml file" in str(err.value)


def test_relative_path_is_reported_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DumpError) as err:
        DumpSource("missing/dump").gather(Target(all_namespaces=True))
    assert str(err.value).startswith("Dump directory %s does not exist" % (tmp_path / "missing" / "dump"))
