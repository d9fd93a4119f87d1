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


def test_the_scaled_stack_relays_the_log_to_rabbitmq_and_to_its_kraft_kafka():
    services = _services("docker-compose.yml", "docker-compose.scaled.yml")
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, one node
    assert kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert services["relay"]["command"][-2:] == ["publish_events", "--follow"]  # RabbitMQ, the default
    relay = services["relay-kafka"]
    assert relay["command"][-4:] == ["publish_events", "--broker", "kafka", "--follow"]
    assert "kafka" in relay["depends_on"]
    for service in ("relay-kafka", "web"):  # web too: `docker compose exec web ... publish_events --broker kafka`
        assert services[service]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
