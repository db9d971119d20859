# The portal's production image: web (gunicorn), worker and beat (celery) run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    WHITENOISE_USE_FINDERS=false

WORKDIR /app

# Dependencies first, in their own layer: code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# Static files are collected into the image; whitenoise serves them with hashed names.
# The settings need a key and a broker URL to load; neither is used by collectstatic.
RUN SECRET_KEY=collectstatic-only CELERY_BROKER_URL=redis://unused python manage.py \
        collectstatic --no-input --verbosity 0 \
    && useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin portal \
    && mkdir -p /app/var \
    && chown portal /app/var

USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000"]
