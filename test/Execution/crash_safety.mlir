// bism-run train under SIGKILL, a second writer and a full disk (issue 16):
// test/Execution/Inputs/crash_safety.py runs the processes and compares the
// run folders byte for byte.
//
// At least 20 kills at random moments and right as each final file appears
// (step-200.ckpt, last.ckpt, the PNGs); resumed after each, the folder ends
// byte-identical to an uninterrupted run's.
// RUN: %python %S/Inputs/crash_safety.py kill-loop bism-run %S/../../examples/grbm/checkerboard.mlir %t.kill --kills 24 | FileCheck %s --check-prefix=KILL
// KILL: kill-loop: 24 kills in {{[0-9]+}} runs; 10 files byte-identical to the uninterrupted run (config.json, density.png, last.ckpt, metrics.jsonl, samples.png, step-0.ckpt, step-100.ckpt, step-150.ckpt, step-200.ckpt, step-50.ckpt)
//
// A second train (a fresh --overwrite or a --resume) on a folder in use is
// refused, naming the writer; the first run's files are as if it ran alone.
// RUN: %python %S/Inputs/crash_safety.py two-writers bism-run %S/../../examples/grbm/checkerboard.mlir %t.writers | FileCheck %s --check-prefix=WRITERS
// WRITERS: two-writers: the second writer was refused (bism-run: error: run folder {{.*}}shared is in use by pid {{[0-9]+}} (one bism-run train writes to a folder at a time)); the first run's 46 files are as if alone
//
// A 64 KiB tmpfs fills during training: exit 1 with the errno, and the last
// good checkpoint still evaluates (skipped, with the reason, where no mount
// namespace can be made).
// RUN: %python %S/Inputs/crash_safety.py full-disk bism-run %S/../../examples/grbm/checkerboard.mlir %t.disk | FileCheck %s --check-prefix=DISK
// DISK: full-disk: {{(bism-run: error: cannot write .*: No space left on device; eval of the last good checkpoint: \{"step": [0-9]+, "ll_method": "none", "test_ssm": -?[0-9.]+\})|(UNSUPPORTED here: .*)}}
