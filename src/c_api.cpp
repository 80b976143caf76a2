// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/c_api.cpp
//
// The C ABI (include/rcustate/rcustate.h) over the C++ core: argument checks,
// handle wrapping and error translation, nothing else. Every entry point is
// noexcept and wrapped in one RCS_API_BEGIN / RCS_API_END pair, which turns
// std::bad_alloc into RCS_ENOMEM and any other exception into RCS_EINTERNAL,
// so no exception ever reaches a C caller. Every failure records a message
// for rcs_last_error() without allocating: it starts with the C function's
// name and speaks of the C API only (core messages that name C++ API are
// replaced, see Fail()). Only public headers are included.
#include "rcustate/rcustate.h"

#include <pthread.h>

#include <algorithm>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "rcustate/merge.hpp"
#include "rcustate/read_section.hpp"
#include "rcustate/snapshot.hpp"
#include "rcustate/status.hpp"
#include "rcustate/store.hpp"
#include "rcustate/write_batch.hpp"
#include "rcustate/write_handle.hpp"

struct rcs_reader {
  rcustate::TableReader reader;
  bool qsbr;  // the store's read flavor is QSBR
};

struct rcs_store {
  std::unique_ptr<rcustate::Store> store;
};
struct rcs_batch {
  explicit rcs_batch(const rcustate::Store& s) : batch(s) {}
  rcustate::WriteBatch batch;
};
struct rcs_writer {
  explicit rcs_writer(rcustate::WriteHandle h)
      : handle(std::move(h)), owner(std::this_thread::get_id()) {}
  rcustate::WriteHandle handle;
  std::thread::id owner;  // the thread whose delta the handle writes
};
struct rcs_snapshot {
  explicit rcs_snapshot(rcustate::PinnedSnapshot p) : pin(std::move(p)) {}
  rcustate::PinnedSnapshot pin;
};

namespace {

using rcustate::ErrorCode;

static_assert(RCS_MAX_KEY_SIZE == rcustate::kMaxKeySize, "rcustate.h disagrees with store.hpp");

// ---- rcs_last_error(): a pointer to a static string (the frequent
// failures, like a missing key, set only this) or to the thread's buffer.
// The pointer is written on hot paths, so it is initial-exec TLS like the
// core's per-thread state; the buffer, touched only to format a message,
// stays in dynamic TLS.
constexpr size_t kErrorBufSize = 512;
thread_local char error_buf[kErrorBufSize];
thread_local constinit const char* last_error __attribute__((tls_model("initial-exec"))) =
    "no error";

int SetErrorStatic(int code, const char* message) noexcept {
  last_error = message;
  return code;
}

// printf-style, truncating; never allocates, never throws.
__attribute__((format(printf, 2, 3))) int SetErrorf(int code, const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(error_buf, kErrorBufSize, fmt, ap);
  va_end(ap);
  last_error = error_buf;
  return code;
}

int ToCode(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kOk: return RCS_OK;
    case ErrorCode::kNotFound: return RCS_ENOTFOUND;
    case ErrorCode::kInvalidArgument: return RCS_EINVAL;
    case ErrorCode::kNoMemory: return RCS_ENOMEM;
    case ErrorCode::kNoPartition: return RCS_ENOPARTITION;
    case ErrorCode::kExists: return RCS_EEXIST;
    case ErrorCode::kNoTable: return RCS_ENOTABLE;
    case ErrorCode::kRange: return RCS_ERANGE;
    case ErrorCode::kState: return RCS_ESTATE;
    case ErrorCode::kIo: return RCS_EIO;
    case ErrorCode::kCorrupt: return RCS_ECORRUPT;
    case ErrorCode::kInternal: return RCS_EINTERNAL;
  }
  return RCS_EINTERNAL;
}

// True if a core message names C++ API (a class, a member, a namespace),
// which a C caller cannot relate to its call. The check is on the shape of
// the text, not on exact core wording, so that rewording the core keeps the
// C messages clean.
bool NamesCxx(std::string_view m) noexcept {
  static constexpr std::string_view kCxx[] = {
      "::", "()", "absl", "std", "ReadSection", "Store", "WriteBatch", "Snapshot", "TableReader",
      "Pin(", "Commit", "Flush", "Detach", "Attach", "Drop", "Close", "MergeOperator", "Status",
      "WriteHandle"};
  for (std::string_view w : kCxx) {
    if (m.find(w) != std::string_view::npos) return true;
  }
  return false;
}

// Records a failed status of the core for the C function `fn` and returns
// its RCS_E* code. The message is "fn: " and the core's message, except:
//  - kState, for a function refused inside a read section (`why` given: what
//    the call would wait for), while the calling thread is inside one: say
//    so in C terms;
//  - kNoMemory: "out of memory", whatever the core said;
//  - a core message that names C++ API: the generic description of the code.
int Fail(const char* fn, const absl::Status& status, const char* why = nullptr) noexcept {
  const int code = ToCode(rcustate::ErrorCodeOf(status));
  if (code == RCS_ESTATE && why != nullptr && rcustate::ReadSection::Active()) {
    return SetErrorf(code,
                     "%s: not allowed inside a read section (a section opened by rcs_read_lock, "
                     "or an rcs_read callback, is open on this thread; %s)",
                     fn, why);
  }
  if (code == RCS_ENOMEM) return SetErrorf(code, "%s: out of memory", fn);
  const std::string_view m(status.message().data(), status.message().size());
  if (m.empty() || NamesCxx(m)) return SetErrorf(code, "%s: %s", fn, rcs_strerror(code));
  return SetErrorf(code, "%s: %.*s", fn, static_cast<int>(m.size()), m.data());
}

