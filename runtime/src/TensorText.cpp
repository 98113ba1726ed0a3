//===- TensorText.cpp - tensors as command-line text ----------------------===//
#include "bism/runtime/TensorText.h"

#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace bism::runtime {
namespace {

std::string trim(const std::string &text) {
  size_t begin = text.find_first_not_of(" \t\n\r");
  if (begin == std::string::npos)
    return "";
  size_t end = text.find_last_not_of(" \t\n\r");
  return text.substr(begin, end - begin + 1);
}

bool parseDimension(const std::string &text, int64_t &dim) {
  if (text.empty() || text.size() > 19)
    return false;
  for (char c : text)
    if (c < '0' || c > '9')
      return false;
  errno = 0;
  long long value = std::strtoll(text.c_str(), nullptr, 10);
  if (errno == ERANGE)
    return false;
  dim = int64_t(value);
  return true;
}

bool parseValue(const std::string &token, ElementType type, HostTensor &tensor,
                int64_t index, std::string &error) {
  const char *begin = token.c_str();
  char *end = nullptr;
  errno = 0;
  switch (type) {
  case ElementType::f32:
  case ElementType::f64: {
    double value = std::strtod(begin, &end);
    if (end == begin || *end) {
      error = "'" + token + "' is not a number";
      return false;
    }
    if (type == ElementType::f32)
      tensor.dataAs<float>()[index] = float(value);
    else
      tensor.dataAs<double>()[index] = value;
    return true;
  }
  case ElementType::i1: {
    bool value;
    if (token == "1" || token == "true")
      value = true;
    else if (token == "0" || token == "false")
      value = false;
    else {
      error = "'" + token + "' is not an i1 (0, 1, true or false)";
      return false;
    }
    static_cast<uint8_t *>(tensor.data())[index] = value ? 1 : 0;
    return true;
  }
  case ElementType::i32:
  case ElementType::i64: {
    long long value = std::strtoll(begin, &end, 10);
    if (end == begin || *end) {
      error = "'" + token + "' is not an integer";
      return false;
    }
    if (errno == ERANGE ||
        (type == ElementType::i32 && (value < INT32_MIN || value > INT32_MAX))) {
      error = "'" + token + "' is out of range for " + elementTypeName(type);
      return false;
    }
    if (type == ElementType::i32)
      tensor.dataAs<int32_t>()[index] = int32_t(value);
    else
      tensor.dataAs<int64_t>()[index] = int64_t(value);
    return true;
  }
  }
  return false;
}

void printElement(std::string &out, const HostTensor &tensor, int64_t index) {
  char buffer[64];
  switch (tensor.elementType()) {
  case ElementType::f32:
    std::snprintf(buffer, sizeof(buffer), "%.6g",
                  double(tensor.dataAs<float>()[index]));
    break;
  case ElementType::f64:
    std::snprintf(buffer, sizeof(buffer), "%.10g",
                  tensor.dataAs<double>()[index]);
    break;
  case ElementType::i1:
    std::snprintf(buffer, sizeof(buffer), "%d",
                  static_cast<const uint8_t *>(tensor.data())[index] ? 1 : 0);
    break;
  case ElementType::i32:
    std::snprintf(buffer, sizeof(buffer), "%" PRId32,
                  tensor.dataAs<int32_t>()[index]);
    break;
  case ElementType::i64:
    std::snprintf(buffer, sizeof(buffer), "%" PRId64,
                  tensor.dataAs<int64_t>()[index]);
    break;
  }
  out += buffer;
}

/// Rank 1 "1 2 3", rank 2 "[1 2 3][4 5 6]", rank 3 "[[..][..]]..".
void printLevel(std::string &out, const HostTensor &tensor, size_t level,
                int64_t offset, const std::vector<int64_t> &strides) {
  const std::vector<int64_t> &shape = tensor.shape();
  if (level + 1 == shape.size()) {
    for (int64_t i = 0; i < shape[level]; ++i) {
      if (i)
        out += ' ';
      printElement(out, tensor, offset + i);
    }
    return;
  }
  for (int64_t i = 0; i < shape[level]; ++i) {
    out += '[';
    printLevel(out, tensor, level + 1, offset + i * strides[level], strides);
    out += ']';
  }
}

} // namespace

bool parseTensorType(const std::string &text, std::vector<int64_t> &shape,
                     ElementType &type, std::string &error) {
  std::string trimmed = trim(text);
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t x = trimmed.find('x', start);
    parts.push_back(trimmed.substr(start, x - start));
    if (x == std::string::npos)
      break;
    start = x + 1;
  }
  std::string typeName = trim(parts.back());
  if (!parseElementType(typeName, type)) {
    error = "unknown element type '" + typeName +
            "' (expected f32, f64, i1, i32 or i64)";
    return false;
  }
  shape.clear();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int64_t dim;
    if (!parseDimension(trim(parts[i]), dim)) {
      error = "bad dimension '" + parts[i] + "' in '" + trimmed + "'";
      return false;
    }
    shape.push_back(dim);
  }
  // Before allocating: a size that wraps would give a short buffer, one
  // beyond the machine's memory an abort.
  uint64_t bytes = 0;
  return checkTensorBytes(shape, type, bytes, error);
}

bool parseTensorLiteral(const std::string &text, HostTensor &tensor,
                        std::string &error) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) {
    error = "expected \"SHAPExTYPE=VALUES\"";
    return false;
  }
  std::vector<int64_t> shape;
  ElementType type;
  if (!parseTensorType(text.substr(0, eq), shape, type, error))
    return false;

  std::vector<std::string> tokens;
  std::string current;
  for (size_t i = eq + 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '[' ||
        c == ']') {
      if (!current.empty())
        tokens.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty())
    tokens.push_back(std::move(current));

  HostTensor result(type, shape);
  int64_t count = result.numElements();
  if (tokens.size() == 1 && count != 1) {
    for (int64_t i = 0; i < count; ++i)
      if (!parseValue(tokens[0], type, result, i, error))
        return false;
  } else if (int64_t(tokens.size()) == count) {
    for (int64_t i = 0; i < count; ++i)
      if (!parseValue(tokens[size_t(i)], type, result, i, error))
        return false;
  } else {
    error = "expected " + std::to_string(count) +
            " values (or one to fill) for " + result.typeString() + ", got " +
            std::to_string(tokens.size());
    return false;
  }
  tensor = std::move(result);
  return true;
}

std::string formatTensor(const HostTensor &tensor) {
  std::string out = tensor.typeString() + "=";
  if (tensor.rank() == 0)
    printElement(out, tensor, 0);
  else if (tensor.numElements() > 0) // (1e12 x 0: nothing, not 1e12 "[]")
    printLevel(out, tensor, 0, 0, tensor.strides());
  return out;
}

} // namespace bism::runtime
