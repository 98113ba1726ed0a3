//===- TrainCommands.cpp - bism-run train, eval and sample ----------------===//
//
//   bism-run [train] MODEL.mlir [--set key=value]... [--iters N] [--seed S]
//                               [--out DIR] [--resume]
//   bism-run eval DIR/last.ckpt [--ll auto|exact|ais|none] [--split test]
//   bism-run sample DIR/last.ckpt [--png FILE] [--count N] [--sweeps S]
//                                 [--sampler auto|gibbs|langevin]
//
// train compiles the model's step (CompiledModel) and hands it to the
// runtime's host loop (runtime::Trainer); a checkpoint records the model file
// and the overrides, so eval and sample rebuild exactly the trained model.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"

#include "bism/Execution/CompiledModel.h"
#include "bism/runtime/Threads.h"
#include "bism/runtime/Checkpoint.h"
#include "bism/runtime/Dataset.h"
#include "bism/runtime/FileIO.h"
#include "bism/runtime/Metrics.h"
#include "bism/runtime/Npy.h"
#include "bism/runtime/Plot.h"
#include "bism/runtime/Png.h"
#include "bism/runtime/Collective.h"
#include "bism/runtime/CudaExecutor.h"
#include "bism/runtime/Trainer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <sys/resource.h>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

using bism::runtime::HostTensor;
namespace cl = llvm::cl;