int Invalid(const char* fn, const char* what) noexcept {
  return SetErrorf(RCS_EINVAL, "%s: %s", fn, what);
}

// A NULL pointer is a valid byte string only when it is empty.
bool BadBytes(const void* p, size_t n) noexcept { return p == nullptr && n != 0; }
std::string_view Bytes(const void* p, size_t n) noexcept {
  return n == 0 ? std::string_view() : std::string_view(static_cast<const char*>(p), n);
}

std::shared_ptr<const rcustate::MergeOperator> MergeOperatorFor(int op, bool* known) {
  *known = true;
  switch (op) {
    case RCS_MERGE_NONE: return nullptr;
    case RCS_MERGE_ADD_I64: return rcustate::AddInt64();
    case RCS_MERGE_MIN_I64: return rcustate::MinInt64();
    case RCS_MERGE_MAX_I64: return rcustate::MaxInt64();
    case RCS_MERGE_ADD_F64: return rcustate::AddDouble();
    case RCS_MERGE_APPEND: return rcustate::Append();
  }
  *known = false;
  return nullptr;
}

// rcs_options sizes this library understands: the 0.1 layout (all of the
// current one). A later version that adds fields accepts the older sizes and
// gives the missing fields their defaults.
constexpr size_t kOptionsSizeV0_1 = offsetof(rcs_options, max_publish_delay_ns) + sizeof(uint64_t);
static_assert(kOptionsSizeV0_1 <= sizeof(rcs_options));
constexpr size_t kStatsSizeV0_1 =
    offsetof(struct rcs_partition_stats, num_tables) + sizeof(uint32_t);
// rcs_store_stats came with 0.2: its first layout ends at grace_wait_sum_ns
// (a later version that appends fields keeps accepting this size).
constexpr size_t kStoreStatsSizeV0_2 =
    offsetof(struct rcs_store_stats, grace_wait_sum_ns) + sizeof(uint64_t);

// The error of a zero-copy read the calling thread is not protected for.
int NotReading(const rcs_store* store, const char* fn) noexcept {
  if (store->store->read_flavor() == rcustate::ReadFlavor::kQsbr) {
    return SetErrorf(RCS_ESTATE, "%s: a QSBR store is read by online threads (rcs_thread_online)",
                     fn);
  }
  return SetErrorf(RCS_ESTATE, "%s: only allowed inside rcs_read_lock", fn);
}

// An rcs_view* is the view's opaque handle (SnapshotView::ToHandle): handing
// it out costs no allocation and there is nothing to free.
const rcs_view* ToC(rcustate::SnapshotView v) noexcept {
  return static_cast<const rcs_view*>(v.ToHandle());
}
rcustate::SnapshotView FromC(const rcs_view* v) noexcept {
  return rcustate::SnapshotView::FromHandle(v);
}

}  // namespace

// One try/catch per entry point. RCS_API_END returns an int code;
// RCS_API_END_VOID is for the functions that return nothing (it records the
// message only). std::length_error (a container asked for more than it can
// ever hold, e.g. a reservation hint beyond any memory) is an allocation
// that cannot succeed: RCS_ENOMEM too.
#define RCS_API_BEGIN try {
#define RCS_API_END                                                              \
  }                                                                              \
  catch (const std::bad_alloc&) {                                                \
    return SetErrorf(RCS_ENOMEM, "%s: out of memory", __func__);                 \
  }                                                                              \
  catch (const std::length_error&) {                                             \
    return SetErrorf(RCS_ENOMEM, "%s: out of memory (a size beyond any allocation)", __func__); \
  }                                                                              \
  catch (const std::exception& e) {                                              \
    return SetErrorf(RCS_EINTERNAL, "%s: internal error: %s", __func__, e.what()); \
  }                                                                              \
  catch (...) {                                                                  \
    return SetErrorf(RCS_EINTERNAL, "%s: internal error: unknown exception", __func__); \
  }
#define RCS_API_END_VOID                                                  \
  }                                                                       \
  catch (const std::bad_alloc&) {                                         \
    SetErrorf(RCS_ENOMEM, "%s: out of memory", __func__);                 \
  }                                                                       \
  catch (const std::length_error&) {                                      \
    SetErrorf(RCS_ENOMEM, "%s: out of memory", __func__);                 \
  }                                                                       \
  catch (const std::exception& e) {                                       \
    SetErrorf(RCS_EINTERNAL, "%s: internal error: %s", __func__, e.what()); \
  }                                                                       \
  catch (...) {                                                           \
    SetErrorf(RCS_EINTERNAL, "%s: internal error: unknown exception", __func__); \
  }

#define RCS_CHECK_ARG(cond, what) \
  do {                            \
    if (!(cond)) return Invalid(__func__, what); \
  } while (0)

