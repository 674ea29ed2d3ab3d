#!/usr/bin/env bash
# Runs the sharded sweep on Kubernetes, in order: the volume claim of sweep.yaml, the
# prefetch Job of prefetch.yaml, the Indexed Job of sweep.yaml, and once every index has
# succeeded, the report Job of report.yaml. Each step waits for the one before.
#
#   NAMESPACE=ml deploy/k8s/run.sh
#
# Before the first run: build and push the image (Dockerfile) and put its name in the
# three manifests; copy the dataset onto the volume (/work/data/flower_photos/) unless the
# experiment downloads it (flowers.yaml does, in the prefetch pod). The volume, with the
# embedding cache, outlives the jobs: a second run encodes nothing again.
# TIMEOUT (seconds, default one day) bounds each wait.
set -euo pipefail

cd "$(dirname "$0")"
TIMEOUT="${TIMEOUT:-86400}"
ns=()
[[ -z "${NAMESPACE:-}" ]] || ns=(--namespace "$NAMESPACE")

k() {
  kubectl ${ns[@]+"${ns[@]}"} "$@"
}

# Waits until job/$1 is Complete; fails as soon as it is Failed (an index out of retries).
wait_for() {
  local job="$1" deadline=$((SECONDS + TIMEOUT)) state
  echo "waiting for job/$job"
  while :; do
    # A failed query (the API server busy, say) is asked again at the next turn.
    state="$(k get job "$job" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')" || state=""
    case " $state " in
      *" Complete "*) return 0 ;;
      *" Failed "*)
        echo "run.sh: job/$job failed; see: kubectl describe job/$job, kubectl logs job/$job" >&2
        return 1
        ;;
      *) ;;
    esac
    if ((SECONDS >= deadline)); then
      echo "run.sh: job/$job not complete after $TIMEOUT s" >&2
      return 1
    fi
    sleep 20
  done
}

# A Job's pod template cannot change in place: remove the jobs of an earlier run first.
k delete job ontosweep-report ontosweep-shards ontosweep-prefetch --ignore-not-found
k apply -f sweep.yaml --selector app.kubernetes.io/component=storage
k apply -f prefetch.yaml
wait_for ontosweep-prefetch
k apply -f sweep.yaml
wait_for ontosweep-shards
k apply -f report.yaml
wait_for ontosweep-report
echo "report written to /work/reports/flowers/ on the volume claim ontosweep-work"
echo "(copy it out from any pod that mounts the claim: kubectl cp POD:/work/reports/flowers ./flowers)"
