//===- TempFiles.h - scratch files and example files for unit tests -*- C++ -*-===//
#ifndef BISM_TEST_UNIT_TEMPFILES_H
#define BISM_TEST_UNIT_TEMPFILES_H

#include <cstdlib>
#include <fstream>
#include <sstream>
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

/// The text of examples/<relative> (empty if missing).
inline std::string readExample(const std::string &relative) {
  std::ifstream file(std::string(BISM_EXAMPLES_DIR) + "/" + relative);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

/// `text` with every `from` replaced by `to` (e.g. f32 -> f64 in a model).
inline std::string replaceAll(std::string text, const std::string &from,
                              const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

} // namespace bism::test

#endif // BISM_TEST_UNIT_TEMPFILES_H
