#!/bin/bash
# Wall time of 50 cases against one warm Python function: lambda-ci vs a hand-written
# `docker run` + curl loop doing the same invocations (no judging, no report).
# Usage: scripts/bench.sh [ROUNDS]   (needs the stand-in images: scripts/standin-images.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
SUITE=tests/fixtures/fifty.yaml
CODE=$PWD/tests/fixtures/functions/py
IMAGE=public.ecr.aws/lambda/python:3.11
cargo build --release --locked --quiet
BIN=target/release/lambda-ci

plain_loop() {
  local id port i
  id=$(docker run -d -p 127.0.0.1::8080 -v "$CODE:/var/task:ro" "$IMAGE" app.echo)
  port=$(docker port "$id" 8080/tcp | head -1 | cut -d: -f2)
  until curl -s -o /dev/null -m 0.5 "http://127.0.0.1:$port/"; do sleep 0.02; done
  for i in $(seq 1 50); do
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
      "http://127.0.0.1:$port/2015-03-31/functions/function/invocations" \
      -d "{\"n\": $i, \"name\": \"case-$i\"}"
  done
  docker rm -f "$id" >/dev/null
}

now() { date +%s.%N; }
declare -a ours theirs
for r in $(seq 1 "$ROUNDS"); do
  t0=$(now); "$BIN" run "$SUITE" --pull never >/dev/null 2>&1; t1=$(now)
  plain_loop; t2=$(now)
  ours+=("$(echo "$t1 - $t0" | bc)"); theirs+=("$(echo "$t2 - $t1" | bc)")
  printf 'round %d: lambda-ci %.3f s, docker run + curl %.3f s\n' "$r" "${ours[-1]}" "${theirs[-1]}"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}"); mt=$(median "${theirs[@]}")
printf 'median of %d: lambda-ci %.3f s, docker run + curl %.3f s, ratio %.2f\n' "$ROUNDS" "$mo" "$mt" "$(echo "$mo / $mt" | bc -l)"
