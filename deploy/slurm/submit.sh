#!/usr/bin/env bash
# Queue a sharded sweep on Slurm: prepare once here (on the login node), then submit the
# shard array (deploy/slurm/sweep.sbatch) and the report (deploy/slurm/report.sbatch) with
# --dependency=afterok on the array.
#
#   EXPERIMENT=experiments/flowers.yaml SHARDS=10 deploy/slurm/submit.sh [sbatch options]
#
# Options after the script name go to both sbatch calls (e.g. --partition=cpu --account=me).
# Variables (paths relative to the checkout): EXPERIMENT, CACHE_DIR, OUT, SHARDS, SWEEP_ARGS
# (see sweep.sbatch), ARRAY_LIMIT (at most that many shards at once), PREFETCH (below).
#
# Preparation, once, because none of it is safe from many nodes at once on a shared
# checkout: `cargo xtask setup` provisions ONNX Runtime, `cargo build --release` builds the
# binary the tasks run, `cargo xtask env` prints the variables they need (exported here and
# passed on with --export=ALL). With PREFETCH=1 (the default) a shard that holds almost no
# image (0 of 100000) is run here as well: it downloads the experiment's model files and
# dataset when they are missing, which concurrent tasks must not all start, and caches the
# prompts' embeddings. It reads every image once to hash it; set PREFETCH=0 when the model
# files and the dataset are already in place.
set -euo pipefail

cd "$(dirname "$0")/../.."

export EXPERIMENT="${EXPERIMENT:-experiments/flowers.yaml}"
export CACHE_DIR="${CACHE_DIR:-.cache/embeddings}"
export OUT="${OUT:-reports/flowers}"
export SHARDS="${SHARDS:-10}"
export SWEEP_ARGS="${SWEEP_ARGS:-}"
ARRAY_LIMIT="${ARRAY_LIMIT:-}"
PREFETCH="${PREFETCH:-1}"

[[ "$SHARDS" =~ ^[1-9][0-9]*$ ]] || {
  echo "submit.sh: SHARDS=$SHARDS is not a positive number" >&2
  exit 1
}
[[ -f "$EXPERIMENT" ]] || {
  echo "submit.sh: $EXPERIMENT is not a file (paths are relative to $PWD)" >&2
  exit 1
}

cargo xtask setup >/dev/null
cargo build --release --package ontosweep
exports="$(cargo xtask env)"
eval "$exports"

read -r -a extra <<<"$SWEEP_ARGS"
if [[ "$PREFETCH" != 0 ]]; then
  echo "prefetching the models and data of $EXPERIMENT (PREFETCH=0 skips this)"
  "${ONTOSWEEP_BIN:-target/release/ontosweep}" sweep "$EXPERIMENT" \
    --shard 0/100000 \
    --cache-dir "$CACHE_DIR" \
    --out target/deploy-prefetch \
    ${extra[@]+"${extra[@]}"}
fi

array="0-$((SHARDS - 1))${ARRAY_LIMIT:+%$ARRAY_LIMIT}"
# `sbatch --parsable` prints `JOBID` or `JOBID;CLUSTER`.
array_job="$(sbatch --parsable --export=ALL --array="$array" "$@" deploy/slurm/sweep.sbatch)"
array_job="${array_job%%;*}"
report_job="$(sbatch --parsable --export=ALL --dependency="afterok:$array_job" "$@" deploy/slurm/report.sbatch)"
report_job="${report_job%%;*}"

vars="EXPERIMENT=$(printf %q "$EXPERIMENT") CACHE_DIR=$(printf %q "$CACHE_DIR") OUT=$(printf %q "$OUT") SHARDS=$SHARDS"
[[ -z "$SWEEP_ARGS" ]] || vars+=" SWEEP_ARGS=$(printf %q "$SWEEP_ARGS")"
cat <<EOF
shards: job $array_job (array $array), report: job $report_job once every shard has succeeded
  report: $OUT/index.html; shard records: $OUT/shards/
If a shard fails, the report job never starts (DependencyNeverSatisfied). Then, from $PWD:
  scancel $report_job
  eval "\$(cargo xtask env)"
  $vars sbatch --array=I deploy/slurm/sweep.sbatch    # I: the failed shard(s), e.g. 3 or 2,7
  $vars sbatch --dependency=afterok:<that job> deploy/slurm/report.sbatch
EOF
