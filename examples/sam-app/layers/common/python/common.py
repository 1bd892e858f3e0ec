"""The shared layer: lists the layers' marker files in the order Lambda merged them into /opt."""
import os


def layers_seen():
    return sorted(f for f in os.listdir("/opt/python") if f.endswith(".py"))


ORDER = "common"
