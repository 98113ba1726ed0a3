// One case per type constraint and verifier rule of the bism ops
// (lib/Dialect/BismOps.cpp, dialects/BismOps.td).
// RUN: bism-opt %s -split-input-file -verify-diagnostics

func.func @unranked(%x: tensor<*xf64>) -> tensor<*xf64> {
  // expected-error @+1 {{'bism.log' op operand #0 must be ranked tensor of f32 or f64 values, but got 'tensor<*xf64>'}}
  %0 = "bism.log"(%x) : (tensor<*xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}

// -----

func.func @integer_element(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'bism.exp' op operand #0 must be ranked tensor of f32 or f64 values, but got 'tensor<4xi32>'}}
  %0 = bism.exp %x : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @f16_element(%x: tensor<4xf16>) -> tensor<4xf16> {
  // expected-error @+1 {{'bism.add' op operand #0 must be ranked tensor of f32 or f64 values, but got 'tensor<4xf16>'}}
  %0 = bism.add %x, %x : tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

func.func @binary_mismatched_shapes(%a: tensor<2xf32>, %b: tensor<3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'bism.add' op requires the same type for all operands and results}}
  %0 = "bism.add"(%a, %b) : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @binary_mismatched_elements(%a: tensor<2xf32>, %b: tensor<2xf64>) -> tensor<2xf32> {
  // expected-error @+1 {{'bism.mul' op requires the same type for all operands and results}}
  %0 = "bism.mul"(%a, %b) : (tensor<2xf32>, tensor<2xf64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @binary_result_differs(%a: tensor<2xf64>) -> tensor<1x2xf64> {
  // expected-error @+1 {{'bism.sub' op requires the same type for all operands and results}}
  %0 = "bism.sub"(%a, %a) : (tensor<2xf64>, tensor<2xf64>) -> tensor<1x2xf64>
  return %0 : tensor<1x2xf64>
}

// -----

func.func @unary_result_differs(%a: tensor<2xf32>) -> tensor<2xf64> {
  // expected-error @+1 {{'bism.tanh' op requires the same type for all operands and results}}
  %0 = "bism.tanh"(%a) : (tensor<2xf32>) -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

func.func @elu_alpha_type(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'bism.elu' op attribute 'alpha' failed to satisfy constraint: 64-bit float attribute}}
  %0 = bism.elu %a {alpha = 1 : i64} : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @compare_operands_differ(%a: tensor<4xf32>, %b: tensor<4xf64>) -> tensor<4xi1> {
  // expected-error @+1 {{'bism.compare' op failed to verify that all of {lhs, rhs} have same type}}
  %0 = "bism.compare"(%a, %b) <{predicate = 2 : i32}> : (tensor<4xf32>, tensor<4xf64>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @compare_result_not_i1(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'bism.compare' op result #0 must be ranked tensor of i1 values, but got 'tensor<4xf32>'}}
  %0 = "bism.compare"(%a, %a) <{predicate = 2 : i32}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @compare_result_shape(%a: tensor<4xf32>) -> tensor<3xi1> {
  // expected-error @+1 {{'bism.compare' op failed to verify that result is an i1 tensor of the operands' shape}}
  %0 = "bism.compare"(%a, %a) <{predicate = 0 : i32}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

func.func @compare_bad_predicate(%a: tensor<4xf32>) -> tensor<4xi1> {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'predicate' [eq, ne, lt, le, gt, ge]}}
  %0 = bism.compare ult, %a, %a : tensor<4xf32>
  return %0 : tensor<4xi1>
}

// -----

func.func @select_condition_shape(%c: tensor<3xi1>, %a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'bism.select' op failed to verify that condition is an i1 tensor of the result's shape}}
  %0 = "bism.select"(%c, %a, %a) : (tensor<3xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @select_condition_type(%c: tensor<4xf32>, %a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'bism.select' op operand #0 must be ranked tensor of i1 values, but got 'tensor<4xf32>'}}
  %0 = "bism.select"(%c, %a, %a) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @select_branches_differ(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf64>) -> tensor<4xf32> {
  // expected-error @+1 {{'bism.select' op failed to verify that all of {true_value, false_value, result} have same type}}
  %0 = "bism.select"(%c, %a, %b) : (tensor<4xi1>, tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @key_wrong_shape(%k: tensor<3xi32>) -> tensor<4xf32> {
  // expected-error @+1 {{'bism.random_uniform' op operand #0 must be random key tensor<2xi32>, but got 'tensor<3xi32>'}}
  %0 = "bism.random_uniform"(%k) : (tensor<3xi32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @key_wrong_element(%k: tensor<2xi64>) -> tensor<4xf64> {
  // expected-error @+1 {{'bism.random_normal' op operand #0 must be random key tensor<2xi32>, but got 'tensor<2xi64>'}}
  %0 = "bism.random_normal"(%k) : (tensor<2xi64>) -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @key_rank2(%k: tensor<1x2xi32>) -> tensor<4xf64> {
  // expected-error @+1 {{'bism.random_gumbel' op operand #0 must be random key tensor<2xi32>, but got 'tensor<1x2xi32>'}}
  %0 = "bism.random_gumbel"(%k) : (tensor<1x2xi32>) -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @negative_offset(%k: tensor<2xi32>) -> tensor<4xf32> {
  // expected-error @+1 {{'bism.random_uniform' op offset must be >= 0, got -4}}
  %0 = bism.random_uniform %k {offset = -4} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @all_reduce_type_change(%x: tensor<4xf32>) -> tensor<4xf64> {
  // expected-error @+1 {{'bism.all_reduce_mean' op requires the same type for all operands and results}}
  %0 = "bism.all_reduce_mean"(%x) : (tensor<4xf32>) -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

// expected-note @+1 {{prior use here}}
func.func @key_in_custom_form(%k: tensor<3xi32>) -> tensor<4xf32> {
  // expected-error @+1 {{use of value '%k' expects different type than prior uses: 'tensor<2xi32>' vs 'tensor<3xi32>'}}
  %0 = bism.random_rademacher %k : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @random_integer_result(%k: tensor<2xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'bism.random_uniform' op result #0 must be ranked tensor of f32 or f64 values, but got 'tensor<4xi32>'}}
  %0 = bism.random_uniform %k : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @key_split_result(%k: tensor<2xi32>) -> tensor<2xi64> {
  // expected-error @+1 {{'bism.key_split' op result #0 must be random key tensor<2xi32>, but got 'tensor<2xi64>'}}
  %0 = "bism.key_split"(%k) <{index = 1 : i64}> : (tensor<2xi32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

func.func @key_split_needs_index(%k: tensor<2xi32>) -> tensor<2xi32> {
  // expected-error @+1 {{'bism.key_split' op requires attribute 'index'}}
  %0 = "bism.key_split"(%k) : (tensor<2xi32>) -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

func.func @constant_i8() -> tensor<2xi8> {
  // expected-error @+1 {{'bism.constant' op element type must be f32, f64, i1, i32 or i64, got 'i8'}}
  %0 = bism.constant dense<1> : tensor<2xi8>
  return %0 : tensor<2xi8>
}

// -----

func.func @constant_f16() -> tensor<2xf16> {
  // expected-error @+1 {{'bism.constant' op element type must be f32, f64, i1, i32 or i64, got 'f16'}}
  %0 = bism.constant dense<1.0> : tensor<2xf16>
  return %0 : tensor<2xf16>
}

// -----

func.func @constant_type_mismatch() -> tensor<3xf32> {
  // expected-error @+1 {{'bism.constant' op failed to verify that all of {value, result} have same type}}
  %0 = "bism.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @constant_not_elements() -> tensor<2xf32> {
  // expected-error @+1 {{invalid properties {value = 1.000000e+00 : f32} for op bism.constant: Invalid attribute `value` in property conversion}}
  %0 = "bism.constant"() <{value = 1.0 : f32}> : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @convert_shape(%a: tensor<2x3xf32>) -> tensor<3x2xf64> {
  // expected-error @+1 {{'bism.convert' op changes the shape from 'tensor<2x3xf32>' to 'tensor<3x2xf64>'; convert only changes the element type}}
  %0 = bism.convert %a : tensor<2x3xf32> to tensor<3x2xf64>
  return %0 : tensor<3x2xf64>
}

// -----

func.func @convert_integer(%a: tensor<2xi32>) -> tensor<2xf32> {
  // expected-error @+1 {{'bism.convert' op operand #0 must be ranked tensor of f32 or f64 values, but got 'tensor<2xi32>'}}
  %0 = bism.convert %a : tensor<2xi32> to tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @matmul_element_types(%a: tensor<3x4xf32>, %b: tensor<4x5xf64>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'bism.matmul' op element types differ: 'tensor<3x4xf32>', 'tensor<4x5xf64>' -> 'tensor<3x5xf32>'}}
  %0 = bism.matmul %a, %b : tensor<3x4xf32>, tensor<4x5xf64> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

func.func @matmul_result_element(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<3x5xf64> {
  // expected-error @+1 {{'bism.matmul' op element types differ}}
  %0 = bism.matmul %a, %b : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf64>
  return %0 : tensor<3x5xf64>
}

// -----

func.func @matmul_rank1(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'bism.matmul' op operands must have the same rank >= 2, got 'tensor<4xf32>' and 'tensor<4xf32>'}}
  %0 = bism.matmul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @matmul_ranks_differ(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{'bism.matmul' op operands must have the same rank >= 2}}
  %0 = bism.matmul %a, %b : tensor<2x3x4xf32>, tensor<4x5xf32> -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf64>, %b: tensor<3x4x5xf64>) -> tensor<2x3x5xf64> {
  // expected-error @+1 {{'bism.matmul' op batch dimensions differ: [2] vs [3]}}
  %0 = bism.matmul %a, %b : tensor<2x3x4xf64>, tensor<3x4x5xf64> -> tensor<2x3x5xf64>
  return %0 : tensor<2x3x5xf64>
}

// -----

func.func @matmul_contracting(%a: tensor<3x4xf32>, %b: tensor<5x6xf32>) -> tensor<3x6xf32> {
  // expected-error @+1 {{'bism.matmul' op contracting dimensions differ: lhs has 4, rhs has 5}}
  %0 = bism.matmul %a, %b : tensor<3x4xf32>, tensor<5x6xf32> -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

func.func @matmul_contracting_transposed(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{'bism.matmul' op contracting dimensions differ: lhs has 3, rhs has 4}}
  %0 = bism.matmul %a, %b {transpose_lhs} : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

func.func @matmul_contracting_transposed_rhs(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'bism.matmul' op contracting dimensions differ: lhs has 4, rhs has 5}}
  %0 = bism.matmul %a, %b {transpose_rhs} : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @matmul_result(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'bism.matmul' op result shape must be [2, 3, 5], got 'tensor<3x5xf32>'}}
  %0 = bism.matmul %a, %b : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

func.func @conv_rank(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op input (NCHW) and filter (OIHW) must be rank 4, got 'tensor<1x4x8x8xf32>' and 'tensor<6x4x3xf32>'}}
  %0 = bism.conv2d %x, %w : tensor<1x4x8x8xf32>, tensor<6x4x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_element_types(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf64>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op element types differ: input 'tensor<1x4x8x8xf32>', filter 'tensor<6x4x3x3xf64>' -> 'tensor<1x6x6x6xf32>'}}
  %0 = bism.conv2d %x, %w : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf64> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_strides_count(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op 'strides' must have 2 values, got [1]}}
  %0 = bism.conv2d %x, %w {strides = array<i64: 1>} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_strides_zero(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op 'strides' values must be >= 1, got [1, 0]}}
  %0 = bism.conv2d %x, %w {strides = array<i64: 1, 0>} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_padding_count(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op 'padding' must have 4 values, got [1, 1]}}
  %0 = bism.conv2d %x, %w {padding = array<i64: 1, 1>} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_padding_negative(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op 'padding' values must be >= 0, got [0, -1, 0, 0]}}
  %0 = bism.conv2d %x, %w {padding = array<i64: 0, -1, 0, 0>} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_dilations_count(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op 'dilations' must have 2 values, got [1, 1, 1]}}
  %0 = bism.conv2d %x, %w {dilations = array<i64: 1, 1, 1>} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_dilations_zero(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op 'dilations' values must be >= 1, got [0, 1]}}
  %0 = bism.conv2d %x, %w {dilations = array<i64: 0, 1>} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_groups_zero(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op groups (0) must divide input channels (4) and output channels (6)}}
  %0 = bism.conv2d %x, %w {groups = 0 : i64} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_groups_input(%x: tensor<1x4x8x8xf32>, %w: tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op groups (3) must divide input channels (4) and output channels (6)}}
  %0 = bism.conv2d %x, %w {groups = 3 : i64} : tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_groups_output(%x: tensor<1x4x8x8xf32>, %w: tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op groups (4) must divide input channels (4) and output channels (6)}}
  %0 = bism.conv2d %x, %w {groups = 4 : i64} : tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_filter_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op filter has 4 input channels per group, input needs 2}}
  %0 = bism.conv2d %x, %w {groups = 2 : i64} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @conv_kernel_too_big(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x9x3xf32>) -> tensor<1x6x1x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op kernel does not fit the padded input}}
  %0 = bism.conv2d %x, %w : tensor<1x4x8x8xf32>, tensor<6x4x9x3xf32> -> tensor<1x6x1x6xf32>
  return %0 : tensor<1x6x1x6xf32>
}

// -----

func.func @conv_dilated_too_big(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x1xf32> {
  // expected-error @+1 {{'bism.conv2d' op kernel does not fit the padded input}}
  %0 = bism.conv2d %x, %w {dilations = array<i64: 1, 4>} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x1xf32>
  return %0 : tensor<1x6x6x1xf32>
}

// -----

func.func @conv_result(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x8x8xf32> {
  // expected-error @+1 {{'bism.conv2d' op result shape must be [1, 6, 6, 6], got 'tensor<1x6x8x8xf32>'}}
  %0 = bism.conv2d %x, %w : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x8x8xf32>
  return %0 : tensor<1x6x8x8xf32>
}

// -----

func.func @conv_result_strided(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x4x4xf32> {
  // expected-error @+1 {{'bism.conv2d' op result shape must be [1, 6, 4, 3], got 'tensor<1x6x4x4xf32>'}}
  %0 = bism.conv2d %x, %w {strides = array<i64: 2, 3>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x4x4xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

func.func @max_pool2d_missing_kernel(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op requires attribute 'kernel_shape'}}
  %0 = bism.max_pool2d %x : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

func.func @max_pool2d_rank(%x: tensor<2x6x6xf32>) -> tensor<2x5x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op input must be rank 4 (NCHW), got 'tensor<2x6x6xf32>'}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2, 2>} : tensor<2x6x6xf32> -> tensor<2x5x5xf32>
  return %0 : tensor<2x5x5xf32>
}

// -----

func.func @max_pool2d_element_types(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf64> {
  // expected-error @+1 {{'bism.max_pool2d' op element types differ: 'tensor<1x2x6x6xf32>' -> 'tensor<1x2x5x5xf64>'}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2, 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf64>
  return %0 : tensor<1x2x5x5xf64>
}

// -----

func.func @max_pool2d_kernel_count(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op 'kernel_shape' must have 2 values, got [2]}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

func.func @max_pool2d_kernel_zero(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op 'kernel_shape' values must be >= 1, got [0, 2]}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 0, 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

func.func @max_pool2d_strides_zero(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op 'strides' values must be >= 1, got [0, 0]}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 0, 0>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

func.func @max_pool2d_padding_count(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op 'padding' must have 4 values, got [1, 1, 1]}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2, 2>, padding = array<i64: 1, 1, 1>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

func.func @max_pool2d_padding_too_big(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x7x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op padding must be smaller than the kernel}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2, 2>, padding = array<i64: 0, 0, 2, 0>} : tensor<1x2x6x6xf32> -> tensor<1x2x7x5xf32>
  return %0 : tensor<1x2x7x5xf32>
}

// -----

func.func @max_pool2d_kernel_too_big(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x1x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op kernel does not fit the padded input}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 7, 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x1x5xf32>
  return %0 : tensor<1x2x1x5xf32>
}

// -----

func.func @max_pool2d_result(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf32> {
  // expected-error @+1 {{'bism.max_pool2d' op result shape must be [1, 2, 3, 3], got 'tensor<1x2x5x5xf32>'}}
  %0 = bism.max_pool2d %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

func.func @avg_pool2d_rank(%x: tensor<6x6xf32>) -> tensor<1x5xf32> {
  // expected-error @+1 {{'bism.avg_pool2d' op input must be rank 4 (NCHW), got 'tensor<6x6xf32>'}}
  %0 = bism.avg_pool2d %x {kernel_shape = array<i64: 2, 2>} : tensor<6x6xf32> -> tensor<1x5xf32>
  return %0 : tensor<1x5xf32>
}

// -----

func.func @avg_pool2d_padding_negative(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf32> {
  // expected-error @+1 {{'bism.avg_pool2d' op 'padding' values must be >= 0, got [-1, 0, 0, 0]}}
  %0 = bism.avg_pool2d %x {kernel_shape = array<i64: 2, 2>, padding = array<i64: -1, 0, 0, 0>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

func.func @avg_pool2d_padding_too_big(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x4x7xf32> {
  // expected-error @+1 {{'bism.avg_pool2d' op padding must be smaller than the kernel}}
  %0 = bism.avg_pool2d %x {kernel_shape = array<i64: 3, 3>, padding = array<i64: 0, 3, 0, 0>, count_include_pad} : tensor<1x2x6x6xf32> -> tensor<1x2x4x7xf32>
  return %0 : tensor<1x2x4x7xf32>
}

// -----

func.func @avg_pool2d_kernel_too_big(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x5x1xf32> {
  // expected-error @+1 {{'bism.avg_pool2d' op kernel does not fit the padded input}}
  %0 = bism.avg_pool2d %x {kernel_shape = array<i64: 2, 8>} : tensor<1x2x6x6xf32> -> tensor<1x2x5x1xf32>
  return %0 : tensor<1x2x5x1xf32>
}

// -----

func.func @avg_pool2d_result(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x4x4xf32> {
  // expected-error @+1 {{'bism.avg_pool2d' op result shape must be [1, 2, 6, 6], got 'tensor<1x2x4x4xf32>'}}
  %0 = bism.avg_pool2d %x {kernel_shape = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x2x6x6xf32> -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

func.func @reduce_sum_no_axes(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{'bism.reduce_sum' op needs at least one axis to reduce}}
  %0 = bism.reduce_sum %x axes [] : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

func.func @reduce_sum_negative_axis(%x: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'bism.reduce_sum' op axis -1 is out of range for 'tensor<2x3x4xf32>'}}
  %0 = bism.reduce_sum %x axes [-1] : tensor<2x3x4xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @reduce_mean_axis_too_big(%x: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'bism.reduce_mean' op axis 3 is out of range for 'tensor<2x3x4xf32>'}}
  %0 = bism.reduce_mean %x axes [3] : tensor<2x3x4xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @reduce_max_duplicate(%x: tensor<2x3x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'bism.reduce_max' op axis 1 is listed twice}}
  %0 = bism.reduce_max %x axes [1, 1] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @reduce_sum_empty_axis(%x: tensor<2x0x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'bism.reduce_sum' op reduces the empty axis 1 of 'tensor<2x0x4xf32>'}}
  %0 = bism.reduce_sum %x axes [1] : tensor<2x0x4xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @reduce_max_empty_axis(%x: tensor<0xf64>) -> tensor<f64> {
  // expected-error @+1 {{'bism.reduce_max' op reduces the empty axis 0 of 'tensor<0xf64>'}}
  %0 = bism.reduce_max %x axes [0] : tensor<0xf64> -> tensor<f64>
  return %0 : tensor<f64>
}

// -----

func.func @reduce_mean_empty_axis(%x: tensor<2x0x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'bism.reduce_mean' op reduces the empty axis 1 of 'tensor<2x0x3xf32>'}}
  %0 = bism.reduce_mean %x axes [0, 1] : tensor<2x0x3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @reduce_logsumexp_empty_axis(%x: tensor<0x1xf64>) -> tensor<1x1xf64> {
  // expected-error @+1 {{'bism.reduce_logsumexp' op reduces the empty axis 0 of 'tensor<0x1xf64>'}}
  %0 = bism.reduce_logsumexp %x axes [0] keep_dims : tensor<0x1xf64> -> tensor<1x1xf64>
  return %0 : tensor<1x1xf64>
}

// -----

func.func @reduce_logsumexp_result(%x: tensor<2x3x4xf32>) -> tensor<2x1x4xf32> {
  // expected-error @+1 {{'bism.reduce_logsumexp' op result type must be 'tensor<2x4xf32>', got 'tensor<2x1x4xf32>'}}
  %0 = bism.reduce_logsumexp %x axes [1] : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  return %0 : tensor<2x1x4xf32>
}

// -----

func.func @reduce_sum_result_keep_dims(%x: tensor<2x3x4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'bism.reduce_sum' op result type must be 'tensor<1x3x1xf32>', got 'tensor<3xf32>'}}
  %0 = bism.reduce_sum %x axes [0, 2] keep_dims : tensor<2x3x4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @reduce_mean_result_element(%x: tensor<2x3x4xf32>) -> tensor<3x4xf64> {
  // expected-error @+1 {{'bism.reduce_mean' op result type must be 'tensor<3x4xf32>', got 'tensor<3x4xf64>'}}
  %0 = bism.reduce_mean %x axes [0] : tensor<2x3x4xf32> -> tensor<3x4xf64>
  return %0 : tensor<3x4xf64>
}

// -----

func.func @reduce_max_integer(%x: tensor<2x3x4xi32>) -> tensor<3x4xi32> {
  // expected-error @+1 {{'bism.reduce_max' op operand #0 must be ranked tensor of f32 or f64 values, but got 'tensor<2x3x4xi32>'}}
  %0 = bism.reduce_max %x axes [0] : tensor<2x3x4xi32> -> tensor<3x4xi32>
  return %0 : tensor<3x4xi32>
}

// -----

func.func @broadcast_element(%x: tensor<4xf32>) -> tensor<3x4xf64> {
  // expected-error @+1 {{'bism.broadcast' op element types differ: 'tensor<4xf32>' to 'tensor<3x4xf64>'}}
  %0 = bism.broadcast %x : tensor<4xf32> to tensor<3x4xf64>
  return %0 : tensor<3x4xf64>
}

// -----

func.func @broadcast_rank(%x: tensor<3x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'bism.broadcast' op cannot broadcast rank 2 to the smaller rank 1}}
  %0 = bism.broadcast %x : tensor<3x4xf32> to tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @broadcast_dim(%x: tensor<3x4xf32>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{'bism.broadcast' op operand dimension 1 (size 4) must be 1 or 5 to broadcast 'tensor<3x4xf32>' to 'tensor<2x3x5xf32>'}}
  %0 = bism.broadcast %x : tensor<3x4xf32> to tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

func.func @broadcast_dim_trailing_alignment(%x: tensor<3xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'bism.broadcast' op operand dimension 0 (size 3) must be 1 or 4}}
  %0 = bism.broadcast %x : tensor<3xf32> to tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @broadcast_dynamic(%x: tensor<?xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'bism.broadcast' op operand dimension 0 (size ?) must be 1 or 4 to broadcast 'tensor<?xf32>' to 'tensor<3x4xf32>'}}
  %0 = bism.broadcast %x : tensor<?xf32> to tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @reshape_element(%x: tensor<2x3xf32>) -> tensor<6xf64> {
  // expected-error @+1 {{'bism.reshape' op element types differ: 'tensor<2x3xf32>' to 'tensor<6xf64>'}}
  %0 = bism.reshape %x : tensor<2x3xf32> to tensor<6xf64>
  return %0 : tensor<6xf64>
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{'bism.reshape' op element count changes from 'tensor<2x3xf32>' to 'tensor<7xf32>' (6 vs 7)}}
  %0 = bism.reshape %x : tensor<2x3xf32> to tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @reshape_dynamic(%x: tensor<6xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'bism.reshape' op needs one '?' (batch) dimension on both sides or none, got 'tensor<6xf32>' to 'tensor<?xf32>'}}
  %0 = bism.reshape %x : tensor<6xf32> to tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @transpose_size(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{'bism.transpose' op permutation [1, 0] has 2 entries for rank 3}}
  %0 = bism.transpose %x [1, 0] : tensor<2x3x4xf32> to tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

func.func @transpose_duplicate(%x: tensor<2x3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'bism.transpose' op permutation [1, 1] is not a permutation of [0, 2)}}
  %0 = bism.transpose %x [1, 1] : tensor<2x3xf32> to tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @transpose_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'bism.transpose' op permutation [0, 2] is not a permutation of [0, 2)}}
  %0 = bism.transpose %x [0, 2] : tensor<2x3xf32> to tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @transpose_negative(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'bism.transpose' op permutation [-1, 0] is not a permutation of [0, 2)}}
  %0 = bism.transpose %x [-1, 0] : tensor<2x3xf32> to tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @transpose_result(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
  // expected-error @+1 {{'bism.transpose' op result type must be 'tensor<3x2xf64>', got 'tensor<2x3xf64>'}}
  %0 = bism.transpose %x [1, 0] : tensor<2x3xf64> to tensor<2x3xf64>
  return %0 : tensor<2x3xf64>
}

