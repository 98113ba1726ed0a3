// A module that does not parse: the MLIR diagnostic with file:line:col, then
// bism-run's own error line, exit status 1.
// RUN: not bism-run %s --entry f 2>&1 | FileCheck %s
// CHECK: {{^.*[/\\]}}run_parse_error.mlir:[[@LINE+3]]:10: error: use of undeclared SSA value name
// CHECK: bism-run: error: cannot parse '{{.*}}run_parse_error.mlir'
func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %y : tensor<2xf32>
}
