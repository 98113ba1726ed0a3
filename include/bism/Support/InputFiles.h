//===- InputFiles.h - bounded reading of input files ------------*- C++ -*-===//
//
// Every file the tools read (models, ONNX graphs, external data) goes
// through here: a regular file larger than the limit is refused before
// reading, a stream (stdin, a pipe, /dev/zero) after `limit` bytes, and MLIR
// text nested deeper than the parser's recursion can take is refused before
// parsing. The messages name the file.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_SUPPORT_INPUTFILES_H
#define BISM_SUPPORT_INPUTFILES_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <string>

namespace bism {

/// 3/4 of physical memory (as bism-run's default memory budget).
uint64_t defaultInputLimit();

/// What a stream that is not a regular file (stdin, a pipe, a device) may
/// hold: reading /dev/zero stops there.
constexpr uint64_t kMaxStreamBytes = uint64_t(1) << 30;

/// Reads `path` ("-": standard input) into a buffer of at most `limit`
/// bytes (kMaxStreamBytes for a stream). On failure returns null and sets
/// `error`: "cannot open WHAT 'PATH': ..." or "cannot read WHAT 'PATH': ...".
std::unique_ptr<llvm::MemoryBuffer>
readBoundedInput(llvm::StringRef path, uint64_t limit, std::string &error,
                 llvm::StringRef what = "input file");

/// The deepest bracket nesting ((), [], {}, <>) MLIR text may have: the
/// parser, verifier and printer recurse once per level, and about 3,000
/// nested regions overflow an 8 MiB stack.
constexpr unsigned kMaxMlirNesting = 256;

/// False with `error` = "NAME:LINE:COL: ..." when `text` nests brackets
/// deeper than kMaxMlirNesting (strings and comments are skipped).
bool checkMlirNesting(llvm::StringRef text, llvm::StringRef name,
                      std::string &error);

} // namespace bism

#endif // BISM_SUPPORT_INPUTFILES_H