extern "C" {

// ---------------------------------------------------------------- options, store

RCS_API void rcs_options_init(rcs_options* opts) noexcept {
  if (opts == nullptr) return;
  std::memset(opts, 0, sizeof *opts);
  opts->struct_size = sizeof *opts;
}

RCS_API int rcs_store_open(const rcs_options* opts, rcs_store** out) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(opts != nullptr, "opts is NULL");
  RCS_CHECK_ARG(out != nullptr, "out is NULL");
  if (opts->struct_size < kOptionsSizeV0_1 || opts->struct_size > sizeof(rcs_options)) {
    return SetErrorf(RCS_EINVAL,
                     "%s: opts->struct_size is %zu, this library knows %zu (call rcs_options_init)",
                     __func__, opts->struct_size, sizeof(rcs_options));
  }
  RCS_CHECK_ARG(opts->tables != nullptr || opts->num_tables == 0, "opts->tables is NULL");
  rcustate::StoreOptions o;
  o.tables.reserve(opts->num_tables);
  for (size_t i = 0; i < opts->num_tables; ++i) {
    const rcs_table_spec& spec = opts->tables[i];
    if (spec.name == nullptr) return SetErrorf(RCS_EINVAL, "%s: table %zu has a NULL name", __func__, i);
    bool known;
    auto merge = MergeOperatorFor(spec.merge_op, &known);
    if (!known) {
      return SetErrorf(RCS_EINVAL, "%s: table \"%s\" has unknown merge_op %d", __func__,
                       spec.name, spec.merge_op);
    }
    o.tables.push_back(rcustate::TableSpec{spec.name, std::move(merge), spec.expected_entries});
  }
  o.memory_budget_bytes = opts->memory_budget_bytes;
  if (opts->max_publish_delay_ns > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Invalid(__func__, "opts->max_publish_delay_ns is out of range");
  }
  o.max_publish_delay = absl::Nanoseconds(static_cast<int64_t>(opts->max_publish_delay_ns));
  // Fields added after the 0.1 layout, each read only if the caller's struct
  // has it (a shorter struct gets their defaults).
  if (opts->struct_size >= offsetof(rcs_options, read_flavor) + sizeof(int)) {
    if (opts->read_flavor != RCS_READ_MEMB && opts->read_flavor != RCS_READ_QSBR) {
      return SetErrorf(RCS_EINVAL, "%s: opts->read_flavor is %d (RCS_READ_MEMB or RCS_READ_QSBR)",
                       __func__, opts->read_flavor);
    }
    o.read_flavor = opts->read_flavor == RCS_READ_QSBR ? rcustate::ReadFlavor::kQsbr
                                                       : rcustate::ReadFlavor::kMemb;
  }
  if (opts->struct_size >= offsetof(rcs_options, stall_threshold_ns) + sizeof(uint64_t)) {
    if (opts->stall_threshold_ns > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Invalid(__func__, "opts->stall_threshold_ns is out of range");
    }
    o.stall_threshold = absl::Nanoseconds(static_cast<int64_t>(opts->stall_threshold_ns));
  }
  auto store = rcustate::Store::Open(std::move(o));
  if (!store.ok()) return Fail(__func__, store.status());
  *out = new rcs_store{*std::move(store)};
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_store_close(rcs_store* store) noexcept {
  RCS_API_BEGIN
  if (store == nullptr) return RCS_OK;
  // Close() refuses inside a read section (it would wait for a grace period
  // that the caller's own section blocks) and then changes nothing: the
  // handle stays open and usable, to be closed after the section. Once it
  // succeeded, ~Store has nothing left to wait for.
  if (absl::Status s = store->store->Close(); !s.ok()) {
    return Fail(__func__, s, "closing waits for a grace period; close the store after the "
                             "outermost rcs_read_unlock");
  }
  delete store;
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_table_id(const rcs_store* store, const char* name, uint32_t* out_table) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(name != nullptr, "name is NULL");
  RCS_CHECK_ARG(out_table != nullptr, "out_table is NULL");
  auto id = store->store->FindTable(name);
  if (!id.ok()) return Fail(__func__, id.status());
  *out_table = *id;
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_table_count(const rcs_store* store, size_t* out_count) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out_count != nullptr, "out_count is NULL");
  *out_count = store->store->num_tables();
  return RCS_OK;
  RCS_API_END
}

// ---------------------------------------------------------------- partitions

RCS_API int rcs_partition_create(rcs_store* store, uint32_t partition) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  if (absl::Status s = store->store->CreatePartition(partition); !s.ok()) return Fail(__func__, s);
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_partition_drop(rcs_store* store, uint32_t partition) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  if (absl::Status s = store->store->DropPartition(partition); !s.ok()) {
    return Fail(__func__, s, "a drop may wait for a grace period");
  }
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_partition_list(const rcs_store* store, uint32_t* ids, size_t capacity,
                               size_t* out_count) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out_count != nullptr, "out_count is NULL");
  RCS_CHECK_ARG(ids != nullptr || capacity == 0, "ids is NULL but capacity is not 0");
  std::vector<uint32_t> list = store->store->ListPartitions();
  *out_count = list.size();
  if (list.size() > capacity) {
    return SetErrorf(RCS_ERANGE, "%s: %zu partitions, capacity %zu", __func__, list.size(), capacity);
  }
  std::copy(list.begin(), list.end(), ids);
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_version(rcs_store* store, uint32_t partition, uint64_t* out_version) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out_version != nullptr, "out_version is NULL");
  auto v = store->store->Version(partition);
  if (!v.ok()) return Fail(__func__, v.status());
  *out_version = *v;
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_partition_stats(rcs_store* store, uint32_t partition,
                                struct rcs_partition_stats* out) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out != nullptr, "out is NULL");
  if (out->struct_size < kStatsSizeV0_1) {
    return SetErrorf(RCS_EINVAL, "%s: out->struct_size is %zu, at least %zu expected", __func__,
                     out->struct_size, kStatsSizeV0_1);
  }
  auto st = store->store->Stats(partition);
  if (!st.ok()) return Fail(__func__, st.status());
  // Later versions that grow the struct fill their new fields only when
  // out->struct_size says the caller's struct has room for them.
  struct rcs_partition_stats r;
  r.struct_size = out->struct_size;
  r.version = st->version;
  r.committed_version = st->committed_version;
  r.commits = st->commits;
  r.publications = st->publications;
  r.commit_wait_ns = st->commit_wait_ns;
  r.grace_waits = st->grace_waits;
  r.standby_copies = st->standby_copies;
  r.approx_bytes = st->approx_bytes;
  r.pins_alive = st->pins_alive;
  r.num_tables = static_cast<uint32_t>(store->store->num_tables());
  r.backlog_publications = st->backlog_publications;
  r.stalled_grace_periods = st->stalled_grace_periods;
  r.grace_wait_age_ns = st->grace_wait_age_ns;
  r.catch_ups = st->catch_ups;
  std::memcpy(out, &r, out->struct_size >= sizeof r ? sizeof r : out->struct_size);
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_partition_table_entries(rcs_store* store, uint32_t partition, uint32_t table,
                                        size_t* out_entries) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out_entries != nullptr, "out_entries is NULL");
  rcustate::ReadSection rs(*store->store);
  auto snap = store->store->Snapshot(partition);
  if (!snap.ok()) return Fail(__func__, snap.status());
  auto view = snap->Table(table);
  if (!view.ok()) return Fail(__func__, view.status());
  *out_entries = view->size();
  return RCS_OK;
  RCS_API_END
}

