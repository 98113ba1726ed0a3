// A checkpoint holds the model it was trained with (the model file and the
// ONNX files it names): eval and sample use that, and say so when the
// files on disk have changed or are gone, instead of silently evaluating
// another model.
// RUN: rm -rf %t && mkdir -p %t/src && cd %t
// RUN: cp %S/../../examples/onnx/checkerboard.mlir %S/../../examples/onnx/grbm_energy.onnx %S/../../examples/onnx/mlp_posterior.onnx src/
// RUN: bism-run src/checkerboard.mlir --iters 30 --log-every 30 --eval-every 0 --no-png --out run > /dev/null
// RUN: bism-run eval run --ll exact 2>&1 > before.json | FileCheck %s --check-prefix=SAME --allow-empty
// SAME-NOT: note

// The model edited after training (its posterior's temperature).
// RUN: sed -i 's/temperature 0.1/temperature 0.5/' src/checkerboard.mlir
// RUN: not cmp -s src/checkerboard.mlir %S/../../examples/onnx/checkerboard.mlir
// RUN: bism-run eval run --ll exact 2>&1 > changed.json | FileCheck %s --check-prefix=CHANGED
// CHANGED: bism-run: note: '{{.*}}src/checkerboard.mlir' has changed since training; using the model stored in the checkpoint (train again to use the new one)
// RUN: cmp before.json changed.json

// An ONNX file it names removed, then everything.
// RUN: rm src/mlp_posterior.onnx
// RUN: bism-run eval run --ll exact 2>&1 > gone.json | FileCheck %s --check-prefix=GONE
// GONE: bism-run: note: '{{.*}}src/checkerboard.mlir' (or an ONNX file it names) is gone; using the model stored in the checkpoint
// RUN: cmp before.json gone.json
// RUN: rm -r src
// RUN: bism-run sample run --count 4 --sweeps 2 --npy s.npy 2>&1 | FileCheck %s --check-prefix=GONE
// RUN: test -f s.npy
