//===- TempFiles.h - scratch file names for unit tests ----------*- C++ -*-===//
#ifndef BISM_TEST_UNIT_TEMPFILES_H
#define BISM_TEST_UNIT_TEMPFILES_H

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace bism::test {

/// A per-process path under $TMPDIR (or /tmp), so parallel test runs do not
/// collide.
inline std::string tempPath(const std::string &name) {
  const char *dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/bism-unit-" +
         std::to_string(::getpid()) + "-" + name;
}

inline bool fileExists(const std::string &path) {
  return ::access(path.c_str(), F_OK) == 0;
}

} // namespace bism::test

#endif // BISM_TEST_UNIT_TEMPFILES_H
