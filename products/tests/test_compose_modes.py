"""One mode per compose stack: alone, docker-compose.yml runs every app service in single-database
mode; with docker-compose.scaled.yml on top, every one of them reads the same read database."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_IMAGE = "product-inventory:local"


def _services(*files):
    """Return the services the compose files give, each override merged over the file before (as compose does)."""
    services = {}
    for name in files:
        for service, config in yaml.safe_load((ROOT / name).read_text())["services"].items():
            merged = services.setdefault(service, {})
            for key, value in config.items():
                merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return services


def _read_database_urls(services):
    return {
        service: config.get("environment", {}).get("READ_DATABASE_URL")
        for service, config in services.items()
        if config.get("image") == APP_IMAGE
    }


def test_the_local_stack_is_single_database_mode_throughout():
    urls = _read_database_urls(_services("docker-compose.yml"))
    assert {"web", "expirer"} <= set(urls)
    assert set(urls.values()) == {None}, urls


def test_the_scaled_stack_gives_every_app_service_the_same_read_database():
    urls = _read_database_urls(_services("docker-compose.yml", "docker-compose.scaled.yml"))
    assert {"web", "read-api", "expirer", "projector", "relay"} <= set(urls)
    assert len(set(urls.values())) == 1, urls
    assert "@read-db:5432/" in urls["web"]
