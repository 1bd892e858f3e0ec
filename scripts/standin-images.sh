#!/bin/sh
# Builds offline stand-ins for the Lambda base images the test suite needs, and tags them under
# the official names so `runtime:` resolves exactly as it does on a user's machine:
#   public.ecr.aws/lambda/python:3.11      Debian minbase + python3 + awslambdaric + RIE
#   public.ecr.aws/lambda/provided:al2023  Debian minbase + curl + RIE, no /var/runtime/bootstrap
#   public.ecr.aws/lambda/nodejs:22        Debian minbase + nodejs + RIE + scripts/standin/node-runtime.js
#   lambda-ci/arm64-rie:standin            the arm64 RIE alone, marked arm64: an image an x86_64
#                                          engine without emulation cannot run
# Only package registries are used: Debian's apt (debootstrap) and PyPI (awslambdaric, and the
# real aws-lambda-rie binary shipped inside the aws-sam-cli wheel).
# Idempotent: an image that already exists is left alone. Needs root and a Docker engine.
set -eu

PYTHON_IMAGE=public.ecr.aws/lambda/python:3.11
PROVIDED_IMAGE=public.ecr.aws/lambda/provided:al2023
NODE_IMAGE=public.ecr.aws/lambda/nodejs:22
ARM_IMAGE=lambda-ci/arm64-rie:standin
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${STANDIN_DIR:-/var/tmp/lambda-ci-standin}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
AWSLAMBDARIC=${AWSLAMBDARIC:-awslambdaric==4.2.2}
SAMCLI=${SAMCLI:-aws-sam-cli==1.170.0}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The Node image also carries the runtime client's content in its tag, so an edited client
# is rebuilt rather than silently kept.
NODE_CLIENT_SUM=$(sha256sum "$HERE/standin/node-runtime.js" | cut -c1-12)
have_node() { [ "$(docker image inspect -f '{{index .Config.Labels "lambda-ci.client"}}' "$NODE_IMAGE" 2>/dev/null)" = "$NODE_CLIENT_SUM" ]; }

if have_image "$PYTHON_IMAGE" && have_image "$PROVIDED_IMAGE" && have_node && have_image "$ARM_IMAGE"; then
  echo "stand-in images present: $PYTHON_IMAGE $PROVIDED_IMAGE $NODE_IMAGE $ARM_IMAGE"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -qy --no-install-recommends debootstrap
fi

mkdir -p "$WORK"

# The real RIE binaries, from the aws-sam-cli wheel.
RIE=$WORK/aws-lambda-rie
RIE_ARM64=$WORK/aws-lambda-rie-arm64
if [ ! -x "$RIE" ] || [ ! -x "$RIE_ARM64" ]; then
  rm -rf "$WORK/dl"; mkdir -p "$WORK/dl"
  pip download -q --no-deps --no-cache-dir -d "$WORK/dl" "$SAMCLI"
  for arch in x86_64 arm64; do
    unzip -p "$WORK"/dl/aws_sam_cli-*.whl "samcli/local/rapid/aws-lambda-rie-$arch" > "$RIE.$arch.part"
    chmod 755 "$RIE.$arch.part"
  done
  mv "$RIE.x86_64.part" "$RIE"
  mv "$RIE.arm64.part" "$RIE_ARM64"
fi

if ! have_image "$ARM_IMAGE"; then
  python3 "$HERE/standin/arm64-image.py" "$RIE_ARM64" "$ARM_IMAGE" "$WORK/arm64.tar"
  docker load -q -i "$WORK/arm64.tar"
  rm -f "$WORK/arm64.tar"
fi

# One Debian minbase rootfs, shared by both images.
BASE=$WORK/base
if [ ! -f "$BASE/.complete" ]; then
  rm -rf "$BASE"
  debootstrap --variant=minbase bookworm "$BASE" "$MIRROR"
  cat > "$BASE/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
  touch "$BASE/.complete"
