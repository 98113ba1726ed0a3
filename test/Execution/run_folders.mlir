// Run folders are not lost or mixed up: train refuses a folder that holds a
// run unless told to --resume or --overwrite (which removes the old run's
// files, stale step checkpoints included, and keeps the user's own);
// variants of a model get their own default folder; eval and sample take a
// run folder; a checkpoint given as a model is recognised; the data set is
// checked before anything is compiled.
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 20 --log-every 10 --eval-every 0 --keep-every 10 --no-png --out run > /dev/null
// RUN: ls run | FileCheck %s --check-prefix=FIRST
// FIRST: config.json
// FIRST-NEXT: last.ckpt
// FIRST-NEXT: metrics.jsonl
// FIRST-NEXT: step-{{[0-9]+}}.ckpt

// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --iters 20 --out run 2>&1 | FileCheck %s --check-prefix=REFUSE
// REFUSE: bism-run: error: the run folder 'run' is not empty (config.json, last.ckpt, metrics.jsonl, step-{{[0-9]+}}.ckpt, ...): pass --resume to continue its run, --overwrite to replace it, or another --out
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --out run --resume --overwrite 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: bism-run: error: --resume and --overwrite exclude each other

// RUN: echo "my notes" > run/notes.txt
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 10 --log-every 10 --eval-every 0 --no-png --out run --overwrite | FileCheck %s --check-prefix=OVERWRITE
// OVERWRITE: --overwrite: replaced the run in run
// OVERWRITE: done: 10 steps
// RUN: ls run | FileCheck %s --check-prefix=REPLACED
// REPLACED: config.json
// REPLACED-NEXT: last.ckpt
// REPLACED-NEXT: metrics.jsonl
// REPLACED-NEXT: notes.txt
// REPLACED-NEXT: step-0.ckpt
// REPLACED-NOT: step-20
// RUN: FileCheck %s --input-file=run/metrics.jsonl --check-prefix=METRICS
// METRICS: {"step": 10,
// METRICS-NOT: "step": 20

// eval and sample take the folder (its last.ckpt).
// RUN: bism-run eval run --ll none 2>/dev/null | FileCheck %s --check-prefix=EVAL
// EVAL: {"step": 10, "ll_method": "none", "test_ssm":
// RUN: bism-run sample run --count 4 --sweeps 2 --npy s.npy 2>/dev/null
// RUN: test -f s.npy
// RUN: not bism-run eval %t 2>&1 | FileCheck %s --check-prefix=NOCKPT
// NOCKPT: bism-run: error: {{.*}}last.ckpt

// A checkpoint where a model file belongs.
// RUN: not bism-run run/last.ckpt 2>&1 | FileCheck %s --check-prefix=HINT
// HINT: bism-run: error: 'run/last.ckpt' is a checkpoint, not a model file: evaluate it with 'bism-run eval run/last.ckpt', sample with 'bism-run sample run/last.ckpt --png FILE', or continue its run with 'bism-run MODEL.mlir --out DIR --resume'

// The default folder names the overrides.
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 10 --log-every 10 --eval-every 0 --no-png --set N=2 --seed 4 > /dev/null
// RUN: ls runs | FileCheck %s --check-prefix=DEFAULT
// DEFAULT: checkerboard-N=2-seed=4

// The batch size is chosen on the command line: the model writes its batch
// dimension as `?` and states batch_size = 100 once.
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 10 --log-every 10 --eval-every 0 --no-png --set batch_size=50 | FileCheck %s --check-prefix=BATCH
// BATCH: training 10 steps (batch 50) into runs/checkerboard-batch_size=50
// RUN: FileCheck %s --input-file=runs/checkerboard-batch_size=50/config.json --check-prefix=BATCHCONFIG
// BATCHCONFIG: "batch_size": 50

// The data set is read before compiling: no "compiled in" line.
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set dataset=missing.npy --out data 2>&1 | FileCheck %s --check-prefix=DATA
// DATA-NOT: compiled in
// DATA: bism-run: error: dataset 'missing.npy': cannot open 'missing.npy'
// RUN: not test -e data

// A model with an energy and a posterior but no free energy: eval says in
// one line why there is no log-likelihood (on stderr and in the JSON).
// RUN: bism-run %S/../../examples/mlp/fashion_mnist.mlir --iters 2 --log-every 2 --eval-every 0 --no-png --out mlp > /dev/null
// RUN: bism-run eval mlp 2>&1 | FileCheck %s --check-prefix=NOLL
// NOLL: bism-run: note: no log-likelihood: the model has an energy and a posterior but no free energy (log p(v) up to log Z), which a log-likelihood needs; eval reports loss, the training objective on these points, approx_ssm, the SSM loss with the score through the posterior (both lower is better), and the posterior Fisher divergence where the latents are continuous
// NOLL: {"step": 2, "ll_method": "none", "ll_note": "the model has an energy and a posterior but no free energy {{.*}}", "test_loss": {{[0-9]+\.[0-9]+}}, "test_approx_ssm": {{-?[0-9]+\.[0-9]+}}, "test_posterior_fisher":

// One writer per run folder (issue 16): while another process holds the
// folder's lock, train and resume stop before touching it, naming the
// holder's pid that the lock file records.
// RUN: mkdir -p %t/busy && echo 4242 > %t/busy/.bism-lock
// RUN: not flock %t/busy/.bism-lock bism-run %S/../../examples/grbm/checkerboard.mlir --iters 10 --no-png --out %t/busy 2>&1 | FileCheck %s --check-prefix=BUSY
// RUN: not flock %t/busy/.bism-lock bism-run %S/../../examples/grbm/checkerboard.mlir --iters 10 --no-png --out %t/busy --resume 2>&1 | FileCheck %s --check-prefix=BUSY
// BUSY: bism-run: error: run folder {{.*}}busy is in use by pid 4242 (one bism-run train writes to a folder at a time)
// Once it is free the folder trains; the lock file is not part of the run.
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 10 --log-every 10 --eval-every 0 --no-png --out %t/busy > /dev/null
// RUN: ls %t/busy | FileCheck %s --check-prefix=FREE
// FREE: config.json
// FREE-NEXT: last.ckpt
// FREE-NEXT: metrics.jsonl