namespace bism::tools {

cl::SubCommand trainCommand(
    "train", "train a model file (the default when the first argument is a "
             "file): compiles its training step and runs it over the data "
             "set with progress, metrics (DIR/metrics.jsonl), checkpoints "
             "(DIR/last.ckpt) and the final test log-likelihood");
cl::SubCommand evalCommand(
    "eval", "evaluate a checkpoint on a data split, printing one JSON "
            "object: the log-likelihood (exact for GRBMs with <= 20 latents, "
            "summing the 2^H Gaussian components; else AIS), the SSM score "
            "(models with a free energy) and the posterior Fisher divergence "
            "(continuous latents)");
cl::SubCommand sampleCommand(
    "sample", "draw samples from a checkpoint's model (Gibbs sweeps of its "
              "gibbs function, or annealed Langevin dynamics) into .npy and "
              "a PNG");

cl::SubCommand plotCommand(
    "plot", "draw a metric of one or more runs against the step, from their "
            "metrics.jsonl, into a PNG (one curve per run: compare methods "
            "or settings on one figure)");
cl::SubCommand exportCommand(
    "export", "write a checkpoint's trained parameters as .npy files, one "
              "per parameter (theta.<name>.npy, phi.<name>.npy); the "
              "checkpoint format is in docs/checkpoints.md");

namespace {

cl::OptionCategory trainCategory("train options");
cl::OptionCategory commonCategory("compilation options");
cl::OptionCategory evalCategory("evaluation options");

cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.mlir>"),
                               cl::sub(trainCommand), cl::Required);
cl::opt<std::string> checkpointPath(cl::Positional,
                                    cl::desc("<checkpoint or run folder>"),
                                    cl::sub(evalCommand),
                                    cl::sub(sampleCommand),
                                    cl::sub(exportCommand), cl::Required);
cl::list<std::string> plotRuns(cl::Positional, cl::desc("<run folder>..."),
                               cl::sub(plotCommand), cl::OneOrMore);
cl::opt<std::string> plotMetric("metric",
                                cl::desc("the metric to draw: loss, J, "
                                         "test_ll, test_ssm, "
                                         "test_posterior_fisher, "
                                         "grad_norm_theta, ..."),
                                cl::init("loss"), cl::sub(plotCommand));
cl::opt<std::string> plotPng("png",
                             cl::desc("the PNG to write (default "
                                      "RUN/<metric>.png for one run, "
                                      "<metric>.png for several)"),
                             cl::value_desc("file"), cl::sub(plotCommand));
cl::opt<bool> plotLogY("log-y", cl::desc("logarithmic y axis"),
                       cl::sub(plotCommand));
cl::opt<double> plotYMin("y-min",
                         cl::desc("lower end of the y axis (default: the "
                                  "data's); curves below are clipped"),
                         cl::init(NAN), cl::sub(plotCommand));
cl::opt<double> plotYMax("y-max",
                         cl::desc("upper end of the y axis (default: the "
                                  "data's); curves above are clipped"),
                         cl::init(NAN), cl::sub(plotCommand));
cl::opt<std::string> exportDir("npy",
                               cl::desc("the folder to write the .npy files "
                                        "into (created if needed)"),
                               cl::value_desc("dir"), cl::sub(exportCommand),
                               cl::Required);
cl::opt<bool> exportAll("all",
                        cl::desc("also write the optimiser moments, step "
                                 "counters and chains"),
                        cl::sub(exportCommand));
cl::list<std::string> overrides(
    "set",
    cl::desc("override a spec field of the model file, e.g. --set N=10, "
             "--set objective=ssm, --set lr_theta=2e-4, --set "
             "betas=[0.9,0.999] (K, N, L abbreviate inner_steps, "
             "unroll_steps, particles); repeatable"),
    cl::value_desc("key=value"), cl::sub(trainCommand), cl::cat(trainCategory));
cl::opt<int64_t> iterations("iters",
                            cl::desc("training iterations (spec field "
                                     "'iterations')"),
                            cl::init(-1), cl::sub(trainCommand),
                            cl::cat(trainCategory));
cl::opt<int64_t> seedOption("seed",
                            cl::desc("seed of initialisation, data order, "
                                     "noise and generated data (spec field "
                                     "'seed'); sample: the sampler's seed"),
                            cl::init(-1), cl::sub(trainCommand),
                            cl::sub(sampleCommand), cl::cat(trainCategory));
cl::opt<std::string> outDir("out",
                            cl::desc("run folder: config.json, metrics.jsonl, "
                                     "last.ckpt, step-<s>.ckpt, PNGs "
                                     "(default runs/<model file name>, "
                                     "followed by the --set/--seed options, "
                                     "e.g. runs/checkerboard-N=10-seed=3)"),
                            cl::value_desc("dir"), cl::sub(trainCommand),
                            cl::cat(trainCategory));
cl::opt<bool> resume("resume",
                     cl::desc("continue the run in --out from its last.ckpt "
                              "(same model file and overrides; the result "
                              "equals an uninterrupted run)"),
                     cl::sub(trainCommand), cl::cat(trainCategory));
cl::opt<bool> overwrite("overwrite",
                        cl::desc("train into a --out folder that already "
                                 "holds a run, replacing its checkpoints, "
                                 "metrics, config and pictures"),
                        cl::sub(trainCommand), cl::cat(trainCategory));
cl::opt<std::string> modelName("model",
                               cl::desc("the bism.model to train when the "
                                        "file declares several"),
                               cl::sub(trainCommand), cl::cat(trainCategory));
cl::opt<int64_t> logEvery("log-every",
                          cl::desc("write a metrics line (means over the "
                                   "interval) every N steps"),
                          cl::init(100), cl::sub(trainCommand),
                          cl::cat(trainCategory));
cl::opt<int64_t> evalEvery("eval-every",
                           cl::desc("evaluate the test log-likelihood every "
                                    "N steps (multiple of --log-every; 0: "
                                    "only at the end)"),
                           cl::init(1000), cl::sub(trainCommand),
                           cl::cat(trainCategory));
cl::opt<int64_t> checkpointEvery("checkpoint-every",
                                 cl::desc("rewrite DIR/last.ckpt every N "
                                          "steps (and at the end)"),
                                 cl::init(1000), cl::sub(trainCommand),
                                 cl::cat(trainCategory));
cl::opt<int64_t> keepEvery("keep-every",
                           cl::desc("also keep DIR/step-<s>.ckpt every N "
                                    "steps (0: never)"),
                           cl::init(5000), cl::sub(trainCommand),
                           cl::cat(trainCategory));
cl::opt<bool> noProgress("no-progress",
                         cl::desc("no progress line (it is off anyway when "
                                  "stderr is not a terminal)"),
                         cl::sub(trainCommand), cl::cat(trainCategory));
cl::opt<bool> noPng("no-png",
                    cl::desc("do not write DIR/density.png (2-D models) and "
                             "DIR/samples.png (100 Gibbs sweeps from "
                             "training points) at the end"),
                    cl::sub(trainCommand), cl::cat(trainCategory));
cl::opt<std::string> dataDir("data-dir",
                             cl::desc("searched first for data files "
                                      "(then $BISM_DATA_DIR, "
                                      "../shared/data)"),
                             cl::value_desc("dir"), cl::sub(trainCommand),
                             cl::sub(evalCommand), cl::sub(sampleCommand),
                             cl::cat(commonCategory));
cl::opt<int64_t> blasMinFlops("blas-min-flops",
                              cl::desc("smallest M*N*K of a matmul sent to "
                                       "BLAS; -1 none"),
                              cl::init(32768), cl::sub(trainCommand),
                              cl::sub(evalCommand), cl::sub(sampleCommand),
                              cl::cat(commonCategory));
cl::opt<int64_t> parallelMinPoints(
    "parallel-min-points",
    cl::desc("smallest kernel iteration space run on all threads; -1 keeps "
             "every kernel on one"),
    cl::init(16384), cl::sub(trainCommand), cl::sub(evalCommand),
    cl::sub(sampleCommand), cl::cat(commonCategory));
cl::opt<unsigned> optLevel("opt-level",
                           cl::desc("LLVM optimisation level 0-3 of the "
                                    "compiled step"),
                           cl::init(2), cl::sub(trainCommand),
                           cl::sub(evalCommand), cl::sub(sampleCommand),
                           cl::cat(commonCategory));
cl::opt<bool> noCache("no-cache",
                      cl::desc("neither use nor write the cache of compiled "
                               "objects (also BISM_NO_CACHE=1; the cache is "
                               "in $BISM_CACHE_DIR, else "
                               "$XDG_CACHE_HOME/bism, else ~/.cache/bism)"),
                      cl::sub(trainCommand), cl::sub(evalCommand),
                      cl::sub(sampleCommand), cl::cat(commonCategory));

cl::opt<std::string> llMethod(
    "ll",
    cl::desc("log-likelihood estimator: auto (exact when the model has <= 20 "
             "latents and a component_log_mass function, else AIS when the "
             "spec names ais_anneal), exact, ais or none"),
    cl::init("auto"), cl::sub(evalCommand), cl::cat(evalCategory));
cl::opt<int64_t> aisChains("ais-chains",
                           cl::desc("AIS: chains (a multiple of the batch "
                                    "size)"),
                           cl::init(2000), cl::sub(evalCommand),
                           cl::cat(evalCategory));
cl::opt<int64_t> aisSteps("ais-steps",
                          cl::desc("AIS: intermediate distributions, linear "
                                   "in beta from 0 to 1 (the BiSM paper's "
                                   "2000)"),
                          cl::init(2000), cl::sub(evalCommand),
                          cl::cat(evalCategory));
// Training ends with a quick AIS (about 1/40 of the paper's work: seconds on
// the Frey GRBM instead of minutes); `bism-run eval` gives the full one.
cl::opt<int64_t> finalAisChains(
    "ais-chains",
    cl::desc("AIS at the end of training: chains (a multiple of the batch "
             "size); a quick estimate, 'bism-run eval' uses 2000"),
    cl::init(200), cl::sub(trainCommand), cl::cat(evalCategory));
cl::opt<int64_t> finalAisSteps(
    "ais-steps",
    cl::desc("AIS at the end of training: intermediate distributions (0: "
             "no AIS); a quick estimate, 'bism-run eval' uses 2000"),
    cl::init(500), cl::sub(trainCommand), cl::cat(evalCategory));

/// The AIS size of the running subcommand.
int64_t activeAisChains() { return trainCommand ? finalAisChains : aisChains; }
int64_t activeAisSteps() { return trainCommand ? finalAisSteps : aisSteps; }
cl::opt<int64_t> ssmProjections("ssm-projections",
                                cl::desc("SSM scores and the test loss: "
                                         "projections (noise draws) per test "
                                         "point (0: skip)"),
                                cl::init(1), cl::sub(evalCommand),
                                cl::cat(evalCategory));
cl::opt<int64_t> fisherDraws("fisher-draws",
                             cl::desc("posterior Fisher divergence: latent "
                                      "draws per test point (0: skip)"),
                             cl::init(1), cl::sub(evalCommand),
                             cl::cat(evalCategory));
cl::opt<uint64_t> evalSeed("eval-seed",
                           cl::desc("seed of AIS, SSM projections and "
                                    "latent draws"),
                           cl::init(0), cl::sub(evalCommand),
                           cl::cat(evalCategory));
cl::opt<int64_t> evalRows(
    "eval-rows",
    cl::desc("evaluate on the first N points of the split (0: all); image "
             "models evaluate for minutes on a full test set, so training "
             "curves of them are cheaper on a part"),
    cl::init(0), cl::sub(trainCommand), cl::sub(evalCommand),
    cl::cat(evalCategory));

/// The first --eval-rows rows of `rows` (all of them when it is 0 or more
/// than there are).
HostTensor evaluationRows(const HostTensor &rows) {
  int64_t available = rows.rank() == 2 ? rows.shape()[0] : 0;
  if (evalRows <= 0 || evalRows >= available)
    return rows;
  HostTensor part(rows.elementType(), {int64_t(evalRows), rows.shape()[1]});
  std::memcpy(part.data(), rows.data(), part.byteSize());
  return part;
}

cl::opt<std::string> split("split",
                           cl::desc("data split: test, validation or train"),
                           cl::init("test"), cl::sub(evalCommand),
                           cl::cat(evalCategory));

cl::opt<std::string> pngPath("png", cl::desc("write the samples as a PNG"),
                             cl::value_desc("file"), cl::sub(sampleCommand));
cl::opt<std::string> npyPath("npy", cl::desc("write the samples as .npy"),
                             cl::value_desc("file"), cl::sub(sampleCommand));
cl::opt<int64_t> sampleCount("count",
                             cl::desc("number of samples (a multiple of the "
                                      "batch size is fastest)"),
                             cl::init(1000), cl::sub(sampleCommand));
cl::opt<int64_t> sweeps("sweeps",
                        cl::desc("Gibbs sweeps or Langevin steps per chain"),
                        cl::init(1000), cl::sub(sampleCommand));
cl::opt<std::string> sampler(
    "sampler",
    cl::desc("auto (generator for a model with one, gibbs when the model "
             "has a gibbs function, else langevin), gibbs, langevin: "
             "annealed Langevin dynamics on the free energy, or on (v, h) "
             "for continuous latents, or generator (method bidvl: G(h), h ~ "
             "N(0, I), then --sweeps Langevin steps on the free energy from "
             "there; default 0 for it)"),
    cl::init("auto"), cl::sub(sampleCommand));
cl::opt<std::string> conditionalMean(
    "conditional-mean",
    cl::desc("gibbs: end each chain with the mean of p(v|h) instead of a "
             "draw (the last sweep without its visible noise): auto (for "
             "image data, where a draw's pixel noise hides the picture), on "
             "or off"),
    cl::init("auto"), cl::sub(sampleCommand));
cl::opt<std::string> latentMode(
    "latents",
    cl::desc("langevin on an energy + posterior model: joint (v and h "
             "together; continuous latents) or posterior-mean (v from p(v|h) "
             "with h the posterior mean at the chain's image (--images), the "
             "BiSM paper's procedure); binary latents are always "
             "posterior-mean"),
    cl::init("joint"), cl::sub(sampleCommand));
cl::opt<int64_t> conditionalSources(
    "conditional",
    cl::desc("langevin: conditional samples, the paper's Fig. 10: the "
             "posterior means of this many images (--images), --count / N "
             "chains at each (one row of the PNG per image); 0: off"),
    cl::init(0), cl::sub(sampleCommand));
cl::opt<std::string> chainStart(
    "start",
    cl::desc("langevin: where chains start: image (the --images images, so "
             "short chains show the model's modes) or noise (uniform over the "
             "training data's range: generation from scratch; with --latents "
             "posterior-mean each chain keeps the latents of its image, and "
             "the run reports the reconstruction error against those images)"),
    cl::init("image"), cl::sub(sampleCommand));
cl::opt<std::string> sourceImages(
    "images",
    cl::desc("the split whose points start the chains or give their "
             "latents: train or test (test with --start noise --latents "
             "posterior-mean: the test reconstruction error)"),
    cl::init("train"), cl::sub(sampleCommand));
cl::opt<std::string> denoise(
    "denoise",
    cl::desc("langevin: end each chain with the denoising step v += sigma^2 "
             "grad log p(v) (Tweedie's formula; sigma the DSM noise_std or "
             "the MDSM sigma0 the model was trained with), which removes the "
             "chain's last pixel noise: auto (on for image data trained by "
             "DSM or MDSM), on or off"),
    cl::init("auto"), cl::sub(sampleCommand));
cl::opt<double> stepSize("step-size",
                         cl::desc("Langevin step size eta in x += -eta "
                                  "grad U / T + sqrt(2 eta) z"),
                         cl::init(1e-4), cl::sub(sampleCommand));
cl::opt<double> startTemperature(
    "start-temperature",
    cl::desc("Langevin: the temperature T falls geometrically from this to "
             "1 over the first 90% of the steps"),
    cl::init(10.0), cl::sub(sampleCommand));

/// Rank 0 of a data-parallel run (or the only process): the one that
/// speaks and writes the run's files.
bool leader() {
  return !runtime::processGroup() || runtime::processGroup()->rank() == 0;
}

void say(const std::string &message) {
  if (!leader())
    return;
  llvm::outs() << message << "\n";
  llvm::outs().flush();
}

std::string joinPath(const std::string &dir, const std::string &file) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  return path.str().str();
}

cl::opt<std::string> device(
    "device",
    cl::desc("where the compiled functions run: cpu, or cuda (GPU kernels "
             "and cuBLAS; needs an NVIDIA GPU and its driver)"),
    cl::init("cpu"), cl::sub(trainCommand), cl::sub(evalCommand),
    cl::sub(sampleCommand), cl::cat(commonCategory));
cl::opt<bool> allowTf32(
    "allow-tf32",
    cl::desc("--device cuda: let cuBLAS use TF32 tensor cores for f32 "
             "matmuls (faster; about 1e-3 relative error)"),
    cl::sub(trainCommand), cl::sub(evalCommand), cl::sub(sampleCommand),
    cl::cat(commonCategory));

JitOptions jitOptions() {
  JitOptions options;
  options.device = device;
  options.allowTf32 = allowTf32;
  options.blasMinFlops = blasMinFlops;
  options.parallelMinPoints = parallelMinPoints;
  options.optLevel = optLevel;
  if (noCache)
    options.cacheDir.clear();
  return options;
}

