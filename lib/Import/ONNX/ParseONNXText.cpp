//===- ParseONNXText.cpp - the ONNX text format ---------------------------===//
//
// onnx::OnnxParser (libonnx 1.12) reports most errors through a Status but
// throws from std::stoll/std::stod on out-of-range literals. This file alone
// is compiled with exceptions (see CMakeLists.txt) so that such input is an
// error message rather than a crash.
//
//===----------------------------------------------------------------------===//
#include "GraphImporter.h"

#include <onnx/defs/parser.h>

#include <exception>

namespace bism::onnx_import {

std::string parseONNXText(llvm::StringRef text, onnx::ModelProto &model) {
  std::string source = text.str(); // the parser wants a NUL-terminated string
  try {
    onnx::OnnxParser parser(source.c_str());
    onnx::Common::Status status = parser.Parse(model);
    if (!status.IsOK())
      return status.ErrorMessage();
    if (!parser.EndOfInput())
      return "unexpected text after the graph at " + parser.GetCurrentPos();
    return "";
  } catch (const std::exception &error) {
    return std::string("invalid literal (") + error.what() + ")";
  } catch (...) {
    return "the ONNX text parser failed";
  }
}

} // namespace bism::onnx_import
