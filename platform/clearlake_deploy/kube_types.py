"""Constrained scalar types shared by the Helm values models.

Each pattern is the one Kubernetes (or AWS) enforces, so a typo fails at ``helm install``
with the key's path instead of minutes later in the API server or in a crash-looping pod.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from kubernetes.utils import parse_quantity
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

QUANTITY_PATTERN = (
    r"^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
"""A non-negative Kubernetes resource quantity (``500m``, ``2``, ``4Gi``)."""

QuantityString = Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN)]
Quantity = Annotated[
    Annotated[float, Field(ge=0)] | QuantityString,
    Field(description="Kubernetes quantity, for example 500m, 2, 512Mi or 4Gi."),
]

DnsLabel = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
]
DnsSubdomain = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        max_length=253,
    ),
]
ConfigKey = Annotated[str, StringConstraints(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)]
EnvVarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ResourceName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9][-a-zA-Z0-9./]*$")]
LabelMap = dict[Annotated[str, StringConstraints(max_length=317)], str]
Port = Annotated[int, Field(ge=1, le=65535)]
Cidr = Annotated[
    str,
    StringConstraints(pattern=r"^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$"),
]
GitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,40}$")]
ImageDigest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
ImageRepository = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$"
    ),
]
IamRoleArn = Annotated[
    str, StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$")
]
S3Url = Annotated[
    str, StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$")
]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")]


def camel(name: str) -> str:
    """``k8s_run_launcher`` -> ``k8sRunLauncher`` (pydantic's to_camel gives ``k8SRun...``)."""
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class StrictModel(BaseModel):
    """Clearlake's own values: unknown keys are typos, so they are rejected."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=camel, populate_by_name=True, frozen=True
    )


class PassThroughModel(BaseModel):
    """Values owned by another chart (dagster): typed where Clearlake relies on them,
    open elsewhere because that chart's own values.schema.json validates the rest."""

    model_config = ConfigDict(
        extra="allow", alias_generator=camel, populate_by_name=True, frozen=True
    )


def quantity_value(value: Any) -> Decimal:
    """The numeric value of a quantity, for comparisons such as requests <= limits."""
    parsed: Decimal = parse_quantity(value)
    return parsed
