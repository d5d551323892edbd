import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_the_intake_is_in_the_openapi_schema(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    intake = schema["paths"]["/api/v1/integrations/{kind}/{token}/"]["post"]

    assert set(intake["responses"]) == {"202", "400", "401", "403", "404", "413", "503"}
    kinds = next(p for p in intake["parameters"] if p["name"] == "kind")["schema"]["enum"]
    assert set(kinds) == {"alertmanager", "grafana", "pagerduty", "datadog"}