// ---------------------------------------------------------------- reads

RCS_API int rcs_get(rcs_store* store, uint32_t partition, uint32_t table, const void* key,
                    size_t key_len, void* buf, size_t buf_len, size_t* out_value_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(!BadBytes(buf, buf_len), "buf is NULL but buf_len is not 0");
  RCS_CHECK_ARG(out_value_len != nullptr, "out_value_len is NULL");
  rcustate::ReadSection rs(*store->store);
  auto v = store->store->Get(partition, table, Bytes(key, key_len));
  if (!v.ok()) return Fail(__func__, v.status());
  if (!v->has_value()) {
    *out_value_len = 0;
    return SetErrorStatic(RCS_ENOTFOUND, "rcs_get: key not found");
  }
  const std::string_view value = **v;
  *out_value_len = value.size();
  if (value.size() > buf_len) {
    return SetErrorf(RCS_ERANGE, "%s: the value has %zu bytes, the buffer %zu", __func__,
                     value.size(), buf_len);
  }
  if (!value.empty()) std::memcpy(buf, value.data(), value.size());
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_read(rcs_store* store, uint32_t partition, uint32_t table, const void* key,
                     size_t key_len, rcs_value_fn fn, void* ctx) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(fn != nullptr, "fn is NULL");
  rcustate::ReadSection rs(*store->store);
  auto v = store->store->Get(partition, table, Bytes(key, key_len));
  if (!v.ok()) return Fail(__func__, v.status());
  if (!v->has_value()) return SetErrorStatic(RCS_ENOTFOUND, "rcs_read: key not found");
  fn((*v)->data(), (*v)->size(), ctx);
  return RCS_OK;
  RCS_API_END
}

// Enter() and Leave() are noexcept and allocation-free: nothing to catch.
RCS_API void rcs_read_lock(void) noexcept { rcustate::ReadSection::Enter(); }

RCS_API int rcs_read_unlock(void) noexcept {
  // Leave() refuses (changing nothing) unless a section opened by Enter(),
  // i.e. by rcs_read_lock, is open: an unbalanced unlock cannot end a section
  // that rcs_read or C++ code opened.
  if (__builtin_expect(!rcustate::ReadSection::Leave(), 0)) {
    return SetErrorStatic(RCS_ESTATE,
                          "rcs_read_unlock: no read section opened by rcs_read_lock is open on "
                          "this thread (unbalanced rcs_read_unlock)");
  }
  return RCS_OK;
}

RCS_API int rcs_in_read_section(void) noexcept { return rcustate::ReadSection::Active() ? 1 : 0; }

RCS_API void rcs_thread_online(void) noexcept { rcustate::ThreadOnline(); }
RCS_API void rcs_thread_offline(void) noexcept { rcustate::ThreadOffline(); }
RCS_API int rcs_thread_is_online(void) noexcept { return rcustate::ThreadIsOnline() ? 1 : 0; }
RCS_API void rcs_quiescent_state(void) noexcept { rcustate::QuiescentState(); }

// ---------------------------------------------------------------- observability

