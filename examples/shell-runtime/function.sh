# The handler: echoes the event back, or fails when the event asks it to.
handler() {
  local event="$1"
  echo "handling $event" >&2
  if [[ "$event" == *'"fail"'* ]]; then
    echo "asked to fail"
    return 1
  fi
  echo "{\"echo\": $event, \"runtime\": \"bash\"}"
}
