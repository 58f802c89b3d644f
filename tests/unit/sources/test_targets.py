"""Target validation: names, namespaces, exclusions, selectors."""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import (
    SCOPE_CLUSTER,
    SCOPE_NAMESPACE,
    SCOPE_POD,
    Target,
)


def test_one_pod():
    target = Target(name="web-5d9.a-1", namespace="shop")
    assert target.scope == SCOPE_POD and not target.all_namespaces
    assert target.describe() == "pod shop/web-5d9.a-1"


def test_namespace_and_cluster_scopes():
    assert Target(namespace="shop").scope == SCOPE_NAMESPACE
    assert Target(all_namespaces=True).scope == SCOPE_CLUSTER
    # nothing given: every namespace
    assert Target().scope == SCOPE_CLUSTER and Target().all_namespaces


def test_invalid_pod_name_message():
    with pytest.raises(InvalidInput) as err:
        Target(name="Web_1", namespace="shop")
    assert str(err.value) == ('Pod name "Web_1" is not a valid Kubernetes name '
                              "(lowercase letters, digits, '-', '.')")


@pytest.mark.parametrize("name", ["-web", "web-", "a" * 254, "web..1", "wéb", ""])
def test_more_invalid_pod_names(name):
    if not name:
        # empty means "no name": a namespace scan
        assert Target(name=name, namespace="shop").scope == SCOPE_NAMESPACE
        return
    with pytest.raises(InvalidInput):
        Target(name=name, namespace="shop")


@pytest.mark.parametrize("namespace", ["Shop", "shop.prod", "a" * 64, "shop_1", "-shop"])
def test_invalid_namespaces(namespace):
    with pytest.raises(InvalidInput) as err:
        Target(namespace=namespace)
    assert namespace in str(err.value) and "namespace" in str(err.value)


def test_name_needs_namespace():
    with pytest.raises(InvalidInput) as err:
        Target(name="web-1")
    assert "needs a namespace" in str(err.value)


def test_all_namespaces_excludes_namespace():
    with pytest.raises(InvalidInput) as err:
        Target(namespace="shop", all_namespaces=True)
    assert "mutually exclusive" in str(err.value)


def test_selectors_joined_for_the_api():
    target = Target(namespace="shop", label_selectors=["app=web", " tier in (a,b) "],
                    field_selectors=["status.phase!=Running"])
    assert target.label_selector == "app=web,tier in (a,b)"
    assert target.field_selector == "status.phase!=Running"
    assert Target(namespace="shop").label_selector is None


def test_empty_selector_rejected():
    with pytest.raises(InvalidInput):
        Target(namespace="shop", label_selectors=["  "])
