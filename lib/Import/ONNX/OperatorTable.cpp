//===- OperatorTable.cpp - ONNX op type and opset -> handler --------------===//
//
// Each operator family (ElementwiseOps.cpp, LinearAlgebraOps.cpp,
// ConvolutionOps.cpp, ReductionOps.cpp, ShapeOps.cpp) appends its entries;
// an op whose attributes moved to inputs between opsets has one entry whose
// handler reads the form its opset uses.
//
//===----------------------------------------------------------------------===//
#include "GraphImporter.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace bism {
namespace onnx_import {

const std::vector<OperatorEntry> &operatorTable() {
  static const std::vector<OperatorEntry> table = [] {
    std::vector<OperatorEntry> entries;
    appendElementwiseOperators(entries);
    appendLinearAlgebraOperators(entries);
    appendConvolutionOperators(entries);
    appendReductionOperators(entries);
    appendShapeOperators(entries);
    std::sort(entries.begin(), entries.end(),
                     [](const OperatorEntry &a, const OperatorEntry &b) {
                       int order = llvm::StringRef(a.opType).compare(b.opType);
                       return order != 0 ? order < 0 : a.minOpset < b.minOpset;
                     });
    return entries;
  }();
  return table;
}

const OperatorEntry *lookupOperator(llvm::StringRef opType, int64_t opset) {
  for (const OperatorEntry &entry : operatorTable())
    if (opType == entry.opType && opset >= entry.minOpset &&
        opset <= entry.maxOpset)
      return &entry;
  return nullptr;
}

} // namespace onnx_import

std::string describeSupportedONNXOperators() {
  std::string text;
  llvm::raw_string_ostream os(text);
  const auto &table = onnx_import::operatorTable();
  for (size_t i = 0; i < table.size(); ++i) {
    const auto &entry = table[i];
    if (i > 0)
      os << (llvm::StringRef(table[i - 1].opType) == entry.opType ? ", " : "), ");
    if (i == 0 || llvm::StringRef(table[i - 1].opType) != entry.opType)
      os << entry.opType << " (";
    os << entry.minOpset << "-" << entry.maxOpset;
  }
  if (!table.empty())
    os << ")";
  return text;
}

std::string formatONNXOperatorTable() {
  std::string text = "| op | opsets | bism form and notes |\n|---|---|---|\n";
  for (const auto &entry : onnx_import::operatorTable())
    text += "| " + std::string(entry.opType) + " | " + std::to_string(entry.minOpset) +
            "-" + std::to_string(entry.maxOpset) + " | " + entry.notes + " |\n";
  return text;
}

} // namespace bism
