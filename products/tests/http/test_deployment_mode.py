"""One mode per deployment: the write database records the mode it serves, and a process whose
settings disagree is not ready, told which setting to change; `deployment_mode` switches it.

Run in both modes (scripts/test's split pass includes products/tests/http): each test records
the other mode, or another read database, under the suite's own settings."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from products.write import deployment
from products.write.models import Deployment, EventRecord

pytestmark = pytest.mark.django_db

SPLIT = settings.CQRS_MODE == "split"
ELSEWHERE = {"mode": "split", "read_store": "1/elsewhere_read", "read_store_label": "elsewhere_read on far-away:5432"}


def _record(**fields):
    Deployment.objects.update_or_create(id=1, defaults=fields)


def _ready_mismatch(client):
    response = client.get("/health/ready")
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["deployment"] == "mismatch"
    assert body["setting"] == "READ_DATABASE_URL"
    assert "READ_DATABASE_URL" in body["detail"]
    return body["detail"]


def test_the_first_ready_call_records_this_process_mode(anon_client):
    Deployment.objects.all().delete()

    response = anon_client.get("/health/ready")

    assert response.status_code == 200, response.content
    record = Deployment.objects.get()
    assert record.mode == settings.CQRS_MODE
    assert bool(record.read_store) == SPLIT
    assert anon_client.get("/health/ready").status_code == 200  # and agrees with it afterwards


def test_a_process_without_read_database_url_is_not_ready_on_a_split_deployment(anon_client):
    _record(**ELSEWHERE)
    if SPLIT:  # this process reads another read database: the deployment's is named
        detail = _ready_mismatch(anon_client)
        assert "elsewhere_read on far-away:5432" in detail
        assert f"set READ_DATABASE_URL to {ELSEWHERE['read_store_label']}" in detail
        return
    detail = _ready_mismatch(anon_client)
    assert "feeds the read database elsewhere_read on far-away:5432" in detail
    assert "set READ_DATABASE_URL to that database" in detail
    assert "manage.py deployment_mode --set single" in detail


def test_a_process_with_read_database_url_is_not_ready_on_a_single_database_deployment(anon_client):
    _record(mode="single", read_store="", read_store_label="")
    if not SPLIT:
        assert anon_client.get("/health/ready").status_code == 200
        return
    detail = _ready_mismatch(anon_client)
    assert "serves single-database mode" in detail
    assert "unset READ_DATABASE_URL" in detail
    assert "manage.py deployment_mode --set split" in detail


def test_the_check_command_refuses_a_mismatch_naming_the_setting():
    _record(**(ELSEWHERE if SPLIT else {"mode": "split", "read_store": "1/x", "read_store_label": "x on y"}))
    with pytest.raises(CommandError, match="READ_DATABASE_URL"):
        call_command("deployment_mode", "--check")


def test_set_switches_the_deployment_to_this_process_mode_and_says_what_else_to_do(capsys, anon_client):
    _record(**ELSEWHERE) if not SPLIT else _record(mode="single", read_store="", read_store_label="")
    assert anon_client.get("/health/ready").status_code == 503

    call_command("deployment_mode", "--set", settings.CQRS_MODE)

    out = capsys.readouterr().out
    assert "now serves" in out
    assert ("project_events --follow" if SPLIT else "rebuild_read_models") in out
    assert Deployment.objects.get().mode == settings.CQRS_MODE
    assert anon_client.get("/health/ready").status_code == 200


def test_set_refuses_the_mode_this_process_settings_do_not_give():
    other = "single" if SPLIT else "split"
    before = list(Deployment.objects.values())

    with pytest.raises(CommandError, match="READ_DATABASE_URL"):
        call_command("deployment_mode", "--set", other)

    assert list(Deployment.objects.values()) == before


def test_show_reports_both_modes_and_the_mismatch(capsys):
    Deployment.objects.all().delete()
    call_command("deployment_mode")
    assert "No mode is recorded yet" in capsys.readouterr().out
    assert not Deployment.objects.exists()  # showing records nothing

    deployment.check()
    call_command("deployment_mode")
    assert "They agree." in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [
        ("import_products", "/nonexistent.csv"),
        ("seed_products", "--count", "1"),
        ("expire_reservations",),
        ("rebuild_read_models",),
    ],
    ids=lambda command: command[0],
)
def test_a_command_that_changes_data_refuses_to_run_in_another_mode_and_changes_nothing(command):
    """Run in the mode its deployment does not serve, it would leave the API's read store without its changes."""
    _record(**ELSEWHERE) if not SPLIT else _record(mode="single", read_store="", read_store_label="")
    events_before = EventRecord.objects.count()

    with pytest.raises(CommandError, match="READ_DATABASE_URL"):
        call_command(*command)

    assert EventRecord.objects.count() == events_before