RCS_API int rcs_store_stats(rcs_store* store, struct rcs_store_stats* out) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out != nullptr, "out is NULL");
  if (out->struct_size < kStoreStatsSizeV0_2) {
    return SetErrorf(RCS_EINVAL, "%s: out->struct_size is %zu, at least %zu expected", __func__,
                     out->struct_size, kStoreStatsSizeV0_2);
  }
  auto st = store->store->Stats();
  if (!st.ok()) return Fail(__func__, st.status());
  struct rcs_store_stats r;
  r.struct_size = out->struct_size;
  r.partitions = st->partitions;
  r.entries = st->entries;
  r.approx_bytes = st->approx_bytes;
  r.pins_alive = st->pins_alive;
  r.oldest_grace_wait_ns = st->oldest_grace_wait_ns;
  r.reclamation_callbacks = st->reclamation_callbacks;
  r.reclamation_bytes = st->reclamation_bytes;
  r.commits = st->commits;
  r.publications = st->publications;
  r.grace_waits = st->grace_waits;
  r.commit_wait_ns = st->commit_wait_ns;
  r.standby_copies = st->standby_copies;
  r.catch_ups = st->catch_ups;
  r.backlog_publications = st->backlog_publications;
  r.stalled_grace_periods = st->stalled_grace_periods;
  r.commit_latency_count = st->commit_latency.count;
  r.commit_latency_sum_ns = st->commit_latency.sum_ns;
  r.grace_wait_count = st->grace_wait.count;
  r.grace_wait_sum_ns = st->grace_wait.sum_ns;
  std::memcpy(out, &r, out->struct_size >= sizeof r ? sizeof r : out->struct_size);
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_metrics_text(rcs_store* store, char* buf, size_t buf_len,
                             size_t* out_needed) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(!BadBytes(buf, buf_len), "buf is NULL but buf_len is not 0");
  RCS_CHECK_ARG(out_needed != nullptr, "out_needed is NULL");
  auto text = store->store->MetricsText();
  if (!text.ok()) return Fail(__func__, text.status());
  *out_needed = text->size() + 1;
  if (buf_len < text->size() + 1) {
    return SetErrorf(RCS_ERANGE, "%s: the text needs %zu bytes, buf_len is %zu", __func__,
                     text->size() + 1, buf_len);
  }
  std::memcpy(buf, text->data(), text->size());
  buf[text->size()] = '\0';
  return RCS_OK;
  RCS_API_END
}

namespace {
// rcs_set_log_handler's handler and argument; the C++ handler it installs
// (LogTrampoline) calls them. Both change under the mutex, which also orders
// the installations.
std::mutex c_log_mu;
rcs_log_fn c_log_fn = nullptr;
void* c_log_arg = nullptr;
// A child of fork() has only the forking thread: if another thread held the
// mutex at the fork, the child's copy would stay locked, and the child's
// next message would hang instead of reaching the handler.
[[maybe_unused]] const int c_log_fork_handler =
    pthread_atfork(nullptr, nullptr, [] { new (&c_log_mu) std::mutex; });

void LogTrampoline(void*, rcustate::LogLevel level, const char* message) {
  rcs_log_fn fn;
  void* arg;
  {
    std::lock_guard<std::mutex> lock(c_log_mu);
    fn = c_log_fn;
    arg = c_log_arg;
  }
  if (fn != nullptr) {
    fn(arg, static_cast<int>(level), message);
  } else {
    // Reset while this message was on its way: the default's format.
    static const char* const kLevels[] = {"?", "warning", "error", "fatal"};
    const int l = static_cast<int>(level);
    std::fprintf(stderr, "rcustate: %s: %s\n", kLevels[l >= 1 && l <= 3 ? l : 0], message);
  }
}
static_assert(static_cast<int>(rcustate::LogLevel::kWarning) == RCS_LOG_WARNING &&
              static_cast<int>(rcustate::LogLevel::kError) == RCS_LOG_ERROR &&
              static_cast<int>(rcustate::LogLevel::kFatal) == RCS_LOG_FATAL);
}  // namespace

RCS_API void rcs_set_log_handler(rcs_log_fn fn, void* arg) noexcept {
  std::lock_guard<std::mutex> lock(c_log_mu);
  c_log_fn = fn;
  c_log_arg = fn != nullptr ? arg : nullptr;
  rcustate::SetLogHandler(fn != nullptr ? &LogTrampoline : nullptr, nullptr);
}

RCS_API int rcs_grace_stalls(rcs_store* store, uint64_t* out_stalled,
                             uint64_t* out_oldest_wait_ns) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out_stalled != nullptr, "out_stalled is NULL");
  RCS_CHECK_ARG(out_oldest_wait_ns != nullptr, "out_oldest_wait_ns is NULL");
  const rcustate::GraceStallStats g = store->store->GraceStalls();
  *out_stalled = g.stalled_grace_periods;
  *out_oldest_wait_ns = g.oldest_grace_wait_ns;
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_get_ref(rcs_store* store, uint32_t partition, uint32_t table, const void* key,
                        size_t key_len, const void** out_value, size_t* out_value_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(out_value != nullptr, "out_value is NULL");
  RCS_CHECK_ARG(out_value_len != nullptr, "out_value_len is NULL");
  if (!store->store->CanRead()) return NotReading(store, "rcs_get_ref");
  auto v = store->store->Get(partition, table, Bytes(key, key_len));
  if (!v.ok()) return Fail(__func__, v.status());
  if (!v->has_value()) return SetErrorStatic(RCS_ENOTFOUND, "rcs_get_ref: key not found");
  *out_value = (*v)->data();
  *out_value_len = (*v)->size();
  return RCS_OK;
  RCS_API_END
}

// ---------------------------------------------------------------- views

RCS_API int rcs_view_current(rcs_store* store, uint32_t partition,
                             const rcs_view** out_view) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out_view != nullptr, "out_view is NULL");
  if (!store->store->CanRead()) return NotReading(store, "rcs_view_current");
  auto snap = store->store->Snapshot(partition);
  if (!snap.ok()) return Fail(__func__, snap.status());
  *out_view = ToC(*snap);
  return RCS_OK;
  RCS_API_END
}

RCS_API uint64_t rcs_view_version(const rcs_view* view) noexcept {
  return view == nullptr ? 0 : FromC(view).version();
}

