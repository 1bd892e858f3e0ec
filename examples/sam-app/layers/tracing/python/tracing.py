"""A second layer, after the shared one."""
ORDER = "tracing"
