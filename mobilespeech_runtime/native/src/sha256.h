// SHA-256 (FIPS 180-4), written for bundle checksums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mobilespeech {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  // Lower-case hex digest; the object must not be updated afterwards.
  std::string HexDigest();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Hex sha256 of a file's bytes; false (with *err) if it cannot be read.
bool Sha256File(const std::string& path, std::string* hex, std::string* err);

}  // namespace mobilespeech
