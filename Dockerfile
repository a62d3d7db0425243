# Clearlake image: the code-location server, the Data API and every run and step pod.
#
#   docker build --build-arg PLATFORM_COMMIT=$(git rev-parse HEAD) \
#     -t clearlake:$(git rev-parse HEAD) .
#
# Tags are immutable and name the commit (clearlake:<git sha>), never `latest`. The image holds
# no secret: the cluster injects them at run time (Kubernetes Secrets, IRSA).
# checkov:skip=CKV_DOCKER_2:Kubernetes probes check each role (gRPC health for the code server, GET /health for the Data API); a Docker HEALTHCHECK cannot serve both and Kubernetes ignores it.

# --- build: the locked environment, byte-compiled ------------------------------------------
FROM python:3.11.14-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/clearlake/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /opt/clearlake
# Dependencies first (cached while only our code changes): exactly uv.lock, no dev group.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --compile-bytecode
COPY platform/ platform/
COPY assets/ assets/
RUN uv sync --frozen --no-dev --compile-bytecode \
 && .venv/bin/python -m compileall -q platform assets

# --- runtime -------------------------------------------------------------------------------
FROM python:3.11.14-slim-bookworm
ARG PLATFORM_COMMIT
RUN test -n "${PLATFORM_COMMIT}" \
    || { echo "build with --build-arg PLATFORM_COMMIT=\$(git rev-parse HEAD)" >&2; exit 1; }
LABEL org.opencontainers.image.title="clearlake" \
      org.opencontainers.image.description="Clearlake continuous-evaluation platform (Dagster code location, Data API, runs)" \
      org.opencontainers.image.revision="${PLATFORM_COMMIT}"
# What the runtime calls (tests/deploy/test_dockerfile.py checks every program it runs):
# git (commit sensor, checkouts, provenance) with ssh for SSH-key remotes; CA certificates
# for HTTPS remotes and S3. Versions are those of the digest-pinned base's Debian release:
# pinning them too would break the build at each Debian point release (hadolint DL3008).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 clearlake \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
      --shell /usr/sbin/nologin clearlake
ENV CLEARLAKE_PLATFORM_COMMIT="${PLATFORM_COMMIT}" \
    PATH=/opt/clearlake/.venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
WORKDIR /opt/clearlake
# Code and environment stay owned by root: the service user can read, never modify them.
COPY --from=build /opt/clearlake /opt/clearlake
COPY notebooks/ notebooks/
COPY examples/ examples/
COPY workspace.yaml ./
USER 10001:10001
EXPOSE 4000 8000
CMD ["dagster", "api", "grpc", "--module-name", "assets.definitions", "--host", "0.0.0.0", "--port", "4000"]
