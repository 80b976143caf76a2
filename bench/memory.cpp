// SPDX-License-Identifier: LGPL-2.1-or-later
// File: bench/memory.cpp
#include "bench/memory.hpp"

#include <malloc.h>

#include <cstdio>
#include <cstring>

namespace rcsbench {
namespace {

uint64_t StatusField(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kb = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      std::sscanf(line + n + 1, "%lu", &kb);
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

}  // namespace

uint64_t CurrentRss() { return StatusField("VmRSS"); }
uint64_t PeakRss() { return StatusField("VmHWM"); }

bool ResetPeakRss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

void TrimHeap() { malloc_trim(0); }

}  // namespace rcsbench
