"""The ``dagster:`` subtree of the Clearlake values: what the official dagster chart gets.

These models are :class:`PassThroughModel` s: the dagster chart ships its own strict
values.schema.json, which Helm applies to this subtree at install time (and which also
sees the dagster chart's own defaults, so forbidding keys here would break installs).
Clearlake types the keys it relies on: the run launcher, the storage, the compute logs,
run monitoring and retries, and the workspace pointing at the code-location server.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from clearlake_deploy.kube_types import (
    ConfigKey,
    DnsSubdomain,
    LabelMap,
    PassThroughModel,
    Port,
    StrictModel,
)

PullPolicy = Literal["Always", "IfNotPresent", "Never"]


class NameRef(StrictModel):
    name: DnsSubdomain = Field(description="Name of the referenced ConfigMap or Secret.")


class RunK8sConfig(PassThroughModel):
    """Raw Kubernetes fragments merged into every run and step pod (dagster-k8s keys)."""

    container_config: dict[str, Any] = Field(default_factory=dict)
    pod_spec_config: dict[str, Any] = Field(default_factory=dict)
    pod_template_spec_metadata: dict[str, Any] = Field(default_factory=dict)
    job_spec_config: dict[str, Any] = Field(default_factory=dict)
    job_metadata: dict[str, Any] = Field(default_factory=dict)


class K8sRunLauncherValues(PassThroughModel):
    image_pull_policy: PullPolicy = "IfNotPresent"
    job_namespace: str = Field("", description="Namespace of run Jobs; empty = release's.")
    load_incluster_config: bool = True
    kubeconfig_file: str | None = None
    env_config_maps: list[NameRef] = Field(default_factory=list)
    env_secrets: list[NameRef] = Field(default_factory=list)
    env_vars: list[str] = Field(default_factory=list)
    volume_mounts: list[dict[str, Any]] = Field(default_factory=list)
    volumes: list[dict[str, Any]] = Field(default_factory=list)
    labels: LabelMap = Field(default_factory=dict)
    resources: dict[str, Any] = Field(default_factory=dict)
    fail_pod_on_run_failure: bool = False
    scheduler_name: str | None = None
    security_context: dict[str, Any] = Field(default_factory=dict)
    run_k8s_config: RunK8sConfig = Field(default_factory=lambda: RunK8sConfig.model_validate({}))


class RunLauncherConfig(PassThroughModel):
    k8s_run_launcher: K8sRunLauncherValues


class RunLauncherValues(PassThroughModel):
    type: Literal["K8sRunLauncher"] = Field(
        description="Clearlake runs every run as a Kubernetes Job (k8s_job_executor for steps)."
    )
    config: RunLauncherConfig


class PostgresqlService(PassThroughModel):
    port: Port = 5432


class PostgresqlValues(PassThroughModel):
    enabled: bool = Field(description="true = the chart's bundled PostgreSQL (local only).")
    postgresql_host: str = ""
    postgresql_username: str = Field(min_length=1)
    postgresql_database: str = Field(min_length=1)
    postgresql_params: dict[str, str] = Field(default_factory=dict)
    postgresql_scheme: str | None = None
    service: PostgresqlService = Field(default_factory=lambda: PostgresqlService.model_validate({}))


class S3ComputeLogManagerValues(PassThroughModel):
    bucket: str = Field(min_length=3)
    prefix: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    local_dir: str | None = None
    use_ssl: bool | None = None
    skip_empty_files: bool | None = None
    upload_interval: int | None = Field(None, ge=1)
    show_url_only: bool | None = None


class ComputeLogManagerConfig(PassThroughModel):
    s3_compute_log_manager: S3ComputeLogManagerValues | None = None


class ComputeLogManagerValues(PassThroughModel):
    type: Literal["S3ComputeLogManager", "NoOpComputeLogManager"]
    config: ComputeLogManagerConfig = Field(
        default_factory=lambda: ComputeLogManagerConfig.model_validate({})
    )


class RunMonitoringValues(PassThroughModel):
    enabled: bool
    start_timeout_seconds: int = Field(300, ge=1)
    poll_interval_seconds: int = Field(120, ge=1)
    max_resume_run_attempts: int | None = Field(None, ge=0)


class RunRetriesValues(PassThroughModel):
    enabled: bool
    max_retries: int = Field(0, ge=0)


class TagConcurrencyLimit(PassThroughModel):
    key: str
    value: Any = None
    limit: int = Field(ge=0)


class QueuedRunCoordinatorValues(PassThroughModel):
    max_concurrent_runs: int | None = Field(None, ge=-1)
    tag_concurrency_limits: list[TagConcurrencyLimit] = Field(default_factory=list)
    dequeue_interval_seconds: int | None = Field(None, ge=1)


class RunCoordinatorConfig(PassThroughModel):
    queued_run_coordinator: QueuedRunCoordinatorValues = Field(
        default_factory=lambda: QueuedRunCoordinatorValues.model_validate({})
    )


class RunCoordinatorValues(PassThroughModel):
    enabled: bool = True
    type: Literal["QueuedRunCoordinator"] = "QueuedRunCoordinator"
    config: RunCoordinatorConfig = Field(
        default_factory=lambda: RunCoordinatorConfig.model_validate({})
    )


class DaemonValues(PassThroughModel):
    enabled: bool = True
    run_monitoring: RunMonitoringValues
    run_retries: RunRetriesValues
    run_coordinator: RunCoordinatorValues = Field(
        default_factory=lambda: RunCoordinatorValues.model_validate({})
    )


class WorkspaceServer(PassThroughModel):
    host: str = Field(min_length=1)
    port: Port
    name: str = Field(min_length=1)


class WorkspaceValues(PassThroughModel):
    enabled: bool
    servers: list[WorkspaceServer] = Field(default_factory=list)


class WebserverService(PassThroughModel):
    port: Port = Field(80, description="Port of the webserver (its command's -p).")


class WebserverValues(PassThroughModel):
    """The keys the chart's webserver command line reads (helpers/_helpers.tpl)."""

    workspace: WorkspaceValues
    service: WebserverService = Field(default_factory=lambda: WebserverService.model_validate({}))
    db_statement_timeout: int | None = Field(None, ge=0, description="--db-statement-timeout")
    db_pool_recycle: int | None = Field(None, description="--db-pool-recycle")
    path_prefix: str | None = Field(None, description="--path-prefix")
    log_level: str | None = Field(None, description="--log-level")


class UserDeploymentsValues(PassThroughModel):
    enabled: bool
    enable_subchart: bool


class DagsterGlobalValues(PassThroughModel):
    postgresql_secret_name: DnsSubdomain = Field(
        description="Secret with key postgresql-password, read by every Dagster pod."
    )
    dagster_home: str = "/opt/dagster/dagster_home"


class DagsterValues(PassThroughModel):
    """Values handed to the official dagster chart (subchart alias ``dagster``)."""

    enabled: bool = Field(description="Install the dagster subchart (false only in tests).")
    global_: DagsterGlobalValues = Field(alias="global")
    dagster_webserver: WebserverValues
    user_deployments: UserDeploymentsValues = Field(alias="dagster-user-deployments")
    run_launcher: RunLauncherValues
    postgresql: PostgresqlValues
    generate_postgresql_password_secret: bool
    compute_log_manager: ComputeLogManagerValues
    dagster_daemon: DaemonValues
    image_pull_secrets: list[NameRef] = Field(default_factory=list)
    telemetry: dict[str, Any] = Field(default_factory=dict)

    @property
    def postgres_secret_key(self) -> ConfigKey:
        """The key the dagster chart reads the password from."""
        return "postgresql-password"
