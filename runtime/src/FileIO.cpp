//===- FileIO.cpp - whole-file reads and atomic writes --------------------===//
#include "bism/runtime/FileIO.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bism::runtime {

std::string quotedPath(const std::string &path) { return "'" + path + "'"; }

namespace {
bool writeAll(int fd, const char *data, size_t size, std::string &why) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      why = std::strerror(errno);
      return false;
    }
    data += written;
    size -= size_t(written);
  }
  return true;
}
} // namespace

bool writeFileAtomically(const std::string &path, const std::string &bytes,
                         std::string &error) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + quotedPath(tmp) + ": " + std::strerror(errno);
    return false;
  }
  std::string why;
  bool ok = writeAll(fd, bytes.data(), bytes.size(), why);
  if (ok && ::fsync(fd) != 0) {
    why = std::strerror(errno);
    ok = false;
  }
  if (::close(fd) != 0 && ok) {
    why = std::strerror(errno);
    ok = false;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    error = "cannot write " + quotedPath(path) + ": " + why;
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    why = std::strerror(errno);
    ::unlink(tmp.c_str());
    error = "cannot write " + quotedPath(path) + ": rename failed: " + why;
    return false;
  }
  // Make the rename durable; failures here do not lose data already synced.
  std::string dir = ".";
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos)
    dir = slash == 0 ? "/" : path.substr(0, slash);
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return true;
}

bool readWholeFile(const std::string &path, std::string &bytes,
                   std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + quotedPath(path) + ": " + std::strerror(errno);
    return false;
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || S_ISDIR(info.st_mode)) {
    error = "cannot read " + quotedPath(path) + ": " +
            (S_ISDIR(info.st_mode) ? "is a directory" : std::strerror(errno));
    ::close(fd);
    return false;
  }
  // Bounded: a regular file larger than the machine's memory is refused
  // before reading, and a device or pipe (/dev/zero) after 1 GiB, instead
  // of reading until memory runs out.
  uint64_t memory = uint64_t(::sysconf(_SC_PHYS_PAGES)) *
                    uint64_t(::sysconf(_SC_PAGESIZE));
  bool regular = S_ISREG(info.st_mode);
  uint64_t limit = regular ? memory : uint64_t(1) << 30;
  if (regular && uint64_t(info.st_size) > limit) {
    error = "cannot read " + quotedPath(path) + ": " +
            std::to_string(info.st_size) +
            " bytes, more than this machine's memory";
    ::close(fd);
    return false;
  }
  std::string result;
  result.reserve(size_t(info.st_size));
  char buffer[1 << 16];
  for (;;) {
    if (result.size() > limit) {
      error = "cannot read " + quotedPath(path) + ": no end after " +
              std::to_string(limit) + " bytes (" +
              (regular ? "it grew while being read" : "not a regular file") +
              ")";
      ::close(fd);
      return false;
    }
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      error = "cannot read " + quotedPath(path) + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0)
      break;
    result.append(buffer, size_t(n));
  }
  ::close(fd);
  bytes = std::move(result);
  return true;
}

bool createDirectories(const std::string &path, std::string &error) {
  if (path.empty())
    return true;
  std::string prefix;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos)
      slash = path.size();
    prefix = path.substr(0, slash);
    start = slash + 1;
    if (prefix.empty())
      continue;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      error = "cannot create folder " + quotedPath(prefix) + ": " +
              std::strerror(errno);
      return false;
    }
  }
  struct stat info;
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    error = quotedPath(path) + " is not a folder";
    return false;
  }
  return true;
}

bool lockRunFolder(const std::string &dir, std::string &error) {
  std::string path = dir + "/" + kRunLockFile;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int why = errno;
    char holder[32] = {};
    ssize_t got = ::pread(fd, holder, sizeof(holder) - 1, 0);
    ::close(fd);
    if (why != EWOULDBLOCK) {
      error = "cannot lock '" + path + "': " + std::strerror(why);
      return false;
    }
    std::string pid = got > 0 ? std::string(holder, size_t(got)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
      pid.pop_back();
    error = "run folder " + dir + " is in use by " +
            (pid.empty() ? std::string("another process") : "pid " + pid) +
            " (one bism-run train writes to a folder at a time)";
    return false;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  // The descriptor stays open: the lock lasts until the process exits.
  return true;
}

} // namespace bism::runtime
