// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/flags.cpp
//
// The flags of rcustate-bench (see --helpfull) and their validation.
#include "bench/flags.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "bench/config.hpp"
#include "bench/runners.hpp"
#include "bench_version.h"
#include "rcustate/rcustate.h"

ABSL_FLAG(std::string, scenarios, "groupby,window,lookup",
          "comma-separated: groupby, window, lookup, pinscan, partitions (or 'all')");
ABSL_FLAG(std::string, impls, "all",
          "comma-separated implementations (rcustate, rcustate-gc, locked, copy, lr-sync, lfht, "
          "raw; rcustate-ckpt and rcustate-log only when named) or 'all'");
ABSL_FLAG(std::string, baseline, "lr-sync", "implementation the ratio columns compare with");
ABSL_FLAG(double, keys, 1e5, "distinct keys, all partitions together (window: see --groups1/2)");
ABSL_FLAG(uint32_t, batch, 1000, "records per commit");
ABSL_FLAG(std::string, dist, "uniform", "key distribution: uniform or zipf:THETA (0 < THETA < 1)");
ABSL_FLAG(uint32_t, readers, 1, "reader threads");
ABSL_FLAG(uint32_t, writers, 1, "writer threads (each owns its partitions)");
ABSL_FLAG(uint32_t, partitions, 0,
          "partitions; 0 = the scenario's default (partitions: 64, window: --writers, else 1)");
ABSL_FLAG(uint32_t, value_size, 8, "lookup: bytes per value");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(2), "timed phase of each run");
ABSL_FLAG(bool, prefill, true, "insert every key before the timed phase (steady state)");
ABSL_FLAG(uint32_t, inv_keys, 4, "K: keys per table of the batch-atomicity invariant (<= 64)");
ABSL_FLAG(uint32_t, reads_per_section, 0,
          "point lookups per read section; 0 = scenario default (groupby 4, lookup 1)");
ABSL_FLAG(absl::Duration, reader_section, absl::ZeroDuration(),
          "groupby, lookup, pinscan: readers keep each read section open this long, looking "
          "keys up until it has passed (a scan; e.g. 1ms); 0 = one round of "
          "--reads_per_section lookups per section");
ABSL_FLAG(uint32_t, writers_per_partition, 1,
          "writer threads committing to each partition (--writers must be a multiple; "
          "groupby and lookup; the implementations that allow it (rcustate*), the others are "
          "skipped)");
ABSL_FLAG(double, write_rate, 0, "lookup: writer records/s, 0 = full speed");
ABSL_FLAG(double, lookup_alone, 0.5,
          "lookup: readers-only phase before the writer starts, as a fraction of --duration "
          "(gives the isolation ratio); 0 = none");
ABSL_FLAG(uint32_t, groupby_aggs, 4, "groupby: aggregates per record, 1..4 (count, sum, min, max)");
ABSL_FLAG(uint32_t, groups1, 20, "window: distinct values of the first GROUP BY key");
ABSL_FLAG(uint32_t, groups2, 10, "window: distinct values of the second GROUP BY key");
ABSL_FLAG(double, window_records, 1e6, "window: records per one-minute window");
ABSL_FLAG(absl::Duration, pin_interval, absl::Seconds(1), "pinscan: time between pins");
ABSL_FLAG(absl::Duration, pin_hold, absl::Milliseconds(500), "pinscan: how long a pin is held");
ABSL_FLAG(uint32_t, ref_partitions, 1, "partitions: partition count of the reference run");
ABSL_FLAG(bool, ref_same_total, true,
          "partitions: the reference run keeps --keys (true: same total state, so its maps are "
          "P times larger) or has the partitioned run's keys per partition (false)");
ABSL_FLAG(absl::Duration, gc_delay, absl::Milliseconds(10),
          "rcustate-gc: StoreOptions::max_publish_delay");
ABSL_FLAG(std::string, rcustate_read, "reader",
          "how rcustate readers look keys up: reader (TableReader handles made once: "
          "ReadSection + TableReader::Find), snapshot (Store::Snapshot(p)->Table(t)->Find(key)) "
          "or get (Store::Get per lookup: successive Gets may see different versions, so the "
          "batch-atomicity checks of groupby/window/lookup report violations; for timing only)");
ABSL_FLAG(std::string, checkpoint_dir, "",
          "rcustate-ckpt / rcustate-log: where checkpoints (p-N/) and the changelog go; "
          "empty: a fresh directory under $TMPDIR, removed after each run");
