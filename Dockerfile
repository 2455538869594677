# syntax=docker/dockerfile:1
# Build a wheel in one stage, install it into a clean, non-root runtime image.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY intake ./intake
COPY channels ./channels
COPY crypto ./crypto
COPY routing ./routing
COPY alembic ./alembic
COPY locales ./locales
RUN pip install --no-cache-dir "build>=1.2,<2" && python -m build --wheel --outdir /wheels

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 intake && useradd --system --create-home --home-dir /srv/intake --uid 10001 --gid 10001 intake
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001:10001
WORKDIR /srv/intake
ENV INTAKE_DATA_DIR=/srv/intake/var \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/srv/intake/var"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["intake", "serve", "--host", "0.0.0.0", "--port", "8000"]
