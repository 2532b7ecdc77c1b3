"""The OpenAPI document is generated from the routes and their models, and covers every route."""

import re

from app.schemas.send import SendRequest


def test_every_api_route_of_the_url_map_is_in_the_document(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert served and served == documented


def test_the_send_body_is_the_compose_forms_schema(client):
    document = client.get("/api/v1/openapi.json").get_json()
    body = document["paths"]["/api/v1/notifications"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/SendRequest"}
    assert document["components"]["schemas"]["SendRequest"]["properties"].keys() == (
        SendRequest.model_json_schema()["properties"].keys()
    )


def test_routes_need_the_bearer_scheme_and_the_send_links_to_its_notifications(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"] == {
        **document["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    send = document["paths"]["/api/v1/notifications"]["post"]
    assert send["security"] == [{"bearer": []}]
    links = send["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} >= {"get_notification", "cancel_notification"}
