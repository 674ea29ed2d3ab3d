#!/bin/sh
# The image's entry point: the variables `cargo xtask env` printed when the image was built
# (ORT_DYLIB_PATH, ONTOSWEEP_HOME, ONTOSWEEP_ORT_SHA256, so the binary re-checks the
# library's sha256 before loading it), then ontosweep with the container's arguments.
set -eu
# shellcheck source=/dev/null
. /opt/ontosweep/ontosweep.env
exec /opt/ontosweep/target/release/ontosweep "$@"
