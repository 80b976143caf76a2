// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/file_io.cpp
#include "rcustate/abi.hpp"
#include "src/durable/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "rcustate/status.hpp"

namespace RCUSTATE_NAMESPACE::durable {

absl::Status IoError(std::string_view what, const std::string& path, int err) {
  std::string msg(what);
  msg += ' ';
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  return MakeError(ErrorCode::kIo, msg);
}

absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty directory name");
  // Each prefix ending before a '/', then the whole path.
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string prefix = dir.substr(0, i);
    if (::mkdir(prefix.c_str(), 0755) == 0 || errno == EEXIST) continue;
    return IoError("mkdir", prefix, errno);
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return IoError("stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return IoError("mkdir", dir, ENOTDIR);
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open", dir, errno);
  absl::Status st;
  if (::fsync(fd) != 0) st = IoError("fsync", dir, errno);
  ::close(fd);
  return st;
}

absl::Status RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return IoError("rename " + from + " to", to, errno);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir, bool* missing) {
  if (missing != nullptr) *missing = false;
  // Owned, so that a std::bad_alloc from the name list still closes it.
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (d == nullptr) {
    if (errno == ENOENT && missing != nullptr) {
      *missing = true;
      return std::vector<std::string>{};
    }
    return IoError("opendir", dir, errno);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") names.emplace_back(n);
    errno = 0;
  }
  if (int err = errno; err != 0) return IoError("readdir", dir, err);
  return names;
}

void RemoveFileQuietly(const std::string& path) { (void)::unlink(path.c_str()); }

absl::StatusOr<AppendFile> AppendFile::Create(const std::string& path) {
  std::string name = path;  // allocated before the file exists: nothing throws after
  int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", path, errno);
  return AppendFile(fd, std::move(name));
}

AppendFile::AppendFile(AppendFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), size_(o.size_) {}

AppendFile& AppendFile::operator=(AppendFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    size_ = o.size_;
  }
  return *this;
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// One write() with SIGXFSZ blocked in this thread (see the header).
ssize_t WriteNoSigxfsz(int fd, const char* p, size_t n) {
  sigset_t xfsz, old;
  sigemptyset(&xfsz);
  sigaddset(&xfsz, SIGXFSZ);
  pthread_sigmask(SIG_BLOCK, &xfsz, &old);
  ssize_t w = ::write(fd, p, n);
  int err = errno;
  if (w < 0 && err == EFBIG && !sigismember(&old, SIGXFSZ)) {
    // The kernel queued SIGXFSZ for this thread; consume it so that
    // restoring the mask does not deliver it. (If the thread had it blocked
    // already, it is the caller's to handle and we leave it.)
    struct timespec zero = {0, 0};
    while (sigtimedwait(&xfsz, nullptr, &zero) == SIGXFSZ) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return w;
}

}  // namespace

absl::Status AppendFile::Append(std::string_view data) {
  if (fd_ < 0) return IoError("write", path_, EBADF);
  const char* p = data.data();
  size_t n = data.size();
  while (n > 0) {
    ssize_t w = WriteNoSigxfsz(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path_, errno);
    }
    if (w == 0) return IoError("write", path_, EIO);
    p += w;
    n -= static_cast<size_t>(w);
    size_ += static_cast<uint64_t>(w);
  }
  return absl::OkStatus();
}

absl::Status AppendFile::Sync() {
  if (fd_ < 0) return IoError("fsync", path_, EBADF);
  if (::fsync(fd_) != 0) return IoError("fsync", path_, errno);
  return absl::OkStatus();
}

absl::Status AppendFile::Close() {
  if (fd_ < 0) return absl::OkStatus();
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return IoError("close", path_, errno);
  return absl::OkStatus();
}

absl::StatusOr<RandomAccessFile> RandomAccessFile::Open(const std::string& path) {
  std::string name = path;  // allocated before the descriptor exists: nothing throws after
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return MakeError(ErrorCode::kIo, path + ": not a regular file");
  }
  return RandomAccessFile(fd, std::move(name), static_cast<uint64_t>(st.st_size));
}

RandomAccessFile::RandomAccessFile(RandomAccessFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), size_(o.size_) {}

RandomAccessFile& RandomAccessFile::operator=(RandomAccessFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    size_ = o.size_;
  }
  return *this;
}

RandomAccessFile::~RandomAccessFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status RandomAccessFile::ReadAt(uint64_t offset, size_t n, char* dst) const {
  while (n > 0) {
    ssize_t r = ::pread(fd_, dst, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path_, errno);
    }
    if (r == 0) {
      return MakeError(ErrorCode::kIo, "read " + path_ + ": file shrank while being read (offset " +
                                           std::to_string(offset) + ")");
    }
    dst += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return absl::OkStatus();
}

}  // namespace rcustate::durable
