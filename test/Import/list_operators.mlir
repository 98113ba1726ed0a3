// The operator table of docs/onnx.md, from the importer itself.
// RUN: bism-translate --onnx-list-operators | FileCheck %s

// CHECK: | op | opsets | bism form and notes |
// CHECK: | BatchNormalization | 13-21 | inference form;
// CHECK: | Conv | 13-21 | 2-D: bism.conv2d
// CHECK: | ConvTranspose | 13-21 |
// CHECK: | ReduceSum | 13-21 |
// CHECK: | Where | 13-21 |
