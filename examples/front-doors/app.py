"""One function behind three front doors: an API Gateway REST API (payload 1.0), an HTTP API
(payload 2.0) and a function URL. It answers what it was sent, so that suites can check what
each front door makes of a request and of a response."""

import base64
import json


def _door(event):
    if event.get("version") == "2.0":
        domain = event["requestContext"].get("domainName", "")
        return "url" if ".lambda-url." in domain else "http"
    return "http-1.0" if event.get("version") == "1.0" else "rest"


def _request(event):
    if event.get("version") == "2.0":
        http = event["requestContext"]["http"]
        return http["method"], event["rawPath"], event.get("cookies") or []
    cookie = (event.get("headers") or {}).get("Cookie", "")
    cookies = [c.strip() for c in cookie.split(";") if c.strip()]
    return event["httpMethod"], event["path"], cookies


def _reply(event, status, payload, cookie=None):
    response = {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload),
    }
    if cookie and event.get("version") == "2.0":
        response["cookies"] = [cookie]
    elif cookie:
        response["multiValueHeaders"] = {"Set-Cookie": [cookie]}
    return response


def handler(event, context):
    method, path, cookies = _request(event)
    print(json.dumps({"door": _door(event), "method": method, "path": path}))
    if path.endswith("/boom"):
        raise RuntimeError("the orders table is unreachable")
    if path.endswith("/plain"):
        # Not a proxy response: payload 2.0 makes a 200 JSON response of it.
        return {"door": _door(event), "plain": True}
    if path.endswith("/malformed"):
        return {"statusCode": 200, "body": {"not": "a string"}}
    if path.endswith("/pixel"):
        png = base64.b64encode(bytes([0x89, 0x50, 0x4E, 0x47])).decode()
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "isBase64Encoded": True, "body": png}
    if path.endswith("/whoami"):
        return _reply(event, 200, {"authorizer": event["requestContext"].get("authorizer")})
    if path.endswith("/echo"):
        body = event.get("body") or ""
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        return _reply(event, 200, {"base64": event.get("isBase64Encoded"), "bytes": len(raw)})
    params = event.get("pathParameters") or {}
    query = event.get("queryStringParameters") or {}
    return _reply(
        event,
        200,
        {"door": _door(event), "id": params.get("id"), "query": query, "cookies": cookies},
        cookie="seen=1; Path=/",
    )
