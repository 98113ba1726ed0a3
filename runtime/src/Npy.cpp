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

} // namespace

namespace {

/// The parts of a .npy image that do not depend on the dtype.
struct NpyView {
  std::string descr;
  std::vector<int64_t> shape;
  uint64_t count = 0;
  const unsigned char *data = nullptr;
  size_t dataBytes = 0;
};

/// `itemSize` maps a supported descr to its element size and others to 0;
/// `supported` lists them for the error message.
bool parseNpyView(const void *bytes, size_t size, const std::string &name,
                  size_t (*itemSize)(const std::string &), const char *supported,
                  NpyView &view, std::string &error) {
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

  std::string parseError;
  bool fortranOrder = false;
  if (!HeaderParser(header).parse(view.descr, fortranOrder, view.shape,
                                  parseError))
    return fail("malformed header: " + parseError);
  size_t elementBytes = itemSize(view.descr);
  if (!elementBytes)
    return fail("unsupported dtype '" + view.descr + "' (supported: " +
                supported + ")");
  if (fortranOrder)
    return fail("Fortran-order arrays are not supported (save with "
                "numpy.ascontiguousarray)");

  uint64_t largest = 0; // as f64, the widest element
  std::string sizeError;
  if (!checkTensorBytes(view.shape, ElementType::f64, largest, sizeError))
    return fail("shape " + sizeError);
  uint64_t count = largest / 8;
  view.count = count;
  view.data = p + headerStart + headerLength;
  view.dataBytes = size - headerStart - headerLength;
  if (uint64_t(view.dataBytes) != count * elementBytes)
    return fail("data size " + std::to_string(view.dataBytes) +
                " bytes does not match shape and dtype (" +
                std::to_string(count * elementBytes) + " bytes expected)");
  return true;
}

size_t nativeItemSize(const std::string &descr) {
  ElementType type;
  return dtypeFromDescr(descr, type) ? elementSize(type) : 0;
}

size_t convertibleItemSize(const std::string &descr) {
  if (descr == "|u1" || descr == "<u1")
    return 1;
  return nativeItemSize(descr);
}

template <typename T>
void convertToF64(const unsigned char *bytes, uint64_t count, double *out) {
  for (uint64_t i = 0; i < count; ++i) {
    T value;
    std::memcpy(&value, bytes + i * sizeof(T), sizeof(T));
    out[i] = double(value);
  }
}

} // namespace

bool parseNpy(const void *bytes, size_t size, const std::string &name,
              HostTensor &tensor, std::string &error) {
  NpyView view;
  if (!parseNpyView(bytes, size, name, nativeItemSize,
                    "'<f4', '<f8', '|b1', '<i4', '<i8'", view, error))
    return false;
  ElementType type = ElementType::f32;
  dtypeFromDescr(view.descr, type);
  HostTensor result(type, view.shape);
  if (view.dataBytes)
    std::memcpy(result.data(), view.data, view.dataBytes);
  if (type == ElementType::i1) {
    auto *b = static_cast<uint8_t *>(result.data());
    for (uint64_t i = 0; i < view.count; ++i)
      b[i] = b[i] ? 1 : 0;
  }
  tensor = std::move(result);
  return true;
}

bool parseNpyAsF64(const void *bytes, size_t size, const std::string &name,
                   HostTensor &tensor, std::string &error,
                   std::string *descr) {
  NpyView view;
  if (!parseNpyView(bytes, size, name, convertibleItemSize,
                    "'<f4', '<f8', '|u1', '|b1', '<i4', '<i8'", view, error))
    return false;
  HostTensor result(ElementType::f64, view.shape);
  double *out = result.dataAs<double>();
  const std::string &d = view.descr;
  if (d == "<f8")
    convertToF64<double>(view.data, view.count, out);
  else if (d == "<f4")
    convertToF64<float>(view.data, view.count, out);
  else if (d == "|u1" || d == "<u1")
    convertToF64<uint8_t>(view.data, view.count, out);
  else if (d == "|b1")
    for (uint64_t i = 0; i < view.count; ++i)
      out[i] = view.data[i] ? 1.0 : 0.0;
  else if (d == "<i4")
    convertToF64<int32_t>(view.data, view.count, out);
  else
    convertToF64<int64_t>(view.data, view.count, out);
  if (descr)
    *descr = d;
  tensor = std::move(result);
  return true;
}


bool readNpy(const std::string &path, HostTensor &tensor, std::string &error) {
  std::string contents;
  if (!readWholeFile(path, contents, error))
    return false;
  return parseNpy(contents.data(), contents.size(), path, tensor, error);
}

bool readNpyAsF64(const std::string &path, HostTensor &tensor,
                  std::string &error, std::string *descr) {
  std::string contents;
  if (!readWholeFile(path, contents, error))
    return false;
  return parseNpyAsF64(contents.data(), contents.size(), path, tensor, error,
                       descr);
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
  return writeFileAtomically(path, encodeNpy(tensor), error);
}

} // namespace bism::runtime
