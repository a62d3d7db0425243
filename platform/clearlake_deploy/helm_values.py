"""Typed values of the ``helm/clearlake`` umbrella chart.

The chart's ``values.schema.json`` is generated from :class:`ClearlakeValues`::

    python -m clearlake_deploy.helm_values > helm/clearlake/values.schema.json

Helm applies that schema on every install, upgrade, template and lint, so a wrong key,
type or quantity fails before anything reaches the cluster. Rules a JSON schema cannot
express (cross references between keys) live in :meth:`ClearlakeValues.check_references`
and, for the ones that would break a running install, in the chart's helpers as well.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

from pydantic import Field, model_validator

from clearlake_deploy.dagster_values import DagsterValues, NameRef, PullPolicy
from clearlake_deploy.kube_types import (
    Cidr,
    ConfigKey,
    DnsLabel,
    DnsSubdomain,
    EnvVarName,
    GitSha,
    HttpUrl,
    IamRoleArn,
    ImageDigest,
    ImageRepository,
    LabelMap,
    Port,
    Quantity,
    ResourceName,
    S3Url,
    StrictModel,
    quantity_value,
)
from clearlake_deploy.references import ChartObjects, reference_problems
from clearlake_deploy.reports_values import ReportsValues

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ImageValues(StrictModel):
    repository: ImageRepository = Field(
        description="Image repository without tag (ECR URL on AWS, `clearlake` on kind)."
    )
    tag: GitSha = Field(
        description="REQUIRED. The platform git commit the image was built from; never `latest`."
    )
    digest: ImageDigest | None = Field(
        None, description="Optional sha256 digest; when set the image is pulled by digest."
    )
    pull_policy: PullPolicy = "IfNotPresent"


class ResourceList(StrictModel):
    cpu: Quantity
    memory: Quantity


class ResourceRequirements(StrictModel):
    requests: ResourceList
    limits: ResourceList

    @model_validator(mode="after")
    def requests_within_limits(self) -> ResourceRequirements:
        for name in ("cpu", "memory"):
            request, limit = getattr(self.requests, name), getattr(self.limits, name)
            if quantity_value(request) > quantity_value(limit):
                raise ValueError(
                    f"requests.{name} ({request}) is above limits.{name} ({limit}): "
                    f"lower the request or raise the limit"
                )
        return self


class SecretKeyRef(StrictModel):
    secret_name: DnsSubdomain = Field(description="Existing Secret (never created by the chart).")
    key: ConfigKey = Field(description="Key inside the Secret.")


class PodSecurity(StrictModel):
    run_as_user: int = Field(10001, ge=10000, description="Image user (Dockerfile: 10001).")
    run_as_group: int = Field(10001, ge=10000)
    fs_group: int = Field(10001, ge=10000)


class LakeValues(StrictModel):
    url: S3Url = Field(description="REQUIRED. Lake root, e.g. s3://<lake_bucket_name>/lake.")
    endpoint_url: HttpUrl | None = Field(
        None, description="S3-compatible endpoint (MinIO on kind); empty on AWS."
    )
    region: str | None = Field(None, description="AWS region of the lake bucket.")
    drops_url: S3Url | None = Field(
        None,
        description="Drop zone root (CLEARLAKE_DROPS_URL): partners upload to "
        "<dropsUrl>/<dataset>/; default s3://<lake bucket>/drops.",
    )


class EnvVar(StrictModel):
    name: EnvVarName
    value: str


class CodeLocationValues(StrictModel):
    replicas: int = Field(1, ge=1)
    port: Port = 4000
    module_name: str = Field("assets.definitions", pattern=r"^[A-Za-z_][\w.]*$")
    location_name: str = Field("clearlake", min_length=1)
    resources: ResourceRequirements
    tmp_size_limit: Quantity = "1Gi"
    node_selector: LabelMap = Field(default_factory=dict)
    pod_annotations: LabelMap = Field(default_factory=dict)
    env: list[EnvVar] = Field(
        default_factory=list, description="Extra environment of the code-location server."
    )


class IngressValues(StrictModel):
    """An Ingress on one host; TLS from a certificate Secret and/or the controller's
    annotations (cert-manager's issuer, the AWS load balancer's certificate ARN)."""

    enabled: bool = Field(False, description="Render the Ingress.")
    class_name: str | None = None
    host: str = ""
    tls_secret_name: str | None = Field(None, description="TLS certificate Secret of host.")
    annotations: LabelMap = Field(
        default_factory=dict, description="e.g. cert-manager.io/cluster-issuer: letsencrypt."
    )


class DataApiValues(StrictModel):
    enabled: bool = True
    replicas: int = Field(2, ge=1)
    port: Port = 8000
    public_url: str = Field(
        "",
        pattern=r"^(https?://[^/\s]+\S*)?$",
        description="Address people open the Data API at (CLEARLAKE_PUBLIC_URL).",
    )
    resources: ResourceRequirements
    tokens_secret: SecretKeyRef
    mask_key_secret: SecretKeyRef
    policy: dict[str, Any] = Field(
        default_factory=dict, description="Access policy, mounted as api-policy.yaml."
    )
    tmp_size_limit: Quantity = "256Mi"
    node_selector: LabelMap = Field(default_factory=dict)
    pod_annotations: LabelMap = Field(default_factory=dict)
    ingress: IngressValues = Field(
        default_factory=lambda: IngressValues.model_validate({}),
        description="HTTPS for the Data API (reports, gallery, sign-in; its own token auth).",
    )


class ServiceAccountValues(StrictModel):
    name: DnsSubdomain
    role_arn: IamRoleArn | None = Field(
        None, description="IRSA role (eks.amazonaws.com/role-arn); required on AWS."
    )
    annotations: LabelMap = Field(default_factory=dict)


class ServiceAccountsValues(StrictModel):
    runs: ServiceAccountValues
    data_api: ServiceAccountValues


class RbacValues(StrictModel):
    create: bool = True


class EgressTarget(StrictModel):
    cidrs: list[Cidr] = Field(default_factory=list)
    pod_labels: LabelMap = Field(default_factory=dict)
    ports: list[Port] = Field(min_length=1)


class PeerValues(StrictModel):
    namespace_labels: LabelMap | None = None
    pod_labels: LabelMap | None = None
    cidr: Cidr | None = None

    @model_validator(mode="after")
    def one_kind_of_peer(self) -> PeerValues:
        if self.cidr is not None and (self.namespace_labels or self.pod_labels):
            raise ValueError("a peer is either a cidr or namespace/pod labels, not both")
        if self.cidr is None and self.namespace_labels is None and self.pod_labels is None:
            raise ValueError("a peer needs cidr, namespaceLabels or podLabels")
        return self


class DnsValues(StrictModel):
    namespace: DnsLabel = "kube-system"
    pod_labels: LabelMap = Field(default_factory=lambda: {"k8s-app": "kube-dns"})


class NetworkPolicyValues(StrictModel):
    enabled: bool = True
    dns: DnsValues = Field(default_factory=lambda: DnsValues.model_validate({}))
    kube_api: EgressTarget
    object_store: EgressTarget
    databases: EgressTarget
    webserver_allowed_from: list[PeerValues] = Field(default_factory=list)
    data_api_allowed_from: list[PeerValues] = Field(default_factory=list)


class ResourceQuotaValues(StrictModel):
    enabled: bool = True
    hard: dict[ResourceName, Quantity] = Field(min_length=1)


class NodeGroupCapacity(StrictModel):
    cpu: Quantity = Field(description="Allocatable CPU of one node of the group.")
    memory: Quantity = Field(description="Allocatable memory of one node of the group.")
    gpu: int = Field(0, ge=0, description="nvidia.com/gpu per node.")


class DevicePluginValues(StrictModel):
    enabled: bool = Field(
        False, description="Run the NVIDIA device plugin on the GPU nodes (Terraform's GPU group)."
    )
    image: str = Field(
        "nvcr.io/nvidia/k8s-device-plugin:v0.17.0", pattern=r"^[\w.\-/:@]+:[\w.\-]+$"
    )


class PriorityClassValues(StrictModel):
    create: bool = True
    name: DnsSubdomain = Field(
        "clearlake-experiments",
        description="Class of every experiment pod (clearlake.experiments.profiles).",
    )
    value: int = Field(-10, lt=0, description="Below production's 0: production wins.")


class ExperimentsValues(StrictModel):
    priority_class: PriorityClassValues = Field(
        default_factory=lambda: PriorityClassValues.model_validate({})
    )
    resource_quota: ResourceQuotaValues
    nodes: dict[DnsLabel, NodeGroupCapacity] = Field(
        default_factory=dict,
        description="Allocatable resources per node of each node group (Terraform output "
        "helm_values): experiments that fit none are refused before launch. Empty: unchecked.",
    )
    device_plugin: DevicePluginValues = Field(
        default_factory=lambda: DevicePluginValues.model_validate({})
    )


class JobQuotaValues(StrictModel):
    enabled: bool = True
    commits_per_day: int = Field(
        200, ge=1, description="Declared: commits evaluated a day, all repositories together."
    )
    jobs_per_evaluation: int = Field(
        5, ge=1, description="Measured: Jobs of one evaluation run (1 run Job + 1 per step)."
    )
    jobs_per_commit: int = Field(
        9, ge=1, description="Measured: Jobs a commit causes (evaluation, leaderboard, gallery)."
    )
    hard: dict[ResourceName, Quantity] = Field(min_length=1)


class PodDisruptionBudgetValues(StrictModel):
    enabled: bool = True
    max_unavailable: int = Field(1, ge=1, description="Pods of one component evicted at once.")


class BuildValues(StrictModel):
    enabled: bool = Field(True, description="The suspended CronJob of `clearlake build`.")
    resources: ResourceRequirements


class OAuth2ProxyValues(StrictModel):
    enabled: bool = Field(False, description="oauth2-proxy (OIDC) in front of the Dagster UI.")
    image: str = Field("quay.io/oauth2-proxy/oauth2-proxy:v7.7.1", pattern=r"^[\w.\-/:@]+$")
    oidc_issuer_url: HttpUrl | None = Field(None, description="REQUIRED when enabled.")
    client_id: str = ""
    secret_name: str = Field(
        "clearlake-oauth2-proxy",
        description="Secret with client-secret and cookie-secret (created beforehand).",
    )
    email_domains: list[str] = Field(default_factory=lambda: ["*"])
    resources: ResourceRequirements


class ExternalSecretsValues(StrictModel):
    enabled: bool = Field(False, description="Sync Dagster's DB password with External Secrets.")
    store_kind: Literal["SecretStore", "ClusterSecretStore"] = "ClusterSecretStore"
    store_name: str = "aws-secrets-manager"
    dagster_password_key: str | None = Field(
        None, description="Secrets Manager secret of the dagster role (its `password` property)."
    )
    refresh_interval: str = Field("1h", pattern=r"^\d+[smh]$")


class ClearlakeValues(StrictModel):
    """Everything ``helm install clearlake helm/clearlake`` accepts."""

    global_: dict[str, Any] = Field(default_factory=dict, alias="global")
    name_override: str = ""
    fullname_override: Literal[""] | DnsLabel = Field(
        "clearlake", description="Object name prefix; the dagster subtree refers to it."
    )
    image: ImageValues
    image_pull_secrets: list[NameRef] = Field(default_factory=list)
    common_labels: LabelMap = Field(default_factory=dict)
    pod_security: PodSecurity = Field(default_factory=lambda: PodSecurity.model_validate({}))
    lake: LakeValues
    source: SecretKeyRef
    config: dict[str, Any] = Field(default_factory=dict, description="clearlake.yaml content.")
    project_config: str = Field(
        "/opt/clearlake/examples/flights/clearlake.yaml",
        pattern=r"^/[^\s]*\.ya?ml$",
        description="The project's clearlake.yaml inside the image (used when config is {}): "
        "a team image puts its project folder there (helm/project-image/Dockerfile).",
    )
    extra_env: list[EnvVar] = Field(default_factory=list)
    env_secrets: list[NameRef] = Field(default_factory=list)
    reports: ReportsValues = Field(default_factory=lambda: ReportsValues.model_validate({}))
    code_location: CodeLocationValues
    data_api: DataApiValues
    service_accounts: ServiceAccountsValues
    rbac: RbacValues = Field(default_factory=lambda: RbacValues.model_validate({}))
    network_policy: NetworkPolicyValues
    experiments: ExperimentsValues
    job_quota: JobQuotaValues
    pod_disruption_budgets: PodDisruptionBudgetValues = Field(
        default_factory=lambda: PodDisruptionBudgetValues.model_validate({})
    )
    build: BuildValues
    oauth2_proxy: OAuth2ProxyValues
    ingress: IngressValues = Field(
        default_factory=lambda: IngressValues.model_validate({}),
        description="HTTPS for the Dagster UI, through oauth2-proxy (required with it).",
    )
    external_secrets: ExternalSecretsValues = Field(
        default_factory=lambda: ExternalSecretsValues.model_validate({})
    )
    dagster: DagsterValues

    @property
    def reports_claim(self) -> str:
        """The claim mounted at the reports root: reports.existingClaim, else the chart's."""
        return self.reports.existing_claim or f"{self.fullname_override}-reports"

    @model_validator(mode="after")
    def check_references(self) -> ClearlakeValues:
        """The dagster subtree cannot template names, so it must spell ours exactly."""
        if not self.dagster.enabled or not self.fullname_override:
            return self
        objects = ChartObjects(
            name=self.fullname_override,
            runs_service_account=self.service_accounts.runs.name,
            source_secret={"name": self.source.secret_name, "key": self.source.key},
            code_location_port=self.code_location.port,
            reports_claim=self.reports_claim if self.reports.enabled else None,
            dagster=self.dagster,
        )
        problems = reference_problems(objects)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def values_json_schema() -> dict[str, Any]:
    """The chart's values.schema.json (JSON Schema 2020-12, which Helm 3.18+/4 applies)."""
    schema = ClearlakeValues.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema}


def main() -> None:
    json.dump(values_json_schema(), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