ABSL_FLAG(absl::Duration, checkpoint_full_every, absl::Seconds(2),
          "rcustate-ckpt: a full checkpoint when this much passed since the last full one");
ABSL_FLAG(absl::Duration, checkpoint_incr_every, absl::Milliseconds(500),
          "rcustate-ckpt: time between checkpoints (incremental unless a full one is due)");
ABSL_FLAG(std::string, json, "", "write every result to this JSON file");
ABSL_FLAG(std::string, csv, "", "write every result to this CSV file");
ABSL_FLAG(std::string, plot, "",
          "write a PNG (gnuplot): the comparison chart, or with --sweep the prefix of one chart "
          "per scenario");
ABSL_FLAG(std::string, sweep, "",
          "keys:V1,V2,... or batch:V1,V2,...: run everything once per value");
ABSL_FLAG(bool, progress, true, "print a progress line while running (stderr)");
ABSL_FLAG(bool, wide, false,
          "print every column of the table on one line (latency p50/p99/p999, CPU shares, "
          "memory, grace periods, notes) instead of the main ones within 120 columns");
ABSL_FLAG(bool, smoke, false,
          "tiny sizes, every scenario and implementation for a fraction of a second; fails if an "
          "invariant breaks or an implementation does not run (asserts no timing)");
ABSL_FLAG(uint64_t, seed, 42, "workload seed");
ABSL_FLAG(double, records, 0,
          "stop each writer after this many timed records (0: run for --duration); with "
          "--readers=0 gives a fixed amount of work, e.g. for callgrind");
ABSL_FLAG(uint32_t, repeat, 1,
          "run every implementation N times, interleaved (impl A, B, ..., A, B, ...), and report "
          "the run with the median throughput (noisy machines); violations of any run count");

