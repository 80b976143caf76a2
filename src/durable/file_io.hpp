// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/file_io.hpp
//
// The POSIX calls durability needs, each turning errno into a kIo status that
// names the operation, the file and strerror: the caller's message then says
// what failed where ("write /data/p-7/tmp-...: No space left on device").
// Plain open/pwrite/fsync/rename/opendir, no stdio: we control buffering
// (callers hand over ~1 MiB at a time) and every fsync.
//
// SIGXFSZ: a write past RLIMIT_FSIZE makes the kernel send SIGXFSZ to the
// writing thread, whose default action kills the process. AppendFile blocks
// SIGXFSZ in the calling thread around each write() and, when the write failed
// with EFBIG, takes the signal the kernel queued for it (sigtimedwait, zero
// timeout) before restoring the mask, so the caller gets kIo "File too large"
// instead of a dead process, and no stray signal is left pending.
#ifndef RCUSTATE_DURABLE_FILE_IO_HPP_
#define RCUSTATE_DURABLE_FILE_IO_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace RCUSTATE_NAMESPACE::durable {

// kIo "<what> <path>: <strerror(err)>".
absl::Status IoError(std::string_view what, const std::string& path, int err);

// mkdir -p: creates `dir` and missing parents (0755). OK if it exists.
absl::Status MakeDirs(const std::string& dir);
// fsync of a directory, so that a rename or unlink in it is durable.
absl::Status SyncDir(const std::string& dir);
absl::Status RenameFile(const std::string& from, const std::string& to);
// Names in `dir` (no "." and ".."). kIo if it cannot be read; `*missing` (if
// not null) tells ENOENT apart, with an empty result.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir, bool* missing = nullptr);
// Best effort: errors are ignored (cleanup paths that must not fail).
void RemoveFileQuietly(const std::string& path);

// A new file written sequentially. Not buffered: callers append large chunks.
class AppendFile {
 public:
  // Creates `path`, which must not exist (O_EXCL), mode 0644.
  static absl::StatusOr<AppendFile> Create(const std::string& path);
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();  // closes (without sync) if still open

  absl::Status Append(std::string_view data);
  absl::Status Sync();
  absl::Status Close();
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }

 private:
  AppendFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
};

// A file read at offsets. Its size is taken once, at open.
class RandomAccessFile {
 public:
  static absl::StatusOr<RandomAccessFile> Open(const std::string& path);
  RandomAccessFile(RandomAccessFile&& other) noexcept;
  RandomAccessFile& operator=(RandomAccessFile&& other) noexcept;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  ~RandomAccessFile();

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Reads exactly `n` bytes at `offset` into `dst`; kIo on an error, and on a
  // short read (the file shrank since open).
  absl::Status ReadAt(uint64_t offset, size_t n, char* dst) const;

 private:
  RandomAccessFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
};

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_FILE_IO_HPP_
