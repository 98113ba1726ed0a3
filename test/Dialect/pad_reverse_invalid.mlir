// RUN: bism-opt %s -split-input-file -verify-diagnostics


func.func @pad_rank(%x: tensor<2x3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{low, high and interior need 2 entries each for 'tensor<2x3xf32>'}}
  %p = bism.pad %x low [1] high [0, 0] interior [0, 0] : tensor<2x3xf32> to tensor<3x3xf32>
  return %p : tensor<3x3xf32>
}

// -----

func.func @pad_negative(%x: tensor<2x3xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{padding in dimension 0 must be non-negative}}
  %p = bism.pad %x low [-1, 0] high [0, 0] interior [0, 0] : tensor<2x3xf32> to tensor<1x3xf32>
  return %p : tensor<1x3xf32>
}

// -----

func.func @pad_result(%x: tensor<2x3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{result type must be 'tensor<3x5xf32>', got 'tensor<3x3xf32>'}}
  %p = bism.pad %x low [1, 0] high [0, 0] interior [0, 1] : tensor<2x3xf32> to tensor<3x3xf32>
  return %p : tensor<3x3xf32>
}

// -----

func.func @reverse_range(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{dimension 2 is out of range for 'tensor<2x3xf32>'}}
  %r = bism.reverse %x dims [2] : tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @reverse_twice(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{dimension 1 is listed twice}}
  %r = bism.reverse %x dims [1, 1] : tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
