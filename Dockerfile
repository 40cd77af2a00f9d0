# One image for the three services and the one-shot steps (migrations, topic creation).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: the pinned list of pyproject.toml,
# installed without building the project itself (no placeholder packages, no build/ left behind).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        >/tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md alembic.ini ./
COPY migrations ./migrations
COPY common ./common
COPY order_api ./order_api
COPY outbox_relay ./outbox_relay
COPY platform_worker ./platform_worker
# A wheel built from these sources only: nothing of an earlier build can be packaged instead.
RUN pip install --no-deps . \
    && rm -rf build *.egg-info \
    && cd / && python -c "import common.kafka_connection, order_api.entrypoints.app, outbox_relay.publish, platform_worker.bootstrap"

RUN useradd --system --uid 10001 app
USER app

EXPOSE 8000 9101 9102
CMD ["order-api"]
