// The tutorial's data: points around the four corners (±2, ±2), standard
// deviation 0.3, 10,000 for training and 2,000 for testing, drawn from a
// Philox key:
//
//   bism-run examples/tutorial/data.mlir --entry corners --input "2xi32=1,0" --output-npy data
//
// writes data/result0.npy (training rows) and data/result1.npy (test rows).

func.func private @points(%key: tensor<2xi32>) -> tensor<12000x2xf32> {
  %k1 = bism.key_split %key [0]
  %k2 = bism.key_split %key [1]
  %corner = bism.random_rademacher %k1 : tensor<12000x2xf32>
  %spread = bism.random_normal %k2 : tensor<12000x2xf32>
  %two = bism.constant dense<2.0> : tensor<12000x2xf32>
  %std = bism.constant dense<0.3> : tensor<12000x2xf32>
  %centre = bism.mul %corner, %two : tensor<12000x2xf32>
  %noise = bism.mul %spread, %std : tensor<12000x2xf32>
  %v = bism.add %centre, %noise : tensor<12000x2xf32>
  return %v : tensor<12000x2xf32>
}

func.func @corners(%key: tensor<2xi32>) -> (tensor<10000x2xf32>, tensor<2000x2xf32>) {
  %v = func.call @points(%key) : (tensor<2xi32>) -> tensor<12000x2xf32>
  %train = bism.slice %v starts [0, 0] limits [10000, 2] strides [1, 1] : tensor<12000x2xf32> to tensor<10000x2xf32>
  %test = bism.slice %v starts [10000, 0] limits [12000, 2] strides [1, 1] : tensor<12000x2xf32> to tensor<2000x2xf32>
  return %train, %test : tensor<10000x2xf32>, tensor<2000x2xf32>
}
