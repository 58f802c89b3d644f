"""common/kinds.collection_path: LIST paths from the one kinds table, namespace validated."""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import collection_path


@pytest.mark.parametrize("kind,namespace,path", [
    ("Pod", None, "/api/v1/pods"),
    ("Pod", "shop", "/api/v1/namespaces/shop/pods"),
    ("CronJob", None, "/apis/batch/v1/cronjobs"),
    ("Deployment", "shop", "/apis/apps/v1/namespaces/shop/deployments"),
    ("Node", "shop", "/api/v1/nodes"),  # cluster-scoped: the namespace does not apply
])
def test_collection_paths(kind, namespace, path):
    assert collection_path(kind, namespace) == path


@pytest.mark.parametrize("kind,namespace,words", [
    ("Pod", "shop/../kube-system", "Invalid namespace"),
    ("Secret", None, "Kind Secret is not supported"),
])
def test_refused(kind, namespace, words):
    with pytest.raises(InvalidInput, match=words):
        collection_path(kind, namespace)
