"""The corpus YAML says what its authors meant: no flow mapping cut short by an unquoted comma.

In a flow mapping `{message: Container x failed liveness probe, will be restarted}` the comma ends the value:
YAML reads the message as "Container x failed liveness probe" and adds a stray key "will be restarted" with no
value. The case then silently tests a shorter message than the source thread printed. These checks read the
YAML node tree (not the loaded data, where the cut is invisible) of every corpus file.
"""

from __future__ import annotations

import glob
import os

import pytest
import yaml

CORPUS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "corpus", "*.yaml")))

# kubelet messages that carry a comma: they must arrive whole (pkg/kubelet/kuberuntime and pkg/kubelet/events).
WHOLE = ("failed liveness probe, will be restarted", "failed readiness probe, will be restarted",
         "failed startup probe, will be restarted", "Pod sandbox changed, it will be killed and re-created.")


def _flow_pairs(node):
    """(key node, value node) of every flow-style mapping under ``node``."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if node.flow_style:
                yield key, value
            yield from _flow_pairs(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _flow_pairs(item)


def _strings(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)
    elif isinstance(data, str):
        yield data


def test_the_corpus_files_are_found():
    assert len(CORPUS) >= 10


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_no_flow_mapping_key_without_value(path):
    """A plain key with no value in a flow mapping is the tail of a value cut at a comma."""
    with open(path) as handle:
        stray = ["line %d: %r" % (key.start_mark.line + 1, key.value)
                 for doc in yaml.compose_all(handle) for key, value in _flow_pairs(doc)
                 if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null") and value.value == ""]
    assert not stray, "unquoted comma in a flow mapping (quote the message): %s" % stray


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_kubelet_messages_with_a_comma_are_whole(path):
    with open(path) as handle:
        raw = handle.read()
    texts = list(_strings(yaml.safe_load(raw)))
    for tail in WHOLE:
        head = tail.split(",", maxsplit=1)[0]
        # every occurrence in the file's text is a whole message once loaded
        assert raw.count(tail) == sum(text.count(tail) for text in texts), (path, tail)
        assert not [t for t in texts if t.rstrip().endswith(head) and "probe" in head], (path, head)
