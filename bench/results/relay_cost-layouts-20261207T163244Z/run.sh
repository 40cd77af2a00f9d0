#!/bin/bash
# relay_cost, relay only, the plain and the partitioned outbox alternating on the same code
# (OUTBOX_LAYOUT picks migration 0005's layout for the database each run provisions).
# usage: bash run.sh <directory for the results>   (from anywhere; the stack must be running)
set -u
out=$(realpath "${1:?directory for the results}")
cd "$(dirname "$0")/../../.."
for round in 1 2; do
  for layout in plain partitioned; do
    echo "== $layout round $round $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
    OUTBOX_LAYOUT=$layout bash stack/native.sh run .venv/bin/python -m bench.relay_cost --rounds 1 --seconds 20 \
      --publishers relay --json > "$out/$layout-$round.json" 2> "$out/$layout-$round.err"; echo rc=$?
  done
done
