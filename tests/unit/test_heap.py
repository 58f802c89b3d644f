"""The collector pause around a scan (module_utils/common/heap.py) and where pod_diagnose uses it."""

from __future__ import annotations

import gc
import os

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.aiops.k8s.plugins.module_utils import runner
from ansible_collections.aiops.k8s.plugins.module_utils.common.heap import collector_paused
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import dump
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target, gather
from ansible_collections.aiops.k8s.plugins.modules import pod_diagnose

DUMP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples",
                    "cluster-dump")


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_pause_restores_the_collector_even_when_the_block_fails():
    with pytest.raises(RuntimeError):
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_pause_keeps_it_off_until_the_outer_block_ends_and_never_turns_on_a_disabled_collector():
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_pod_diagnose_gathers_and_classifies_with_the_collector_off_then_restores_it(monkeypatch):
    seen = []
    real_diagnose, real_gather = runner.diagnose, dump.DumpSource.gather

    def spy_diagnose(gathered, **kwargs):
        seen.append(("classify", gc.isenabled()))
        return real_diagnose(gathered, **kwargs)

    def spy_gather(source, target):
        seen.append(("gather", gc.isenabled()))
        return real_gather(source, target)

    monkeypatch.setattr(runner, "diagnose", spy_diagnose)
    monkeypatch.setattr(dump.DumpSource, "gather", spy_gather)
    params = ArgumentSpecValidator(pod_diagnose.argument_spec()).validate(
        {"dump_dir": DUMP, "all_namespaces": True}).validated_parameters
    result, _warnings = pod_diagnose.run(params)
    assert seen == [("gather", False), ("classify", False)] and gc.isenabled()
    assert result["scanned"] > 0 and result["diagnoses"]


def test_gather_closes_the_source_and_restores_the_collector_when_reading_fails():
    class Failing(object):
        closed = False
        collector_during_gather = None

        def gather(self, _target):
            self.collector_during_gather = gc.isenabled()
            raise OSError("unreadable dump")

        def close(self):
            self.closed = True

    source = Failing()
    with pytest.raises(OSError):
        gather(source, Target(all_namespaces=True))
    assert source.collector_during_gather is False and source.closed and gc.isenabled()
