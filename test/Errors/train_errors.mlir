// bism-run train/eval/sample on bad input: a clear message naming the
// problem, exit code 1, nothing half-written.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bism-run %s --entry three_columns --output-npy %t/wide --print-results=false

// A spec override that is not a field, or of the wrong kind.
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set unrol_steps=3 --out %t/a 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: checkerboard.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'bism.model' op unknown spec field 'unrol_steps'; known fields:
// UNKNOWN: bism-run: error: invalid model in
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set lr_theta=fast --out %t/a 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: error: 'bism.model' op spec field 'lr_theta' must be a number, got "fast"
// Counts the step builder unrolls have upper bounds: a huge K or N used to
// exhaust memory for minutes (issue 16).
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set N=100000 --out %t/a 2>&1 | FileCheck %s --check-prefix=HUGEN
// HUGEN: error: 'bism.model' op spec field 'unroll_steps' must be at most 200 (the steps are unrolled into the compiled program), got 100000
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set K=1000000 --out %t/a 2>&1 | FileCheck %s --check-prefix=HUGEK
// HUGEK: error: 'bism.model' op spec field 'inner_steps' must be at most 1000 (the steps are unrolled into the compiled program), got 1000000
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set novalue --out %t/a 2>&1 | FileCheck %s --check-prefix=NOEQ
// NOEQ: bism-run: error: --set 'novalue': expected key=value

// The unrolled steps' optimiser: sgd (with unroll_lr) or same.
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set unroll_optimizer=adam --out %t/a 2>&1 | FileCheck %s --check-prefix=UNROLL
// UNROLL: error: 'bism.model' op spec field 'unroll_optimizer' must be "sgd" (plain gradient steps of size unroll_lr, the BiSM paper's Eqn. 13) or "same" (the phi optimiser, continuing its state), got "adam"
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set unroll_lr=0.1 --out %t/a 2>&1 | FileCheck %s --check-prefix=UNROLLLR
// UNROLLLR: error: 'bism.model' op spec field 'unroll_lr' applies to unroll_optimizer = "sgd"; with "same" the unrolled steps use lr_phi

// The implicit hypergradient: no unrolled steps, at least one CG iteration,
// a damping >= 0; its fields apply to it (and it to method bism) only.
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set hypergradient=implicit --out %t/a 2>&1 | FileCheck %s --check-prefix=IMPLICITN
// IMPLICITN: error: 'bism.model' op spec field 'unroll_steps' must be 0 with hypergradient = "implicit" (the implicit function theorem replaces the unrolled steps), got 5
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set hypergradient=newton --out %t/a 2>&1 | FileCheck %s --check-prefix=HYPER
// HYPER: error: 'bism.model' op spec field 'hypergradient' must be one of "unrolled", "implicit"; got "newton"
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set hypergradient=implicit --set N=0 --set cg_iterations=0 --out %t/a 2>&1 | FileCheck %s --check-prefix=CGZERO
// CGZERO: error: 'bism.model' op spec field 'cg_iterations' must be an integer >= 1, got 0
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set hypergradient=implicit --set N=0 --set cg_iterations=100000 --out %t/a 2>&1 | FileCheck %s --check-prefix=CGHUGE
// CGHUGE: error: 'bism.model' op spec field 'cg_iterations' must be at most 200 (the steps are unrolled into the compiled program), got 100000
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set hypergradient=implicit --set N=0 --set cg_damping=-0.1 --out %t/a 2>&1 | FileCheck %s --check-prefix=DAMPING
// DAMPING: error: 'bism.model' op spec field 'cg_damping' must be >= 0, got -1.000000e-01
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set cg_iterations=20 --out %t/a 2>&1 | FileCheck %s --check-prefix=CGUNROLLED
// CGUNROLLED: error: 'bism.model' op spec field 'cg_iterations' applies to hypergradient = "implicit" (the conjugate-gradient solve); the unrolled hypergradient has none
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set hypergradient=unrolled --set cg_damping=0.01 --out %t/a 2>&1 | FileCheck %s --check-prefix=DAMPUNROLLED
// DAMPUNROLLED: error: 'bism.model' op spec field 'cg_damping' applies to hypergradient = "implicit"
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set method=vages --set N=0 --set hypergradient=implicit --out %t/a 2>&1 | FileCheck %s --check-prefix=HYPERVAGES
// HYPERVAGES: error: 'bism.model' op spec field 'hypergradient' applies to method "bism"

