//===- bism-translate.cpp - import models from other formats into bism ----===//
//
//   bism-translate --import-onnx model.onnx [--onnx-dim batch=100] -o out.mlir
//
// A thin main over lib/Import (mlir-translate's driver); the `--onnx-*`
// options fill bism::ONNXImportOptions.
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/Bism.h"
#include "bism/Import/ONNX/ImportONNX.h"
#include "bism/Support/InputFiles.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace mlir;

namespace {

llvm::cl::OptionCategory onnxCategory("ONNX import options");

llvm::cl::list<std::string> dimOptions(
    "onnx-dim", llvm::cl::CommaSeparated, llvm::cl::cat(onnxCategory),
    llvm::cl::desc("Fix symbolic dimensions: NAME=SIZE for a named one, SIZE "
                   "for every other unknown one (repeatable, comma-separated)"));
llvm::cl::opt<std::string> functionName(
    "onnx-function", llvm::cl::cat(onnxCategory),
    llvm::cl::desc("Name of the generated function (default: the graph's name)"));
llvm::cl::opt<std::string> parameterGroup(
    "onnx-param-group", llvm::cl::cat(onnxCategory),
    llvm::cl::desc("bism.param_group of the parameters (default: the function name)"));
llvm::cl::list<std::string> frozenInitializers(
    "onnx-freeze", llvm::cl::CommaSeparated, llvm::cl::cat(onnxCategory),
    llvm::cl::desc("Initializers to import as constants, not parameters"));
llvm::cl::opt<std::string> externalDataDirectory(
    "onnx-external-data-dir", llvm::cl::cat(onnxCategory),
    llvm::cl::desc("Directory of external tensor data (default: the model's)"));
llvm::cl::opt<bism::ONNXFormat> format(
    "onnx-format", llvm::cl::init(bism::ONNXFormat::Auto), llvm::cl::cat(onnxCategory),
    llvm::cl::desc("Input format"),
    llvm::cl::values(
        clEnumValN(bism::ONNXFormat::Auto, "auto",
                   "by extension (.onnxtext is text) or first character"),
        clEnumValN(bism::ONNXFormat::Binary, "binary", "protobuf (.onnx)"),
        clEnumValN(bism::ONNXFormat::Text, "text", "the ONNX text format")));

llvm::cl::opt<bool> listOperators(
    "onnx-list-operators", llvm::cl::ValueDisallowed, llvm::cl::cat(onnxCategory),
    llvm::cl::desc("Print the supported ONNX operators (Markdown) and exit"),
    llvm::cl::callback([](const bool &) {
      llvm::outs() << bism::formatONNXOperatorTable();
      std::exit(0);
    }));

OwningOpRef<Operation *> importONNX(llvm::SourceMgr &sourceMgr,
                                    MLIRContext *context) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  bism::ONNXImportOptions options;
  for (const std::string &dim : dimOptions) {
    std::string error = bism::parseONNXDimOption(dim, options);
    if (!error.empty()) {
      emitError(UnknownLoc::get(context)) << error;
      return nullptr;
    }
  }
  options.functionName = functionName;
  options.parameterGroup = parameterGroup;
  options.frozenInitializers.insert(frozenInitializers.begin(),
                                    frozenInitializers.end());
  options.externalDataDirectory = externalDataDirectory;
  options.format = format;
  return bism::importONNXBuffer(buffer->getBuffer(),
                                buffer->getBufferIdentifier(), context, options);
}

/// The input file named on the command line ("-" when none): the first
/// argument that is neither an option nor the value of one.
int inputArgument(int argc, char **argv) {
  static const char *const withValue[] = {
      "o", "onnx-dim", "onnx-function", "onnx-param-group", "onnx-freeze",
      "onnx-external-data-dir", "onnx-format"};
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg(argv[i]);
    if (arg == "-" || !arg.starts_with("-"))
      return i;
    if (arg == "--")
      return i + 1 < argc ? i + 1 : -1;
    llvm::StringRef name = arg.ltrim('-');
    if (name.contains('='))
      continue;
    for (const char *option : withValue)
      if (name == option)
        ++i;
  }
  return -1;
}

/// mlir-translate's driver reads its input whole, without a bound: a
/// regular file larger than an ONNX model can be (protobuf's 2 GiB) is
/// refused here, and a stream (stdin, a pipe, /dev/zero) is read with that
/// bound into an in-memory file that the driver then reads. Returns an
/// error message, empty when the input is fine.
std::string boundInput(int argc, char **argv, std::string &memoryPath) {
  constexpr uint64_t kLimit = uint64_t(2) << 30;
  int index = inputArgument(argc, argv);
  std::string path = index < 0 ? "-" : argv[index];
  struct stat info;
  if (path != "-" && ::stat(path.c_str(), &info) == 0 &&
      S_ISREG(info.st_mode)) {
    if (uint64_t(info.st_size) > kLimit)
      return "cannot read input file '" + path + "': " +
             std::to_string(info.st_size) +
             " bytes, more than the limit of " + std::to_string(kLimit) +
             " bytes (protobuf's largest message)";
    return "";
  }
  if (path != "-" && ::stat(path.c_str(), &info) != 0)
    return ""; // the driver says that it cannot open it
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> bytes =
      bism::readBoundedInput(path, kLimit, error);
  if (!bytes)
    return error;
  int fd = ::memfd_create("bism-translate-input", 0);
  llvm::StringRef data = bytes->getBuffer();
  if (fd < 0 || ::write(fd, data.data(), data.size()) != ssize_t(data.size()))
    return "cannot buffer '" + path + "': " + std::strerror(errno);
  memoryPath = "/proc/self/fd/" + std::to_string(fd);
  if (index >= 0)
    argv[index] = memoryPath.data();
  return "";
}

} // namespace

int main(int argc, char **argv) {
  std::string memoryPath;
  std::vector<char *> args(argv, argv + argc);
  if (std::string error = boundInput(argc, args.data(), memoryPath);
      !error.empty()) {
    llvm::errs() << "bism-translate: error: " << error << "\n";
    return 1;
  }
  // Standard input buffered: the driver reads the in-memory copy instead.
  if (!memoryPath.empty() && inputArgument(argc, argv) < 0)
    args.push_back(memoryPath.data());
  argc = int(args.size());
  argv = args.data();
  TranslateToMLIRRegistration registration(
      "import-onnx", "import an ONNX model (binary or text) as a bism function",
      importONNX, [](DialectRegistry &registry) {
        bism::registerONNXImportDialects(registry);
      });
  return failed(mlirTranslateMain(argc, argv, "bism translation driver\n"));
}
