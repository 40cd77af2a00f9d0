#!/bin/bash
# relay_cost, relay only, plain (de615eb) and partitioned (main) alternating
cd /work/main
for round in 1 2; do
  for layout in plain partitioned; do
    if [ $layout = plain ]; then dir=/tmp/plain; else dir=/work/main; fi
    echo "== $layout round $round $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
    (cd $dir && STACK_DIR=/work/main/.stack PYTHONPATH=$dir bash /work/main/stack/native.sh run /work/main/.venv/bin/python -m bench.relay_cost --rounds 1 --seconds 20 --publishers relay --json > /tmp/cmp-$layout-$round.json 2>/tmp/cmp-$layout-$round.err; echo rc=$?)
  done
done
for round in 1 2; do
  for layout in plain partitioned; do
    if [ $layout = plain ]; then dir=/tmp/plain; else dir=/work/main; fi
    echo "== drain $layout round $round $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
    (cd $dir && STACK_DIR=/work/main/.stack PYTHONPATH=$dir bash /work/main/stack/native.sh run /work/main/.venv/bin/python -m bench.relay_drain --rounds 2 > /tmp/cmpd-$layout-$round.txt 2>&1; echo rc=$?)
  done
done