/// The ranges of options that cl::opt cannot express: an error message, or
/// empty when every option given holds. (Given, not defaulted: -1 is the
/// "from the spec" default of --iters and --seed.)
std::string optionRangeError() {
  if (optLevel > 3)
    return "--opt-level must be 0-3, got " + std::to_string(optLevel);
  if (iterations.getNumOccurrences() && iterations < 1)
    return "--iters must be >= 1, got " + std::to_string(iterations);
  if (seedOption.getNumOccurrences() && seedOption < 0)
    return "--seed must be >= 0, got " + std::to_string(seedOption);
  if (evalRows < 0)
    return "--eval-rows must be >= 0 (0: all), got " + std::to_string(evalRows);
  return "";
}

runtime::DatasetOptions datasetOptions(uint64_t seed) {
  runtime::DatasetOptions options;
  options.seed = seed;
  options.dataDir = dataDir;
  return options;
}

/// Reads the model's data set into `data`; false with `error` if it cannot.
bool readData(const CompiledModel &model, runtime::Dataset &data,
              std::string &error) {
  const std::string &spec = model.info().spec.dataset;
  if (spec.empty()) {
    error = "the model's spec names no dataset: add dataset = \"...\" to the "
            "spec or pass --set dataset=checkerboard|freyface|fashion-mnist|"
            "FILE.npy";
    return false;
  }
  if (!runtime::loadDataset(spec, datasetOptions(model.info().spec.seed), data,
                            error)) {
    error = "dataset '" + spec + "': " + error;
    return false;
  }
  return true;
}

bool loadData(const CompiledModel &model, runtime::Dataset &data) {
  std::string error;
  if (!readData(model, data, error)) {
    fail(error);
    return false;
  }
  return true;
}

AisOptions aisOptions(uint64_t seed) {
  AisOptions options;
  options.chains = activeAisChains();
  options.steps = activeAisSteps();
  options.seed = seed;
  // Progress with the time so far and a linear estimate of what is left.
  auto started = std::chrono::steady_clock::now();
  options.progress = [started](int64_t done, int64_t total) {
    double elapsed = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - started)
                         .count();
    double left = done > 0 ? elapsed * double(total - done) / double(done) : 0;
    llvm::errs() << llvm::formatv(
        "AIS: {0}/{1} transitions, {2:F1} s, about {3:F0} s left\n", done,
        total, elapsed, left);
  };
  return options;
}

/// The test log-likelihood by `method` (exact or ais) into `out`: "test_ll"
/// (or "<split>_ll") and, for AIS, the log Z estimate's standard error and
/// effective sample size.
bool logLikelihood(CompiledModel &model, const std::vector<HostTensor> &state,
                   const HostTensor &rows, llvm::StringRef method,
                   const std::string &prefix, uint64_t seed,
                   runtime::MetricValues &out, std::string &error) {
  if (method == "exact") {
    auto ll = model.exactLogLikelihood(state, rows);
    if (!ll) {
      error = llvm::toString(ll.takeError());
      return false;
    }
    out.emplace_back(prefix + "_ll", *ll);
    return true;
  }
  auto ais = model.aisLogPartition(state, aisOptions(seed));
  if (!ais) {
    error = llvm::toString(ais.takeError());
    return false;
  }
  auto energies = model.freeEnergies(state, rows);
  if (!energies) {
    error = llvm::toString(energies.takeError());
    return false;
  }
  double sum = 0;
  for (double f : *energies)
    sum += f;
  out.emplace_back(prefix + "_ll", -sum / double(energies->size()) - ais->logZ);
  out.emplace_back("ais_log_z", ais->logZ);
  out.emplace_back("ais_log_z_se", ais->standardError);
  out.emplace_back("ais_ess", ais->effectiveSampleSize);
  return true;
}

/// The held-out evaluation of a run: the exact test log-likelihood when the
/// model defines it (AIS instead at the end of the run), the SSM score and
/// the posterior Fisher divergence where defined.
/// Why `model` has no log-likelihood estimate ("" when it has one).
std::string noLogLikelihoodReason(const CompiledModel &model) {
  if (model.hasExactLogPartition() || model.hasAis())
    return "";
  if (!model.hasFreeEnergy())
    return "the model has an energy and a posterior but no free energy "
           "(log p(v) up to log Z), which a log-likelihood needs; eval "
           "reports loss, the training objective on these points, "
           "approx_ssm, the SSM loss with the score through the posterior "
           "(both lower is better), and the posterior Fisher divergence "
           "where the latents are continuous";
  return "the model has a free energy but no component_log_mass and gibbs "
         "functions, which exact summation and AIS need";
}

/// metricWarnings on stderr.
void warnAboutMetrics(const runtime::MetricValues &values) {
  for (const std::string &warning : runtime::metricWarnings(values, activeAisChains()))
    llvm::errs() << "bism-run: warning: " << warning << "\n";
}

/// Out-of-distribution detection by the score −F(v) (higher: in
/// distribution), for image models with a free energy: the AUROC of the
/// `test` rows against as many uniform-noise images (pixels U[0, 1],
/// seeded) and, for 28×28 models, against the Frey faces (28×20, centred
/// on a black 28×28 canvas) when their file is found.
bool outOfDistribution(CompiledModel &model, const runtime::Dataset &data,
                       const std::vector<HostTensor> &state,
                       const HostTensor &test, runtime::MetricValues &out,
                       std::string &error) {
  auto scores = [&](const HostTensor &rows, std::vector<double> &negated) {
    auto energies = model.freeEnergies(state, rows);
    if (!energies) {
      error = llvm::toString(energies.takeError());
      return false;
    }
    negated.clear();
    for (double e : *energies)
      negated.push_back(-e);
    return true;
  };
  std::vector<double> inside, outside;
  if (!scores(test, inside))
    return false;
  int64_t n = test.shape()[0], dims = test.shape()[1];
  HostTensor noise(runtime::ElementType::f64, {n, dims});
  uint64_t state64 = 0x6f6f64ull; // a fixed stream: the same images each time
  for (int64_t i = 0; i < n * dims; ++i) {
    state64 = state64 * 6364136223846793005ull + 1442695040888963407ull;
    noise.dataAs<double>()[i] = double(state64 >> 11) * 0x1.0p-53;
  }
  if (!scores(noise, outside))
    return false;
  out.emplace_back("ood_auroc_uniform", runtime::auroc(inside, outside));
  if (data.imageShape != std::vector<int64_t>{28, 28})
    return true;
  runtime::Dataset frey;
  std::string missing;
  if (!runtime::loadDataset("freyface", datasetOptions(0), frey, missing))
    return true; // not on this machine: the uniform figure only
  const HostTensor &faces = frey.train.shape()[0] ? frey.train : frey.test;
  int64_t count = std::min<int64_t>(faces.shape()[0], n);
  HostTensor padded(runtime::ElementType::f64, {count, dims});
  for (int64_t i = 0; i < count; ++i)
    for (int64_t r = 0; r < 28; ++r)
      for (int64_t c = 0; c < 20; ++c)
        padded.dataAs<double>()[i * dims + r * 28 + c + 4] =
            faces.dataAs<double>()[i * 560 + r * 20 + c];
  if (!scores(padded, outside))
    return false;
  out.emplace_back("ood_auroc_freyface", runtime::auroc(inside, outside));
  return true;
}

/// <split>_recon_rmse for a model with a generator: the rows through q's
/// mean and G (BiDVL's test reconstruction), RMSE per element; with `ood`,
/// the out-of-distribution AUROCs of image models with a free energy.
bool generatorAndOodFigures(CompiledModel &model, const runtime::Dataset &data,
                            const std::vector<HostTensor> &state,
                            const HostTensor &rows, const std::string &split,
                            bool ood, runtime::MetricValues &out,
                            std::string &error) {
  if (model.hasGenerator()) {
    auto reconstructed = model.reconstruct(state, rows);
    if (!reconstructed) {
      error = llvm::toString(reconstructed.takeError());
      return false;
    }
    double squares = 0.0;
    for (int64_t i = 0, count = rows.numElements(); i < count; ++i)
      squares += std::pow(reconstructed->dataAs<double>()[i] -
                              rows.elementAsDouble(i),
                          2);
    out.emplace_back(split + "_recon_rmse",
                     std::sqrt(squares / double(rows.numElements())));
  }
  if (ood && model.hasFreeEnergy() && data.imageShape.size() == 2)
    return outOfDistribution(model, data, state, rows, out, error);
  return true;
}

bool evaluate(CompiledModel &model, const runtime::Dataset &data,
              const std::vector<HostTensor> &state, bool final,
              runtime::MetricValues &out, std::string &error) {
  if (data.test.numElements() == 0)
    return true;
  HostTensor test = evaluationRows(data.test);
  if (model.hasExactLogPartition() && model.hasFreeEnergy()) {
    if (!logLikelihood(model, state, test, "exact", "test", 0, out, error))
      return false;
  } else if (final && model.hasAis() && activeAisSteps() > 0) {
    if (!logLikelihood(model, state, test, "ais", "test", 0, out, error))
      return false;
  }
  if (model.hasSsmScore()) {
    auto ssm = model.ssmScore(state, test, 1, 0);
    if (!ssm) {
      error = llvm::toString(ssm.takeError());
      return false;
    }
    out.emplace_back("test_ssm", *ssm);
  }
  if (model.hasTestObjective()) {
    auto loss = model.testObjective(state, test, 1, 0);
    if (!loss) {
      error = llvm::toString(loss.takeError());
      return false;
    }
    out.emplace_back("test_loss", *loss);
  }
  if (model.hasApproximateSsm()) {
    auto ssm = model.approximateSsm(state, test, 1, 0);
    if (!ssm) {
      error = llvm::toString(ssm.takeError());
      return false;
    }
    out.emplace_back("test_approx_ssm", *ssm);
  }
  if (model.hasPosteriorFisher()) {
    auto fisher = model.posteriorFisher(state, test, 1, 0);
    if (!fisher) {
      error = llvm::toString(fisher.takeError());
      return false;
    }
    out.emplace_back("test_posterior_fisher", *fisher);
  }
  if (!generatorAndOodFigures(model, data, state, test, "test", final, out,
                              error))
    return false;
  if (final)
    warnAboutMetrics(out);
  return true;
}

