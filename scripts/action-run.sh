#!/bin/bash
# The action's run step: `lambda-ci run` with the action's inputs, which arrive in the
# environment (never interpolated into this script's text). Paths and extra arguments are split
# on white space, as on a command line; GitHub mode does the rest (annotations, summary, outputs).
set -euo pipefail
read -r -a paths <<< "${INPUT_PATH:-cases}"
read -r -a extra <<< "${INPUT_ARGS:-}"
args=(run "${paths[@]}" --reporter github --junit "${INPUT_JUNIT:-lambda-ci-junit.xml}")
if [ -n "${INPUT_JSON:-}" ]; then
  args+=(--json "$INPUT_JSON")
fi
exec lambda-ci "${args[@]}" "${extra[@]}"