RCS_API int rcs_view_get(const rcs_view* view, uint32_t table, const void* key, size_t key_len,
                         const void** out_value, size_t* out_value_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(view != nullptr, "view is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(out_value != nullptr, "out_value is NULL");
  RCS_CHECK_ARG(out_value_len != nullptr, "out_value_len is NULL");
  auto t = FromC(view).Table(table);
  if (!t.ok()) return Fail(__func__, t.status());
  auto v = t->Find(Bytes(key, key_len));
  if (!v.has_value()) return SetErrorStatic(RCS_ENOTFOUND, "rcs_view_get: key not found");
  *out_value = v->data();
  *out_value_len = v->size();
  return RCS_OK;
  RCS_API_END
}

// ---------------------------------------------------------------- table readers

RCS_API int rcs_reader_open(rcs_store* store, uint32_t partition, uint32_t table,
                            rcs_reader** out) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out != nullptr, "out is NULL");
  auto r = store->store->Reader(partition, table);
  if (!r.ok()) return Fail(__func__, r.status());
  *out = new rcs_reader{*std::move(r), store->store->read_flavor() == rcustate::ReadFlavor::kQsbr};
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_reader_get(const rcs_reader* reader, const void* key, size_t key_len,
                           const void** out_value, size_t* out_value_len) noexcept {
  // Nothing here allocates or throws: no try block on the hot path.
  if (__builtin_expect(reader == nullptr || BadBytes(key, key_len) || out_value == nullptr ||
                           out_value_len == nullptr,
                       0)) {
    return SetErrorStatic(RCS_EINVAL, "rcs_reader_get: a NULL argument");
  }
  if (__builtin_expect(!(reader->qsbr ? rcustate::ThreadIsOnline() : rcustate::ReadSection::Active()), 0)) {
    return SetErrorStatic(RCS_ESTATE, reader->qsbr ? "rcs_reader_get: a QSBR store is read by "
                                                     "online threads (rcs_thread_online)"
                                                   : "rcs_reader_get: only allowed inside "
                                                     "rcs_read_lock");
  }
  auto v = reader->reader.Find(Bytes(key, key_len));
  if (!v.has_value()) return SetErrorStatic(RCS_ENOTFOUND, "rcs_reader_get: key not found");
  *out_value = v->data();
  *out_value_len = v->size();
  return RCS_OK;
}

RCS_API void rcs_reader_close(rcs_reader* reader) noexcept { delete reader; }

RCS_API int rcs_view_count(const rcs_view* view, uint32_t table, size_t* out_count) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(view != nullptr, "view is NULL");
  RCS_CHECK_ARG(out_count != nullptr, "out_count is NULL");
  auto t = FromC(view).Table(table);
  if (!t.ok()) return Fail(__func__, t.status());
  *out_count = t->size();
  return RCS_OK;
  RCS_API_END
}

// ---------------------------------------------------------------- snapshots

RCS_API int rcs_snapshot_open(rcs_store* store, uint32_t partition, rcs_snapshot** out) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out != nullptr, "out is NULL");
  auto pin = store->store->Pin(partition);
  if (!pin.ok()) return Fail(__func__, pin.status());
  *out = new rcs_snapshot(*std::move(pin));
  return RCS_OK;
  RCS_API_END
}

RCS_API uint64_t rcs_snapshot_version(const rcs_snapshot* snap) noexcept {
  return snap == nullptr ? 0 : snap->pin.version();
}

RCS_API int rcs_snapshot_get(const rcs_snapshot* snap, uint32_t table, const void* key,
                             size_t key_len, const void** out_value,
                             size_t* out_value_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(snap != nullptr, "snap is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(out_value != nullptr, "out_value is NULL");
  RCS_CHECK_ARG(out_value_len != nullptr, "out_value_len is NULL");
  auto view = snap->pin.Table(table);
  if (!view.ok()) return Fail(__func__, view.status());
  auto v = view->Find(Bytes(key, key_len));
  if (!v.has_value()) return SetErrorStatic(RCS_ENOTFOUND, "rcs_snapshot_get: key not found");
  *out_value = v->data();
  *out_value_len = v->size();
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_snapshot_foreach(const rcs_snapshot* snap, uint32_t table, rcs_entry_fn fn,
                                 void* ctx) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(snap != nullptr, "snap is NULL");
  RCS_CHECK_ARG(fn != nullptr, "fn is NULL");
  auto view = snap->pin.Table(table);
  if (!view.ok()) return Fail(__func__, view.status());
  int rc = 0;
  view->ForEach([&](std::string_view k, std::string_view v) {
    rc = fn(k.data(), k.size(), v.data(), v.size(), ctx);
    return rc == 0;
  });
  return rc;
  RCS_API_END
}

RCS_API int rcs_snapshot_count(const rcs_snapshot* snap, uint32_t table,
                               size_t* out_count) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(snap != nullptr, "snap is NULL");
  RCS_CHECK_ARG(out_count != nullptr, "out_count is NULL");
  auto view = snap->pin.Table(table);
  if (!view.ok()) return Fail(__func__, view.status());
  *out_count = view->size();
  return RCS_OK;
  RCS_API_END
}

RCS_API void rcs_snapshot_close(rcs_snapshot* snap) noexcept {
  RCS_API_BEGIN
  delete snap;  // ~PinnedSnapshot never blocks: fine inside a read section
  RCS_API_END_VOID
}

// ---------------------------------------------------------------- thread-local writes