/// gibbs or langevin, from --sampler.
std::string chooseSampler(const CompiledModel &model) {
  if (sampler != "auto")
    return sampler;
  if (model.hasGenerator())
    return "generator";
  return model.hasGibbs() ? "gibbs" : "langevin";
}

/// Where drawSamples' chains start and what they condition on.
struct ChainSetup {
  /// The points the chains start at, or take their latents from (rows in a
  /// seeded shuffled order).
  const HostTensor *images = nullptr;
  /// Start at uniform noise over the images' range instead of at them.
  bool noiseStart = false;
  /// Gibbs chains end with the mean of p(v|h) (CompiledModel::gibbsChain).
  bool mean = false;
  /// Langevin on p(v|h) at fixed h (LangevinOptions): the posterior mean
  /// at each chain's image.
  bool fixLatents = false;
  /// > 0: h is the posterior mean of one of that many images, count /
  /// sources chains each, in order.
  int64_t sources = 0;
  /// Langevin: LangevinOptions::denoiseVariance.
  double denoiseVariance = 0;
};

/// Drawn samples ([count, D] f64) and the image each chain started at or
/// took its latents from (the same shape).
struct DrawnSamples {
  HostTensor samples, images;
};

/// `count` samples: Gibbs chains of `sweeps` sweeps or annealed Langevin
/// chains of `sweeps` steps, started at setup.images (so short chains show
/// the model's modes rather than burn-in) or at noise.
llvm::Expected<DrawnSamples> drawSamples(CompiledModel &model,
                                         const std::vector<HostTensor> &state,
                                         const std::string &method,
                                         int64_t count, int64_t sweeps,
                                         uint64_t seed,
                                         const ChainSetup &setup) {
  const HostTensor &images = *setup.images;
  int64_t batch = model.batchSize(), dims = model.visibleDims();
  int64_t chains = (count + batch - 1) / batch, sources = setup.sources;
  DrawnSamples drawn{HostTensor(runtime::ElementType::f64, {count, dims}),
                     HostTensor(runtime::ElementType::f64, {count, dims})};
  std::vector<int64_t> order;
  runtime::shuffledOrder(images.shape()[0], seed, 0, order);
  HostTensor start(model.elementType(), {batch, dims});
  std::vector<int64_t> rows(static_cast<size_t>(batch));
  double low = 0, high = 0;
  if (setup.noiseStart && images.numElements() > 0) {
    low = high = images.elementAsDouble(0);
    for (int64_t i = 0, n = images.numElements(); i < n; ++i) {
      low = std::min(low, images.elementAsDouble(i));
      high = std::max(high, images.elementAsDouble(i));
    }
  }
  // The conditioning images are the first `sources` of the order, and their
  // posterior means the latents; the chains start at the images after them.
  HostTensor sourceMeans, sourceImages;
  int64_t offset = 0, perSource = sources > 0 ? count / sources : 0;
  if (sources > 0) {
    for (int64_t i = 0; i < batch; ++i)
      rows[size_t(i)] = order[size_t(std::min(i, sources - 1) %
                                     int64_t(order.size()))];
    runtime::gatherRows(images, rows.data(), batch, start);
    auto means = model.posteriorMean(state, start);
    if (!means)
      return means.takeError();
    sourceMeans = std::move(*means);
    sourceImages = start;
    offset = sources;
  }
  for (int64_t chain = 0; chain < chains; ++chain) {
    for (int64_t i = 0; i < batch; ++i)
      rows[size_t(i)] = order[size_t((offset + chain * batch + i) %
                                     int64_t(order.size()))];
    runtime::gatherRows(images, rows.data(), batch, start);
    uint64_t chainSeed = seed * 1000003 + uint64_t(chain);
    LangevinOptions langevin;
    langevin.steps = sweeps;
    langevin.stepSize = stepSize;
    langevin.startTemperature = startTemperature;
    langevin.seed = chainSeed;
    langevin.fixLatents = setup.fixLatents || sources > 0;
    langevin.denoiseVariance = setup.denoiseVariance;
    // Each chain's own image, before noise replaces it as the start.
    HostTensor chainImages = start;
    if (sources > 0) {
      int64_t width = sourceMeans.shape()[1];
      langevin.latents = HostTensor(model.elementType(), {batch, width});
      size_t latentBytes = size_t(width) * runtime::elementSize(model.elementType());
      size_t imageBytes =
          size_t(dims) * runtime::elementSize(model.elementType());
      for (int64_t i = 0; i < batch; ++i) {
        int64_t source = std::min((chain * batch + i) / perSource, sources - 1);
        std::memcpy(static_cast<char *>(langevin.latents.data()) +
                        size_t(i) * latentBytes,
                    static_cast<const char *>(sourceMeans.data()) +
                        size_t(source) * latentBytes,
                    latentBytes);
        std::memcpy(static_cast<char *>(chainImages.data()) +
                        size_t(i) * imageBytes,
                    static_cast<const char *>(sourceImages.data()) +
                        size_t(source) * imageBytes,
                    imageBytes);
      }
    } else if (setup.noiseStart && langevin.fixLatents) {
      auto means = model.posteriorMean(state, start);
      if (!means)
        return means.takeError();
      langevin.latents = std::move(*means);
    }
    if (setup.noiseStart) {
      runtime::PhiloxKey key = {uint32_t(chainSeed), uint32_t(chainSeed >> 32)};
      key = runtime::keySplit(key, 0x5747 /* noise start */);
      for (int64_t i = 0, n = start.numElements(); i < n; ++i) {
        runtime::PhiloxCounter words =
            runtime::philoxWordsForElement(key, uint64_t(i));
        double unit = double(((uint64_t(words[0]) << 32) | words[1]) >> 11) *
                      0x1p-53;
        double value = low + (high - low) * unit;
        if (start.elementType() == runtime::ElementType::f64)
          start.dataAs<double>()[i] = value;
        else
          start.dataAs<float>()[i] = float(value);
      }
    }
    auto result = method == "gibbs"
                      ? model.gibbsChain(state, start, sweeps, chainSeed,
                                         setup.mean)
                      : model.langevinChain(state, start, langevin);
    if (!result)
      return result.takeError();
    for (int64_t i = 0; i < batch && chain * batch + i < count; ++i)
      for (int64_t d = 0; d < dims; ++d) {
        int64_t at = (chain * batch + i) * dims + d;
        drawn.samples.dataAs<double>()[at] =
            result->elementAsDouble(i * dims + d);
        drawn.images.dataAs<double>()[at] =
            chainImages.elementAsDouble(i * dims + d);
      }
  }
  return drawn;
}

/// 2-D samples as a scatter plot over [0,1]², images as a grid.
/// The columns of a [N, 2] tensor as doubles.
runtime::plot::PointSet pointsOf(const HostTensor &rows, std::string label) {
  runtime::plot::PointSet set;
  set.label = std::move(label);
  for (int64_t i = 0; i < rows.shape()[0]; ++i) {
    set.x.push_back(rows.elementAsDouble(2 * i));
    set.y.push_back(rows.elementAsDouble(2 * i + 1));
  }
  return set;
}

/// The test rows of 2-D data (the training rows without a test split), at
/// most `limit` of them, for overlays.
HostTensor overlayRows(const runtime::Dataset &data, int64_t limit) {
  const HostTensor &rows = data.test.numElements() ? data.test : data.train;
  int64_t count = std::min<int64_t>(limit, rows.shape()[0]);
  HostTensor out(rows.elementType(), {count, 2});
  std::memcpy(out.data(), rows.data(),
              size_t(count) * 2 * runtime::elementSize(rows.elementType()));
  return out;
}

bool writeSamplesPng(const std::string &path, const HostTensor &samples,
                     const runtime::Dataset &data, std::string &error,
                     int64_t columns = 0) {
  int64_t dims = samples.shape()[1];
  if (dims == 2) {
    std::vector<runtime::plot::PointSet> sets;
    if (data.train.numElements())
      sets.push_back(pointsOf(overlayRows(data, samples.shape()[0]),
                              data.test.numElements() ? "test data"
                                                      : "training data"));
    sets.push_back(pointsOf(samples, "samples"));
    runtime::plot::Labels labels;
    labels.title = std::to_string(samples.shape()[0]) + " samples";
    labels.x = "v1";
    labels.y = "v2";
    return runtime::plot::scatterPlot(path, sets, labels, error);
  }
  if (data.imageShape.size() == 2) {
    // Each image at least 56 pixels on its shorter side.
    int64_t side = std::min(data.imageShape[0], data.imageShape[1]);
    int64_t scale = std::max<int64_t>(1, (56 + side - 1) / side);
    return runtime::writeImageGrid(path, samples, data.imageShape[0],
                                   data.imageShape[1], columns, error, scale);
  }
  error = "cannot draw " + std::to_string(dims) +
          "-dimensional samples that are not images";
  return false;
}

