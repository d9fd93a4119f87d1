# Sourced by scripts/serve and scripts/manage: the local defaults (plain HTTP on localhost,
# a per-checkout SECRET_KEY kept out of git). Every one can be overridden from the environment.
export DEBUG=${DEBUG:-false}
export SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-false}
export SESSION_COOKIE_SECURE=${SESSION_COOKIE_SECURE:-false}
export CSRF_COOKIE_SECURE=${CSRF_COOKIE_SECURE:-false}
export SECURE_HSTS_SECONDS=${SECURE_HSTS_SECONDS:-0}
if [ -z "${SECRET_KEY:-}" ]; then
  # One key per checkout, so sessions and tokens' signatures survive restarts.
  [ -f .secret_key ] || .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(64))" > .secret_key
  SECRET_KEY=$(cat .secret_key)
  export SECRET_KEY
fi
export PATH="$PWD/.venv/bin:$PATH"
