"""The production-shaped stack, started from the rendered chart.

The chart is rendered offline (helm-python-sdk, as tests/helm does); every Clearlake process
(code-location gRPC server, Data API) is started with the command and environment of its
rendered Deployment, ConfigMaps and Secrets resolved as the kubelet would, and paths inside
the pod mapped onto a temporary folder. The dagster subchart cannot be downloaded here, so the
webserver and daemon get the chart's instance (``instance_config``), workspace and commands
as ``clearlake_deploy.dagster_instance`` mirrors them. Only the run launcher differs
(``DefaultRunLauncher``: a run is a process of the code-location server instead of a Job), and
steps are processes instead of Jobs (``CLEARLAKE_STEP_EXECUTOR=process`` via ``extraEnv``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import helm_python as helm
import yaml
from processes import Server, http_ok, servers, wait_until
from s3_server import REGION, S3Server, free_port

from clearlake_deploy.dagster_instance import (
    WORKSPACE_PATH,
    dagster_containers,
    instance_config,
    workspace_config,
)
from clearlake_deploy.helm_values import ClearlakeValues

REPO = Path(__file__).resolve().parents[2]
CHART_DIR = REPO / "helm" / "clearlake"
RELEASE = NAMESPACE = "clearlake"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
MASK_KEY = "stack-test-mask-key-0123456789"
S3_SECRET = "clearlake-s3-credentials"
BIN = Path(sys.executable).parent


@dataclass
class Stack:
    """What a test needs of the running stack."""

    root: Path
    env: dict[str, str]  # the code-location server's environment (the pods' environment)
    api_url: str
    api_token: str
    webserver_url: str
    processes: list[Server] = field(default_factory=list)

    def check_alive(self) -> None:
        for server in self.processes:
            server.check_alive()


def render(values: dict[str, Any]) -> tuple[list[dict[str, Any]], ClearlakeValues]:
    chart = helm.Chart.load(str(CHART_DIR))
    try:
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        merged = ClearlakeValues.model_validate(chart.merge_values(values))
    finally:
        chart.close()
    objects = [
        doc
        for text in rendered.values()
        for doc in yaml.safe_load_all(text)
        if isinstance(doc, dict) and doc.get("kind")
    ]
    return objects, merged


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


class PodPaths:
    """Paths inside a pod mapped onto the test's folder (the image's /opt/clearlake = REPO)."""

    def __init__(self, root: Path) -> None:
        self.mapping = {
            "/opt/clearlake": REPO,
            "/opt/dagster/dagster_home": root / "dagster_home",
            "/dagster-workspace": root / "dagster-workspace",
            "/etc/clearlake": root / "etc-clearlake",
            "/var/run/secrets/clearlake": root / "secrets",
            "/tmp": root / "pod-tmp",
        }

    def __call__(self, value: str) -> str:
        for inside, outside in self.mapping.items():
            if value == inside or value.startswith(inside + "/"):
                return str(outside) + value[len(inside) :]
        return value


def container_env(
    objects: list[dict[str, Any]],
    container: dict[str, Any],
    secrets: dict[str, dict[str, str]],
    paths: PodPaths,
) -> dict[str, str]:
    """The container's environment as the kubelet builds it (envFrom, then env)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(find(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            env.update(secrets[source["secretRef"]["name"]])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[ref["name"]][ref["key"]]
    return {name: paths(value) for name, value in env.items()}