/// Pictures at the end of a run or from `sample`: the model's unnormalised
/// log density over the data's extent (2-D models with a free energy),
/// with the test data on it; samples as a scatter plot with the test data,
/// or an image grid.
bool writePictures(CompiledModel &model, const runtime::Dataset &data,
                   const std::vector<HostTensor> &state, const std::string &dir,
                   std::string &error) {
  if (model.visibleDims() == 2 && model.hasFreeEnergy()) {
    const int64_t grid = 200;
    HostTensor shown = overlayRows(data, 2000);
    runtime::plot::PointSet overlay = pointsOf(
        shown, data.test.numElements() ? "test data" : "training data");
    runtime::plot::Extent extent =
        runtime::plot::extentOf({&overlay.x}, {&overlay.y}, 0.15);
    HostTensor points(runtime::ElementType::f64, {grid * grid, 2});
    for (int64_t r = 0; r < grid; ++r)
      for (int64_t c = 0; c < grid; ++c) {
        double *p = points.dataAs<double>() + 2 * (r * grid + c);
        p[0] = extent.xMin + (c + 0.5) / grid * (extent.xMax - extent.xMin);
        p[1] = extent.yMin + (r + 0.5) / grid * (extent.yMax - extent.yMin);
      }
    auto energies = model.freeEnergies(state, points);
    if (!energies) {
      error = llvm::toString(energies.takeError());
      return false;
    }
    std::vector<double> logDensity(energies->size());
    for (size_t i = 0; i < logDensity.size(); ++i)
      logDensity[i] = -(*energies)[i];
    runtime::plot::Labels labels;
    labels.title = "model density";
    labels.x = "v1";
    labels.y = "v2";
    if (!runtime::plot::densityPlot(joinPath(dir, "density.png"), logDensity,
                                    grid, grid, extent,
                                    "log density + const (-F(v))", &overlay,
                                    labels, error))
      return false;
  }
  if (model.hasGibbs() && (model.visibleDims() == 2 || data.imageShape.size() == 2)) {
    bool images = model.visibleDims() != 2;
    int64_t count = images ? 100 : 2000;
    // Images show the mean of p(v|h), as papers do: a draw is mostly noise.
    ChainSetup setup;
    setup.images = &data.train;
    setup.mean = images;
    auto drawn = drawSamples(model, state, "gibbs", count, 100, 0, setup);
    if (!drawn) {
      error = llvm::toString(drawn.takeError());
      return false;
    }
    if (!writeSamplesPng(joinPath(dir, "samples.png"), drawn->samples, data,
                         error))
      return false;
  }
  return true;
}

/// --out, else runs/<model file stem>, followed by the run's --set and
/// --seed options (`sets`), so that variants of one model do not share a
/// folder: "runs/checkerboard-N=10-objective=ssm".
std::string resolvedOutDir(const std::vector<std::string> &sets) {
  if (!outDir.empty())
    return outDir;
  std::string name = llvm::sys::path::stem(modelPath).str();
  for (const std::string &set : sets) {
    name += "-";
    for (char c : set)
      name += llvm::isAlnum(c) || c == '.' || c == '=' || c == '_' || c == '-'
                  ? c
                  : '_';
  }
  return joinPath("runs", name);
}

/// The files bism-run train writes into a run folder (what --overwrite
/// replaces): their names, or "" when `dir` is missing or empty.
std::vector<std::string> runFolderEntries(const std::string &dir) {
  std::vector<std::string> entries;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::path::filename(it->path()) != runtime::kRunLockFile)
      entries.push_back(llvm::sys::path::filename(it->path()).str());
  llvm::sort(entries);
  return entries;
}

bool isRunOutput(llvm::StringRef name) {
  return name == "last.ckpt" || name == "metrics.jsonl" ||
         name == "config.json" || name == "density.png" ||
         name == "samples.png" ||
         (name.starts_with("step-") && name.ends_with(".ckpt"));
}

/// Whether `path` is a bism checkpoint (its first bytes), for the hint when
/// one is given where a model file is expected.
bool looksLikeCheckpoint(const std::string &path) {
  char head[8] = {};
  FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return false;
  size_t read = std::fread(head, 1, sizeof(head), file);
  std::fclose(file);
  return read == sizeof(head) && std::memcmp(head, "BISMCKPT", 8) == 0;
}

/// A checkpoint path as given, or a run folder's last.ckpt.
std::string checkpointOrRunFolder(const std::string &path) {
  if (llvm::sys::fs::is_directory(path))
    return joinPath(path, "last.ckpt");
  return path;
}

std::string absolutePath(const std::string &path) {
  llvm::SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, true);
  return absolute.str().str();
}

// A checkpoint stores the model it was trained with: meta "model_source"
// (the model file's name), "source:<name>" (each file's bytes: the model,
// then the ONNX files it names by their path in the model) and
// "model_hash" (BLAKE3 of them all).
constexpr const char *kSourcePrefix = "source:";

std::string sourcesHash(const std::vector<ModelSourceFile> &sources) {
  llvm::BLAKE3 hasher;
  for (const ModelSourceFile &file : sources) {
    std::string header =
        file.name + "\n" + std::to_string(file.text.size()) + "\n";
    hasher.update(header);
    hasher.update(file.text);
  }
  return llvm::toHex(hasher.final(), /*LowerCase=*/true);
}

void storeSources(const std::vector<ModelSourceFile> &sources,
                  std::vector<std::pair<std::string, std::string>> &meta) {
  if (sources.empty())
    return;
  meta.emplace_back("model_source", sources.front().name);
  meta.emplace_back("model_hash", sourcesHash(sources));
  for (const ModelSourceFile &file : sources)
    meta.emplace_back(kSourcePrefix + file.name, file.text);
}

std::vector<ModelSourceFile>
storedSources(const runtime::Checkpoint &checkpoint) {
  std::vector<ModelSourceFile> sources;
  for (const auto &[key, value] : checkpoint.meta)
    if (llvm::StringRef(key).starts_with(kSourcePrefix))
      sources.push_back({key.substr(std::strlen(kSourcePrefix)), value});
  return sources;
}

/// The stored sources written into a fresh temporary folder, so that the
/// model file's relative ONNX paths resolve; the model file's path there.
/// Paths in the model that climb ("../energy.onnx") get as many folder
/// levels above the model; absolute ones are read from disk as written.
llvm::Expected<std::string>
materialiseSources(const std::vector<ModelSourceFile> &sources,
                   llvm::SmallString<128> &root) {
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("bism-model", root))
    return llvm::createStringError(ec, "cannot create a temporary folder "
                                       "for the stored model: " +
                                           ec.message());
  size_t climb = 0;
  for (const ModelSourceFile &file : sources) {
    size_t ups = 0;
    for (auto it = llvm::sys::path::begin(file.name),
              end = llvm::sys::path::end(file.name);
         it != end && *it == ".."; ++it)
      ++ups;
    climb = std::max(climb, ups);
  }
  llvm::SmallString<128> base(root);
  for (size_t i = 0; i < climb; ++i)
    llvm::sys::path::append(base, "m");
  std::string error;
  for (const ModelSourceFile &file : sources) {
    if (llvm::sys::path::is_absolute(file.name))
      continue;
    llvm::SmallString<128> path(base);
    llvm::sys::path::append(path, file.name);
    llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
    if (!llvm::StringRef(path).starts_with(root))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "stored model file name '" + file.name +
                                         "' leaves its folder");
    if (!runtime::createDirectories(
            llvm::sys::path::parent_path(path).str(), error) ||
        !runtime::writeFileAtomically(path.str().str(), file.text, error))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "writing the stored model: " + error);
  }
  llvm::SmallString<128> model(base);
  llvm::sys::path::append(model, sources.front().name);
  return model.str().str();
}

/// What the files at `modelPath` hash to, read as the stored ones were; ""
/// when one of them cannot be read.
std::string diskSourcesHash(const std::string &modelPath,
                            const std::vector<ModelSourceFile> &stored) {
  std::vector<ModelSourceFile> disk;
  for (const ModelSourceFile &file : stored) {
    llvm::SmallString<256> path(file.name);
    if (&file == &stored.front())
      path = modelPath;
    else if (!llvm::sys::path::is_absolute(path)) {
      path = llvm::sys::path::parent_path(modelPath);
      llvm::sys::path::append(path, file.name);
    }
    auto bytes = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                             /*RequiresNullTerminator=*/false);
    if (!bytes)
      return "";
    disk.push_back({file.name, (*bytes)->getBuffer().str()});
  }
  return sourcesHash(disk);
}