// -----

func.func @transpose_result_element(%x: tensor<2x3xf64>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'bism.transpose' op result type must be 'tensor<3x2xf64>', got 'tensor<3x2xf32>'}}
  %0 = bism.transpose %x [1, 0] : tensor<2x3xf64> to tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @slice_entries(%x: tensor<4x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'bism.slice' op starts, limits and strides need 2 entries each for 'tensor<4x4xf32>'}}
  %0 = bism.slice %x starts [0] limits [2] strides [1] : tensor<4x4xf32> to tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @slice_stride_entries(%x: tensor<4x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'bism.slice' op starts, limits and strides need 2 entries each}}
  %0 = bism.slice %x starts [0, 0] limits [2, 4] strides [1] : tensor<4x4xf32> to tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @slice_stride_zero(%x: tensor<4x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'bism.slice' op stride 0 in dimension 1 must be positive}}
  %0 = bism.slice %x starts [0, 0] limits [2, 4] strides [1, 0] : tensor<4x4xf32> to tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @slice_start_negative(%x: tensor<4x4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'bism.slice' op dimension 0: need 0 <= start (-1) < limit (2) <= size (4)}}
  %0 = bism.slice %x starts [-1, 0] limits [2, 4] strides [1, 1] : tensor<4x4xf32> to tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @slice_start_at_limit(%x: tensor<4x4xf32>) -> tensor<2x0xf32> {
  // expected-error @+1 {{'bism.slice' op dimension 1: need 0 <= start (2) < limit (2) <= size (4)}}
  %0 = bism.slice %x starts [0, 2] limits [2, 2] strides [1, 1] : tensor<4x4xf32> to tensor<2x0xf32>
  return %0 : tensor<2x0xf32>
}

