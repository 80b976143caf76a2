#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole rcustate test suite: a normal build, an ASan+UBSan build, a TSan
# build, a clang libFuzzer build and a clang build with thread-safety
# analysis, each running the suites that make sense for it. Installs missing
# packages first. Every suite a build names must run: a test that skips, or a
# suite without a test, fails the run. Last line: "N passed, N failed", or
# "N passed, N failed, N skipped" when some test skipped.
#
#   scripts/test.sh                 everything (what CI runs)
#   RCUSTATE_STRESS_SCALE=10 scripts/test.sh   longer stress runs
#   RCUSTATE_TEST_BUILDS="plain asan" scripts/test.sh   a subset of the builds
#     (plain asan tsan fuzz tsa)
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# setup.sh runs with -e; this script counts failures and goes on.
set +e

jobs=${RCUSTATE_JOBS:-2}
builds=${RCUSTATE_TEST_BUILDS:-"plain asan tsan fuzz tsa"}
export RCUSTATE_STRESS_SCALE=${RCUSTATE_STRESS_SCALE:-1}
export RCUSTATE_FUZZ_SECONDS=${RCUSTATE_FUZZ_SECONDS:-60}
# Sanitizer reports fail the test; leaks are checked at exit of every ASan test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/test/tsan.supp}

passed=0
failed=0
skipped=0
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

# tally JSON SUITES: reads meson's test log and prints one line per test
# ("pass NAME", "fail NAME" or "skip NAME"), then "empty SUITE" for each of
# SUITES that ran no test. A test is skipped if it exited 77 or if GoogleTest
# skipped some of its cases (GTEST_SKIP).
tally() {
  python3 - "$@" <<'PY'
import json, sys
tests = [json.loads(line) for line in open(sys.argv[1])]
ran = set()
for t in tests:
    # "project:suite1+suite2 / test" (newer meson also has a "suite" list)
    full, _, name = t["name"].partition(" / ")
    suites = {s.split(":")[-1] for s in t.get("suite", [full])}
    suites = {x for s in suites for x in s.split("+")}
    ran |= suites
    name = t["name"]
    out = t.get("stdout") or t.get("stdo") or ""
    if t["result"] == "SKIP" or (t["result"] == "OK" and "[  SKIPPED ]" in out):
        print("skip", name)
    elif t["result"] in ("OK", "EXPECTEDFAIL"):
        print("pass", name)
    else:
        print("fail", name, t["result"])
for s in sys.argv[2].split():
    if s not in ran:
        print("empty", s)
PY
}

# run_build NAME DIR "SUITES" "TARGETS" CONFIGURE-ARGS...
# Builds TARGETS (everything if empty; "unit-tests": the library, the unit
# test executables and the tool one of them runs) and runs the tests of SUITES. Every
# suite a build names must run: a suite with no test, or a test that skips
# (meson's exit code 77, or GTEST_SKIP), fails the run.
run_build() {
  local name=$1 dir=$2 suites=$3 targets=$4; shift 4
  echo "=== $name: configure + build ($dir)"
  if ! configure "$dir" "$@"; then
    failed=$((failed + 1)); summary+=("$name: CONFIGURE FAILED"); return
  fi
  if [ "$targets" = unit-tests ]; then targets=$(unit_targets "$dir"); fi
  # shellcheck disable=SC2086  # TARGETS is a list
  if ! ninja -C "$dir" -j "$jobs" $targets >"$dir.build.log" 2>&1; then
    tail -40 "$dir.build.log"
    failed=$((failed + 1)); summary+=("$name: BUILD FAILED"); return
  fi
  local args=()
  for s in $suites; do args+=(--suite "$s"); done
  echo "=== $name: meson test ${args[*]}"
  rm -f "$dir/meson-logs/testlog.json"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" "${args[@]}" \
    >"$dir.test.log" 2>&1
  grep -E '^ *[0-9]+/[0-9]+ ' "$dir.test.log" | sed "s/^/[$name] /"
  local json="$dir/meson-logs/testlog.json"
  if [ ! -s "$json" ]; then
    tail -20 "$dir.test.log"
    failed=$((failed + 1)); summary+=("$name: NO TEST RAN"); return
  fi
  local results p f s problems=()
  if ! results=$(tally "$json" "$suites"); then
    failed=$((failed + 1)); summary+=("$name: cannot read $json"); return
  fi
  p=$(grep -c '^pass ' <<<"$results")
  f=$(grep -c '^fail ' <<<"$results")
  s=$(grep -c '^skip ' <<<"$results")
  while read -r kind what; do
    case $kind in
      skip)  problems+=("$name: skipped, but must run: $what") ;;
      empty) problems+=("$name: suite $what ran no test") ;;
    esac
  done <<<"$results"
  if [ "$f" != 0 ]; then
    sed -n '/Summary of Failures/,$p' "$dir.test.log" | head -40
    grep -B2 -A40 -E 'FAIL|ERROR|WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error' "$dir.test.log" | head -120
  fi
  passed=$((passed + p)); skipped=$((skipped + s))
  # A skip or an empty suite is one failure each: this build must run them.
  failed=$((failed + f + ${#problems[@]}))
  summary+=("$name: $p passed, $f failed, $s skipped" "${problems[@]}")
}

# The unit test executables (the thread-safety build builds only these, the
# library, the inspect tool and librcustate-kafka).
unit_targets() {
  ninja -C "$1" -t targets all |
    sed -n 's#^\(test/\(unit\|durable\)/unit_[a-z0-9_]*\): .*#\1#p; s#^\(tools/rcustate-inspect\): .*#\1#p; s#^\(src/kafka/librcustate-kafka\.so[.0-9]*\): cpp_LINKER#\1#p'
}

for b in $builds; do
  case $b in
    plain) run_build plain build "unit stress c headers abi examples fuzz bench fault kafka python rust" "" \
             --buildtype=debugoptimized ;;
    asan)  run_build asan build-asan "unit stress c examples fuzz fault kafka" "" --buildtype=debugoptimized \
             -Db_sanitize=address,undefined -Db_lundef=false -Dbench=disabled ;;
    tsan)  run_build tsan build-tsan "unit stress c" "" --buildtype=debugoptimized \
             -Db_sanitize=thread -Db_lundef=false -Dbench=disabled ;;
    fuzz)  CC=clang CXX=clang++ run_build fuzz build-fuzz "fuzz" "" --buildtype=debugoptimized \
             -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false -Dbench=disabled ;;
    # clang's thread-safety analysis of the lock annotations, every warning
    # an error (configure fails if the analysis does not reject an unlocked
    # access: meson.build); builds only what the unit suite needs.
    tsa)   CC=clang CXX=clang++ run_build tsa build-tsa "unit" unit-tests \
             --buildtype=debugoptimized -Dthread_safety_analysis=true -Dbench=disabled ;;
    *) echo "unknown build $b"; failed=$((failed + 1)) ;;
  esac
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
if [ "$skipped" -eq 0 ]; then
  echo "$passed passed, $failed failed"
else
  echo "$passed passed, $failed failed, $skipped skipped"
fi
[ "$failed" -eq 0 ]