/// Rebuilds the model a checkpoint was trained with: from the model stored
/// in it (saying so when the file on disk differs or is gone), or, for
/// checkpoints without one, from the model file it names.
llvm::Expected<std::unique_ptr<CompiledModel>>
loadCheckpointModel(const runtime::Checkpoint &checkpoint, bool withTrainStep) {
  const std::string *model = checkpoint.findMeta("model_file");
  const std::string *sets = checkpoint.findMeta("overrides");
  const std::string *name = checkpoint.findMeta("model_name");
  const std::string *hash = checkpoint.findMeta("model_hash");
  std::vector<ModelSourceFile> stored = storedSources(checkpoint);
  if (!model && stored.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the checkpoint does not name its model "
                                   "file (not written by bism-run train?)");
  ModelLoadOptions options;
  options.path = model ? *model : "";
  llvm::SmallString<128> temporary;
  if (!stored.empty()) {
    std::string shown = model ? *model : stored.front().name;
    std::string onDisk = model ? diskSourcesHash(*model, stored) : "";
    if (onDisk.empty())
      llvm::errs() << "bism-run: note: '" << shown
                   << "' (or an ONNX file it names) is gone; using the "
                      "model stored in the checkpoint\n";
    else if (!hash || onDisk != *hash)
      llvm::errs() << "bism-run: note: '" << shown
                   << "' has changed since training; using the model "
                      "stored in the checkpoint (train again to use the "
                      "new one)\n";
    auto path = materialiseSources(stored, temporary);
    if (!path)
      return path.takeError();
    options.path = *path;
  }
  if (sets && !sets->empty()) {
    llvm::SmallVector<llvm::StringRef> lines;
    llvm::StringRef(*sets).split(lines, '\n', -1, false);
    for (llvm::StringRef line : lines)
      options.overrides.push_back(line.str());
  }
  if (name)
    options.modelName = *name;
  options.jit = jitOptions();
  options.withTrainStep = withTrainStep;
  auto loaded = CompiledModel::load(options);
  // (The model and its ONNX files are read while loading.)
  if (!temporary.empty())
    llvm::sys::fs::remove_directories(temporary);
  return loaded;
}

bool stateFromCheckpoint(const CompiledModel &model,
                         const runtime::Checkpoint &checkpoint,
                         std::vector<HostTensor> &state, std::string &error) {
  for (const runtime::TensorSpec &spec : model.stateSpecs()) {
    const HostTensor *tensor = checkpoint.findTensor(spec.name);
    if (!tensor) {
      error = "the checkpoint lacks '" + spec.name + "'";
      return false;
    }
    // Checked here, where the tensor has a name: the compiled function
    // would only say which of its inputs has the wrong type.
    if (tensor->elementType() != spec.type || tensor->shape() != spec.shape) {
      std::string want;
      for (int64_t dim : spec.shape)
        want += std::to_string(dim) + "x";
      want += runtime::elementTypeName(spec.type);
      error = "tensor '" + spec.name + "' is " + tensor->typeString() +
              ", the model expects " + want +
              " (was the checkpoint written for another model?)";
      return false;
    }
    state.push_back(*tensor);
  }
  return true;
}

/// A checkpoint with the model it was trained with, its state and its data.
struct CheckpointRun {
  runtime::Checkpoint checkpoint;
  std::unique_ptr<CompiledModel> model;
  std::vector<HostTensor> state;
  runtime::Dataset data;
};

/// Reads `path`, rebuilds its model (evaluation functions only) and loads
/// state and data; on failure prints the error and returns false.
bool openCheckpointRun(const std::string &given, CheckpointRun &run) {
  std::string path = checkpointOrRunFolder(given);
  std::string error;
  if (!runtime::readCheckpoint(path, run.checkpoint, error)) {
    fail(error);
    return false;
  }
  auto started = std::chrono::steady_clock::now();
  auto compiled = loadCheckpointModel(run.checkpoint, /*withTrainStep=*/false);
  if (!compiled) {
    fail(llvm::toString(compiled.takeError()));
    return false;
  }
  run.model = std::move(*compiled);
  // On stderr: eval prints one JSON object on stdout.
  llvm::errs() << llvm::formatv(
      "bism-run: compiled in {0:F2} s ({1})\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count(),
      cacheOutcomeName(run.model->cacheOutcome()));
  if (!stateFromCheckpoint(*run.model, run.checkpoint, run.state, error)) {
    fail(path + ": " + error);
    return false;
  }
  return loadData(*run.model, run.data);
}

} // namespace

int runTrain() {
  if (std::string error = optionRangeError(); !error.empty())
    return fail(error);
  // The overrides a checkpoint records; --iters is not among them, so a run
  // can be resumed to a later step.
  std::vector<std::string> sets(overrides.begin(), overrides.end());
  if (seedOption >= 0)
    sets.push_back("seed=" + std::to_string(seedOption));
  if (logEvery < 1 || checkpointEvery < 1 || evalEvery < 0 || keepEvery < 0)
    return fail("--log-every and --checkpoint-every must be >= 1, "
                "--eval-every and --keep-every >= 0");
  if (looksLikeCheckpoint(modelPath))
    return fail("'" + modelPath + "' is a checkpoint, not a model file: "
                "evaluate it with 'bism-run eval " + modelPath +
                "', sample with 'bism-run sample " + modelPath +
                " --png FILE', or continue its run with 'bism-run MODEL.mlir "
                "--out DIR --resume'");
  if (resume && overwrite)
    return fail("--resume and --overwrite exclude each other");
  std::string dir = resolvedOutDir(sets);
  std::string lastPath = joinPath(dir, "last.ckpt");
  std::string error;
  // Data parallel (mpirun -np P): every rank compiles its share of the
  // batch and trains; rank 0 alone owns the run folder.
  runtime::ProcessGroup *group = runtime::processGroup();
  int64_t rank = group ? group->rank() : 0, ranks = group ? group->size() : 1;
  if (ranks > 1 && device == "cuda") {
    // One GPU per rank: a host's ranks take its devices in order.
    if (std::string why = runtime::cuda::ncclUnavailableReason(); !why.empty())
      return fail("data-parallel training on GPUs needs NCCL: " + why);
    mgpuSetDefaultDevice(runtime::launcherLocalRank());
  }
  // An existing folder is locked before anything in it is read: a second
  // writer (or a resume of a run still training) stops here instead of
  // mixing files. A new one is made and locked once the model compiled.
  bool locked = llvm::sys::fs::is_directory(dir) || !leader();
  if (leader() && locked && !runtime::lockRunFolder(dir, error))
    return fail(error);
  std::vector<std::string> existing;
  if (leader())
    existing = runFolderEntries(dir);
  auto notEmpty = [&]() {
    std::string listed;
    for (size_t i = 0; i < existing.size() && i < 4; ++i)
      listed += (i ? ", " : "") + existing[i];
    if (existing.size() > 4)
      listed += ", ...";
    return fail("the run folder '" + dir + "' is not empty (" + listed +
                "): pass --resume to continue its run, --overwrite to "
                "replace it, or another --out");
  };
  if (!resume && !overwrite && !existing.empty())
    return notEmpty();
  runtime::Checkpoint resumeFrom;
  if (resume) {
    if (!runtime::readCheckpoint(lastPath, resumeFrom, error))
      return fail("--resume: " + error);
    const std::string *saved = resumeFrom.findMeta("overrides");
    std::string now = llvm::join(sets, "\n");
    if (saved && *saved != now)
      return fail("--resume: the run in '" + dir + "' was trained with "
                  "different --set/--iters/--seed options ('" + *saved +
                  "' vs '" + now + "'); give the same options and a "
                  "larger --iters");
  }

  ModelLoadOptions options;
  options.path = modelPath;
  options.overrides = sets;
  if (iterations >= 0)
    options.overrides.push_back("iterations=" + std::to_string(iterations));
  options.modelName = modelName;
  options.jit = jitOptions();
  options.rank = rank;
  options.ranks = ranks;
  // The data set is read and checked against the model before compiling
  // (which takes seconds): a wrong name or width is said at once.
  runtime::Dataset data;
  options.beforeCompile = [&](const CompiledModel &model) -> llvm::Error {
    std::string error;
    if (!readData(model, data, error))
      return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
    int64_t width = model.visibleDims();
    if (data.train.rank() != 2 || data.train.shape()[1] != width)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "the training data is " + data.train.typeString() +
              " but the model's batch is " +
              std::to_string(model.batchSize()) + "x" +
              std::to_string(width) + "x" +
              runtime::elementTypeName(model.elementType()) +
              " (rows are examples; the widths must agree)");
    if (data.train.shape()[0] < model.batchSize())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "the training data has " + std::to_string(data.train.shape()[0]) +
              " rows, fewer than the batch size " +
              std::to_string(model.batchSize()));
    return llvm::Error::success();
  };
  say("compiling " + modelPath + " ...");
  auto started = std::chrono::steady_clock::now();
  auto compiled = CompiledModel::load(options);
  if (!compiled)
    return fail(llvm::toString(compiled.takeError()));
  CompiledModel &model = **compiled;
  double compileSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  const train::TrainSpec &spec = model.info().spec;
  say(llvm::formatv("compiled in {0:F2} s ({1}); {2} thread(s); resolved "
                    "configuration:",
                    compileSeconds, cacheOutcomeName(model.cacheOutcome()),
                    runtime::threadCount())
          .str());
  if (leader())
    llvm::outs() << model.configJson();
  CompiledModel::StepMemory memory = model.trainStepMemory();
  if (memory.arenaBytes >= 0)
    say(llvm::formatv("step memory: {0:F2} MiB of temporaries (the buffer "
                      "plan) + {1:F2} MiB of inputs and outputs",
                      memory.arenaBytes / 1048576.0,
                      memory.inputOutputBytes / 1048576.0)
            .str());

  say(llvm::formatv("data: {0}, {1} train / {2} validation / {3} test rows "
                    "of {4}",
                    spec.dataset, data.train.shape()[0],
                    data.validation.numElements() ? data.validation.shape()[0] : 0,
                    data.test.numElements() ? data.test.shape()[0] : 0,
                    data.train.shape()[1])
          .str());

  if (!locked) {
    // Another process may have made the folder since it was looked at.
    if (!runtime::createDirectories(dir, error))
      return fail("--out: " + error);
    if (!runtime::lockRunFolder(dir, error))
      return fail(error);
    existing = runFolderEntries(dir);
    if (!resume && !overwrite && !existing.empty())
      return notEmpty();
  }
  if (overwrite && leader()) {
    // Only now, with the new run ready to start: a failed compile keeps the
    // old one. Files bism-run did not write stay.
    for (const std::string &name : existing)
      if (isRunOutput(name))
        if (std::error_code ec = llvm::sys::fs::remove(joinPath(dir, name)))
          return fail("--overwrite: cannot remove '" + joinPath(dir, name) +
                      "': " + ec.message());
    if (!existing.empty())
      say("--overwrite: replaced the run in " + dir);
  }
  if (leader() && !runtime::writeFileAtomically(joinPath(dir, "config.json"),
                                                model.configJson(), error))
    return fail(error);

  runtime::TrainProgram program = model.trainProgram();
  program.evaluate = [&](const std::vector<HostTensor> &state, bool final,
                         runtime::MetricValues &out, std::string &why) {
    return evaluate(model, data, state, final, out, why);
  };
  runtime::TrainOptions trainOptions;
  trainOptions.iterations = spec.iterations;
  trainOptions.seed = spec.seed;
  trainOptions.logEvery = logEvery;
  trainOptions.evalEvery = evalEvery;
  trainOptions.checkpointEvery = checkpointEvery;
  trainOptions.keepEvery = keepEvery;
  trainOptions.outDir = dir;
  trainOptions.progress = !noProgress;
  trainOptions.checkpointMeta = {{"model_file", absolutePath(modelPath)},
                                 {"model_name", modelName},
                                 {"overrides", llvm::join(sets, "\n")},
                                 {"config", model.configJson()}};
  storeSources(model.sources(), trainOptions.checkpointMeta);
  trainOptions.say = say;
  trainOptions.group = group;
  runtime::Trainer trainer(program, data.train, trainOptions);
  bool ready = resume ? trainer.resume(resumeFrom, error)
                      : trainer.start(model.initialState(spec.seed, data.train),
                                      error);
  if (!ready)
    return fail((resume ? "--resume: " : "") + error);
  if (resume)
    say("resuming " + lastPath + " at step " + std::to_string(trainer.step()));
  if (ranks > 1)
    say(llvm::formatv("training {0} steps (batch {1} = {2} ranks x {3}) into "
                      "{4}",
                      spec.iterations - trainer.step(),
                      model.batchSize() * ranks, ranks, model.batchSize(), dir)
            .str());
  else
    say(llvm::formatv("training {0} steps (batch {1}) into {2}",
                      spec.iterations - trainer.step(), model.batchSize(), dir)
            .str());
  if (!trainer.run(error))
    return fail(error);

  // The process's high-water mark: with a cached step, training's own.
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::string summary =
      llvm::formatv("done: {0} steps, {1:F1} it/s, peak RSS {2} MiB",
                    trainer.step(), trainer.iterationsPerSecond(),
                    usage.ru_maxrss / 1024)
          .str();
  for (const auto &[name, value] : trainer.lastEvaluation())
    summary += llvm::formatv(", {0} {1:F4}", name, value).str();
  say(summary + "; metrics in " + joinPath(dir, "metrics.jsonl"));
  if (llvm::any_of(trainer.lastEvaluation(),
                   [](const auto &metric) { return metric.first == "ais_log_z"; }))
    say(llvm::formatv("test_ll is a quick AIS estimate ({0} chains, {1} "
                      "distributions); 'bism-run eval {2}' runs the BiSM "
                      "paper's 2000 x 2000",
                      int64_t(finalAisChains), int64_t(finalAisSteps), dir)
            .str());
  if (leader() && !noPng &&
      !writePictures(model, data, trainer.state(), dir, error))
    return fail(error);
  return 0;
}

