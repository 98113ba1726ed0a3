//===- JitModuleTest.cpp - compile modules and call their functions -------===//
#include "bism/Execution/JitModule.h"
#include "bism/runtime/Blas.h"

#include <gtest/gtest.h>

using namespace bism;
using namespace bism::runtime;

namespace {

const char *kModule = R"mlir(
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @add(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %init = tensor.empty() : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#map, #map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<2x3xf32>, tensor<2x3xf32>)
      outs(%init : tensor<2x3xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// Two results, one of them an argument returned as is; a rank-0 tensor.
func.func @scale(%a: tensor<3xf64>, %s: tensor<f64>)
    -> (tensor<3xf64>, tensor<f64>) {
  %init = tensor.empty() : tensor<3xf64>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                        affine_map<(d0) -> ()>,
                                        affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%a, %s : tensor<3xf64>, tensor<f64>) outs(%init : tensor<3xf64>) {
  ^bb0(%x: f64, %y: f64, %o: f64):
    %m = arith.mulf %x, %y : f64
    linalg.yield %m : f64
  } -> tensor<3xf64>
  return %r, %s : tensor<3xf64>, tensor<f64>
}

func.func @less(%a: tensor<4xi32>, %b: tensor<4xi32>)
    -> (tensor<4xi1>, tensor<4xi64>) {
  %i1 = tensor.empty() : tensor<4xi1>
  %i64 = tensor.empty() : tensor<4xi64>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                          affine_map<(d0) -> (d0)>,
                                          affine_map<(d0) -> (d0)>,
                                          affine_map<(d0) -> (d0)>],
                         iterator_types = ["parallel"]}
      ins(%a, %b : tensor<4xi32>, tensor<4xi32>)
      outs(%i1, %i64 : tensor<4xi1>, tensor<4xi64>) {
  ^bb0(%x: i32, %y: i32, %o: i1, %p: i64):
    %c = arith.cmpi slt, %x, %y : i32
    %d = arith.subi %x, %y : i32
    %e = arith.extsi %d : i32 to i64
    linalg.yield %c, %e : i1, i64
  } -> (tensor<4xi1>, tensor<4xi64>)
  return %r#0, %r#1 : tensor<4xi1>, tensor<4xi64>
}

func.func @matmul(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>)
    -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<8x4xf32>)
      -> tensor<8x4xf32>
  %r = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x4xf32>)
                     outs(%init : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %r : tensor<8x4xf32>
}

func.func private @helper(%a: f32) -> f32 {
  return %a : f32
}
)mlir";

std::unique_ptr<JitModule> compileOrDie(const char *source,
                                        const JitOptions &options = {}) {
  auto jit = JitModule::compileSource(source, options);
  if (!jit) {
    ADD_FAILURE() << llvm::toString(jit.takeError());
    return nullptr;
  }
  return std::move(*jit);
}

std::string errorText(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : std::string("<success>");
}

} // namespace

TEST(JitModule, Signatures) {
  auto jit = compileOrDie(kModule);
  ASSERT_TRUE(jit);
  ASSERT_EQ(jit->functions().size(), 4u); // @helper is private
  const FunctionSignature *scale = jit->lookup("scale");
  ASSERT_NE(scale, nullptr);
  ASSERT_EQ(scale->inputs.size(), 2u);
  EXPECT_EQ(scale->inputs[0].str(), "3xf64");
  EXPECT_EQ(scale->inputs[1].str(), "f64");
  ASSERT_EQ(scale->outputs.size(), 2u);
  EXPECT_EQ(scale->outputs[1].str(), "f64");
  EXPECT_EQ(jit->lookup("helper"), nullptr);
  EXPECT_EQ(jit->lookup("nope"), nullptr);
}

