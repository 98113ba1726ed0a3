//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
#include "bism/runtime/Npy.h"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

namespace bism::runtime {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

std::string quoted(const std::string &path) { return "'" + path + "'"; }

/// A tiny parser for the Python dict literal in the .npy header.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text_(text) {}

  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape, std::string &error) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skipSpace();
    if (!consume('{'))
      return fail("header is not a dict", error);
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return fail("expected a string key in the header", error);
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' in the header", error);
      skipSpace();
      if (key == "descr") {
        if (!parseString(descr))
          return fail("'descr' is not a string", error);
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (!parseBool(fortranOrder))
          return fail("'fortran_order' is not True or False", error);
        haveOrder = true;
      } else if (key == "shape") {
        if (!parseShape(shape))
          return fail("'shape' is not a tuple of non-negative integers",
                      error);
        haveShape = true;
      } else {
        return fail("unexpected key '" + key + "' in the header", error);
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail("expected ',' or '}' in the header", error);
    }
    if (!haveDescr || !haveOrder || !haveShape)
      return fail("header lacks 'descr', 'fortran_order' or 'shape'", error);
    return true;
  }

private:
  const std::string &text_;
  size_t pos_ = 0;

  static bool fail(const std::string &message, std::string &error) {
    error = message;
    return false;
  }
  void skipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r'))
      ++pos_;
  }
  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool parseString(std::string &out) {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      return false;
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == std::string::npos)
      return false;
    out = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }
  bool parseBool(bool &out) {
    if (text_.compare(pos_, 4, "True") == 0) {
      out = true;
      pos_ += 4;
      return true;
    }
    if (text_.compare(pos_, 5, "False") == 0) {
      out = false;
      pos_ += 5;
      return true;
    }
    return false;
  }
  bool parseShape(std::vector<int64_t> &shape) {
    shape.clear();
    if (!consume('('))
      return false;
    while (true) {
      skipSpace();
      if (consume(')'))
        return true;
      if (pos_ >= text_.size() || !std::isdigit((unsigned char)text_[pos_]))
        return false;
      int64_t value = 0;
      while (pos_ < text_.size() && std::isdigit((unsigned char)text_[pos_])) {
        int digit = text_[pos_++] - '0';
        if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return false;
        value = value * 10 + digit;
      }
      consume('L'); // Python 2 longs.
      shape.push_back(value);
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return true;
      return false;
    }
  }
};

bool dtypeFromDescr(const std::string &descr, ElementType &type) {
  if (descr == "<f4")
    type = ElementType::f32;
  else if (descr == "<f8")
    type = ElementType::f64;
  else if (descr == "|b1")
    type = ElementType::i1;
  else if (descr == "<i4")
    type = ElementType::i32;
  else if (descr == "<i8")
    type = ElementType::i64;
  else
    return false;
  return true;
}

const char *descrFor(ElementType type) {
  switch (type) {
  case ElementType::f32:
    return "<f4";
  case ElementType::f64:
    return "<f8";
  case ElementType::i1:
    return "|b1";
  case ElementType::i32:
    return "<i4";
  case ElementType::i64:
    return "<i8";
  }
  return "?";
}

bool writeAll(int fd, const char *data, size_t size, std::string &error) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      error = std::strerror(errno);
      return false;
    }
    data += written;
    size -= size_t(written);
  }
  return true;
}

} // namespace

