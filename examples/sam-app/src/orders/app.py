"""Orders: each handler says what it was deployed with, so the suite can check the template."""
import json
import os

from common import layers_seen


def get_order(event, context):
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "id": event["pathParameters"]["id"],
                "stage": os.environ["STAGE"],
                "greeting": os.environ["GREETING"],
                "table": os.environ["TABLE"],
                "create": os.environ["CREATE_ARN"],
                "log_to": os.environ["LOG_TO"],
                "function": context.function_name,
                "memory": int(context.memory_limit_in_mb),
                "layers": layers_seen(),
            }
        ),
    }


def list_orders(event, context):
    """Behind an HTTP API and a function URL: returns a plain object, which payload 2.0 sends
    as a 200 JSON response."""
    query = event.get("queryStringParameters") or {}
    return {
        "orders": ["42", "43"][: int(query.get("limit", "2"))],
        "route": event["routeKey"],
        "stage": event["requestContext"]["stage"],
        "table": (event.get("stageVariables") or {}).get("table"),
    }


def create_order(event, context):
    order = json.loads(event["body"])
    return {"statusCode": 201, "body": json.dumps({"created": order["id"]})}