// Missing model file, missing data, data of the wrong width.
// RUN: not bism-run %t/missing.mlir 2>&1 | FileCheck %s --check-prefix=NOMODEL
// NOMODEL: bism-run: error: cannot open model file '{{.*}}missing.mlir': No such file or directory
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set dataset=%t/none.npy --out %t/a 2>&1 | FileCheck %s --check-prefix=NODATA
// NODATA: bism-run: error: dataset '{{.*}}none.npy': {{.*}}none.npy
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set dataset=%t/wide/result0.npy --out %t/a 2>&1 | FileCheck %s --check-prefix=WIDTH
// WIDTH: bism-run: error: the training data is {{[0-9]+}}x3xf64 but the model's batch is 100x2xf32

// An output folder that cannot be created.
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --iters 10 --out %s/sub 2>&1 | FileCheck %s --check-prefix=OUT
// OUT: bism-run: error: --out: cannot create folder '{{.*}}train_errors.mlir/sub'

// Divergence: stop at the first non-finite metric, keep the last good
// checkpoint.
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set lr_theta=1e30 --set K=0 --set N=0 --iters 300 --checkpoint-every 1 --out %t/nan --no-png 2>&1 | FileCheck %s --check-prefix=NAN
// The checkpoint kept is the last state whose step gave finite metrics: its
// evaluation is finite.
// NAN: bism-run: error: training diverged: {{.*}} is {{NaN|infinite}} at step [[STEP:[0-9]+]]; stopped. The last good checkpoint is '{{.*}}nan/last.ckpt' (step {{[0-9]+}}; a smaller learning rate may help)
// RUN: bism-run eval %t/nan/last.ckpt | FileCheck %s --check-prefix=GOOD
// GOOD: {"step": {{[0-9]+}}, "ll_method": "exact", "test_ll": {{-?[0-9]+\.[0-9]+}}, "test_ssm": {{-?[0-9]+\.[0-9]+}}}

// Resumed, it diverges at once: the last good checkpoint is the one it
// resumed from (its step, not -1).
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set lr_theta=1e30 --set K=0 --set N=0 --iters 400 --checkpoint-every 1 --out %t/nan --no-png --resume 2>&1 | FileCheck %s --check-prefix=RENAN
// RENAN: stopped. The last good checkpoint is '{{.*}}nan/last.ckpt' (step {{[0-9]+}};

// Resuming without a checkpoint, or with different options.
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --resume --out %t/empty 2>&1 | FileCheck %s --check-prefix=NORESUME
// NORESUME: bism-run: error: --resume: cannot open '{{.*}}empty/last.ckpt'
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set K=0 --resume --out %t/nan 2>&1 | FileCheck %s --check-prefix=OTHER
// OTHER: bism-run: error: --resume: the run in '{{.*}}nan' was trained with different --set/--iters/--seed options

// Checkpoints that are not checkpoints, or are truncated.
// RUN: not bism-run eval %s 2>&1 | FileCheck %s --check-prefix=NOTCKPT
// NOTCKPT: bism-run: error: '{{.*}}train_errors.mlir' is not a valid bism checkpoint: bad magic
// RUN: head -c 200 %t/nan/last.ckpt > %t/cut.ckpt
// RUN: not bism-run eval %t/cut.ckpt 2>&1 | FileCheck %s --check-prefix=CUT
// CUT: bism-run: error: '{{.*}}cut.ckpt' is not a valid bism checkpoint: checksum mismatch (truncated or corrupted)
// RUN: not bism-run sample %t/nan/last.ckpt 2>&1 | FileCheck %s --check-prefix=NOOUT
// NOOUT: bism-run: error: give --png FILE and/or --npy FILE

func.func @three_columns() -> tensor<200x3xf64> {
  %c = bism.constant dense<0.5> : tensor<200x3xf64>
  return %c : tensor<200x3xf64>
}