bool parseNpy(const void *bytes, size_t size, const std::string &name,
              HostTensor &tensor, std::string &error) {
  const auto *p = static_cast<const unsigned char *>(bytes);
  auto fail = [&](const std::string &message) {
    error = quoted(name) + ": " + message;
    return false;
  };
  if (size < kMagicSize + 2 || std::memcmp(p, kMagic, kMagicSize) != 0)
    return fail("not a .npy file (bad magic)");
  unsigned major = p[6], minor = p[7];
  size_t headerLength, headerStart;
  if (major == 1) {
    if (size < 10)
      return fail("truncated header");
    headerLength = size_t(p[8]) | size_t(p[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return fail("truncated header");
    headerLength = size_t(p[8]) | size_t(p[9]) << 8 | size_t(p[10]) << 16 |
                   size_t(p[11]) << 24;
    headerStart = 12;
  } else {
    return fail("unsupported .npy format version " + std::to_string(major) +
                "." + std::to_string(minor));
  }
  if (headerLength > size - headerStart)
    return fail("truncated header");
  std::string header(reinterpret_cast<const char *>(p + headerStart),
                     headerLength);

  std::string descr, parseError;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
  if (!HeaderParser(header).parse(descr, fortranOrder, shape, parseError))
    return fail("malformed header: " + parseError);
  ElementType type;
  if (!dtypeFromDescr(descr, type))
    return fail("unsupported dtype '" + descr +
                "' (supported: '<f4', '<f8', '|b1', '<i4', '<i8')");
  if (fortranOrder)
    return fail("Fortran-order arrays are not supported (save with "
                "numpy.ascontiguousarray)");

  // Element count with overflow checks.
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 8 /
                                uint64_t(dim))
      return fail("shape is too large");
    count *= uint64_t(dim);
  }
  uint64_t dataBytes = count * elementSize(type);
  size_t dataStart = headerStart + headerLength;
  if (uint64_t(size - dataStart) != dataBytes)
    return fail("data size " + std::to_string(size - dataStart) +
                " bytes does not match shape and dtype (" +
                std::to_string(dataBytes) + " bytes expected)");

  HostTensor result(type, shape);
  if (dataBytes)
    std::memcpy(result.data(), p + dataStart, size_t(dataBytes));
  if (type == ElementType::i1) {
    auto *b = static_cast<uint8_t *>(result.data());
    for (uint64_t i = 0; i < count; ++i)
      b[i] = b[i] ? 1 : 0;
  }
  tensor = std::move(result);
  return true;
}

bool readNpy(const std::string &path, HostTensor &tensor, std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + quoted(path) + ": " + std::strerror(errno);
    return false;
  }
  std::string contents;
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      error = "cannot read " + quoted(path) + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0)
      break;
    contents.append(buffer, size_t(n));
  }
  ::close(fd);
  return parseNpy(contents.data(), contents.size(), path, tensor, error);
}

std::string encodeNpy(const HostTensor &tensor) {
  std::string dict = "{'descr': '";
  dict += descrFor(tensor.elementType());
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape().size(); ++i) {
    dict += std::to_string(tensor.shape()[i]);
    dict += tensor.shape().size() == 1 ? "," : (i + 1 < tensor.shape().size() ? ", " : "");
  }
  dict += "), }";

  // Pad with spaces and a final newline so the data starts 64-byte aligned.
  auto build = [&](size_t prefix) {
    size_t total = prefix + dict.size() + 1;
    size_t padded = (total + 63) / 64 * 64;
    std::string header = dict;
    header.append(padded - total, ' ');
    header += '\n';
    return header;
  };
  std::string header = build(10);
  unsigned major = 1;
  if (header.size() > 65535) {
    header = build(12);
    major = 2;
  }
  std::string out(kMagic, kMagicSize);
  out += char(major);
  out += char(0);
  size_t length = header.size();
  out += char(length & 0xff);
  out += char((length >> 8) & 0xff);
  if (major == 2) {
    out += char((length >> 16) & 0xff);
    out += char((length >> 24) & 0xff);
  }
  out += header;
  if (tensor.data())
    out.append(static_cast<const char *>(tensor.data()), tensor.byteSize());
  else
    out.append(tensor.byteSize(), '\0');
  return out;
}

bool writeNpy(const std::string &path, const HostTensor &tensor,
              std::string &error) {
  std::string image = encodeNpy(tensor);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + quoted(tmp) + ": " + std::strerror(errno);
    return false;
  }
  std::string why;
  bool ok = writeAll(fd, image.data(), image.size(), why);
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
    error = "cannot write " + quoted(path) + ": " + why;
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    why = std::strerror(errno);
    ::unlink(tmp.c_str());
    error = "cannot write " + quoted(path) + ": rename failed: " + why;
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

} // namespace bism::runtime