// -----

func.func @slice_limit_too_big(%x: tensor<4x4xf64>) -> tensor<5x4xf64> {
  // expected-error @+1 {{'bism.slice' op dimension 0: need 0 <= start (0) < limit (5) <= size (4)}}
  %0 = bism.slice %x starts [0, 0] limits [5, 4] strides [1, 1] : tensor<4x4xf64> to tensor<5x4xf64>
  return %0 : tensor<5x4xf64>
}

// -----

func.func @slice_result(%x: tensor<4x4xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{'bism.slice' op result type must be 'tensor<2x2xf32>', got 'tensor<2x1xf32>'}}
  %0 = bism.slice %x starts [0, 1] limits [4, 4] strides [2, 2] : tensor<4x4xf32> to tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

func.func @concat_none() -> tensor<0xf32> {
  // expected-error @+1 {{'bism.concat' op needs at least one input}}
  %0 = "bism.concat"() <{axis = 0 : i64}> : () -> tensor<0xf32>
  return %0 : tensor<0xf32>
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'bism.concat' op axis 2 is out of range for rank 2}}
  %0 = bism.concat %a, %a axis 2 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @concat_negative_axis(%a: tensor<2x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'bism.concat' op axis -1 is out of range for rank 2}}
  %0 = bism.concat %a, %a axis -1 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<5x3xf32> {
  // expected-error @+1 {{'bism.concat' op input 1 ('tensor<3xf32>') does not match input 0 ('tensor<2x3xf32>')}}
  %0 = bism.concat %a, %b axis 0 : tensor<2x3xf32>, tensor<3xf32> -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

func.func @concat_element(%a: tensor<2x3xf32>, %b: tensor<2x3xf64>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'bism.concat' op input 1 ('tensor<2x3xf64>') does not match input 0 ('tensor<2x3xf32>')}}
  %0 = bism.concat %a, %b axis 0 : tensor<2x3xf32>, tensor<2x3xf64> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @concat_dim(%a: tensor<2x3xf32>, %b: tensor<1x3xf32>, %c: tensor<1x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'bism.concat' op input 2 has size 4 in dimension 1, input 0 has 3}}
  %0 = bism.concat %a, %b, %c axis 0 : tensor<2x3xf32>, tensor<1x3xf32>, tensor<1x4xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @concat_result(%a: tensor<2x3xf64>, %b: tensor<2x1xf64>) -> tensor<2x5xf64> {
  // expected-error @+1 {{'bism.concat' op result type must be 'tensor<2x4xf64>', got 'tensor<2x5xf64>'}}
  %0 = bism.concat %a, %b axis 1 : tensor<2x3xf64>, tensor<2x1xf64> -> tensor<2x5xf64>
  return %0 : tensor<2x5xf64>
}