def base_env() -> dict[str, str]:
    """What the image gives every process: PATH to the environment, nothing of ours."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARLAKE_", "DAGSTER_"))}
    keep = {k: v for k, v in keep.items() if not k.startswith("AWS_")}
    keep["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return keep


def chart_values(
    *,
    s3: S3Server,
    bucket: str,
    postgres_url: str,
    config: dict[str, Any],
    code_port: int,
    api_port: int,
) -> dict[str, Any]:
    """Values of a production install, pointed at the loopback services."""
    database = urlparse(postgres_url)
    return {
        "image": {"tag": COMMIT},
        "lake": {"url": f"s3://{bucket}/lake", "endpointUrl": s3.endpoint, "region": REGION},
        "config": config,
        # Steps as processes: the one difference besides the run launcher (no cluster here).
        "extraEnv": [{"name": "CLEARLAKE_STEP_EXECUTOR", "value": "process"}],
        # Stand-in for the IAM role (IRSA) of the pods: keys the S3 server accepts.
        "envSecrets": [{"name": S3_SECRET}],
        "codeLocation": {"port": code_port},
        "dataApi": {"port": api_port, "replicas": 1},
        "dagster": {
            "enabled": False,
            "dagsterWebserver": {
                "workspace": {
                    "servers": [
                        {"host": "clearlake-code-location", "port": code_port, "name": "clearlake"}
                    ]
                }
            },
            "postgresql": {
                "postgresqlHost": database.hostname,
                "postgresqlUsername": database.username,
                "postgresqlDatabase": database.path.lstrip("/"),
                "postgresqlParams": {"sslmode": "disable"},
                "service": {"port": database.port or 5432},
            },
            "computeLogManager": {
                "config": {
                    "s3ComputeLogManager": {
                        "bucket": bucket,
                        "endpointUrl": s3.endpoint,
                        "region": REGION,
                    }
                }
            },
        },
    }


def secrets_for(s3: S3Server, source_url: str, tokens_file_text: str) -> dict[str, dict[str, str]]:
    return {
        "clearlake-source": {"url": source_url},
        "clearlake-dagster-postgresql": {"postgresql-password": ""},  # trust auth on loopback
        "clearlake-api-mask-key": {"mask-key": MASK_KEY},
        "clearlake-api-tokens": {"tokens": tokens_file_text},
        S3_SECRET: {k: v for k, v in s3.env().items() if k.startswith("AWS_") and "KEY" in k},
    }


def write_pod_files(
    objects: list[dict[str, Any]],
    merged: ClearlakeValues,
    secrets: dict[str, dict[str, str]],
    paths: PodPaths,
    *,
    hosts: dict[str, str],
) -> None:
    """What the chart mounts: clearlake.yaml, the tokens file, dagster.yaml, workspace.yaml."""
    config_map = find(objects, "ConfigMap", "clearlake-config")["data"]
    for name, text in config_map.items():
        target = Path(paths(f"/etc/clearlake/{name}"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("/opt/clearlake/", f"{paths('/opt/clearlake')}/"))
    tokens = Path(paths("/var/run/secrets/clearlake/api-tokens/tokens"))
    tokens.parent.mkdir(parents=True, exist_ok=True)
    tokens.write_text(secrets["clearlake-api-tokens"]["tokens"])
    instance = instance_config(merged.dagster, release_name=RELEASE, namespace=NAMESPACE)
    instance["run_launcher"] = {"module": "dagster", "class": "DefaultRunLauncher"}
    instance["telemetry"] = {"enabled": False}
    home = Path(paths(merged.dagster.global_.dagster_home))
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance, sort_keys=False))
    workspace = workspace_config(merged.dagster)
    for entry in workspace["load_from"]:  # cluster DNS: the Service name is this machine
        server = entry["grpc_server"]
        server["host"] = hosts.get(server["host"], server["host"])
    target = Path(paths(WORKSPACE_PATH))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(workspace))


def command_of(container: dict[str, Any]) -> list[str]:
    return [*container.get("command", []), *container.get("args", [])]


@contextlib.contextmanager
def production_stack(
    root: Path,
    *,
    s3: S3Server,
    bucket: str,
    postgres_url: str,
    source_url: str,
    config: dict[str, Any],
    api_token_file_text: str,
    api_token: str,
    before_servers: Callable[[dict[str, str]], None] | None = None,
) -> Iterator[Stack]:
    """Render the chart, write what it mounts, start every process; stop them all on exit."""
    code_port, api_port, web_port = free_port(), free_port(), free_port()
    values = chart_values(
        s3=s3,
        bucket=bucket,
        postgres_url=postgres_url,
        config=config,
        code_port=code_port,
        api_port=api_port,
    )
    objects, merged = render(values)
    paths = PodPaths(root)
    secrets = secrets_for(s3, source_url, api_token_file_text)
    write_pod_files(objects, merged, secrets, paths, hosts={"clearlake-code-location": "127.0.0.1"})
    code_pod = find(objects, "Deployment", "clearlake-code-location")["spec"]["template"]["spec"]
    (code_container,) = code_pod["containers"]
    api_pod = find(objects, "Deployment", "clearlake-data-api")["spec"]["template"]["spec"]
    (api_container,) = api_pod["containers"]
    code_env = {**base_env(), **container_env(objects, code_container, secrets, paths)}
    api_env = {**base_env(), **container_env(objects, api_container, secrets, paths)}
    Path(code_env["CLEARLAKE_HOME"]).mkdir(parents=True, exist_ok=True)
    dagster_env: dict[str, dict[str, str]] = {}
    for name, spec in dagster_containers(merged.dagster).items():
        env = {**base_env(), **secrets[S3_SECRET]}  # the role the chart should give them
        for key, value in spec["env"].items():
            if isinstance(value, dict):
                ref = value["secretKeyRef"]
                env[key] = secrets[ref["name"]][ref["key"]]
            else:
                env[key] = paths(value)
        dagster_env[name] = env
    # The chart's commands as they are: /bin/bash -c "dagster-webserver … -p 80 -w <workspace>"
    # and /bin/bash -c "dagster-daemon run -w <workspace>" (tests/helm/test_dagster_commands.py
    # holds them to the upstream template). Only two things differ here: the webserver listens
    # on a free loopback port (the chart's Service forwards to its port), and the workspace
    # sits where this stack's pod paths put it.
    port = merged.dagster.dagster_webserver.service.port
    commands = {name: spec["command"] for name, spec in dagster_containers(merged.dagster).items()}
    for name, (shell, flag, script) in commands.items():
        script = script.replace(f" -p {port} ", f" -p {web_port} ")
        commands[name] = [shell, flag, script.replace(WORKSPACE_PATH, paths(WORKSPACE_PATH))]
    web, daemon = commands["webserver"], commands["daemon"]
    assert f" -p {web_port} " in web[2], f"no -p {port} to move in {web}"

    if before_servers is not None:  # the pods' environment plus the instance
        before_servers({**code_env, "DAGSTER_HOME": dagster_env["daemon"]["DAGSTER_HOME"]})
    with servers(root / "logs") as start:
        cwd = Path(paths("/opt/clearlake"))
        # Runs are processes of the code-location server here (DefaultRunLauncher); on the
        # cluster K8sRunLauncher gives each run pod DAGSTER_HOME and the instance's config
        # map, which a report run's dagstermill kernel reads its instance from.
        run_env = {**code_env, "DAGSTER_HOME": dagster_env["daemon"]["DAGSTER_HOME"]}
        code = start("code-location", command_of(code_container), run_env, cwd)
        api = start("data-api", command_of(api_container), api_env, cwd)
        webserver = start("webserver", web, dagster_env["webserver"], cwd)
        daemon_process = start("daemon", daemon, dagster_env["daemon"], cwd)
        everything = [code, api, webserver, daemon_process]
        stack = Stack(
            root=root,
            env=code_env,
            api_url=f"http://127.0.0.1:{api_port}",
            api_token=api_token,
            webserver_url=f"http://127.0.0.1:{web_port}",
            processes=everything,
        )
        wait_until("the Data API", http_ok(f"{stack.api_url}/livez"), timeout=90, alive=everything)
        wait_until(
            "the webserver",
            http_ok(f"{stack.webserver_url}/server_info"),
            timeout=120,
            alive=everything,
        )
        yield stack


def git(path: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(path), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@contextlib.contextmanager
def git_daemon(base: Path) -> Iterator[str]:
    """``git daemon`` serving every repository under ``base``; yields git://127.0.0.1:PORT."""
    port = free_port()
    with servers(base.parent / "git-daemon-logs") as start:
        daemon = start(
            "git-daemon",
            [
                "git",
                "daemon",
                f"--base-path={base}",
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={port}",
                str(base),
            ],
            base_env(),
            base,
        )

        def answers() -> bool:
            probe = subprocess.run(
                ["git", "ls-remote", f"git://127.0.0.1:{port}/none.git"],
                capture_output=True,
                text=True,
                check=False,
            )
            return "Connection refused" not in probe.stderr

        wait_until("git daemon", answers, timeout=30, alive=[daemon])
        yield f"git://127.0.0.1:{port}"
