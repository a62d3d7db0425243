"""What the cluster can hold: an experiment's step pod checked before anything is launched.

The chart writes ``CLEARLAKE_EXPERIMENT_CAPACITY`` (JSON) into every pod's environment: the
allocatable resources of each node group (``experiments.nodes``, from Terraform's output) and
the experiments ResourceQuota's ``hard`` limits. A step pod is schedulable only if its
requests fit one node group's allocatable resources (GPUs included), and admissible only
if its requests and limits fit the quota, which counts every experiment pod: a pod larger
than the whole quota would be refused at admission, every time, after launch. Without the
variable (a laptop) nothing is checked: the local executor has no pods.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from clearlake.errors import ConfigurationError
from clearlake.experiments.profiles import GPU_RESOURCE, ProfileError, ResourceRequest

CAPACITY_VARIABLE = "CLEARLAKE_EXPERIMENT_CAPACITY"


@dataclass(frozen=True)
class NodeGroup:
    name: str
    cpu: Decimal
    memory: Decimal
    gpu: int


@dataclass(frozen=True)
class Capacity:
    nodes: tuple[NodeGroup, ...]
    quota: dict[str, Decimal]


def _q(value: object, where: str) -> Decimal:
    try:
        return Decimal(parse_quantity(str(value)))
    except ValueError:
        raise ConfigurationError(
            f"{CAPACITY_VARIABLE}: {where} {value!r} is not a Kubernetes quantity "
            "(chart values experiments.nodes / experiments.resourceQuota.hard)."
        ) from None


def parse_capacity(text: str) -> Capacity:
    try:
        raw: dict[str, Any] = json.loads(text)
        nodes = raw.get("nodes") or {}
        quota = raw.get("quota") or {}
    except (ValueError, AttributeError):
        raise ConfigurationError(
            f"{CAPACITY_VARIABLE} is not the JSON the chart writes "
            '({"nodes": {name: {cpu, memory, gpu}}, "quota": {...}}).'
        ) from None
    groups = tuple(
        NodeGroup(
            name,
            _q(spec.get("cpu"), f"nodes.{name}.cpu"),
            _q(spec.get("memory"), f"nodes.{name}.memory"),
            int(spec.get("gpu") or 0),
        )
        for name, spec in sorted(nodes.items())
    )
    return Capacity(groups, {k: _q(v, f"quota.{k}") for k, v in quota.items()})


def _show(value: Decimal, memory: bool) -> str:
    if memory:
        return f"{value / (1 << 30):.3g}Gi"
    return f"{value.normalize():f}"


def check_capacity(request: ResourceRequest, capacity: Capacity) -> None:
    """Refuse, before launch, a step pod no node group can hold or the quota cannot admit."""
    cpu, memory = Decimal(parse_quantity(request.cpu)), Decimal(parse_quantity(request.memory))
    cpu_limit = Decimal(parse_quantity(request.cpu_limit))
    memory_limit = Decimal(parse_quantity(request.memory_limit))
    asked = (
        f"its step pod requests cpu {request.cpu}, memory {request.memory}"
        + (f", {request.gpu} GPU" if request.gpu else "")
        + f" (limits cpu {request.cpu_limit}, memory {request.memory_limit})"
    )
    problems = []
    if capacity.nodes and not any(
        cpu <= n.cpu and memory <= n.memory and request.gpu <= n.gpu for n in capacity.nodes
    ):
        offered = "; ".join(
            f"{n.name}: cpu {_show(n.cpu, False)}, memory {_show(n.memory, True)}, {n.gpu} GPU"
            for n in capacity.nodes
        )
        problems.append(f"no node group can hold it (allocatable per node: {offered})")
    pod = {
        "requests.cpu": cpu,
        "requests.memory": memory,
        "limits.cpu": cpu_limit,
        "limits.memory": memory_limit,
        f"requests.{GPU_RESOURCE}": Decimal(request.gpu),
    }
    over = [
        f"{name} {_show(pod[name], 'memory' in name)} > {_show(hard, 'memory' in name)}"
        for name, hard in capacity.quota.items()
        if name in pod and pod[name] > hard
    ]
    if over:
        problems.append(f"the chart's experiment quota admits less ({', '.join(over)})")
    if problems:
        raise ProfileError(
            f"Profile {request.profile!r} cannot run on this cluster: {asked}, but "
            f"{'; and '.join(problems)}. Choose a smaller profile or ask for less, or give the "
            "cluster a node group that fits (terraform: modules/eks node groups). Nothing was "
            "launched."
        )
