//===- bism-opt.cpp - inspect and transform bism IR -----------------------===//
#include "bism/Dialect/Bism.h"
#include "bism/Lowering/Passes.h"
#include "bism/Support/InputFiles.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAllPasses();
  bism::registerBismPassesAndPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<bism::BismDialect>();
  bism::registerDerivativeRules(registry);
  // --bism-lower-cuda serialises GPU modules to PTX/cubin in the pipeline.
  mlir::registerAllToLLVMIRTranslations(registry);

  auto [inputFile, outputFile] = mlir::registerAndParseCLIOptions(
      argc, argv, "bism optimizer driver\n", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFile, outputFile, registry));

  // Read here, not by MlirOptMain: bounded (bism-opt /dev/urandom), and
  // refused before parsing when nested deeper than the parser can recurse.
  auto fail = [](const std::string &message) {
    llvm::errs() << "bism-opt: error: " << message << "\n";
    return 1;
  };
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      bism::readBoundedInput(inputFile, bism::defaultInputLimit(), error);
  if (!input)
    return fail(error);
  if (!bism::checkMlirNesting(input->getBuffer(), input->getBufferIdentifier(),
                              error))
    return fail(error);
  auto output = mlir::openOutputFile(outputFile, &error);
  if (!output)
    return fail(error);
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(input), registry,
                                     config)))
    return 1;
  output->keep();
  return 0;
}
