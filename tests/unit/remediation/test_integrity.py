"""Keyed MACs: only holders of the site key can make a plan or record the executor accepts."""

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore


def test_sign_and_verify(tmp_path):
    key = b"0123456789abcdef0123"
    doc = integrity.sign({"plan_id": "X", "params": {"memory_limit": "384Mi"}}, key)
    assert integrity.verify(doc, key)
    assert not integrity.verify(dict(doc, params={"memory_limit": "64Gi"}), key)
    assert not integrity.verify(doc, b"another-key-of-20-bytes")
    assert integrity.verify({"no": "mac"}, None)          # no key configured: nothing to check
    assert integrity.sign({"a": 1}, None) == {"a": 1}


def test_key_sources(tmp_path):
    path = tmp_path / "plan.key"
    path.write_text("f" * 64 + "\n")
    assert integrity.load_key({integrity.ENV_KEY_FILE: str(path)}) == b"f" * 64
    assert integrity.load_key({integrity.ENV_KEY: "e" * 32, integrity.ENV_KEY_FILE: str(path)}) == b"e" * 32
    with pytest.raises(InvalidInput, match="shorter than 16 bytes"):
        integrity.load_key({integrity.ENV_KEY: "short"})
    with pytest.raises(InvalidInput, match="Cannot read the plan key"):
        integrity.load_key({integrity.ENV_KEY_FILE: str(tmp_path / "missing")})


def test_record_round_trip_keeps_its_mac(tmp_path):
    key = b"k" * 32
    record = {"operation_id": "op-20261202120000-abcdef", "pre_state": {"kind": "Pod", "spec": {}},
              "pre_state_digest": opstore.digest({"kind": "Pod", "spec": {}}), "operation": {"status": "validated"}}
    opstore.save(str(tmp_path), record, key)
    assert opstore.load(str(tmp_path), record["operation_id"], key)["operation"]["status"] == "validated"
    assert opstore.load(str(tmp_path), record["operation_id"])     # readable without a key (records, reports)


def test_ledger_refuses_a_replay(tmp_path):
    approval = {"approver": "alice", "decided_at": "2026-12-02T12:00:00Z"}
    opstore.consume_approval(str(tmp_path), approval, "PLAN", "op-1", "now")
    with pytest.raises(opstore.ApprovalReplayed, match="already used by operation op-1"):
        opstore.consume_approval(str(tmp_path), approval, "PLAN", "op-2", "later")
    opstore.consume_approval(str(tmp_path), dict(approval, decided_at="2026-12-02T12:05:00Z"), "PLAN", "op-3", "x")


# ------------------------------------------------------------------ the per-user default key (no key configured)

def test_default_key_is_made_once_private_and_stable(tmp_path):
    config = tmp_path / "config"
    environ = {"XDG_CONFIG_HOME": str(config), "HOME": str(tmp_path / "home")}
    key = integrity.load_key(environ)                        # never None: plans and records always carry a MAC
    path = config / "aiops-k8s" / "plan.key"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct((config / "aiops-k8s").stat().st_mode & 0o777) == "0o700"
    assert len(key) == 64 and integrity.load_key(environ) == key          # the same key on every later run
    assert [p.name for p in (config / "aiops-k8s").iterdir()] == ["plan.key"]   # no temp file left behind
    other = integrity.load_key({"XDG_CONFIG_HOME": str(tmp_path / "other")})
    assert other != key                                      # another account's key: its plans do not verify here
    doc = integrity.sign({"plan_id": "X"}, other)
    assert not integrity.verify(doc, key)


def test_default_key_falls_back_to_home_config(tmp_path):
    environ = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": "relative/ignored"}
    assert integrity.default_key_path(environ) == str(tmp_path / ".config" / "aiops-k8s" / "plan.key")
    integrity.load_key(environ)
    assert (tmp_path / ".config" / "aiops-k8s" / "plan.key").exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_default_key_readable_by_others_is_refused(tmp_path, mode):
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    integrity.load_key(environ)
    path = tmp_path / "aiops-k8s" / "plan.key"
    path.chmod(mode)
    with pytest.raises(InvalidInput, match="readable or writable by others"):
        integrity.load_key(environ)


def test_default_key_dir_writable_by_others_and_symlinks_are_refused(tmp_path):
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    integrity.load_key(environ)
    (tmp_path / "aiops-k8s").chmod(0o777)
    with pytest.raises(InvalidInput, match="writable by others"):
        integrity.load_key(environ)
    (tmp_path / "aiops-k8s").chmod(0o700)
    path = tmp_path / "aiops-k8s" / "plan.key"
    path.unlink()
    target = tmp_path / "elsewhere.key"
    target.write_text("a" * 64)
    target.chmod(0o600)
    path.symlink_to(target)                                  # a planted link is not the key file
    with pytest.raises(InvalidInput, match="Cannot read the plan key"):
        integrity.load_key(environ)


def test_default_key_owned_by_another_account_is_refused(tmp_path, monkeypatch):
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    integrity.load_key(environ)
    real = integrity.os.geteuid()
    monkeypatch.setattr(integrity.os, "geteuid", lambda: real + 1)
    with pytest.raises(InvalidInput, match="is owned by uid %d, not by you" % real):
        integrity.load_key(environ)


def test_short_default_key_is_refused(tmp_path):
    (tmp_path / "aiops-k8s").mkdir(mode=0o700)
    path = tmp_path / "aiops-k8s" / "plan.key"
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(InvalidInput, match="shorter than 16 bytes"):
        integrity.load_key({"XDG_CONFIG_HOME": str(tmp_path)})


def test_key_inside_the_operation_store_is_refused(tmp_path):
    store = tmp_path / "ops"
    with pytest.raises(InvalidInput, match="inside the operation store"):
        integrity.load_key({"XDG_CONFIG_HOME": str(store)}, state_dir=str(store))
    inside = store / "k"
    store.mkdir()
    inside.write_text("x" * 32)
    with pytest.raises(InvalidInput, match="inside the operation store"):
        integrity.load_key({integrity.ENV_KEY_FILE: str(inside)}, state_dir=str(store))
    assert integrity.load_key({"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, state_dir=str(store))


def test_concurrent_first_use_agrees_on_one_key(tmp_path):
    import threading
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    keys = []
    threads = [threading.Thread(target=lambda: keys.append(integrity.load_key(environ))) for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
