#!/usr/bin/env bash
# The whole rcustate test suite: a normal build, an ASan+UBSan build, a TSan
# build and a clang libFuzzer build, each running the suites that make sense
# for it. Installs missing packages first. Last line: "N passed, N failed".
#
#   scripts/test.sh                 everything (what CI runs)
#   RCUSTATE_STRESS_SCALE=10 scripts/test.sh   longer stress runs
#   RCUSTATE_TEST_BUILDS="plain asan" scripts/test.sh   a subset of the builds
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

jobs=${RCUSTATE_JOBS:-2}
builds=${RCUSTATE_TEST_BUILDS:-"plain asan tsan fuzz"}
export RCUSTATE_STRESS_SCALE=${RCUSTATE_STRESS_SCALE:-1}
export RCUSTATE_FUZZ_SECONDS=${RCUSTATE_FUZZ_SECONDS:-60}
# Sanitizer reports fail the test; leaks are checked at exit of every ASan test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/test/tsan.supp}

passed=0
failed=0
summary=()

# configure DIR ARGS...: (re)configure a build directory.
configure() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { echo "configure $dir failed:"; tail -30 "$dir.setup.log"; return 1; }
}

# run_build NAME DIR "SUITES" CONFIGURE-ARGS...
run_build() {
  local name=$1 dir=$2 suites=$3; shift 3
  echo "=== $name: configure + build ($dir)"
  if ! configure "$dir" "$@" || ! ninja -C "$dir" -j "$jobs" >"$dir.build.log" 2>&1; then
    tail -40 "$dir.build.log" 2>/dev/null
    failed=$((failed + 1)); summary+=("$name: BUILD FAILED"); return
  fi
  local args=()
  for s in $suites; do args+=(--suite "$s"); done
  echo "=== $name: meson test ${args[*]}"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" "${args[@]}" \
    >"$dir.test.log" 2>&1
  grep -E '^ *[0-9]+/[0-9]+ ' "$dir.test.log" | sed "s/^/[$name] /"
  local json="$dir/meson-logs/testlog.json" p f
  p=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["result"] in ("OK","EXPECTEDFAIL","SKIP")))' "$json")
  f=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["result"] not in ("OK","EXPECTEDFAIL","SKIP")))' "$json")
  if [ "$f" != 0 ]; then
    sed -n '/Summary of Failures/,$p' "$dir.test.log" | head -40
    grep -B2 -A40 -E 'FAIL|ERROR|WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error' "$dir.test.log" | head -120
  fi
  passed=$((passed + p)); failed=$((failed + f))
  summary+=("$name: $p passed, $f failed")
}

for b in $builds; do
  case $b in
    plain) run_build plain build "" --buildtype=debugoptimized ;;
    asan)  run_build asan build-asan "unit stress c examples fuzz" --buildtype=debugoptimized \
             -Db_sanitize=address,undefined -Db_lundef=false -Dbench=disabled ;;
    tsan)  run_build tsan build-tsan "unit stress c" --buildtype=debugoptimized \
             -Db_sanitize=thread -Db_lundef=false -Dbench=disabled ;;
    fuzz)  CC=clang CXX=clang++ run_build fuzz build-fuzz "fuzz" --buildtype=debugoptimized \
             -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false -Dbench=disabled ;;
    *) echo "unknown build $b"; failed=$((failed + 1)) ;;
  esac
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