TEST(JitModule, CallComputesResults) {
  auto jit = compileOrDie(kModule);
  ASSERT_TRUE(jit);
  auto a = HostTensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = HostTensor::fromVector<float>({2, 3}, {10, 20, 30, 40, 50, 60});
  auto results = jit->call("add", {a, b});
  ASSERT_TRUE(bool(results)) << llvm::toString(results.takeError());
  ASSERT_EQ(results->size(), 1u);
  const HostTensor &r = (*results)[0];
  EXPECT_EQ(r.typeString(), "2x3xf32");
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(r.dataAs<float>()[i], 11.0f * float(i + 1));

  auto x = HostTensor::fromVector<double>({3}, {1, 2, 3});
  auto s = HostTensor::fromVector<double>({}, {0.5});
  auto scaled = jit->call("scale", {x, s});
  ASSERT_TRUE(bool(scaled)) << llvm::toString(scaled.takeError());
  EXPECT_EQ((*scaled)[0].dataAs<double>()[2], 1.5);
  EXPECT_EQ((*scaled)[1].typeString(), "f64");
  EXPECT_EQ((*scaled)[1].dataAs<double>()[0], 0.5);

  auto p = HostTensor::fromVector<int32_t>({4}, {1, 5, 3, -2});
  auto q = HostTensor::fromVector<int32_t>({4}, {2, 2, 3, 7});
  auto less = jit->call("less", {p, q});
  ASSERT_TRUE(bool(less)) << llvm::toString(less.takeError());
  EXPECT_EQ((*less)[0].typeString(), "4xi1");
  const bool expectLess[] = {true, false, false, true};
  const int64_t expectDiff[] = {-1, 3, 0, -9};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ((*less)[0].elementAsDouble(i), expectLess[i] ? 1.0 : 0.0);
    EXPECT_EQ((*less)[1].dataAs<int64_t>()[i], expectDiff[i]);
  }
}

TEST(JitModule, OutputsAreReusedAcrossCalls) {
  auto jit = compileOrDie(kModule);
  ASSERT_TRUE(jit);
  auto a = HostTensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = HostTensor::fromVector<float>({2, 3}, {1, 1, 1, 1, 1, 1});
  HostTensor out(ElementType::f32, {2, 3});
  // Garbage in the output buffer must be overwritten, not accumulated into.
  for (int i = 0; i < 6; ++i)
    out.dataAs<float>()[i] = 1000.0f;
  void *storage = out.data();
  ASSERT_FALSE(bool(jit->invoke("add", {&a, &b}, {&out})));
  EXPECT_EQ(out.data(), storage);
  EXPECT_EQ(out.dataAs<float>()[5], 7.0f);
  b.dataAs<float>()[5] = 10.0f;
  ASSERT_FALSE(bool(jit->invoke("add", {&a, &b}, {&out})));
  EXPECT_EQ(out.data(), storage);
  EXPECT_EQ(out.dataAs<float>()[0], 2.0f);
  EXPECT_EQ(out.dataAs<float>()[5], 16.0f);
}

TEST(JitModule, SignatureMismatchErrors) {
  auto jit = compileOrDie(kModule);
  ASSERT_TRUE(jit);
  auto a = HostTensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  HostTensor wrongShape(ElementType::f32, {3, 2});
  HostTensor wrongType(ElementType::f64, {2, 3});
  HostTensor out(ElementType::f32, {2, 3});
  HostTensor badOut(ElementType::f32, {6});

  EXPECT_EQ(errorText(jit->invoke("add", {&a}, {&out})),
            "add: expected 2 inputs, got 1");
  EXPECT_EQ(errorText(jit->invoke("add", {&a, &a}, {})),
            "add: expected 1 outputs, got 0");
  EXPECT_EQ(errorText(jit->invoke("add", {&a, &wrongShape}, {&out})),
            "add: input 1 has type 3x2xf32, expected 2x3xf32");
  EXPECT_EQ(errorText(jit->invoke("add", {&wrongType, &a}, {&out})),
            "add: input 0 has type 2x3xf64, expected 2x3xf32");
  EXPECT_EQ(errorText(jit->invoke("add", {&a, &a}, {&badOut})),
            "add: output 0 has type 6xf32, expected 2x3xf32");
  EXPECT_EQ(errorText(jit->invoke("add", {&a, &out}, {&out})),
            "add: output 0 shares storage with input 1");
  std::string unknown = errorText(jit->invoke("sub", {&a, &a}, {&out}));
  EXPECT_NE(unknown.find("no function named 'sub'"), std::string::npos)
      << unknown;
  EXPECT_NE(unknown.find("add"), std::string::npos) << unknown;

  auto results = jit->call("add", {a});
  ASSERT_FALSE(bool(results));
  EXPECT_EQ(llvm::toString(results.takeError()),
            "add: expected 2 inputs, got 1");
}

