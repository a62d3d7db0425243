"""templates/networkpolicy-default-deny.yaml: nothing moves unless allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import STRANGER_POD, Manifest, allowed, aws_profile, deep_merge, offline


def test_selects_every_pod_both_ways(get: Callable[..., Any], manifests: list[Manifest]) -> None:
    policy = get(manifests, "NetworkPolicy", "clearlake-default-deny")
    assert policy.spec.pod_selector.match_labels is None
    assert sorted(policy.spec.policy_types) == ["Egress", "Ingress"]
    assert policy.spec.ingress is None and policy.spec.egress is None


def test_an_unknown_pod_can_reach_nothing(manifests: list[Manifest]) -> None:
    for peer, port in [({"ip": "8.8.8.8"}, 443), ({"ip": "10.20.0.9"}, 5432)]:
        assert not allowed(manifests, pod=STRANGER_POD, direction="egress", peer=peer, port=port)
    anyone = {"labels": STRANGER_POD}
    assert not allowed(manifests, pod=STRANGER_POD, direction="ingress", peer=anyone, port=80)


def test_policies_can_be_switched_off(render: Callable[[dict[str, Any]], list[Manifest]]) -> None:
    objects = render(offline(deep_merge(aws_profile(), {"networkPolicy": {"enabled": False}})))
    assert not [o for o in objects if o["kind"] == "NetworkPolicy"]