// -----

// `?` is the batch dimension (set by --bism-specialize-batch): every batch
// size must keep a reshape's count.
func.func @reshape_batch_row(%x: tensor<?x6xf32>) -> tensor<?x7xf32> {
  // expected-error @+1 {{'bism.reshape' op element count changes from 'tensor<?x6xf32>' to 'tensor<?x7xf32>' (6 vs 7 per batch row)}}
  %0 = bism.reshape %x : tensor<?x6xf32> to tensor<?x7xf32>
  return %0 : tensor<?x7xf32>
}

// -----

func.func @slice_batch(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{'bism.slice' op dimension 0 is '?' (the batch), which a slice keeps whole: start 0, stride 1}}
  %0 = bism.slice %x starts [1, 0] limits [2, 4] strides [1, 1] : tensor<?x4xf32> to tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

func.func @pad_batch(%x: tensor<?x4xf32>) -> tensor<?x5xf32> {
  // expected-error @+1 {{'bism.pad' op dimension 0 is '?' (the batch), which cannot be padded}}
  %0 = bism.pad %x low [1, 0] high [0, 1] interior [0, 0] : tensor<?x4xf32> to tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}

// -----

func.func @conv_dynamic_channels(%x: tensor<1x?x8x8xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'bism.conv2d' op only the batch dimension of 'tensor<1x?x8x8xf32>' may be '?'}}
  %0 = bism.conv2d %x, %w : tensor<1x?x8x8xf32>, tensor<6x4x3x3xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @matmul_batch_contraction(%x: tensor<?x4xf32>, %w: tensor<3x4xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'bism.matmul' op contracting dimensions differ: lhs has ?, rhs has 3}}
  %0 = bism.matmul %x, %w {transpose_lhs} : tensor<?x4xf32>, tensor<3x4xf32> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}
