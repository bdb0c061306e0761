#!/usr/bin/env bash
# The attacks of issue 11 on the running system, each a 5-round `dtwn run` of the demo's size (5 BSs, 100 users) on
# seed 4 with the average association (MADDPG policies are shipped for seed 1 only, where no two BSs hold less than
# 1/3 of the stake). On seed 4 BSs 0 and 2 together hold 25.9 % of the Eq. 6 stake (below 1/3) and BSs 3 and 4
# 55.2 % (above 1/2). Writes results/system/attacks/<run>/ (a run whose metrics.json exists is kept; delete the folder
# to run it again) and the table (scripts/attack-table.ts). About 10 minutes per run on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/system/attacks
common=(--rounds 5 --seed 4 --policy average -q)
run() {
  local name=$1; shift
  if [ -f "$out/$name/metrics.json" ]; then echo "== $name: kept"; return; fi
  echo "== $name"; node bin/dtwn.js run "${common[@]}" "$@" -o "$out/$name"
}
run honest
run collude --malicious-bss 0,2 --attack collude
run inflate-data --malicious-bss 4 --attack inflate-data
run free-ride --malicious-bss 4 --attack free-ride
run collude-above-half --malicious-bss 3,4 --attack collude
run forge-global --mbs-attack forge-global:3
npx ts-node --transpile-only scripts/attack-table.ts "$out"
