// SPDX-License-Identifier: LGPL-2.1-or-later
// File: src/durable/byte_codec.hpp
//
// Little-endian fixed-width integers and LEB128 varints, the two encodings of
// every durable format (checkpoint files, changelog records). The writer
// appends to a std::string (whose capacity the caller reuses); the reader is
// a cursor over bytes that never reads past its end: every Get returns false
// instead, so a parser of untrusted bytes checks each length against what is
// left before it uses it.
#ifndef RCUSTATE_DURABLE_BYTE_CODEC_HPP_
#define RCUSTATE_DURABLE_BYTE_CODEC_HPP_

#include "rcustate/abi.hpp"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace RCUSTATE_NAMESPACE::durable {

inline void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
inline void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
inline void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
// Overwrites 4 bytes at `pos` (a field whose value is known only later).
inline void StoreU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void StoreU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t LoadU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}
inline uint64_t LoadU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}
// LEB128: 7 bits per byte, low bits first, high bit set on all but the last
// byte; at most 10 bytes for a uint64_t.
inline void PutVarint(std::string* out, uint64_t v) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out->append(b, static_cast<size_t>(n));
}
inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// A bounds-checked cursor. A failed Get leaves the cursor where it was.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool done() const { return p_ == end_; }
  const char* position() const { return p_; }

  bool GetU8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool GetU32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = LoadU32(p_);
    p_ += 4;
    return true;
  }
  bool GetU64(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = LoadU64(p_);
    p_ += 8;
    return true;
  }
  // Rejects encodings longer than 10 bytes or overflowing 64 bits.
  bool GetVarint(uint64_t* v) {
    uint64_t r = 0;
    const char* p = p_;
    for (int shift = 0; shift < 64 && p < end_; shift += 7) {
      uint64_t b = static_cast<unsigned char>(*p++);
      if (shift == 63 && b > 1) return false;
      r |= (b & 0x7F) << shift;
      if (b < 0x80) {
        *v = r;
        p_ = p;
        return true;
      }
    }
    return false;
  }
  bool GetBytes(size_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  // A varint length followed by that many bytes.
  bool GetLengthPrefixed(std::string_view* out) {
    const char* save = p_;
    uint64_t n;
    if (!GetVarint(&n) || n > remaining()) {
      p_ = save;
      return false;
    }
    return GetBytes(static_cast<size_t>(n), out);
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace rcustate::durable

#endif  // RCUSTATE_DURABLE_BYTE_CODEC_HPP_
