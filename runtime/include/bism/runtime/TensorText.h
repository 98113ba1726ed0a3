//===- TensorText.h - tensors as command-line text --------------*- C++ -*-===//
//
// The text form of a tensor that bism-run reads from --input and prints as a
// result: "2x3xf32=[1 2 3][4 5 6]" (IREE's style). Values may be separated
// by spaces, commas or brackets; one value fills the whole tensor.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_TENSORTEXT_H
#define BISM_RUNTIME_TENSORTEXT_H

#include "bism/runtime/HostTensor.h"

#include <string>

namespace bism::runtime {

/// Parses "2x3xf32" (or "f32" for rank 0). Sizes are checked against the
/// memory budget before anything is allocated.
bool parseTensorType(const std::string &text, std::vector<int64_t> &shape,
                     ElementType &type, std::string &error);

/// Parses "SHAPExTYPE=VALUES".
bool parseTensorLiteral(const std::string &text, HostTensor &tensor,
                        std::string &error);

/// The inverse of parseTensorLiteral (f32 with 6 significant digits, f64
/// with 10).
std::string formatTensor(const HostTensor &tensor);

} // namespace bism::runtime

#endif // BISM_RUNTIME_TENSORTEXT_H
