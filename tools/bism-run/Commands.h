//===- Commands.h - bism-run's subcommands ----------------------*- C++ -*-===//
#ifndef BISM_TOOLS_BISMRUN_COMMANDS_H
#define BISM_TOOLS_BISMRUN_COMMANDS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"

namespace bism::tools {

extern llvm::cl::SubCommand trainCommand, evalCommand, sampleCommand,
    exportCommand, plotCommand;

int runTrain();
int runEval();
int runSample();
int runExport();
int runPlot();

/// "bism-run: error: MESSAGE" on stderr; returns 1 (the exit code).
int fail(const llvm::Twine &message);

} // namespace bism::tools

#endif
