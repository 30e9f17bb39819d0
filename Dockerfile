# syntax=docker/dockerfile:1
# placement-reconciler: a two-stage build. The builder has the compilers and pip; the final
# image has only Python, git (moves are made with git plumbing) and the installed package,
# run as an unprivileged numeric user. Build: docker build -t placement-reconciler:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
COPY repo-template ./repo-template
# The package and its runtime dependencies only: no [test] extras, no dev tools.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/pip uninstall -y pip

FROM ${PYTHON_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 reconciler \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/reconciler --create-home \
       --shell /usr/sbin/nologin reconciler \
    && mkdir -p /var/cache/placement-reconciler \
    && chown 10001:10001 /var/cache/placement-reconciler
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/reconciler \
    XDG_CACHE_HOME=/var/cache/placement-reconciler
USER 10001:10001
WORKDIR /home/reconciler
EXPOSE 9090
# Docker's own check; in Kubernetes the Deployment's probes on /healthz and /readyz apply.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=3).status != 200)"]
ENTRYPOINT ["placement-reconciler"]
CMD ["run", "--interval", "60s"]
