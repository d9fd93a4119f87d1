# syntax=docker/dockerfile:1
# Product inventory API: gunicorn on port 9000, as a non-root user.
FROM python:3.12.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# Dependencies change less often than the code, so this layer stays cached across code edits.
# Only the runtime requirements: no test tools, no embedded PostgreSQL.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app

# Owned by root and read-only for the app user: a compromised process cannot rewrite the code.
COPY . .

# Settings refuse to load without a SECRET_KEY and a DATABASE_URL; collectstatic never connects,
# so throwaway values given to this one command suffice and stay out of the image's environment.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    DATABASE_URL=postgres://build@localhost:5432/build \
    python manage.py collectstatic --noinput

# Numeric, so runtimes that enforce non-root (runAsNonRoot) can verify it without /etc/passwd.
USER 10001:10001

EXPOSE 9000

# Python rather than curl, which the slim image lacks. The Host header is the first
# ALLOWED_HOSTS entry (a leading dot or * stripped), so the probe passes host validation.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.*') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '9000'), headers={'Host': h}), timeout=4)"]

# sh runs the script even when a checkout lost its executable bit (e.g. on Windows).
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
