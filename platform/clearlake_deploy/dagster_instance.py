"""The Dagster instance (dagster.yaml) that the official dagster chart builds from our values.

:func:`instance_config` mirrors the chart's ``configmap-instance.yaml`` (chart 1.13) for the
pieces Clearlake configures, so tests can check them with Dagster's own config schemas
and build the exact Job a run would get, without a cluster. Keep it in step with the
chart version pinned in ``helm/clearlake/Chart.yaml``.
"""

from __future__ import annotations

from typing import Any

from clearlake_deploy.dagster_values import DagsterValues

PG_PASSWORD_ENV = "DAGSTER_PG_PASSWORD"


def dagster_fullname(release_name: str) -> str:
    """``dagster.fullname`` of the subchart (chart name ``dagster``)."""
    return release_name if "dagster" in release_name else f"{release_name}-dagster"


def _postgres_config(values: DagsterValues, release_name: str) -> dict[str, Any]:
    pg = values.postgresql
    host = f"{release_name}-postgresql" if pg.enabled else pg.postgresql_host
    db: dict[str, Any] = {
        "username": pg.postgresql_username,
        "password": {"env": PG_PASSWORD_ENV},
        "hostname": host,
        "db_name": pg.postgresql_database,
        "port": pg.service.port,
        "params": dict(pg.postgresql_params),
    }
    if pg.postgresql_scheme:
        db["scheme"] = pg.postgresql_scheme
    return {"postgres_db": db}


def _run_launcher(values: DagsterValues, release_name: str, namespace: str) -> dict[str, Any]:
    launcher = values.run_launcher.config.k8s_run_launcher
    fullname = dagster_fullname(release_name)
    config: dict[str, Any] = {
        "load_incluster_config": launcher.load_incluster_config,
        "job_namespace": launcher.job_namespace or namespace,
        "image_pull_policy": launcher.image_pull_policy,
        "service_account_name": fullname,
        "dagster_home": values.global_.dagster_home,
        "instance_config_map": f"{fullname}-instance",
        "postgres_password_secret": values.global_.postgresql_secret_name,
    }
    if launcher.kubeconfig_file:
        config["kubeconfig_file"] = launcher.kubeconfig_file
    if values.image_pull_secrets:
        config["image_pull_secrets"] = [{"name": ref.name} for ref in values.image_pull_secrets]
    optional: dict[str, Any] = {
        "env_config_maps": [ref.name for ref in launcher.env_config_maps],
        "env_secrets": [ref.name for ref in launcher.env_secrets],
        "env_vars": list(launcher.env_vars),
        "volume_mounts": list(launcher.volume_mounts),
        "volumes": list(launcher.volumes),
        "labels": dict(launcher.labels),
        "resources": dict(launcher.resources),
        "fail_pod_on_run_failure": launcher.fail_pod_on_run_failure,
        "scheduler_name": launcher.scheduler_name,
        "security_context": dict(launcher.security_context),
    }
    config.update({key: value for key, value in optional.items() if value})
    run_k8s = launcher.run_k8s_config
    run_k8s_config = {
        "container_config": run_k8s.container_config,
        "pod_spec_config": run_k8s.pod_spec_config,
        "pod_template_spec_metadata": run_k8s.pod_template_spec_metadata,
        "job_spec_config": run_k8s.job_spec_config,
        "job_metadata": run_k8s.job_metadata,
    }
    run_k8s_config = {key: value for key, value in run_k8s_config.items() if value}
    if run_k8s_config:
        config["run_k8s_config"] = run_k8s_config
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": config}


def _compute_logs(values: DagsterValues) -> dict[str, Any]:
    manager = values.compute_log_manager
    if manager.type == "NoOpComputeLogManager":
        return {
            "module": "dagster._core.storage.noop_compute_log_manager",
            "class": "NoOpComputeLogManager",
        }
    s3 = manager.config.s3_compute_log_manager
    if s3 is None:
        raise ValueError(
            "dagster.computeLogManager.type is S3ComputeLogManager but "
            "dagster.computeLogManager.config.s3ComputeLogManager is missing: set its bucket"
        )
    config: dict[str, Any] = {"bucket": s3.bucket}
    optional = {
        "prefix": s3.prefix,
        "region": s3.region,
        "endpoint_url": s3.endpoint_url,
        "local_dir": s3.local_dir,
        "use_ssl": s3.use_ssl,
        "skip_empty_files": s3.skip_empty_files,
        "upload_interval": s3.upload_interval,
        "show_url_only": s3.show_url_only,
    }
    # Like the chart's `{{- if ... }}`: false and empty settings are left out.
    config.update({key: value for key, value in optional.items() if value})
    return {
        "module": "dagster_aws.s3.compute_log_manager",
        "class": "S3ComputeLogManager",
        "config": config,
    }


