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

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

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

} // namespace

int main(int argc, char **argv) {
  TranslateToMLIRRegistration registration(
      "import-onnx", "import an ONNX model (binary or text) as a bism function",
      importONNX, [](DialectRegistry &registry) {
        bism::registerONNXImportDialects(registry);
      });
  return failed(mlirTranslateMain(argc, argv, "bism translation driver\n"));
}
