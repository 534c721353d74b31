# syntax=docker/dockerfile:1
# clearance-streams worker image.
#   docker build -t clearance-streams:0.1.0 .
#   docker run --rm -v "$PWD/deploy/policies/statewide.json:/etc/clearance/policies.json:ro" \
#     -e CLEARANCE_KAFKA_BOOTSTRAP=broker:9092 -p 127.0.0.1:9108:9108 clearance-streams:0.1.0
# Other commands of the same image: docker run --rm --entrypoint clearance clearance-streams:0.1.0 topics create
ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: wheels of the project (with the rocksdb extra) and of every dependency -------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY streams ./streams
RUN pip wheel --wheel-dir /wheels ".[rocksdb]"

# --- runtime: only the installed wheels, run as an unprivileged user ------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CLEARANCE_DATA_DIR=/var/lib/clearance \
    CLEARANCE_METRICS_HOST=0.0.0.0 \
    CLEARANCE_METRICS_PORT=9108
RUN groupadd --system --gid 10001 clearance \
 && useradd --system --uid 10001 --gid clearance --home-dir /var/lib/clearance --no-create-home \
      --shell /usr/sbin/nologin clearance \
 && mkdir -p /var/lib/clearance /etc/clearance \
 && chown clearance:clearance /var/lib/clearance
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels "clearance-streams[rocksdb]"
USER 10001:10001
WORKDIR /var/lib/clearance
# RocksDB table state: keep it on a volume so a restart does not replay the changelogs (~17 s per 200k records).
VOLUME ["/var/lib/clearance"]
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('CLEARANCE_METRICS_PORT', '9108') + '/healthz', timeout=4)"]
ENTRYPOINT ["clearance", "worker", "--policies", "/etc/clearance/policies.json"]
