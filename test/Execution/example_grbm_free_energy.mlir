// The README's default example; values checked against numpy:
//   0.5*((v-b)**2*exp(-2*logsigma)).sum(1) - logaddexp(0, c + v@W).sum(1)
// RUN: bism-run %S/../../examples/basics/grbm_free_energy.mlir --entry free_energy --input "2xi32=0 42" | FileCheck %s
// CHECK: 8x2xf32=[0.250688 0.0842265][0.571348 0.293157]
// CHECK-NEXT: 8xf32=-2.70675 -3.5569
