// RUN: bism-opt %s --bism-plan-buffers | FileCheck %s

// Three temporaries: %a (4 KiB) and %b (400 B) are live together, %c
// (4 KiB) only after %a is freed, so it reuses %a's bytes. One arena of
// 4096 + 448 bytes (400 rounded up to 64); the deallocs are gone.
func.func @step(%x: memref<1024xf32>, %y: memref<100xf32>, %out: memref<1024xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<100xf32>
  memref.copy %x, %a : memref<1024xf32> to memref<1024xf32>
  memref.copy %y, %b : memref<100xf32> to memref<100xf32>
  memref.dealloc %a : memref<1024xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  memref.copy %x, %c : memref<1024xf32> to memref<1024xf32>
  memref.copy %c, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %b : memref<100xf32>
  memref.dealloc %c : memref<1024xf32>
  return
}

// A buffer that is returned (no dealloc here) stays a heap allocation.
func.func @escapes() -> memref<8xf32> {
  %a = memref.alloc() : memref<8xf32>
  %b = memref.alloc() : memref<8xf32>
  memref.copy %a, %b : memref<8xf32> to memref<8xf32>
  memref.dealloc %a : memref<8xf32>
  return %b : memref<8xf32>
}

// CHECK: memref.global "private" @step.arena : memref<4544xi8> = uninitialized {alignment = 64 : i64}
// CHECK-LABEL: func.func @step(
// CHECK: %[[ARENA:.*]] = memref.get_global @step.arena : memref<4544xi8>
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<4544xi8> to memref<1024xf32>
// CHECK: %[[B:.*]] = memref.view %[[ARENA]][%c4096{{.*}}][] : memref<4544xi8> to memref<100xf32>
// CHECK: memref.copy %arg0, %[[A]]
// CHECK: %[[C:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<4544xi8> to memref<1024xf32>
// CHECK-NOT: memref.dealloc
// CHECK-NOT: memref.alloc
// CHECK: return

// CHECK-NOT: @escapes.arena
// CHECK-LABEL: func.func @escapes(
// CHECK: memref.alloc()
// CHECK: memref.alloc()
// CHECK: memref.dealloc

// Arenas past 1 GiB in all (a deep image model's step) come from the heap,
// once per call: the .bss of JIT-linked code must stay small enough for
// 32-bit offsets from the code to its constants.
func.func @huge(%x: memref<200000000xf32>, %out: memref<200000000xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<200000000xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<200000000xf32>
  memref.copy %x, %a : memref<200000000xf32> to memref<200000000xf32>
  memref.copy %a, %b : memref<200000000xf32> to memref<200000000xf32>
  memref.copy %b, %out : memref<200000000xf32> to memref<200000000xf32>
  memref.dealloc %a : memref<200000000xf32>
  memref.dealloc %b : memref<200000000xf32>
  return
}

// Its size is still reported (the runtime prints it as the step's memory).
// CHECK: memref.global "public" constant @huge.arena_bytes : memref<i64> = dense<1600000000>
// CHECK-NOT: @huge.arena :
// CHECK-LABEL: func.func @huge(
// CHECK-NEXT: %[[HEAP:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1600000000xi8>
// CHECK: memref.view %[[HEAP]][%c0{{.*}}][] : memref<1600000000xi8> to memref<200000000xf32>
// CHECK: memref.view %[[HEAP]][%c800000000{{.*}}][] : memref<1600000000xi8> to memref<200000000xf32>
// CHECK: memref.dealloc %[[HEAP]] : memref<1600000000xi8>
// CHECK-NEXT: return
