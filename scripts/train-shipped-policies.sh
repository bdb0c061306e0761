#!/usr/bin/env bash
# Retrain every shipped MADDPG policy under policies/ (the system scenarios `dtwn run` loads by default), two at a
# time on the machine's two cores, with the default hyperparameters (DEFAULT_MADDPG). Run it after any change to the
# decoder, the observation or the model's constants: a policy refuses to load under another decoder.
#   bash scripts/train-shipped-policies.sh            # all of them (about 25 min on 2 cores)
#   bash scripts/train-shipped-policies.sh 10:3 100:1 # only these users:seed pairs
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=("$@")
[ ${#pairs[@]} -gt 0 ] || pairs=(100:1 20:1 10:1 10:2 10:3 10:4 10:5)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
train() {
  local users=${1%%:*} seed=${1##*:}
  local out="policies/system-5bs-${users}users-seed${seed}"
  node bin/dtwn.js scenario --system --bss 5 --users "$users" --seed "$seed" > "$tmp/scenario-$users-$seed.json"
  rm -rf "$out.new"
  node bin/dtwn.js train-policy --quiet --scenario "$tmp/scenario-$users-$seed.json" --scenario-seed "$seed" --seed "$seed" --out "$out.new"
  rm -rf "$out" && mv "$out.new" "$out"
  echo "trained $out ($(node -e "const l=require('./$out/training-log.json');console.log(Math.round(l.wallSeconds)+' s, kept episode '+(l.selectedEpisode+1))"))"
}
running=0
for p in "${pairs[@]}"; do
  train "$p" &
  running=$((running + 1))
  if [ "$running" -ge 2 ]; then wait -n; running=$((running - 1)); fi
done
wait
