//===- bism-opt.cpp - inspect and transform bism IR -----------------------===//
#include "bism/Dialect/Bism.h"
#include "bism/Lowering/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  bism::registerBismPassesAndPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<bism::BismDialect>();
  bism::registerDerivativeRules(registry);
  // --bism-lower-cuda serialises GPU modules to PTX/cubin in the pipeline.
  mlir::registerAllToLLVMIRTranslations(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "bism optimizer driver\n", registry));
}
