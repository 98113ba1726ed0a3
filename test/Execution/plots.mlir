// Figures: a 2-D run writes density.png (the model's log density over the
// data's extent, with the test data) and samples.png (samples and test
// data); bism-run plot draws a metric of one or more runs against the step.
// The pictures themselves are checked in test/unit/PngTest.cpp (Plot.*);
// docs/figures/ has one of each.
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 200 --log-every 50 --eval-every 100 --out a > /dev/null
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --iters 200 --log-every 50 --eval-every 100 --set N=0 --out b > /dev/null
// RUN: head -c 24 a/density.png | od -An -tx1 | FileCheck %s --check-prefix=PNG
// RUN: head -c 24 a/samples.png | od -An -tx1 | FileCheck %s --check-prefix=PNG
// The PNG signature, then an IHDR of 900 x 720 (0x384 x 0x2d0).
// PNG: 89 50 4e 47 0d 0a 1a 0a 00 00 00 0d 49 48 44 52
// PNG-NEXT: 00 00 03 84 00 00 02 d0
// RUN: bism-run plot a | FileCheck %s --check-prefix=ONE
// ONE: wrote a/loss.png
// RUN: bism-run plot a b --metric test_ll --png ll.png | FileCheck %s --check-prefix=TWO
// TWO: wrote ll.png
// RUN: head -c 24 ll.png | od -An -tx1 | FileCheck %s --check-prefix=PNG
// RUN: not bism-run plot a --metric nothing 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: bism-run: error: a/metrics.jsonl has no 'nothing' values (--metric names one of its keys)
// RUN: not bism-run plot missing 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: bism-run: error: {{.*}}missing
