# syntax=docker/dockerfile:1
# Two images: the Cloud Run jobs (`--target runtime`: `python -m training_job.main <command>`)
# and the HTTP API with the demo page (`--target api`, at the end of this file).
# The same image can serve the functions locally (see infra/README.md, "Run the images locally").

# --- build: compile the wheels that have no binary release (scikit-surprise) ---
# The base is pinned to a patch release; bump both stages together.
FROM python:3.11.13-slim-bookworm AS build

# Toolchain for the C extensions; it stays in this stage. Debian's security updates
# move package versions, so they are not pinned (the base image tag is).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

ENV VIRTUAL_ENV=/opt/venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv "$VIRTUAL_ENV"
ENV PATH="$VIRTUAL_ENV/bin:$PATH"

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

# --- runtime: the virtualenv and the code, no compiler, not root ---
FROM python:3.11.13-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="movierec-jobs" \
      org.opencontainers.image.description="movierec Cloud Run jobs: retrain, export, report" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN groupadd --system --gid 10001 movierec \
    && useradd --system --uid 10001 --gid movierec --create-home --home-dir /home/movierec movierec

# DO_NOT_TRACK, EVIDENTLY_DISABLE_TELEMETRY: Evidently's documented telemetry opt-out
# (movierec.settings.opt_out_of_library_telemetry sets them too, for runs outside the image).
ENV VIRTUAL_ENV=/opt/venv \
    PATH="/opt/venv/bin:$PATH" \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MOVIEREC_HOME=/tmp/movierec \
    MOVIEREC_DATA_CACHE=/tmp/movierec-cache \
    DO_NOT_TRACK=1 \
    EVIDENTLY_DISABLE_TELEMETRY=1 \
    PORT=8080

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root movierec/ movierec/
COPY --chown=root:root training_job/ training_job/
COPY --chown=root:root functions/ functions/

USER 10001:10001

# Cloud Run jobs ignore HEALTHCHECK; under `docker run` it tells a broken image
# (missing dependency, unimportable package) from a healthy one.
HEALTHCHECK --interval=5m --timeout=30s --start-period=10s --retries=1 \
    CMD ["python", "-c", "import movierec.settings, training_job.main"]

EXPOSE 8080
ENTRYPOINT ["python", "-m", "training_job.main"]
CMD ["--help"]

# --- serving-build: the serving dependencies only (requirements-serving.txt) ---
FROM python:3.11.13-slim-bookworm AS serving-build

ENV VIRTUAL_ENV=/opt/venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv "$VIRTUAL_ENV"
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
# Every serving dependency has a binary wheel: no compiler in this stage.
COPY requirements-serving.txt /tmp/requirements-serving.txt
RUN pip install -r /tmp/requirements-serving.txt

# --- api: the HTTP API and the demo page (`docker build --target api`) ---
#   docker run -p 8080:8080 -e MOVIEREC_HOME=/tmp/movierec movierec-api
# Serves /recommend, /feedback, /healthz, /metrics and the demo page on port 8080 with the
# hardened gunicorn of `movierec serve`; a Cloud Run service or a Kubernetes Deployment
# (deploy/kubernetes/) runs this same image. Not root; only the serving code is copied.
FROM python:3.11.13-slim-bookworm AS api

LABEL org.opencontainers.image.title="movierec-api" \
      org.opencontainers.image.description="movierec HTTP API (recommend, feedback) and demo page" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN groupadd --system --gid 10001 movierec \
    && useradd --system --uid 10001 --gid movierec --create-home --home-dir /home/movierec movierec

ENV VIRTUAL_ENV=/opt/venv \
    PATH="/opt/venv/bin:$PATH" \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MOVIEREC_HOME=/tmp/movierec

COPY --from=serving-build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root movierec/ movierec/
COPY --chown=root:root functions/ functions/

USER 10001:10001

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/ping', timeout=4)"]

EXPOSE 8080
# In a container the server must listen beyond loopback (--public); the port is fixed
# at 8080 (Cloud Run's default; the Kubernetes manifest uses it too).
ENTRYPOINT ["python", "-m", "movierec", "serve", "--host", "0.0.0.0", "--public", "--port", "8080"]
CMD ["--workers", "2", "--threads", "4"]