namespace rcsbench {

void Usage(const std::string& msg) {
  std::fprintf(stderr, "rcustate-bench: %s (see --help)\n", msg.c_str());
  std::exit(2);
}

namespace {

const std::vector<std::string> kAllScenarios = {"groupby", "window", "lookup", "pinscan",
                                                "partitions"};

Distribution ParseDist(const std::string& s) {
  Distribution d;
  if (s == "uniform") return d;
  double theta = 0;
  if (s.rfind("zipf:", 0) == 0 && absl::SimpleAtod(s.substr(5), &theta) && theta > 0 &&
      theta < 1) {
    d.zipf = true;
    d.theta = theta;
    return d;
  }
  Usage("bad --dist " + s);
}

// --`flag`'s value: "all" is `all`; otherwise names from `known` (default:
// `all`).
std::vector<std::string> ParseList(const char* flag, const std::string& s,
                                   const std::vector<std::string>& all,
                                   const std::vector<std::string>* known = nullptr) {
  if (s == "all") return all;
  if (known == nullptr) known = &all;
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    std::string name(part);
    if (std::find(known->begin(), known->end(), name) == known->end()) {
      Usage(absl::StrFormat("--%s: unknown name '%s' (valid: %s, or all)", flag, name,
                            absl::StrJoin(*known, ", ")));
    }
    out.push_back(name);
  }
  if (out.empty()) Usage(absl::StrFormat("--%s is empty", flag));
  return out;
}

std::string VersionString() {
  return absl::StrFormat(
      "rcustate-bench of rcustate %d.%d.%d, revision %s\n"
      "build: %s%s; liburcu reader TLS: %s\n",
      RCS_VERSION_MAJOR, RCS_VERSION_MINOR, RCS_VERSION_PATCH, RCSBENCH_REVISION,
      RCSBENCH_BUILDTYPE,
#ifdef NDEBUG
      "",
#else
      " with assertions",
#endif
      RCSBENCH_TLS);
}

// The flags, as the base configuration of every run (values that do not
// parse are refused here; ranges are checked by ValidateConfig).
Config ReadConfig() {
  Config c;
  const double keys = absl::GetFlag(FLAGS_keys);
  if (!(keys >= 1 && keys < 4e9)) Usage("--keys must be in [1, 4e9)");
  c.keys = static_cast<uint64_t>(std::llround(keys));
  c.batch = absl::GetFlag(FLAGS_batch);
  c.dist = ParseDist(absl::GetFlag(FLAGS_dist));
  c.readers = absl::GetFlag(FLAGS_readers);
  c.writers = absl::GetFlag(FLAGS_writers);
  c.partitions = absl::GetFlag(FLAGS_partitions);
  c.value_size = absl::GetFlag(FLAGS_value_size);
  c.duration = absl::GetFlag(FLAGS_duration);
  c.prefill = absl::GetFlag(FLAGS_prefill);
  c.inv_keys = absl::GetFlag(FLAGS_inv_keys);
  c.reads_per_section = absl::GetFlag(FLAGS_reads_per_section);
  c.reader_section = absl::GetFlag(FLAGS_reader_section);
  c.writers_per_partition = absl::GetFlag(FLAGS_writers_per_partition);
  c.write_rate = absl::GetFlag(FLAGS_write_rate);
  c.lookup_alone = absl::GetFlag(FLAGS_lookup_alone);
  c.groupby_aggs = absl::GetFlag(FLAGS_groupby_aggs);
  c.groups1 = absl::GetFlag(FLAGS_groups1);
  c.groups2 = absl::GetFlag(FLAGS_groups2);
  c.window_records = static_cast<uint64_t>(std::llround(absl::GetFlag(FLAGS_window_records)));
  c.pin_interval = absl::GetFlag(FLAGS_pin_interval);
  c.pin_hold = absl::GetFlag(FLAGS_pin_hold);
  c.ref_partitions = absl::GetFlag(FLAGS_ref_partitions);
  c.ref_same_total = absl::GetFlag(FLAGS_ref_same_total);
  c.gc_delay = absl::GetFlag(FLAGS_gc_delay);
  c.rcustate_read = absl::GetFlag(FLAGS_rcustate_read);
  if (c.rcustate_read != "reader" && c.rcustate_read != "snapshot" && c.rcustate_read != "get") {
    Usage("--rcustate_read must be reader, snapshot or get");
  }
  c.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  c.checkpoint_full_every = absl::GetFlag(FLAGS_checkpoint_full_every);
  c.checkpoint_incr_every = absl::GetFlag(FLAGS_checkpoint_incr_every);
  c.progress = absl::GetFlag(FLAGS_progress);
  c.max_records = static_cast<uint64_t>(std::llround(absl::GetFlag(FLAGS_records)));
  c.seed = absl::GetFlag(FLAGS_seed);
  return c;
}

// --smoke: tiny sizes, whatever the other flags say.
void ApplySmokeSizes(Config& c) {
  c.keys = 2000;
  c.batch = 100;
  c.duration = absl::Milliseconds(150);
  c.window_records = 3000;
  c.pin_interval = absl::Milliseconds(30);
  c.pin_hold = absl::Milliseconds(20);
  c.checkpoint_full_every = absl::Milliseconds(60);
  c.checkpoint_incr_every = absl::Milliseconds(20);
  c.progress = false;
}

// The ranges the harness supports; exits through Usage on the first violation.
void ValidateConfig(const Config& c) {
  if (c.batch == 0) Usage("--batch must be > 0");
  if (c.writers == 0) Usage("--writers must be > 0");
  if (c.inv_keys > 64) Usage("--inv_keys must be <= 64");
  if (c.reader_section < absl::ZeroDuration()) Usage("--reader_section must be >= 0");
  if (c.writers_per_partition == 0 || c.writers % c.writers_per_partition != 0) {
    Usage("--writers must be a multiple of --writers_per_partition (> 0)");
  }
  if (c.groupby_aggs < 1 || c.groupby_aggs > 4) Usage("--groupby_aggs must be 1..4");
  if (c.groups1 == 0 || c.groups2 == 0) Usage("--groups1/2 must be > 0");
  if (c.window_records == 0) Usage("--window_records must be > 0");
  if (c.lookup_alone < 0 || c.lookup_alone > 10) Usage("--lookup_alone must be in [0, 10]");
  if (c.duration <= absl::ZeroDuration()) Usage("--duration must be > 0");
  if (c.ref_partitions == 0) Usage("--ref_partitions must be > 0");
  if (c.checkpoint_incr_every <= absl::ZeroDuration() ||
      c.checkpoint_full_every < c.checkpoint_incr_every) {
    Usage("--checkpoint_incr_every must be > 0 and <= --checkpoint_full_every");
  }
}

// --sweep=PARAM:V1,V2,...: the parameter and its values; without --sweep one
// point (no parameter, one dummy value).
void ParseSweep(const std::string& sw, std::string* param, std::vector<double>* values) {
  param->clear();
  *values = {0};
  if (sw.empty()) return;
  std::vector<std::string> kv = absl::StrSplit(sw, absl::MaxSplits(':', 1));
  if (kv.size() != 2 || (kv[0] != "keys" && kv[0] != "batch")) Usage("bad --sweep " + sw);
  *param = kv[0];
  values->clear();
  for (absl::string_view v : absl::StrSplit(kv[1], ',', absl::SkipEmpty())) {
    double d;
    if (!absl::SimpleAtod(v, &d) || d < 1) Usage("bad --sweep value " + std::string(v));
    values->push_back(d);
  }
  if (values->empty()) Usage("empty --sweep");
}

}  // namespace

