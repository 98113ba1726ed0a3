// bism-run's command line: an option of another subcommand is named as
// such (not "Unknown command line argument ... Too many positional
// arguments"), --help shows bism-run's options with their defaults and not
// LLVM's.
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --ll exact 2>&1 | FileCheck %s --check-prefix=TRAIN
// TRAIN: bism-run: error: --ll is an option of bism-run eval, not of bism-run train (bism-run train --help lists its options)
// RUN: not bism-run eval run --iters=5 2>&1 | FileCheck %s --check-prefix=EVAL
// EVAL: bism-run: error: --iters is an option of bism-run train, not of bism-run eval (bism-run eval --help lists its options)
// RUN: not bism-run export run --npy x --png y.png 2>&1 | FileCheck %s --check-prefix=EXPORT
// EXPORT: bism-run: error: --png is an option of bism-run plot and bism-run sample, not of bism-run export (bism-run export --help lists its options)

// RUN: bism-run eval --help | FileCheck %s --check-prefix=HELP
// HELP: --ais-chains=<long> {{.*}} (default 2000)
// HELP: --ll=<string> {{.*}} (default auto)
// HELP: --split=<string> {{.*}} (default test)
// RUN: bism-run sample --help | FileCheck %s --check-prefix=SAMPLEHELP
// SAMPLEHELP: --step-size=<number> {{.*}} (default 0.0001)
// Training ends with a quick AIS; eval's is the paper's.
// RUN: bism-run train --help | FileCheck %s --check-prefix=TRAINHELP
// TRAINHELP: --ais-chains=<long> {{.*}} 'bism-run eval' uses 2000 (default 200)
// TRAINHELP: --ais-steps=<long> {{.*}} 'bism-run eval' uses 2000 (default 500)
// RUN: bism-run train --help | FileCheck %s --check-prefix=NOLLVM
// NOLLVM-NOT: amdgpu
// NOLLVM-NOT: aarch64
// NOLLVM: --checkpoint-every=<long> {{.*}} (default 1000)

// Out-of-range values are errors, not silently the default (issue 16).
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --iters -1 --out %t-iters 2>&1 | FileCheck %s --check-prefix=ITERS
// ITERS: bism-run: error: --iters must be >= 1, got -1
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --seed -5 --out %t-seed 2>&1 | FileCheck %s --check-prefix=SEED
// SEED: bism-run: error: --seed must be >= 0, got -5
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --opt-level 9 --out %t-opt 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: bism-run: error: --opt-level must be 0-3, got 9
// RUN: not bism-run eval run --eval-rows -3 2>&1 | FileCheck %s --check-prefix=ROWS
// ROWS: bism-run: error: --eval-rows must be >= 0 (0: all), got -3
// RUN: not bism-run sample run --seed -2 --npy x.npy 2>&1 | FileCheck %s --check-prefix=SAMPLESEED
// SAMPLESEED: bism-run: error: --seed must be >= 0, got -2
