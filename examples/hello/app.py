"""A small API Gateway-style function: greets by name, using a helper from a layer."""
import os

from greeting import greet  # provided by the layer in examples/greeting-layer


def handler(event, context):
    name = event.get("name")
    if not name:
        raise ValueError("name is required")
    print(f"greeting {name}")
    return {
        "statusCode": 200,
        "headers": {"content-type": "text/plain"},
        "body": greet(os.environ.get("GREETING", "Hi"), name),
    }


def route(event, context):
    """Answers an API Gateway proxy event."""
    return {
        "statusCode": 200,
        "body": f"{event['httpMethod']} {event['path']}",
        "function": context.function_name,
        "region": os.environ["AWS_REGION"],
    }
