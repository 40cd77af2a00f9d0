# One image for the three services and the one-shot steps (migrations, topic creation).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p common order_api outbox_relay platform_worker \
    && touch common/__init__.py order_api/__init__.py outbox_relay/__init__.py platform_worker/__init__.py \
    && pip install . \
    && pip uninstall -y transactional-outbox

COPY alembic.ini ./
COPY migrations ./migrations
COPY common ./common
COPY order_api ./order_api
COPY outbox_relay ./outbox_relay
COPY platform_worker ./platform_worker
RUN pip install --no-deps .

RUN useradd --system --uid 10001 app
USER app

EXPOSE 8000 9101 9102
CMD ["order-api"]