int runEval() {
  if (std::string error = optionRangeError(); !error.empty())
    return fail(error);
  CheckpointRun run;
  if (!openCheckpointRun(checkpointPath, run))
    return 1;
  CompiledModel &model = *run.model;
  const std::vector<HostTensor> &state = run.state;
  const runtime::Dataset &data = run.data;
  const HostTensor *rows = split == "test"         ? &data.test
                           : split == "validation" ? &data.validation
                           : split == "train"      ? &data.train
                                                   : nullptr;
  if (!rows)
    return fail("--split must be test, validation or train, got '" + split +
                "'");
  if (rows->numElements() == 0)
    return fail("the data set has no " + split + " split");
  HostTensor part = evaluationRows(*rows);
  rows = &part;
  std::string method = llMethod;
  if (method == "auto")
    method = model.hasExactLogPartition() ? "exact"
             : model.hasAis()             ? "ais"
                                          : "none";
  if (method != "exact" && method != "ais" && method != "none")
    return fail("--ll must be auto, exact, ais or none, got '" + method + "'");
  runtime::MetricValues values;
  std::string error;
  if (method != "none" && !logLikelihood(model, state, *rows, method, split,
                                         evalSeed, values, error))
    return fail(error);
  if (ssmProjections > 0 && model.hasSsmScore()) {
    auto ssm = model.ssmScore(state, *rows, ssmProjections, evalSeed);
    if (!ssm)
      return fail(llvm::toString(ssm.takeError()));
    values.emplace_back(split + "_ssm", *ssm);
  }
  if (ssmProjections > 0 && model.hasTestObjective()) {
    auto loss = model.testObjective(state, *rows, ssmProjections, evalSeed);
    if (!loss)
      return fail(llvm::toString(loss.takeError()));
    values.emplace_back(split + "_loss", *loss);
  }
  if (ssmProjections > 0 && model.hasApproximateSsm()) {
    auto ssm = model.approximateSsm(state, *rows, ssmProjections, evalSeed);
    if (!ssm)
      return fail(llvm::toString(ssm.takeError()));
    values.emplace_back(split + "_approx_ssm", *ssm);
  }
  if (fisherDraws > 0 && model.hasPosteriorFisher()) {
    auto fisher = model.posteriorFisher(state, *rows, fisherDraws, evalSeed);
    if (!fisher)
      return fail(llvm::toString(fisher.takeError()));
    values.emplace_back(split + "_posterior_fisher", *fisher);
  }
  {
    std::string error;
    if (!generatorAndOodFigures(model, run.data, state, *rows, split, true,
                                values, error))
      return fail(error);
  }
  // Valid JSON whatever the checkpoint holds (non-finite figures are
  // warned about below).
  const std::string *step = run.checkpoint.findMeta("step");
  std::string line = "{\"step\": " + runtime::jsonStep(step) +
                     ", \"ll_method\": \"" + method + "\"";
  if (std::string why = noLogLikelihoodReason(model);
      !why.empty() && llMethod == "auto") {
    llvm::errs() << "bism-run: note: no log-likelihood: " << why << "\n";
    line += ", \"ll_note\": " + runtime::jsonQuoted(why);
  }
  for (const auto &[name, value] : values)
    line += ", \"" + name + "\": " + runtime::jsonFixedOrNull(value, 6);
  llvm::outs() << line << "}\n";
  warnAboutMetrics(values);
  return 0;
}

/// `bism-run sample --sampler generator`: G(h), h ~ N(0, I), refined by
/// --sweeps Langevin steps on the free energy when asked (0 by default for
/// this sampler: the generator's samples as they are).
int sampleFromGenerator(CompiledModel &model,
                        const std::vector<HostTensor> &state,
                        const runtime::Dataset &data) {
  if (!model.hasGenerator())
    return fail("--sampler generator: the model has no generator (method "
                "bidvl)");
  if (sampleCount < 1 || sweeps < 0)
    return fail("--count must be >= 1 and --sweeps >= 0");
  int64_t steps = sweeps.getNumOccurrences() ? int64_t(sweeps) : 0;
  uint64_t seed = seedOption >= 0 ? uint64_t(seedOption) : 0;
  auto generated = model.sampleGenerator(state, sampleCount, seed);
  if (!generated)
    return fail(llvm::toString(generated.takeError()));
  HostTensor samples = std::move(*generated);
  if (steps > 0) {
    ChainSetup setup;
    setup.images = &samples;
    auto drawn = drawSamples(model, state, "langevin", sampleCount, steps,
                             seed, setup);
    if (!drawn)
      return fail(llvm::toString(drawn.takeError()));
    samples = std::move(drawn->samples);
  }
  std::string error;
  if (!npyPath.empty() && !runtime::writeNpy(npyPath, samples, error))
    return fail(error);
  if (!pngPath.empty() && !writeSamplesPng(pngPath, samples, data, error, 0))
    return fail(error);
  say(llvm::formatv("{0} generator samples{1}", int64_t(sampleCount),
                    steps > 0 ? llvm::formatv(", refined by {0} Langevin "
                                              "steps on the free energy",
                                              steps)
                                    .str()
                              : std::string())
          .str());
  return 0;
}

