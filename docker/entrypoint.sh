#!/bin/sh
# Start the service: wait for the database, apply migrations, then exec gunicorn,
# or exec the given command instead (`entrypoint.sh python manage.py shell`).
# Works in the image and from a checkout, with the venv's bin on PATH.
#   DB_WAIT_TIMEOUT  seconds to wait for the database (60)
#   SKIP_MIGRATE     true: leave migrations to a one-off job, e.g. with several replicas
set -eu

# Relative paths (manage.py, gunicorn.conf.py) are the repository's, wherever this is called from.
cd "$(dirname "$0")/.."

python manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
# Split mode: the read tables live in their own database, which is migrated too.
if [ -n "${READ_DATABASE_URL:-}" ]; then
    python manage.py wait_for_db --database read --timeout "${DB_WAIT_TIMEOUT:-60}"
fi

case "$(printf '%s' "${SKIP_MIGRATE:-false}" | tr '[:upper:]' '[:lower:]')" in
    1 | true | yes | on) echo "SKIP_MIGRATE is set: not migrating." >&2 ;;
    *)
        python manage.py migrate --noinput
        if [ -n "${READ_DATABASE_URL:-}" ]; then
            python manage.py migrate --noinput --database read
        fi
        ;;
esac

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
# Every API process of a deployment serves the mode its write database records (the first one
# records its own): a process set for the other mode, or for another read database, stops here
# with the setting to change (READ_DATABASE_URL). See `manage.py deployment_mode`.
python manage.py deployment_mode --check
# exec: gunicorn becomes PID 1 in the container and receives SIGTERM directly.
exec gunicorn -c gunicorn.conf.py cqrs_demo.wsgi:application
