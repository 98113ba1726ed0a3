// The README's default example; values checked against numpy:
//   0.5*((v-b)**2*exp(-2*logsigma)).sum(1) - logaddexp(0, c + v@W).sum(1)
// RUN: bism-run %S/../../examples/basics/grbm_free_energy.mlir --entry free_energy --input "2xi32=0 42" | FileCheck %s
// CHECK: 8x2xf32=[0.250688 0.0369868][0.639132 0.632379]
// CHECK-NEXT: 8xf32=-2.64922 -3.71835
