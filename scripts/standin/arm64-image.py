"""Writes a docker-archive (for `docker load`) of a one-binary arm64 image: the real arm64
RIE as its entrypoint. `docker import` cannot mark an image arm64 on every engine; a loaded
archive carries its architecture in its config.

Usage: arm64-image.py RIE_ARM64_BINARY TAG OUT.tar
"""
import hashlib
import io
import json
import sys
import tarfile

rie, tag, out = sys.argv[1:4]

layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w") as t:
    for d in ("usr", "usr/local", "usr/local/bin", "var", "var/task", "var/runtime", "opt", "tmp"):
        info = tarfile.TarInfo(d)
        info.type = tarfile.DIRTYPE
        info.mode = 0o1777 if d == "tmp" else 0o755
        t.addfile(info)
    t.add(rie, arcname="usr/local/bin/aws-lambda-rie", filter=lambda i: (setattr(i, "mode", 0o755), i)[1])
layer_bytes = layer.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()

config = {
    "architecture": "arm64",
    "os": "linux",
    "config": {
        "Entrypoint": ["/usr/local/bin/aws-lambda-rie"],
        "Cmd": ["/var/runtime/bootstrap"],
        "WorkingDir": "/var/task",
    },
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created_by": "lambda-ci stand-in"}],
}
config_bytes = json.dumps(config).encode()
config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": ["layer/layer.tar"]}]

with tarfile.open(out, "w") as t:
    for name, data in (
        (config_name, config_bytes),
        ("layer/layer.tar", layer_bytes),
        ("manifest.json", json.dumps(manifest).encode()),
    ):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
