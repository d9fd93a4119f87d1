"""docs/openapi.yaml is the schema the code generates (validated, without warnings); a change to
the API without the regenerated file fails here, as in `.ci/check-schema`."""

from pathlib import Path

from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
UPDATE = "scripts/manage spectacular --validate --fail-on-warn --file docs/openapi.yaml"


def test_the_committed_schema_is_the_generated_one(settings, tmp_path):
    settings.API_READS_REQUIRE_AUTH = False  # the committed schema is for the default settings
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))

    assert generated.read_text() == COMMITTED.read_text(), f"docs/openapi.yaml is out of date: run {UPDATE}"
