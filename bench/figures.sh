#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reproduces every figure of docs/benchmarks.md (issue 4, "The figures it must
# show") into results/figures/: one rcustate-bench (or rcustate-readpath)
# command per figure, each echoed before it runs. Takes ~30-40 minutes on 2
# cores. Assumes scripts/bench.sh built build-bench (or pass BUILD=dir).
#
#   bench/figures.sh                 all figures
#   bench/figures.sh readpath writes only some (names: readpath isolation writes
#                                    writescount writes1e6 window memory partitions
#                                    groupcommit capi sweeps)
#   RCUSTATE_BENCH_NICE=-10 bench/figures.sh   run at a higher priority (a shared, busy machine)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-bench}
bench=$build/bench/rcustate-bench
readpath=$build/bench/rcustate-readpath
out=results/figures
mkdir -p "$out"
ninja -C "$build" -j "${RCUSTATE_JOBS:-2}" bench/rcustate-bench bench/rcustate-readpath >/dev/null || exit 1

nice_cmd=()
if [ -n "${RCUSTATE_BENCH_NICE:-}" ]; then nice_cmd=(nice -n "$RCUSTATE_BENCH_NICE"); fi

run() {  # run NAME CMD...: echo, run, keep stdout in $out/NAME.txt
  local name=$1; shift
  echo "\$ $*" | tee "$out/$name.txt"
  "${nice_cmd[@]}" "$@" --progress=false 2>"$out/$name.err" | tee -a "$out/$name.txt"
}

all=("$@")
sel() { [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" $1 "* ]]; }

if sel readpath; then
  echo "\$ $readpath --benchmark_min_time=0.2 --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true ..." | tee "$out/readpath.txt"
  "${nice_cmd[@]}" "$readpath" --benchmark_min_time=0.2 --benchmark_repetitions=10 \
    --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/readpath.json" --benchmark_out_format=json | tee -a "$out/readpath.txt"
fi
if sel isolation; then
  run isolation "$bench" --scenarios=lookup --keys=1e5 --batch=1000 \
    --impls=rcustate,rcustate-gc,locked,lr-sync,lfht,raw --lookup_alone=1 --duration=3s --repeat=3 \
    --json="$out/isolation.json"
fi
if sel writes; then
  for dist in uniform zipf:0.99; do
    for b in 100 1000; do
      run "writes-1e5-$dist-B$b" "$bench" --scenarios=groupby --keys=1e5 --batch=$b --dist=$dist \
        --impls=rcustate,rcustate-gc,lr-sync,locked,copy --duration=2s --repeat=3 \
        --json="$out/writes-1e5-$dist-B$b.json"
    done
  done
fi
if sel writescount; then
  # design §3's shape: group-by count only, where a grace period is most of a small batch.
  for keys in 1e3 1e5; do
    for b in 100 1000; do
      run "writescount-$keys-B$b" "$bench" --scenarios=groupby --groupby_aggs=1 --keys=$keys \
        --batch=$b --impls=rcustate,rcustate-gc,lr-sync,locked,copy,raw --duration=2s --repeat=3 \
        --json="$out/writescount-$keys-B$b.json"
    done
  done
fi
if sel writes1e6; then
  for dist in uniform zipf:0.99; do
    for b in 100 1000; do
      run "writes-1e6-$dist-B$b" "$bench" --scenarios=groupby --keys=1e6 --batch=$b --dist=$dist \
        --impls=rcustate,rcustate-gc,lr-sync,copy --duration=3s --repeat=2 \
        --json="$out/writes-1e6-$dist-B$b.json"
    done
  done
fi
if sel window; then
  run window "$bench" --scenarios=window --impls=all --duration=3s --repeat=3 \
    --json="$out/window.json"
  run window-noreader "$bench" --scenarios=window --readers=0 \
    --impls=rcustate,rcustate-gc,lr-sync,raw --duration=3s --repeat=3 --json="$out/window-noreader.json"
fi
if sel memory; then
  run memory "$bench" --scenarios=groupby,pinscan --keys=1e6 --batch=1000 \
    --impls=rcustate,rcustate-gc,lr-sync,locked,copy --duration=20s --json="$out/memory.json"
fi
if sel partitions; then
  run partitions "$bench" --scenarios=partitions --keys=1e5 --batch=1000 \
    --impls=rcustate,rcustate-gc,lr-sync,locked,raw --duration=3s --repeat=3 \
    --json="$out/partitions.json"
  run partitions-same-size "$bench" --scenarios=partitions --keys=1e5 --batch=1000 \
    --ref_same_total=false --impls=rcustate,rcustate-gc,lr-sync,locked,raw --duration=3s \
    --repeat=3 --json="$out/partitions-same-size.json"
fi
if sel groupcommit; then
  # Readers holding 1 ms sections (a scan); three writers on one partition.
  run gc-sections "$bench" --scenarios=groupby --keys=1e5 --batch=100 --reader_section=1ms \
    --impls=rcustate,rcustate-gc --duration=4s --repeat=3 --json="$out/gc-sections.json"
  run gc-writers "$bench" --scenarios=groupby --keys=1e5 --batch=100 --writers=3 \
    --writers_per_partition=3 --impls=rcustate,rcustate-gc --duration=3s --repeat=3 \
    --json="$out/gc-writers.json"
  run gc-pinscan "$bench" --scenarios=pinscan --keys=1e6 --batch=1000 \
    --impls=rcustate,rcustate-gc --duration=10s --repeat=3 --json="$out/gc-pinscan.json"
fi
if sel capi; then
  # The C ABI against the C++ API, same run.
  run capi "$bench" --scenarios=groupby,window --keys=1e5 --batch=1000 \
    --impls=rcustate,rcustate-c --duration=3s --repeat=3 --json="$out/capi.json"
  run capi-lookup "$bench" --scenarios=lookup --keys=1e5 --batch=1000 --reads_per_section=16 \
    --impls=rcustate,rcustate-c --duration=3s --repeat=3 --json="$out/capi-lookup.json"
fi
if sel sweeps; then
  run sweep-keys "$bench" --scenarios=groupby --sweep=keys:1e3,1e4,1e5,1e6 --batch=1000 \
    --impls=rcustate,rcustate-gc,lr-sync,locked,copy,raw --duration=2s \
    --json="$out/sweep-keys.json" --plot="$out/sweep-keys.png"
  run sweep-batch "$bench" --scenarios=groupby --sweep=batch:10,100,1000,10000 --keys=1e5 \
    --impls=rcustate,rcustate-gc,lr-sync,locked,raw --duration=2s \
    --json="$out/sweep-batch.json" --plot="$out/sweep-batch.png"
fi
