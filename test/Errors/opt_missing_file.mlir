// A missing input file is an error, not an empty module.
// RUN: not bism-opt %t.does-not-exist 2>&1 | FileCheck %s
// CHECK: cannot open input file '{{.*}}.does-not-exist': No such file or directory
