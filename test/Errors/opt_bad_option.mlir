// An unknown pass or option is rejected before any IR is read.
// RUN: not bism-opt %s --bism-no-such-pass 2>&1 | FileCheck %s
// CHECK: Unknown command line argument '--bism-no-such-pass'
func.func @f() {
  return
}
