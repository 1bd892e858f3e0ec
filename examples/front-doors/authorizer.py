"""Lambda authorizers for the front-door example: a REST API token authorizer, a REST API
request authorizer and an HTTP API one with simple responses. Each counts its calls in the
context it passes on, so that suites can see when the front door answered from its cache."""

CALLS = {"token": 0, "request": 0, "simple": 0}


def _policy(principal, effect, resource, context):
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
            ],
        },
        "context": context,
    }


def token(event, context):
    """`Bearer allow` may call any method of the stage, `Bearer reader` only GET; `Bearer deny`
    is denied, `Bearer unauthorized` asks for a 401, `Bearer broken` answers no policy."""
    CALLS["token"] += 1
    said = event["authorizationToken"].removeprefix("Bearer ")
    stage = event["methodArn"].split("/")[1]
    passed = {"user": "alice", "admin": True, "calls": CALLS["token"]}
    if said == "allow":
        return _policy("user-1", "Allow", f"arn:aws:execute-api:*:*:*/{stage}/*", passed)
    if said == "reader":
        return _policy("user-2", "Allow", f"arn:aws:execute-api:*:*:*/{stage}/GET/*", passed)
    if said == "deny":
        return _policy("user-3", "Deny", event["methodArn"], passed)
    if said == "broken":
        return {"allowed": True}
    raise Exception("Unauthorized")


def _header(event, name):
    headers = event.get("headers") or {}
    return next((v for k, v in headers.items() if k.lower() == name), None)


def request(event, context):
    """A REST API request authorizer: the `X-User` header and the `tenant` query parameter."""
    CALLS["request"] += 1
    user = _header(event, "x-user")
    tenant = (event.get("queryStringParameters") or {}).get("tenant")
    effect = "Allow" if tenant == "acme" else "Deny"
    passed = {"user": user, "tenant": tenant, "calls": CALLS["request"]}
    return _policy(user, effect, event["methodArn"], passed)


def simple(event, context):
    """An HTTP API authorizer with simple responses: `Authorization: secret` is let in."""
    CALLS["simple"] += 1
    allowed = event["identitySource"] == ["secret"] and event["type"] == "REQUEST"
    return {"isAuthorized": allowed, "context": {"user": "bob", "calls": CALLS["simple"]}}