TEST(JitModule, MatmulWithAndWithoutBlas) {
  std::vector<float> lhs(8 * 16), rhs(16 * 4);
  for (size_t i = 0; i < lhs.size(); ++i)
    lhs[i] = float(int(i % 7) - 3);
  for (size_t i = 0; i < rhs.size(); ++i)
    rhs[i] = float(int(i % 5) - 2);
  auto a = HostTensor::fromVector<float>({8, 16}, lhs);
  auto b = HostTensor::fromVector<float>({16, 4}, rhs);
  for (int64_t minFlops : {int64_t(-1), int64_t(0)}) {
    JitOptions options;
    options.blasMinFlops = minFlops;
    auto jit = compileOrDie(kModule, options);
    ASSERT_TRUE(jit);
    int64_t calls = blasCallCount();
    auto results = jit->call("matmul", {a, b});
    ASSERT_TRUE(bool(results)) << llvm::toString(results.takeError());
    // 8*4*16 flops: BLAS with min-flops 0, loops with -1.
    EXPECT_EQ(blasCallCount() - calls, minFlops == 0 ? 1 : 0)
        << "blasMinFlops=" << minFlops;
    const float *r = (*results)[0].dataAs<float>();
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 4; ++j) {
        float expected = 0;
        for (int k = 0; k < 16; ++k)
          expected += lhs[size_t(i * 16 + k)] * rhs[size_t(k * 4 + j)];
        EXPECT_EQ(r[i * 4 + j], expected) << "blasMinFlops=" << minFlops;
      }
  }
}

TEST(JitModule, OptLevels) {
  for (unsigned level : {0u, 3u}) {
    JitOptions options;
    options.optLevel = level;
    auto jit = compileOrDie(kModule, options);
    ASSERT_TRUE(jit);
    auto a = HostTensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
    auto results = jit->call("add", {a, a});
    ASSERT_TRUE(bool(results)) << llvm::toString(results.takeError());
    EXPECT_EQ((*results)[0].dataAs<float>()[4], 10.0f);
  }
}

TEST(JitModule, UnsupportedSignaturesNameTheFunction) {
  auto dynamic = JitModule::compileSource(R"mlir(
func.func @dyn(%a: tensor<?xf32>) -> tensor<?xf32> {
  return %a : tensor<?xf32>
}
)mlir");
  ASSERT_FALSE(bool(dynamic));
  std::string message = llvm::toString(dynamic.takeError());
  EXPECT_NE(message.find("function 'dyn': argument 0 has type tensor<?xf32>"),
            std::string::npos)
      << message;

  auto half = JitModule::compileSource(R"mlir(
func.func @half(%a: tensor<2xf32>) -> tensor<2xf16> {
  %e = tensor.empty() : tensor<2xf16>
  return %e : tensor<2xf16>
}
)mlir");
  ASSERT_FALSE(bool(half));
  message = llvm::toString(half.takeError());
  EXPECT_NE(message.find("function 'half': result 0 has type tensor<2xf16>"),
            std::string::npos)
      << message;
}

TEST(JitModule, ParseErrorsHaveLocations) {
  auto jit = JitModule::compileSource("func.func @f() {\n  return %x\n}\n");
  ASSERT_FALSE(bool(jit));
  std::string message = llvm::toString(jit.takeError());
  EXPECT_NE(message.find("<source>:2:"), std::string::npos) << message;
}

TEST(JitModule, NoArgumentsNoResults) {
  auto jit = compileOrDie("func.func @nothing() { return }\n");
  ASSERT_TRUE(jit);
  auto results = jit->call("nothing", {});
  ASSERT_TRUE(bool(results)) << llvm::toString(results.takeError());
  EXPECT_TRUE(results->empty());
}

