//===- bism-run.cpp - compile a bism module and run a function ------------===//
//
//   bism-run [run] FILE.mlir --entry NAME --input "2x3xf32=1 2 3 4 5 6" ...
//
// In the manner of iree-run-module: inputs are given as TYPE=VALUES or
// @file.npy, and each result is printed on one line as TYPE=VALUES.
// FILE may be `-` (standard input). Errors go to stderr prefixed
// "bism-run: error: " with exit code 1.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"

#include "bism/Execution/JitModule.h"
#include "bism/Support/InputFiles.h"
#include "bism/runtime/Collective.h"
#include "bism/runtime/Allocator.h"
#include "bism/runtime/HostTensor.h"
#include "bism/runtime/Npy.h"
#include "bism/runtime/TensorText.h"
#include "bism/runtime/Threads.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

using bism::runtime::ElementType;
using bism::runtime::HostTensor;

namespace {

llvm::cl::SubCommand runCommand(
    "run", "call one function of a module (the default when --entry is "
           "given): bism-run [run] FILE --entry NAME --input SPEC...");
llvm::cl::OptionCategory runCategory("run options");

llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                     llvm::cl::desc("<module.mlir | ->"),
                                     llvm::cl::init("-"),
                                     llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::opt<std::string>
    entryName("entry", llvm::cl::desc("public function to call"),
              llvm::cl::value_desc("name"), llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::list<std::string> inputSpecs(
    "input",
    llvm::cl::desc(
        "an argument, in order: \"SHAPExTYPE=VALUES\" (e.g. "
        "\"2x3xf32=1 2 3 4 5 6\", \"f32=2.5\", \"2xi32=7,9\"; values "
        "separated by spaces or commas, brackets ignored, a single value "
        "fills the whole tensor; TYPE is f32, f64, i1, i32 or i64) or "
        "\"@file.npy\""),
    llvm::cl::value_desc("spec"), llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::opt<std::string> outputNpyDir(
    "output-npy",
    llvm::cl::desc("also write result i to DIR/result<i>.npy (DIR is "
                   "created if needed)"),
    llvm::cl::value_desc("dir"), llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::opt<int64_t> blasMinFlops(
    "blas-min-flops",
    llvm::cl::desc("smallest M*N*K of a matmul sent to BLAS; 0 sends every "
                   "matmul, -1 none"),
    llvm::cl::init(32768), llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::opt<int64_t> parallelMinPoints(
    "parallel-min-points",
    llvm::cl::desc("smallest kernel iteration space run on all threads; -1 "
                   "keeps every kernel on one"),
    llvm::cl::init(16384), llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::opt<unsigned> optLevel("opt-level",
                                 llvm::cl::desc("LLVM optimisation level 0-3"),
                                 llvm::cl::init(2),
                                 llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::opt<bool> noCache(
    "no-cache",
    llvm::cl::desc("neither use nor write the cache of compiled objects "
                   "(also BISM_NO_CACHE=1; the cache is in $BISM_CACHE_DIR, "
                   "else $XDG_CACHE_HOME/bism, else ~/.cache/bism)"),
    llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::opt<std::string> device(
    "device",
    llvm::cl::desc("where the function runs: cpu, or cuda (GPU kernels and "
                   "cuBLAS; needs an NVIDIA GPU and its driver)"),
    llvm::cl::init("cpu"), llvm::cl::cat(runCategory),
    llvm::cl::sub(runCommand));

llvm::cl::opt<bool> allowTf32(
    "allow-tf32",
    llvm::cl::desc("--device cuda: let cuBLAS use TF32 tensor cores for f32 "
                   "matmuls (faster; about 1e-3 relative error)"),
    llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

llvm::cl::opt<bool> printResults(
    "print-results", llvm::cl::desc("print the results to stdout"),
    llvm::cl::init(true), llvm::cl::cat(runCategory), llvm::cl::sub(runCommand));

using bism::tools::fail;

//===----------------------------------------------------------------------===//
// Input parsing
//===----------------------------------------------------------------------===//

/// Parses one --input spec.
bool parseInput(const std::string &spec, HostTensor &tensor,
                std::string &error) {
  llvm::StringRef text(spec);
  if (text.starts_with("@")) {
    std::string path = text.drop_front().str();
    return bism::runtime::readNpy(path, tensor, error);
  }
  if (text.find('=') == llvm::StringRef::npos) {
    error = "expected \"SHAPExTYPE=VALUES\" or \"@file.npy\"";
    return false;
  }
  return bism::runtime::parseTensorLiteral(spec, tensor, error);
}

//===----------------------------------------------------------------------===//
// Subcommands
//===----------------------------------------------------------------------===//

const char *const kOverview =
    "bism-run: train, evaluate and sample bism models; run any function of a "
    "module\n\n"
    "  bism-run [train] MODEL.mlir [--set key=value]... [--iters N] "
    "[--seed S] [--out DIR] [--resume]\n"
    "  bism-run eval DIR/last.ckpt [--ll auto|exact|ais|none] [--split test]\n"
    "  bism-run sample DIR/last.ckpt --png FILE [--count N] [--sweeps S]\n"
    "                  [--sampler gibbs|langevin]\n"
    "  bism-run [run] FILE.mlir --entry NAME [--input SPEC]... "
    "[--output-npy DIR]\n\n"
    "`bism-run SUBCOMMAND --help` lists a subcommand's options.\n\n"
    "run: FILE may be '-' for standard input. Each result is printed on one "
    "line as\n"
    "TYPE=VALUES, e.g. \"2x3xf32=[1 2 3][4 5 6]\", \"3xi32=1 2 3\", "
    "\"f32=2.5\".\n";

int runEntry() {
  if (entryName.empty())
    return fail("no function given: use --entry NAME");

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file = bism::readBoundedInput(
      inputFile, bism::runtime::memoryBudget(), errorMessage);
  if (!file)
    return fail(errorMessage);
  if (!bism::checkMlirNesting(file->getBuffer(), inputFile, errorMessage))
    return fail(errorMessage);

  // Parse the inputs first so syntax errors come before the (slower) JIT.
  std::vector<HostTensor> inputs(inputSpecs.size());
  for (size_t i = 0; i < inputSpecs.size(); ++i) {
    std::string error;
    if (!parseInput(inputSpecs[i], inputs[i], error))
      return fail("--input " + llvm::Twine(i) + " (\"" + inputSpecs[i] +
                  "\"): " + error);
  }

  mlir::DialectRegistry registry;
  bism::registerExecutionDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module;
  {
    mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
    module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  }
  if (!module)
    return fail("cannot parse '" + inputFile + "'");

  bism::JitOptions options;
  options.blasMinFlops = blasMinFlops;
  options.parallelMinPoints = parallelMinPoints;
  options.optLevel = optLevel;
  options.device = device;
  options.allowTf32 = allowTf32;
  if (noCache)
    options.cacheDir.clear();
  auto started = std::chrono::steady_clock::now();
  auto jit = bism::JitModule::compile(*module, options);
  if (!jit)
    return fail(llvm::toString(jit.takeError()));
  // On stderr: stdout holds only the results.
  llvm::errs() << llvm::formatv(
      "bism-run: compiled in {0:F2} s ({1})\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count(),
      bism::cacheOutcomeName((*jit)->cacheOutcome()));

  auto results = (*jit)->call(entryName, inputs);
  if (!results)
    return fail(llvm::toString(results.takeError()));

  if (printResults) {
    for (const HostTensor &result : *results)
      llvm::outs() << bism::runtime::formatTensor(result) << "\n";
    llvm::outs().flush();
  }

  if (!outputNpyDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputNpyDir))
      return fail("cannot create directory '" + outputNpyDir +
                  "': " + ec.message());
    for (size_t i = 0; i < results->size(); ++i) {
      llvm::SmallString<256> path(outputNpyDir);
      llvm::sys::path::append(path, "result" + std::to_string(i) + ".npy");
      std::string error;
      if (!bism::runtime::writeNpy(path.str().str(), (*results)[i], error))
        return fail(error);
    }
  }
  return 0;
}

/// "--X is an option of bism-run eval, not of bism-run train (...)" when an
/// argument names an option that only other subcommands have; "" otherwise
/// (llvm::cl then reports anything else it does not know).
std::string optionOfAnotherSubcommand(llvm::ArrayRef<char *> args) {
  if (args.size() < 3)
    return "";
  llvm::StringRef chosen(args[1]);
  llvm::cl::SubCommand *active = nullptr;
  std::vector<llvm::cl::SubCommand *> others;
  for (llvm::cl::SubCommand *sub : llvm::cl::getRegisteredSubcommands()) {
    if (sub->getName().empty())
      continue;
    if (sub->getName() == chosen)
      active = sub;
    else
      others.push_back(sub);
  }
  if (!active)
    return "";
  auto known = [](llvm::cl::SubCommand &sub, llvm::StringRef name) {
    return llvm::cl::getRegisteredOptions(sub).count(name) != 0;
  };
  for (llvm::StringRef arg : args.drop_front(2)) {
    if (arg == "--")
      break;
    if (!arg.starts_with("-") || arg == "-")
      continue;
    llvm::StringRef name = arg.ltrim('-').split('=').first;
    if (name.empty() || known(*active, name) ||
        known(llvm::cl::SubCommand::getAll(), name) ||
        known(llvm::cl::SubCommand::getTopLevel(), name))
      continue;
    std::vector<std::string> names;
    for (llvm::cl::SubCommand *other : others)
      if (known(*other, name))
        names.push_back("bism-run " + other->getName().str());
    llvm::sort(names);
    std::string owners;
    for (size_t i = 0; i < names.size(); ++i)
      owners += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") +
                names[i];
    if (!owners.empty())
      return "--" + name.str() + " is an option of " + owners +
             ", not of bism-run " + chosen.str() + " (bism-run " +
             chosen.str() + " --help lists its options)";
  }
  return "";
}

/// " (default X)" appended to the description of every bism-run option
/// with a value, where the description does not already say it: --help
/// then shows the defaults. (llvm::cl has no generic default printing in
/// --help.)
void showDefaultsInHelp() {
  static std::deque<std::string> descriptions;
  auto describe = [](llvm::cl::Option *option) -> std::string {
    std::string value;
    if (auto *o = dynamic_cast<llvm::cl::opt<int64_t> *>(option)) {
      if (o->getDefault().hasValue())
        value = std::to_string(o->getDefault().getValue());
    } else if (auto *o = dynamic_cast<llvm::cl::opt<uint64_t> *>(option)) {
      if (o->getDefault().hasValue())
        value = std::to_string(o->getDefault().getValue());
    } else if (auto *o = dynamic_cast<llvm::cl::opt<unsigned> *>(option)) {
      if (o->getDefault().hasValue())
        value = std::to_string(o->getDefault().getValue());
    } else if (auto *o = dynamic_cast<llvm::cl::opt<int> *>(option)) {
      if (o->getDefault().hasValue())
        value = std::to_string(o->getDefault().getValue());
    } else if (auto *o = dynamic_cast<llvm::cl::opt<double> *>(option)) {
      if (o->getDefault().hasValue()) {
        char text[32];
        std::snprintf(text, sizeof(text), "%g", o->getDefault().getValue());
        value = text;
      }
    } else if (auto *o = dynamic_cast<llvm::cl::opt<std::string> *>(option)) {
      if (o->getDefault().hasValue() && !o->getDefault().getValue().empty())
        value = o->getDefault().getValue();
    }
    return value;
  };
  std::set<llvm::cl::Option *> seen;
  for (llvm::cl::SubCommand *sub : llvm::cl::getRegisteredSubcommands()) {
    if (sub->getName().empty())
      continue;
    for (auto &entry : llvm::cl::getRegisteredOptions(*sub)) {
      llvm::cl::Option *option = entry.second;
      if (!seen.insert(option).second ||
          option->HelpStr.contains("default") ||
          option->getOptionHiddenFlag() != llvm::cl::NotHidden)
        continue;
      std::string value = describe(option);
      if (value.empty())
        continue;
      descriptions.push_back(option->HelpStr.str() + " (default " + value +
                             ")");
      option->setDescription(descriptions.back());
    }
  }
}

} // namespace

int bism::tools::fail(const llvm::Twine &message) {
  // Under mpirun every rank may fail alike: say which one this is.
  // One write, so that the ranks' lines do not interleave.
  const bism::runtime::ProcessGroup *group = bism::runtime::processGroup();
  std::string line = "bism-run: error";
  if (group)
    line += " (rank " + std::to_string(group->rank()) + " of " +
            std::to_string(group->size()) + ")";
  line += ": " + message.str() + "\n";
  llvm::errs() << line;
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  bism::runtime::keepFreedBuffersForReuse();
  // The subcommand may be left out: a call that names a function (--entry,
  // --input, ...) runs it, anything else trains a model file.
  std::vector<char *> args(argv, argv + argc);
  static char runName[] = "run", trainName[] = "train";
  if (args.size() > 1) {
    llvm::StringRef first(args[1]);
    bool named = first == "run" || first == "train" || first == "eval" ||
                 first == "sample" || first == "export" || first == "plot" ||
                 (first.starts_with("-") && first != "-");
    if (!named) {
      bool callsFunction = false;
      for (size_t i = 1; i < args.size(); ++i) {
        llvm::StringRef arg(args[i]);
        for (const char *option : {"entry", "input", "output-npy", "print-results"})
          if (arg.ltrim('-').starts_with(option) && arg.starts_with("-"))
            callsFunction = true;
      }
      args.insert(args.begin() + 1, callsFunction ? runName : trainName);
    }
  }
  // llvm::cl expands any argument starting with '@' as a response file:
  // keep "--input @x.npy" as one argument, "--input=@x.npy", which it leaves
  // alone.
  std::vector<std::string> joined;
  joined.reserve(args.size());
  std::vector<char *> final;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg(args[i]);
    if ((arg == "--input" || arg == "-input") && i + 1 < args.size() &&
        llvm::StringRef(args[i + 1]).starts_with("@")) {
      joined.push_back(arg.str() + "=" + args[i + 1]);
      final.push_back(joined.back().data());
      ++i;
      continue;
    }
    final.push_back(args[i]);
  }
  // Made here, not at namespace scope: the subcommands it belongs to are
  // defined in another file, whose static initialisers may run later.
  static llvm::cl::OptionCategory executionCategory("execution options");
  static llvm::cl::opt<int> threadsOption(
      "threads",
      llvm::cl::desc("threads the compiled step's kernels and BLAS calls share "
                     "(0: all cores; default OMP_NUM_THREADS, else all cores)"),
      // Per subcommand: libLLVM registers a hidden top-level --threads.
      llvm::cl::init(0), llvm::cl::cat(executionCategory),
      llvm::cl::sub(runCommand),
      llvm::cl::sub(bism::tools::trainCommand),
      llvm::cl::sub(bism::tools::evalCommand),
      llvm::cl::sub(bism::tools::sampleCommand));
  static llvm::cl::opt<std::string> maxMemoryOption(
      "max-memory",
      llvm::cl::desc("memory budget: the largest tensor read from input "
                     "(--input, .npy, data sets, checkpoints) and the most "
                     "static buffer memory of a compiled step; bytes, K/M/G/T "
                     "or a percentage of physical memory (default 75%)"),
      llvm::cl::value_desc("size"), llvm::cl::cat(executionCategory),
      llvm::cl::sub(runCommand), llvm::cl::sub(bism::tools::trainCommand),
      llvm::cl::sub(bism::tools::evalCommand),
      llvm::cl::sub(bism::tools::sampleCommand),
      llvm::cl::sub(bism::tools::exportCommand));
  // The top-level --help lists bism-run's own options, not the hundreds
  // libLLVM registers (they still parse; --help-hidden shows them).
  llvm::cl::HideUnrelatedOptions(executionCategory);
  showDefaultsInHelp();
  // An option of another subcommand (eval's --ll given to train): say so,
  // rather than llvm::cl's "Unknown command line argument ... Too many
  // positional arguments".
  if (std::string wrong = optionOfAnotherSubcommand(final); !wrong.empty())
    return bism::tools::fail(wrong);
  llvm::cl::ParseCommandLineOptions(int(final.size()), final.data(), kOverview);
  if (maxMemoryOption.getNumOccurrences()) {
    uint64_t budget = 0;
    std::string error;
    if (!bism::runtime::parseMemorySize(maxMemoryOption, budget, error))
      return bism::tools::fail("--max-memory: " + error);
    bism::runtime::setMemoryBudget(budget);
  }
  // OMP_NUM_THREADS is honoured unless --threads is given.
  if (threadsOption.getNumOccurrences() || !std::getenv("OMP_NUM_THREADS"))
    bism::runtime::setThreadCount(threadsOption);
  if (!bism::tools::trainCommand && bism::runtime::launcherWorldSize() > 1)
    return bism::tools::fail(
        "started by mpirun as one of " +
        llvm::Twine(bism::runtime::launcherWorldSize()) +
        " processes; only 'bism-run train' runs on several processes");
  if (runCommand)
    return runEntry();
  if (bism::tools::trainCommand) {
    // mpirun -np P: the P processes train one model data-parallel.
    std::unique_ptr<bism::runtime::ProcessGroup> world;
    if (bism::runtime::launcherWorldSize() > 1) {
      std::string error;
      world = bism::runtime::joinMpiWorld(error);
      if (!world)
        return bism::tools::fail(error);
      bism::runtime::setProcessGroup(world.get());
    }
    int status = bism::tools::runTrain();
    // A rank that stops alone would leave the others waiting in the step's
    // all-reduce: end them all.
    if (world && status != 0)
      world->abort(status);
    return status;
  }

  if (bism::tools::evalCommand)
    return bism::tools::runEval();
  if (bism::tools::sampleCommand)
    return bism::tools::runSample();
  if (bism::tools::exportCommand)
    return bism::tools::runExport();
  if (bism::tools::plotCommand)
    return bism::tools::runPlot();
  llvm::cl::PrintHelpMessage();
  return 1;
}
