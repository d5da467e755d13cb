// The fuzz input as a file the readers can open: an anonymous memory file (memfd) reached through
// /proc/self/fd, so nothing touches the disk and each input replaces the last in place.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace rwkv::fuzz {

inline std::string as_file(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("rwkv_gpu_fuzz", 0);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) abort();
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace rwkv::fuzz
