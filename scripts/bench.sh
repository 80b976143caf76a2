#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job of rcustate: build the benchmark/stress harness (release) and
# run the default comparison — scenarios groupby, window and lookup against
# every implementation (rcustate under both publication policies, locked,
# copy, lr-sync, lfht, raw) — print the table (ratios against lr-sync, measured
# in this run) and leave JSON, CSV and a PNG in results/.
#
#   scripts/bench.sh                                  the default comparison (~3 minutes on 2 cores)
#   scripts/bench.sh --scenarios=groupby --keys=1e6   any rcustate-bench flags override the defaults
#   RCUSTATE_BENCH_BUILD=dir scripts/bench.sh         another build directory
#   RCUSTATE_BENCH_INITIAL_EXEC_TLS=false scripts/bench.sh   the library's default (dlopen-safe) TLS
#
# Exit status: that of rcustate-bench (non-zero if an invariant was violated).
# docs/benchmarks.md lists the commands behind every published figure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Install what is missing (Debian 12). setup.sh is shared with scripts/test.sh.
if [ -f scripts/setup.sh ]; then
  # shellcheck source=setup.sh
  source scripts/setup.sh
else
  echo "bench: scripts/setup.sh not found; assuming the dependencies are installed" >&2
fi

builddir=${RCUSTATE_BENCH_BUILD:-build-bench}
jobs=${RCUSTATE_JOBS:-2}
opts=(--buildtype=release -Dtests=disabled -Dbench=enabled)
# The harness links librcustate directly (never dlopen()s it), so it may reach
# liburcu's reader state with initial-exec TLS: cheaper read sections.
# RCUSTATE_BENCH_INITIAL_EXEC_TLS=false measures the library's default build.
if grep -q "option('initial_exec_tls'" meson_options.txt; then
  opts+=("-Dinitial_exec_tls=${RCUSTATE_BENCH_INITIAL_EXEC_TLS:-true}")
fi
if [ -f "$builddir/build.ninja" ]; then
  meson setup --reconfigure "$builddir" "${opts[@]}" >/dev/null
else
  meson setup "$builddir" "${opts[@]}" >/dev/null
fi
echo "bench: building $builddir (release)" >&2
ninja -C "$builddir" -j "$jobs" bench/rcustate-bench >/dev/null

mkdir -p results
stamp=$(date +%Y%m%d-%H%M%S)
json=results/bench-$stamp.json
csv=results/bench-$stamp.csv
png=results/bench-$stamp.png

set +e
"$builddir/bench/rcustate-bench" \
  --scenarios=groupby,window,lookup --impls=all --baseline=lr-sync \
  --keys=1e5 --batch=1000 --duration=2s \
  --json="$json" --csv="$csv" --plot="$png" "$@"
rc=$?
set -e
for f in "$json" "$csv" "$png"; do
  [ -f "$f" ] && cp -f "$f" "results/bench-latest.${f##*.}"
done
echo "bench: results in $json, $csv, $png (copies: results/bench-latest.*)"
exit $rc