def instance_config(values: DagsterValues, *, release_name: str, namespace: str) -> dict[str, Any]:
    """dagster.yaml as the dagster chart renders it for these values (Clearlake's pieces)."""
    storage = _postgres_config(values, release_name)
    config: dict[str, Any] = {
        "scheduler": {
            "module": "dagster._core.scheduler",
            "class": "DagsterDaemonScheduler",
        },
        "run_storage": {
            "module": "dagster_postgres.run_storage",
            "class": "PostgresRunStorage",
            "config": storage,
        },
        "event_log_storage": {
            "module": "dagster_postgres.event_log",
            "class": "PostgresEventLogStorage",
            "config": storage,
        },
        "schedule_storage": {
            "module": "dagster_postgres.schedule_storage",
            "class": "PostgresScheduleStorage",
            "config": storage,
        },
        "run_launcher": _run_launcher(values, release_name, namespace),
        "compute_logs": _compute_logs(values),
    }
    daemon = values.dagster_daemon
    if daemon.enabled and daemon.run_coordinator.enabled:
        queued = daemon.run_coordinator.config.queued_run_coordinator
        coordinator: dict[str, Any] = {}
        if queued.max_concurrent_runs is not None:
            coordinator["max_concurrent_runs"] = queued.max_concurrent_runs
        if queued.tag_concurrency_limits:
            coordinator["tag_concurrency_limits"] = [
                limit.model_dump(exclude_none=True) for limit in queued.tag_concurrency_limits
            ]
        if queued.dequeue_interval_seconds:
            coordinator["dequeue_interval_seconds"] = queued.dequeue_interval_seconds
        config["run_coordinator"] = {
            "module": "dagster._core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": coordinator,
        }
    if daemon.enabled and daemon.run_monitoring.enabled:
        monitoring = daemon.run_monitoring
        config["run_monitoring"] = {
            "enabled": True,
            "start_timeout_seconds": monitoring.start_timeout_seconds,
            "poll_interval_seconds": monitoring.poll_interval_seconds,
        }
        if monitoring.max_resume_run_attempts is not None:
            config["run_monitoring"]["max_resume_run_attempts"] = monitoring.max_resume_run_attempts
    if daemon.enabled and daemon.run_retries.enabled:
        config["run_retries"] = {"enabled": True, "max_retries": daemon.run_retries.max_retries}
    return config


WORKSPACE_PATH = "/dagster-workspace/workspace.yaml"
"""Where the dagster chart mounts workspace.yaml in the webserver and daemon pods."""


def workspace_config(values: DagsterValues) -> dict[str, Any]:
    """workspace.yaml as the chart's ``configmap-workspace.yaml`` renders the server list."""
    servers = values.dagster_webserver.workspace.servers
    return {
        "load_from": [
            {"grpc_server": {"host": s.host, "port": s.port, "location_name": s.name}}
            for s in servers
        ]
    }


def webserver_command_line(values: DagsterValues) -> str:
    """The shell line of the chart's ``dagster.webserver.dagsterWebserverCommand`` helper
    (the flags in its order; Go's ``with`` skips unset, zero and empty values alike)."""
    web = values.dagster_webserver
    line = f"dagster-webserver -h 0.0.0.0 -p {web.service.port}"
    if values.user_deployments.enabled:
        line += f" -w {WORKSPACE_PATH}"
    flags = (
        ("--db-statement-timeout", web.db_statement_timeout),
        ("--db-pool-recycle", web.db_pool_recycle),
        ("--path-prefix", web.path_prefix),
        ("--log-level", web.log_level),
    )
    for flag, value in flags:
        if value:
            line += f" {flag} {value}"
    return line


def daemon_command_line(values: DagsterValues) -> str:
    """The shell line of the chart's ``dagster.dagsterDaemon.daemonCommand`` helper."""
    line = "dagster-daemon run"
    if values.user_deployments.enabled:
        line += f" -w {WORKSPACE_PATH}"
    return line


def dagster_containers(values: DagsterValues) -> dict[str, dict[str, Any]]:
    """Command and secret environment of the chart's webserver and daemon containers.

    Both templates (``helpers/_deployment-webserver.tpl``, ``deployment-daemon.yaml``) run
    their helper's line through ``["/bin/bash", "-c", "<line>"]``; tests/helm/
    test_dagster_commands.py renders the upstream lines (an excerpt kept as a fixture) with
    Helm and holds these commands to them. Both containers get ``DAGSTER_PG_PASSWORD`` from
    the password Secret and ``DAGSTER_HOME`` (from the chart's env ConfigMaps)."""
    env = {
        "DAGSTER_HOME": values.global_.dagster_home,
        PG_PASSWORD_ENV: {
            "secretKeyRef": {
                "name": values.global_.postgresql_secret_name,
                "key": values.postgres_secret_key,
            }
        },
    }
    return {
        "webserver": {"command": ["/bin/bash", "-c", webserver_command_line(values)], "env": env},
        "daemon": {"command": ["/bin/bash", "-c", daemon_command_line(values)], "env": env},
    }
