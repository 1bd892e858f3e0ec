"""An orders API behind API Gateway: REST API (v1 proxy) and HTTP API (v2) events alike."""

import base64
import json
from datetime import datetime, timezone

ORDERS = {
    "ord-1001": {
        "id": "ord-1001",
        "status": "shipped",
        "items": [
            {"sku": "SKU-PEN", "quantity": 2, "price": 1.25},
            {"sku": "SKU-INK", "quantity": 1, "price": 7.5},
        ],
    },
}


def _request(event):
    """Method, path and body of a REST API v1 or HTTP API v2 proxy event."""
    if event.get("version") == "2.0":
        method = event["requestContext"]["http"]["method"]
        path = event["rawPath"]
    else:
        method = event["httpMethod"]
        path = event["path"]
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return method, path, body


def _json(status, payload, context):
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "X-Request-Id": context.aws_request_id,
        },
        "isBase64Encoded": False,
        "body": json.dumps(payload),
    }


def _total(items):
    return round(sum(i["quantity"] * i["price"] for i in items), 2)


def handler(event, context):
    method, path, body = _request(event)
    print(json.dumps({"level": "INFO", "msg": "request", "method": method, "path": path}))
    if path == "/health":
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}
    if path == "/orders/boom":
        raise RuntimeError("database unreachable: connection refused")
    if path == "/orders" and method == "POST":
        order = json.loads(body or "{}")
        if not order.get("items"):
            return _json(400, {"error": "an order needs at least one item"}, context)
        created = {
            "id": "ord-2001",
            "status": "created",
            "items": order["items"],
            "total": _total(order["items"]),
            "createdAt": datetime.now(timezone.utc).isoformat(),
            "requestId": context.aws_request_id,
        }
        print(json.dumps({"level": "INFO", "msg": "order created", "orderId": created["id"]}))
        return _json(201, created, context)
    if path.startswith("/orders/"):
        parts = path.split("/")
        order = ORDERS.get(parts[2])
        if method != "GET":
            return _json(405, {"error": f"{method} is not allowed here"}, context)
        if order is None:
            return _json(404, {"error": f"no order {parts[2]}"}, context)
        if parts[3:] == ["receipt"]:
            receipt = json.dumps({"orderId": order["id"], "total": _total(order["items"])})
            return {
                "statusCode": 200,
                "headers": {"Content-Type": "application/json"},
                "isBase64Encoded": True,
                "body": base64.b64encode(receipt.encode()).decode(),
            }
        print(json.dumps({"level": "INFO", "msg": "order fetched", "orderId": order["id"]}))
        found = dict(order, total=_total(order["items"]))
        found["createdAt"] = datetime.now(timezone.utc).isoformat()
        found["requestId"] = context.aws_request_id
        return _json(200, found, context)
    return _json(404, {"error": f"no route for {method} {path}"}, context)