RCS_API int rcs_put(rcs_store* store, uint32_t partition, uint32_t table, const void* key,
                    size_t key_len, const void* value, size_t value_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(!BadBytes(value, value_len), "value is NULL but value_len is not 0");
  absl::Status s = store->store->Put(partition, table, Bytes(key, key_len), Bytes(value, value_len));
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_delete(rcs_store* store, uint32_t partition, uint32_t table, const void* key,
                       size_t key_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  absl::Status s = store->store->Erase(partition, table, Bytes(key, key_len));
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_merge(rcs_store* store, uint32_t partition, uint32_t table, const void* key,
                      size_t key_len, const void* operand, size_t operand_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(!BadBytes(operand, operand_len), "operand is NULL but operand_len is not 0");
  absl::Status s =
      store->store->Merge(partition, table, Bytes(key, key_len), Bytes(operand, operand_len));
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_clear(rcs_store* store, uint32_t partition, uint32_t table) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  absl::Status s = store->store->Clear(partition, table);
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_commit(rcs_store* store, uint32_t partition, uint64_t* out_version) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  auto v = store->store->Commit(partition);
  if (!v.ok()) return Fail(__func__, v.status(), "a commit may wait for a grace period");
  if (out_version != nullptr) *out_version = *v;
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_flush(rcs_store* store, uint32_t partition, uint64_t* out_version) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  auto v = store->store->Flush(partition);
  if (!v.ok()) return Fail(__func__, v.status(), "a flush may wait for a grace period");
  if (out_version != nullptr) *out_version = *v;
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_abort(rcs_store* store, uint32_t partition) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  absl::Status s = store->store->Abort(partition);
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

// ---------------------------------------------------------------- durability

namespace {

int CheckInfoSize(const char* func, const rcs_checkpoint_info* info) {
  if (info != nullptr && info->struct_size < sizeof(rcs_checkpoint_info)) {
    return SetErrorf(RCS_EINVAL, "%s: info->struct_size is %zu, at least %zu expected", func,
                     info->struct_size, sizeof(rcs_checkpoint_info));
  }
  return RCS_OK;
}

void FillInfo(const rcustate::CheckpointInfo& from, rcs_checkpoint_info* info) {
  if (info == nullptr) return;
  info->partition = from.partition;
  info->version = from.version;
  info->base_version = from.base_version;
  info->bytes = from.bytes;
  info->entries = from.entries;
}

}  // namespace

RCS_API int rcs_checkpoint(rcs_store* s, uint32_t partition, const char* dir, int flags,
                           rcs_checkpoint_info* info) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(s != nullptr, "store is NULL");
  RCS_CHECK_ARG(dir != nullptr, "dir is NULL");
  RCS_CHECK_ARG(flags == RCS_CHECKPOINT_FULL || flags == RCS_CHECKPOINT_INCREMENTAL,
                "flags is neither RCS_CHECKPOINT_FULL nor RCS_CHECKPOINT_INCREMENTAL");
  if (int rc = CheckInfoSize(__func__, info); rc != RCS_OK) return rc;
  auto r = s->store->Checkpoint(partition, dir,
                                flags == RCS_CHECKPOINT_FULL ? rcustate::CheckpointKind::kFull
                                                             : rcustate::CheckpointKind::kIncremental);
  if (!r.ok()) return Fail(__func__, r.status());
  FillInfo(*r, info);
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_restore(rcs_store* s, uint32_t partition, const char* dir,
                        rcs_checkpoint_info* info) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(s != nullptr, "store is NULL");
  RCS_CHECK_ARG(dir != nullptr, "dir is NULL");
  if (int rc = CheckInfoSize(__func__, info); rc != RCS_OK) return rc;
  auto r = s->store->Restore(partition, dir);
  if (!r.ok()) return Fail(__func__, r.status());
  FillInfo(*r, info);
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_changelog_set(rcs_store* s, rcs_changelog_fn fn, void* ctx) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(s != nullptr, "store is NULL");
  rcustate::ChangelogFn call;
  if (fn != nullptr) {
    call = [fn, ctx](uint32_t partition, uint64_t version, std::string_view record) {
      const int rc = fn(ctx, partition, version, record.data(), record.size());
      if (rc == 0) return absl::OkStatus();
      return absl::UnknownError(absl::StrCat("the callback returned ", rc));
    };
  }
  absl::Status st = s->store->SetChangelog(std::move(call));
  return st.ok() ? RCS_OK : Fail(__func__, st);
  RCS_API_END
}

RCS_API int rcs_changelog_apply(rcs_store* s, uint32_t partition, const void* record,
                                size_t record_len, uint64_t* out_version) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(s != nullptr, "store is NULL");
  RCS_CHECK_ARG(record != nullptr || record_len == 0, "record is NULL");
  auto v = s->store->Apply(
      partition, std::string_view(static_cast<const char*>(record), record_len));
  if (!v.ok()) return Fail(__func__, v.status());
  if (out_version != nullptr) *out_version = *v;
  return RCS_OK;
  RCS_API_END
}

// ---------------------------------------------------------------- batches

RCS_API int rcs_batch_create(rcs_store* store, rcs_batch** out) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out != nullptr, "out is NULL");
  *out = new rcs_batch(*store->store);
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_batch_put(rcs_batch* b, uint32_t table, const void* key, size_t key_len,
                          const void* value, size_t value_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(b != nullptr, "batch is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(!BadBytes(value, value_len), "value is NULL but value_len is not 0");
  absl::Status s = b->batch.Put(table, Bytes(key, key_len), Bytes(value, value_len));
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_batch_delete(rcs_batch* b, uint32_t table, const void* key,
                             size_t key_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(b != nullptr, "batch is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  absl::Status s = b->batch.Erase(table, Bytes(key, key_len));
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_batch_merge(rcs_batch* b, uint32_t table, const void* key, size_t key_len,
                            const void* operand, size_t operand_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(b != nullptr, "batch is NULL");
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(!BadBytes(operand, operand_len), "operand is NULL but operand_len is not 0");
  absl::Status s = b->batch.Merge(table, Bytes(key, key_len), Bytes(operand, operand_len));
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_batch_clear(rcs_batch* b, uint32_t table) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(b != nullptr, "batch is NULL");
  absl::Status s = b->batch.Clear(table);
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_batch_commit(rcs_batch* b, uint32_t partition, uint64_t* out_version) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(b != nullptr, "batch is NULL");
  auto v = b->batch.Commit(partition);
  if (!v.ok()) return Fail(__func__, v.status(), "a commit may wait for a grace period");
  if (out_version != nullptr) *out_version = *v;
  return RCS_OK;
  RCS_API_END
}

RCS_API void rcs_batch_reset(rcs_batch* b) noexcept {
  RCS_API_BEGIN
  if (b != nullptr) b->batch.Reset();
  RCS_API_END_VOID
}

RCS_API size_t rcs_batch_size(const rcs_batch* b) noexcept {
  return b == nullptr ? 0 : b->batch.size();
}

RCS_API void rcs_batch_destroy(rcs_batch* b) noexcept {
  RCS_API_BEGIN
  delete b;
  RCS_API_END_VOID
}

// ---------------------------------------------------------------- threads

RCS_API int rcs_thread_attach(void) noexcept {
  RCS_API_BEGIN
  absl::Status s = rcustate::AttachThread();
  return s.ok() ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_thread_detach(void) noexcept {
  RCS_API_BEGIN
  if (absl::Status s = rcustate::DetachThread(); !s.ok()) {
    return Fail(__func__, s, "a thread cannot unregister while its section is open");
  }
  return RCS_OK;
  RCS_API_END
}

// ---------------------------------------------------------------- errors, version

RCS_API const char* rcs_strerror(int code) noexcept {
  switch (code) {
    case RCS_OK: return "success";
    case RCS_ENOTFOUND: return "key not found";
    case RCS_EINVAL: return "invalid argument";
    case RCS_ENOMEM: return "out of memory";
    case RCS_ENOPARTITION: return "no such partition";
    case RCS_EEXIST: return "partition already exists";
    case RCS_ENOTABLE: return "no such table";
    case RCS_ERANGE: return "buffer too small";
    case RCS_ESTATE: return "not allowed in this state";
    case RCS_EIO: return "I/O error";
    case RCS_ECORRUPT: return "corrupt data";
    case RCS_EINTERNAL: return "internal error";
  }
  return "unknown error";
}

RCS_API const char* rcs_last_error(void) noexcept { return last_error; }

RCS_API uint32_t rcs_version_number(void) noexcept { return RCS_VERSION_NUMBER; }

#define RCS_STR2(x) #x
#define RCS_STR(x) RCS_STR2(x)
RCS_API const char* rcs_version_string(void) noexcept {
  return RCS_STR(RCS_VERSION_MAJOR) "." RCS_STR(RCS_VERSION_MINOR) "." RCS_STR(RCS_VERSION_PATCH);
}

// ---------------------------------------------------------------- write handles

// The writer's thread check: a handle writes into its thread's delta.
#define RCS_CHECK_WRITER(w)                                                        \
  do {                                                                             \
    RCS_CHECK_ARG((w) != nullptr, "writer is NULL");                               \
    if (ABSL_PREDICT_FALSE((w)->owner != std::this_thread::get_id())) {            \
      return SetErrorf(RCS_ESTATE, "%s: the writer belongs to the thread that opened it", \
                       __func__);                                                  \
    }                                                                              \
  } while (0)

RCS_API int rcs_writer_open(rcs_store* store, uint32_t partition, uint32_t table,
                            rcs_writer** out) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_ARG(store != nullptr, "store is NULL");
  RCS_CHECK_ARG(out != nullptr, "out is NULL");
  absl::StatusOr<rcustate::WriteHandle> h = store->store->Writer(partition, table);
  if (!h.ok()) return Fail(__func__, h.status());
  *out = new rcs_writer(*std::move(h));
  return RCS_OK;
  RCS_API_END
}

RCS_API int rcs_writer_put(rcs_writer* w, const void* key, size_t key_len, const void* value,
                           size_t value_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_WRITER(w);
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(!BadBytes(value, value_len), "value is NULL but value_len is not 0");
  absl::Status s = w->handle.Put(Bytes(key, key_len), Bytes(value, value_len));
  return ABSL_PREDICT_TRUE(s.ok()) ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_writer_merge(rcs_writer* w, const void* key, size_t key_len, const void* operand,
                             size_t operand_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_WRITER(w);
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  RCS_CHECK_ARG(!BadBytes(operand, operand_len), "operand is NULL but operand_len is not 0");
  absl::Status s = w->handle.Merge(Bytes(key, key_len), Bytes(operand, operand_len));
  return ABSL_PREDICT_TRUE(s.ok()) ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API int rcs_writer_delete(rcs_writer* w, const void* key, size_t key_len) noexcept {
  RCS_API_BEGIN
  RCS_CHECK_WRITER(w);
  RCS_CHECK_ARG(!BadBytes(key, key_len), "key is NULL but key_len is not 0");
  absl::Status s = w->handle.Erase(Bytes(key, key_len));
  return ABSL_PREDICT_TRUE(s.ok()) ? RCS_OK : Fail(__func__, s);
  RCS_API_END
}

RCS_API void rcs_writer_close(rcs_writer* w) noexcept {
  RCS_API_BEGIN
  delete w;  // ~WriteHandle touches no thread state: fine on any thread
  RCS_API_END_VOID
}

}  // extern "C"
