//===- InputFiles.cpp - bounded reading of input files --------------------===//
#include "bism/Support/InputFiles.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bism {

uint64_t defaultInputLimit() {
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return uint64_t(12) << 30;
  return uint64_t(pages) * uint64_t(pageSize) / 4 * 3;
}

std::unique_ptr<llvm::MemoryBuffer>
readBoundedInput(llvm::StringRef path, uint64_t limit, std::string &error,
                 llvm::StringRef what) {
  bool standardInput = path == "-";
  std::string name = standardInput ? "<stdin>" : path.str();
  int fd = standardInput ? 0 : ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + what.str() + " '" + name + "': " +
            std::strerror(errno);
    return nullptr;
  }
  auto fail = [&](const std::string &why) {
    error = "cannot read " + what.str() + " '" + name + "': " + why;
    if (!standardInput)
      ::close(fd);
    return nullptr;
  };
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return fail(std::strerror(errno));
  if (S_ISDIR(info.st_mode))
    return fail("is a directory");
  bool regular = S_ISREG(info.st_mode);
  if (!regular)
    limit = std::min(limit, kMaxStreamBytes);
  if (regular && uint64_t(info.st_size) > limit)
    return fail(std::to_string(info.st_size) + " bytes, more than the limit of " +
                std::to_string(limit) + " bytes");
  std::string bytes;
  if (regular)
    bytes.reserve(size_t(info.st_size));
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fail(std::strerror(errno));
    if (n == 0)
      break;
    if (bytes.size() + size_t(n) > limit)
      return fail(std::string(regular ? "it grew past " : "no end after ") +
                  std::to_string(limit) + " bytes" +
                  (regular ? "" : " (not a regular file)"));
    bytes.append(chunk, size_t(n));
  }
  if (!standardInput)
    ::close(fd);
  return llvm::MemoryBuffer::getMemBufferCopy(bytes, name);
}

bool checkMlirNesting(llvm::StringRef text, llvm::StringRef name,
                      std::string &error) {
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
    case '\n':
      ++line;
      lineStart = i + 1;
      break;
    case '"': // a string: skip to its closing quote
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\')
          ++i;
        else if (text[i] == '\n') {
          ++line;
          lineStart = i + 1;
        }
      }
      break;
    case '/':
      if (i + 1 < text.size() && text[i + 1] == '/')
        while (i + 1 < text.size() && text[i + 1] != '\n')
          ++i;
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (c == '<' && i + 1 < text.size() && text[i + 1] == '=')
        break; // "<=" in an integer set
      if (++depth > kMaxMlirNesting) {
        error = name.str() + ":" + std::to_string(line) + ":" +
                std::to_string(i - lineStart + 1) +
                ": brackets nested more than " +
                std::to_string(kMaxMlirNesting) +
                " levels deep (bism's limit: the parser recurses per level)";
        return false;
      }
      break;
    case ')':
    case ']':
    case '}':
    case '>':
      if (c == '>' && ((i > 0 && text[i - 1] == '-') ||
                       (i + 1 < text.size() && text[i + 1] == '=')))
        break; // "->", ">="
      if (depth)
        --depth;
      break;
    default:
      break;
    }
  }
  return true;
}

} // namespace bism