Options ParseFlags(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "stream-state benchmark and stress harness: runs scenarios against rcustate and its\n"
      "baselines in one process and prints one table of ratios to a baseline.\n"
      "  rcustate-bench [--scenarios=groupby,window,lookup] [--impls=all] [--keys=1e5]\n"
      "                 [--batch=1000] [--dist=uniform|zipf:0.99] [--json=FILE] [--csv=FILE]\n"
      "                 [--plot=FILE.png] [--sweep=keys:1e3,1e5] [--wide]");
  // --help and --helpshort list this file's flags (abseil's default is a
  // file named after the program), --version says what was built.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "bench/flags.cpp");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = VersionString;
  usage.normalize_filename = [](absl::string_view file) {
    while (absl::ConsumePrefix(&file, "../")) {
    }
    return std::string(file);
  };
  absl::SetFlagsUsageConfig(usage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) Usage(absl::StrFormat("unexpected argument %s", rest[1]));
  Options o;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) o.command_line += ' ';
    o.command_line += argv[i];
  }

  o.smoke = absl::GetFlag(FLAGS_smoke);
  o.base = ReadConfig();
  if (o.smoke) ApplySmokeSizes(o.base);
  ValidateConfig(o.base);
  std::vector<std::string> all_impls, known_impls;
  for (const ImplEntry& e : Implementations()) {
    known_impls.emplace_back(e.name);
    if (e.in_all || o.smoke) all_impls.emplace_back(e.name);
  }
  o.scenarios =
      ParseList("scenarios", o.smoke ? "all" : absl::GetFlag(FLAGS_scenarios), kAllScenarios);
  o.impls =
      ParseList("impls", o.smoke ? "all" : absl::GetFlag(FLAGS_impls), all_impls, &known_impls);
  o.baseline = absl::GetFlag(FLAGS_baseline);
  // A baseline named on the command line must be known and run; the default
  // one may be absent from --impls (then the ratio columns stay empty).
  if (std::find(known_impls.begin(), known_impls.end(), o.baseline) == known_impls.end()) {
    Usage(absl::StrFormat("--baseline: unknown implementation '%s' (valid: %s)", o.baseline,
                          absl::StrJoin(known_impls, ", ")));
  }
  bool baseline_given = false;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view a = argv[i];
    baseline_given |= absl::StartsWith(a, "--baseline") || absl::StartsWith(a, "-baseline");
  }
  if (baseline_given &&
      std::find(o.impls.begin(), o.impls.end(), o.baseline) == o.impls.end()) {
    Usage(absl::StrFormat("--baseline=%s is not among the implementations run (--impls=%s)",
                          o.baseline, absl::StrJoin(o.impls, ",")));
  }
  o.repeat = o.smoke ? 1 : std::max<uint32_t>(1, absl::GetFlag(FLAGS_repeat));
  ParseSweep(absl::GetFlag(FLAGS_sweep), &o.sweep_param, &o.sweep_values);
  o.wide = absl::GetFlag(FLAGS_wide);
  o.json = absl::GetFlag(FLAGS_json);
  o.csv = absl::GetFlag(FLAGS_csv);
  o.plot = absl::GetFlag(FLAGS_plot);
  return o;
}

Config ForScenario(Config c, const std::string& scenario, bool smoke) {
  c.scenario = scenario;
  if (c.partitions == 0) {
    c.partitions = scenario == "partitions" ? 64 : scenario == "window" ? c.writers : 1;
  }
  const uint32_t groups = c.writers / c.writers_per_partition;
  if (c.partitions < groups) {
    Usage("--partitions must be >= --writers / --writers_per_partition (every writer writes)");
  }
  if (c.writers_per_partition != 1 && scenario != "groupby" && scenario != "lookup") {
    Usage("--writers_per_partition > 1: groupby and lookup only (window, pinscan and partitions "
          "check per-writer counts)");
  }
  if (scenario == "window" && c.partitions != c.writers) {
    Usage("window runs one partition per writer: leave --partitions at 0");
  }
  if (c.reads_per_section == 0) c.reads_per_section = scenario == "lookup" ? 1 : 4;
  if (scenario == "partitions" && smoke) c.partitions = 8;
  return c;
}

}  // namespace rcsbench
