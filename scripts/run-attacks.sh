#!/usr/bin/env bash
# The attacks of issue 11 on the running system, each a 5-round `dtwn run` of the demo's size (5 BSs, 100 users) on
# seed 4 (the average association: MADDPG policies are shipped for seed 1 only, where no two BSs hold less than 1/3), where BSs 0 and 2 together hold 25.9 % of the Eq. 6 stake (below 1/3) and BSs 3 and 4 55.2 % (above 1/2).
# Writes results/system/attacks/<run>/ and the table (scripts/attack-table.ts). About 25 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/system/attacks
common=(--rounds 5 --seed 4 --policy average -q)
run() { local name=$1; shift; echo "== $name"; node bin/dtwn.js run "${common[@]}" "$@" -o "$out/$name"; }
run honest
run inflate-data --malicious-bss 4 --attack inflate-data
run free-ride --malicious-bss 4 --attack free-ride
run collude --malicious-bss 0,2 --attack collude
run collude-above-half --malicious-bss 3,4 --attack collude
npx ts-node --transpile-only scripts/attack-table.ts "$out"
