# One image for every Katha component; the Helm chart picks the command:
#   operator: kopf run -m business_operator.main --all-namespaces
#   router:   python -m router
#   agent:    serve run agent_runtime.serve_app:build_app (or a RayService)
#   katha:    the CLI (validate, crd, ...)

ARG PYTHON_VERSION=3.11
# Optional extras for the image, e.g. --build-arg KATHA_EXTRAS=ray-data for ingestion that
# embeds with Ray Data on a Ray cluster (KATHA_INGEST_RAY_ADDRESS; that cluster's image needs
# it too). Without it (and without `gpu`, whose ray[llm] brings it back), the agents' Serve
# processes carry no pandas.
ARG KATHA_EXTRAS=""

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY constraints/ constraints/
COPY katha/ katha/
COPY katha_cli/ katha_cli/
COPY agent_runtime/ agent_runtime/
COPY ingestion/ ingestion/
COPY router/ router/
COPY operator/ operator/
COPY console/ console/
# Build the wheel, then install it with the pinned dependency set into a venv that
# the runtime stage copies whole; no compilers or sources reach the final image.
ARG KATHA_EXTRAS
RUN python -m pip wheel --no-deps --wheel-dir /dist . \
 && python -m venv /opt/katha \
 && wheel="$(ls /dist/katha-*.whl)" \
 && /opt/katha/bin/pip install --constraint constraints/ci.txt \
      "${wheel}${KATHA_EXTRAS:+[${KATHA_EXTRAS}]}"

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN apt-get update \
 && apt-get install --yes --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 katha \
 && useradd --system --uid 10001 --gid katha --home-dir /home/katha --create-home katha \
 && mkdir -p /var/lib/katha \
 && chown katha:katha /var/lib/katha
COPY --from=build /opt/katha /opt/katha
ENV PATH=/opt/katha/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KATHA_LOG_FORMAT=json
WORKDIR /home/katha
USER 10001:10001
EXPOSE 8000 8080 9090
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["katha", "--help"]