TEST(JitModule, BismOps) {
  const char *source = R"mlir(
func.func @f(%a: tensor<3x2xf32>, %b: tensor<2x3xf32>, %c: tensor<2x2xf32>)
    -> (tensor<2x2xf32>, tensor<2x2xi1>) {
  %m = bism.matmul %a, %b {transpose_lhs, transpose_rhs}
      : tensor<3x2xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
  %s = bism.add %m, %c : tensor<2x2xf32>
  %l = bism.compare lt, %s, %c : tensor<2x2xf32>
  return %s, %l : tensor<2x2xf32>, tensor<2x2xi1>
}
)mlir";
  for (int64_t minFlops : {int64_t(-1), int64_t(0)}) {
    JitOptions options;
    options.blasMinFlops = minFlops;
    auto jit = compileOrDie(source, options);
    ASSERT_TRUE(jit);
    // a^T = [[1 2 3][4 5 6]], b^T = [[1 0][0 1][1 -1]]: a^T b^T = [[4 -1][10 -1]]
    auto a = HostTensor::fromVector<float>({3, 2}, {1, 4, 2, 5, 3, 6});
    auto b = HostTensor::fromVector<float>({2, 3}, {1, 0, 1, 0, 1, -1});
    auto c = HostTensor::fromVector<float>({2, 2}, {0.5f, 0.5f, 0.5f, 0.5f});
    int64_t calls = blasCallCount();
    auto results = jit->call("f", {a, b, c});
    ASSERT_TRUE(bool(results)) << llvm::toString(results.takeError());
    EXPECT_EQ(blasCallCount() - calls, minFlops == 0 ? 1 : 0);
    const float expected[] = {4.5f, -0.5f, 10.5f, -0.5f};
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ((*results)[0].dataAs<float>()[i], expected[i]);
      EXPECT_EQ((*results)[1].elementAsDouble(i), expected[i] < 0.5f ? 1.0 : 0.0);
    }
  }
}

// Global constructors run when the module is loaded, destructors when it is
// destroyed (the CUDA lowering loads its GPU modules this way): the JIT
// turns them into functions it calls, since its object loader runs none.
// The constructors run by priority; the destructor sees what they wrote.
TEST(JitModule, RunsGlobalConstructorsAndDestructors) {
  static int32_t observedAtExit = 0;
  std::string module = R"mlir(
llvm.mlir.global internal @flag(0 : i32) : i32
llvm.func @set_flag() {
  %a = llvm.mlir.addressof @flag : !llvm.ptr
  %v = llvm.load %a : !llvm.ptr -> i32
  %c = llvm.mlir.constant(10 : i32) : i32
  %m = llvm.mul %v, %c : i32
  %one = llvm.mlir.constant(4 : i32) : i32
  %s = llvm.add %m, %one : i32
  llvm.store %s, %a : i32, !llvm.ptr
  llvm.return
}
llvm.func @set_first() {
  %a = llvm.mlir.addressof @flag : !llvm.ptr
  %c = llvm.mlir.constant(2 : i32) : i32
  llvm.store %c, %a : i32, !llvm.ptr
  llvm.return
}
llvm.func @report() {
  %a = llvm.mlir.addressof @flag : !llvm.ptr
  %v = llvm.load %a : !llvm.ptr -> i32
  %p = llvm.mlir.constant()mlir" +
                       std::to_string(reinterpret_cast<intptr_t>(&observedAtExit)) +
                       R"mlir( : i64) : i64
  %q = llvm.inttoptr %p : i64 to !llvm.ptr
  llvm.store %v, %q : i32, !llvm.ptr
  llvm.return
}
llvm.mlir.global_ctors ctors = [@set_flag, @set_first], priorities = [200 : i32, 100 : i32], data = [#llvm.zero, #llvm.zero]
llvm.mlir.global_dtors dtors = [@report], priorities = [0 : i32], data = [#llvm.zero]
func.func @read() -> tensor<i32> {
  %a = llvm.mlir.addressof @flag : !llvm.ptr
  %v = llvm.load %a : !llvm.ptr -> i32
  %t = tensor.from_elements %v : tensor<i32>
  return %t : tensor<i32>
}
)mlir";
  JitOptions options;
  options.cacheDir = "";
  observedAtExit = 0;
  {
    auto jit = JitModule::compileSource(module, options);
    ASSERT_TRUE(static_cast<bool>(jit)) << llvm::toString(jit.takeError());
    auto results = (*jit)->call("read", {});
    ASSERT_TRUE(static_cast<bool>(results))
        << llvm::toString(results.takeError());
    // set_first (priority 100) then set_flag (200): 2 * 10 + 4.
    EXPECT_EQ((*results)[0].dataAs<int32_t>()[0], 24);
    EXPECT_EQ(observedAtExit, 0);
  }
  EXPECT_EQ(observedAtExit, 24);
}