int runSample() {
  if (std::string error = optionRangeError(); !error.empty())
    return fail(error);
  if (npyPath.empty() && pngPath.empty())
    return fail("give --png FILE and/or --npy FILE");
  // Option values first: compiling the model takes seconds.
  if (conditionalMean != "auto" && conditionalMean != "on" &&
      conditionalMean != "off")
    return fail("--conditional-mean must be auto, on or off, got '" +
                conditionalMean + "'");
  if (latentMode != "joint" && latentMode != "posterior-mean")
    return fail("--latents must be joint or posterior-mean, got '" +
                latentMode + "'");
  if (chainStart != "image" && chainStart != "noise")
    return fail("--start must be image or noise, got '" + chainStart + "'");
  if (denoise != "auto" && denoise != "on" && denoise != "off")
    return fail("--denoise must be auto, on or off, got '" + denoise + "'");
  if (sourceImages != "train" && sourceImages != "test")
    return fail("--images must be train or test, got '" + sourceImages + "'");
  CheckpointRun run;
  if (!openCheckpointRun(checkpointPath, run))
    return 1;
  CompiledModel &model = *run.model;
  const std::vector<HostTensor> &state = run.state;
  const runtime::Dataset &data = run.data;
  std::string method = chooseSampler(model);
  if (method == "generator")
    return sampleFromGenerator(model, state, data);
  if (method == "gibbs" && !model.hasGibbs())
    return fail("--sampler gibbs: the model has no gibbs function");
  if (method == "langevin" && !model.hasLangevin())
    return fail("--sampler langevin: the model has neither a free_energy "
                "function nor continuous latents");
  if (method != "gibbs" && method != "langevin")
    return fail("--sampler must be auto, gibbs, langevin or generator, got '" +
                method + "'");
  if (sampleCount < 1 || sweeps < 0)
    return fail("--count must be >= 1 and --sweeps >= 0");
  if (conditionalMean == "on" && (method != "gibbs" || sweeps < 1))
    return fail("--conditional-mean on needs Gibbs sweeps (--sampler gibbs "
                "and --sweeps >= 1): the mean of p(v|h) is the last sweep "
                "without its noise");
  bool fixLatents = latentMode == "posterior-mean";
  if (conditionalSources < 0)
    return fail("--conditional must be >= 0");
  if (fixLatents || conditionalSources > 0) {
    const char *option = conditionalSources > 0 ? "--conditional"
                                                : "--latents posterior-mean";
    if (method != "langevin")
      return fail(std::string(option) + " needs --sampler langevin");
    if (model.hasFreeEnergy())
      return fail(std::string(option) +
                  ": the model has a free energy, so its Langevin chains run "
                  "on v alone (p(v) = exp(-F(v)) / Z), without latents");
  }
  if (conditionalSources > sampleCount)
    return fail("--conditional " + std::to_string(conditionalSources) +
                " needs at least that many samples (--count " +
                std::to_string(sampleCount) + ")");
  if (!fixLatents && !conditionalSources && method == "langevin" &&
      !model.hasFreeEnergy() &&
      model.info().posteriorKind == train::PosteriorKind::Bernoulli)
    fixLatents = true; // binary latents: Langevin needs a gradient in h
  int64_t count = conditionalSources > 0
                      ? sampleCount / conditionalSources * conditionalSources
                      : int64_t(sampleCount);
  bool mean = method == "gibbs" && sweeps > 0 &&
              (conditionalMean == "on" ||
               (conditionalMean == "auto" && data.imageShape.size() == 2));
  if (chainStart == "noise" && method != "langevin")
    return fail("--start noise needs --sampler langevin (Gibbs chains start "
                "at data points)");
  const HostTensor *images =
      sourceImages == "train" ? &data.train : &data.test;
  if (images->numElements() == 0)
    return fail("the data set has no " + sourceImages + " split");
  const train::TrainSpec &spec = model.info().spec;
  bool denoisingObjective = spec.objective == train::Objective::DSM ||
                            spec.objective == train::Objective::MDSM;
  if (denoise == "on" && (method != "langevin" || !denoisingObjective))
    return fail("--denoise on needs --sampler langevin and a model trained "
                "by DSM or MDSM (the step uses their noise level)");
  ChainSetup setup;
  if (method == "langevin" && denoisingObjective &&
      (denoise == "on" ||
       (denoise == "auto" && data.imageShape.size() == 2))) {
    double sigma = spec.objective == train::Objective::MDSM ? spec.sigma0
                                                            : spec.noiseStd;
    setup.denoiseVariance = sigma * sigma;
  }
  setup.images = images;
  setup.noiseStart = chainStart == "noise";
  setup.mean = mean;
  setup.fixLatents = fixLatents;
  setup.sources = conditionalSources;
  std::string error;
  auto drawn = drawSamples(model, state, method, count, sweeps,
                           seedOption >= 0 ? uint64_t(seedOption) : 0, setup);
  if (!drawn)
    return fail(llvm::toString(drawn.takeError()));
  const HostTensor &samples = drawn->samples;
  if (!npyPath.empty() && !runtime::writeNpy(npyPath, samples, error))
    return fail(error);
  if (!pngPath.empty() &&
      !writeSamplesPng(pngPath, samples, data, error,
                       conditionalSources > 0 ? count / conditionalSources : 0))
    return fail(error);
  std::string how =
      mean ? ", the last one showing the mean of p(v|h)"
      : conditionalSources > 0
          ? llvm::formatv(" from p(v|h) at the posterior means of {0} {1} "
                          "images, {2} each",
                          int64_t(conditionalSources),
                          sourceImages.getValue(), count / conditionalSources)
                .str()
      : fixLatents && method == "langevin"
          ? " from p(v|h) at the posterior mean of each chain's " +
                sourceImages + " image"
          : "";
  if (setup.noiseStart)
    how += ", started at uniform noise";
  if (setup.denoiseVariance > 0) {
    std::ostringstream sigma;
    sigma << std::sqrt(setup.denoiseVariance);
    how += ", and a denoising step (sigma " + sigma.str() + ")";
  }
  say(llvm::formatv("{0} samples after {1} {2}{3}", count, int64_t(sweeps),
                    method == "gibbs" ? "Gibbs sweeps" : "Langevin steps", how)
          .str());
  // From noise with each chain's h inferred from its own image: how well
  // q's mean and the chain on p(v|h) reconstruct the image.
  if (setup.noiseStart && fixLatents && conditionalSources == 0) {
    double squares = 0;
    for (int64_t i = 0, n = samples.numElements(); i < n; ++i) {
      double error = samples.dataAs<double>()[i] -
                     drawn->images.dataAs<double>()[i];
      squares += error * error;
    }
    double rmse = std::sqrt(squares / double(samples.numElements()));
    say(llvm::formatv("reconstruction of {0} {1} images from noise through "
                      "q's mean and p(v|h): RMSE {2:F5} per element",
                      count, sourceImages.getValue(), rmse)
            .str());
  }
  return 0;
}

int runExport() {
  std::string path = checkpointOrRunFolder(checkpointPath), error;
  runtime::Checkpoint checkpoint;
  if (!runtime::readCheckpoint(path, checkpoint, error))
    return fail(error);
  std::vector<std::string> written;
  if (!runtime::exportCheckpointNpy(checkpoint, exportDir, exportAll, written,
                                    error))
    return fail("--npy: " + error);
  if (written.empty())
    return fail(path + " holds no parameters (theta.*, phi.*); --all writes "
                       "every tensor");
  const std::string *step = checkpoint.findMeta("step");
  size_t index = 0;
  for (const auto &[name, tensor] : checkpoint.tensors)
    if (exportAll || runtime::isParameterName(name))
      say(name + " " + tensor.typeString() + " -> " + written[index++]);
  say(llvm::formatv("{0} tensor(s) of step {1} written to {2}",
                    written.size(), step ? *step : "?", exportDir.getValue())
          .str());
  return 0;
}

int runPlot() {
  std::vector<runtime::plot::Series> series;
  for (const std::string &run : plotRuns) {
    std::string path = llvm::sys::fs::is_directory(run)
                           ? joinPath(run, "metrics.jsonl")
                           : run;
    std::string text, error;
    if (!runtime::readWholeFile(path, text, error))
      return fail(error);
    runtime::plot::Series curve;
    curve.label = llvm::sys::path::filename(
                      llvm::sys::path::is_separator(run.back())
                          ? llvm::StringRef(run).drop_back()
                          : llvm::StringRef(run))
                      .str();
    llvm::SmallVector<llvm::StringRef> lines;
    llvm::StringRef(text).split(lines, '\n', -1, false);
    for (llvm::StringRef line : lines) {
      double value = 0;
      int64_t step = runtime::metricsLineStep(line.str());
      if (step >= 0 && runtime::metricInLine(line.str(), plotMetric, value)) {
        curve.x.push_back(double(step));
        curve.y.push_back(value);
      }
    }
    if (curve.x.empty())
      return fail(path + " has no '" + plotMetric.getValue() +
                  "' values (--metric names one of its keys)");
    series.push_back(std::move(curve));
  }
  std::string png = plotPng;
  if (png.empty())
    png = plotRuns.size() == 1 && llvm::sys::fs::is_directory(plotRuns[0])
              ? joinPath(plotRuns[0], plotMetric + ".png")
              : plotMetric + ".png";
  runtime::plot::Labels labels;
  labels.title = plotMetric;
  labels.x = "step";
  labels.y = plotMetric;
  if (series.size() == 1)
    series[0].label.clear();
  std::string error;
  if (!runtime::plot::linePlot(png, series, labels, plotLogY, error, plotYMin,
                               plotYMax))
    return fail(error);
  say("wrote " + png);
  return 0;
}

} // namespace bism::tools