fi

# rootfs DIR PACKAGES...: a copy of the base with PACKAGES, RIE and the AWS entrypoint.
rootfs() {
  dir=$1; shift
  rm -rf "$dir"
  cp -a "$BASE" "$dir"
  rm -f "$dir/.complete"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -ec "
    apt-get update -q
    apt-get install -qy --no-install-recommends $*
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin"
  rm -f "$dir/etc/resolv.conf"   # the container runtime provides it
  install -m 755 "$RIE" "$dir/usr/local/bin/aws-lambda-rie"
  mkdir -p "$dir/var/task" "$dir/var/runtime" "$dir/opt"
  cat > "$dir/lambda-entrypoint.sh" <<'ENTRY'
#!/bin/sh
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"

RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie $RUNTIME_ENTRYPOINT
else
  exec $RUNTIME_ENTRYPOINT
fi
ENTRY
  chmod 755 "$dir/lambda-entrypoint.sh"
}

# import DIR IMAGE [CHANGE...]: the rootfs as an image with the base images' config.
import() {
  dir=$1; image=$2; shift 2
  tar --numeric-owner -C "$dir" -c . | docker import "$@" \
    -c 'ENV LANG=C.UTF-8 TZ=:/etc/localtime LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime' \
    -c 'ENV LD_LIBRARY_PATH=/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
    -c 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin' \
    -c 'WORKDIR /var/task' -c 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    - "$image"
  echo "built $image"
}

if ! have_image "$PYTHON_IMAGE"; then
  R=$WORK/python3.11
  rootfs "$R" python3 ca-certificates
  pip install -q --no-cache-dir --target "$R/var/runtime" \
    --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux2014_x86_64 --only-binary=:all: "$AWSLAMBDARIC"
  cat > "$R/var/runtime/bootstrap" <<'BOOT'
#!/bin/sh
# `python3 -m` puts the working directory ($LAMBDA_TASK_ROOT) first on sys.path.
export AWS_EXECUTION_ENV="${AWS_EXECUTION_ENV:-AWS_Lambda_python3.11}"
export LAMBDA_TASK_ROOT="${LAMBDA_TASK_ROOT:-/var/task}"
export LAMBDA_RUNTIME_DIR="${LAMBDA_RUNTIME_DIR:-/var/runtime}"
export PYTHONPATH="/opt/python/lib/python3.11/site-packages:/opt/python:$LAMBDA_RUNTIME_DIR${PYTHONPATH:+:$PYTHONPATH}"
cd "$LAMBDA_TASK_ROOT"
exec /usr/bin/python3 -m awslambdaric "$_HANDLER"
BOOT
  chmod 755 "$R/var/runtime/bootstrap"
  import "$R" "$PYTHON_IMAGE"
  rm -rf "$R"
fi

if ! have_image "$PROVIDED_IMAGE"; then
  # Like the real provided:al2023 image: no /var/runtime/bootstrap; the function brings its own.
  R=$WORK/provided.al2023
  rootfs "$R" curl ca-certificates
  import "$R" "$PROVIDED_IMAGE"
  rm -rf "$R"
fi

if ! have_node; then
  R=$WORK/nodejs22
  rootfs "$R" nodejs ca-certificates
  install -m 644 "$HERE/standin/node-runtime.js" "$R/var/runtime/index.js"
  cat > "$R/var/runtime/bootstrap" <<'BOOT'
#!/bin/sh
export AWS_EXECUTION_ENV="${AWS_EXECUTION_ENV:-AWS_Lambda_nodejs22.x}"
export NODE_PATH="/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task"
exec /usr/bin/node /var/runtime/index.js
BOOT
  chmod 755 "$R/var/runtime/bootstrap"
  import "$R" "$NODE_IMAGE" -c "LABEL lambda-ci.client=$NODE_CLIENT_SUM"
  rm -rf "$R"
fi
