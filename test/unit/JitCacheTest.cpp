//===- JitCacheTest.cpp - the on-disk cache of compiled objects -----------===//
//
// JitModule::compile with a cache directory: a first compile misses and
// writes an entry, a second hits and computes the same results, a corrupted
// or truncated entry is detected, rebuilt and valid again, and the key
// follows the module and the options (but not its locations).
//
//===----------------------------------------------------------------------===//
#include "bism/Execution/JitModule.h"
#include "bism/runtime/Blas.h"

#include "TempFiles.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Threading.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <sys/time.h>
#include <ctime>

using namespace bism;
using namespace bism::runtime;

namespace {

// Elementwise math (libm calls), a BLAS-sized matmul (a runtime symbol) and a
// bism op, so that a loaded object must resolve all of them.
const char *kModule = R"mlir(
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @f(%a: tensor<16x16xf32>, %b: tensor<16x16xf32>)
    -> (tensor<16x16xf32>, tensor<16x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>)
      -> tensor<16x16xf32>
  %m = linalg.matmul ins(%a, %b : tensor<16x16xf32>, tensor<16x16xf32>)
                     outs(%init : tensor<16x16xf32>) -> tensor<16x16xf32>
  %t = linalg.generic {indexing_maps = [#map, #map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<16x16xf32>, tensor<16x16xf32>)
      outs(%e : tensor<16x16xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %q = math.tanh %p : f32
    %r = math.exp %q : f32
    linalg.yield %r : f32
  } -> tensor<16x16xf32>
  %s = bism.softplus %t : tensor<16x16xf32>
  return %m, %s : tensor<16x16xf32>, tensor<16x16xf32>
}
)mlir";

/// A fresh (empty) cache directory, removed at the end.
class JitCache : public ::testing::Test {
protected:
  std::string dir;
  void SetUp() override {
    dir = test::tempPath(std::string("jit-cache-") +
                         ::testing::UnitTest::GetInstance()
                             ->current_test_info()
                             ->name());
    llvm::sys::fs::remove_directories(dir);
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  JitOptions options() const {
    JitOptions result;
    result.cacheDir = dir;
    return result;
  }
};

std::unique_ptr<JitModule> compileOrDie(const std::string &source,
                                        const JitOptions &options) {
  auto jit = JitModule::compileSource(source, options);
  if (!jit) {
    ADD_FAILURE() << llvm::toString(jit.takeError());
    return nullptr;
  }
  return std::move(*jit);
}

std::vector<HostTensor> inputs() {
  std::vector<float> a(256), b(256);
  for (int i = 0; i < 256; ++i) {
    a[size_t(i)] = 0.01f * float(i % 37) - 0.2f;
    b[size_t(i)] = 0.03f * float(i % 11) - 0.1f;
  }
  return {HostTensor::fromVector<float>({16, 16}, a),
          HostTensor::fromVector<float>({16, 16}, b)};
}

/// Runs @f and returns its results' values; checks them against scalar
/// formulas (a tolerance for libm's tanh/exp/log1p; the matmul exactly up to
/// summation order).
std::vector<std::vector<float>> runAndCheck(JitModule &jit) {
  std::vector<HostTensor> in = inputs();
  auto results = jit.call("f", in);
  if (!results) {
    ADD_FAILURE() << llvm::toString(results.takeError());
    return {};
  }
  const float *a = in[0].dataAs<float>(), *b = in[1].dataAs<float>();
  const float *m = (*results)[0].dataAs<float>();
  const float *s = (*results)[1].dataAs<float>();
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      double dot = 0;
      for (int k = 0; k < 16; ++k)
        dot += double(a[i * 16 + k]) * double(b[k * 16 + j]);
      EXPECT_NEAR(m[i * 16 + j], dot, 1e-5) << i << "," << j;
      double t = std::exp(std::tanh(double(a[i * 16 + j]) * b[i * 16 + j]));
      EXPECT_NEAR(s[i * 16 + j], std::log1p(std::exp(t)), 1e-5)
          << i << "," << j;
    }
  std::vector<std::vector<float>> values;
  for (const HostTensor &result : *results)
    values.emplace_back(result.dataAs<float>(),
                        result.dataAs<float>() + result.numElements());
  return values;
}

std::string readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
}

/// Number of entries (files) in `dir`.
int countFiles(const std::string &dir) {
  int count = 0;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    ++count;
  return count;
}

constexpr size_t kHeaderSize = 88;

} // namespace

TEST_F(JitCache, SecondCompileHitsAndComputesTheSame) {
  auto first = compileOrDie(kModule, options());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->cacheOutcome(), CacheOutcome::Miss);
  EXPECT_FALSE(first->cacheHit());
  EXPECT_EQ(first->cacheNote(), "");
  const std::string entry = first->cacheEntryPath();
  EXPECT_EQ(entry.rfind(dir + "/", 0), 0u) << entry;
  ASSERT_TRUE(test::fileExists(entry)) << entry;
  std::string bytes = readFile(entry);
  ASSERT_GT(bytes.size(), kHeaderSize + 100);
  EXPECT_EQ(bytes.substr(0, 8), "BISMOBJ\n");
  // The payload lists relocatable objects: here one ELF object (a small
  // module is compiled whole).
  EXPECT_EQ(bytes.substr(kHeaderSize, 8), "BISMOBJS");
  EXPECT_EQ(bytes.substr(kHeaderSize + 8, 4), std::string("\x01\0\0\0", 4));
  EXPECT_EQ(bytes.substr(kHeaderSize + 20, 4), "\x7f" "ELF");
  EXPECT_EQ(countFiles(dir), 1);

  int64_t calls = blasCallCount();
  std::vector<std::vector<float>> missValues = runAndCheck(*first);
  EXPECT_EQ(blasCallCount() - calls, 0); // 16^3 flops: below the default

  auto second = compileOrDie(kModule, options());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->cacheOutcome(), CacheOutcome::Hit);
  EXPECT_TRUE(second->cacheHit());
  EXPECT_EQ(second->cacheEntryPath(), entry);
  // The signatures come from the module, the code from the entry.
  ASSERT_EQ(second->functions().size(), 1u);
  EXPECT_EQ(second->lookup("f")->outputs[1].str(), "16x16xf32");
  std::vector<std::vector<float>> hitValues = runAndCheck(*second);
  EXPECT_EQ(hitValues, missValues); // the same code: bit for bit
  // The hit rewrote nothing.
  EXPECT_EQ(readFile(entry), bytes);
  EXPECT_EQ(countFiles(dir), 1);
  // Both stay usable side by side.
  EXPECT_EQ(runAndCheck(*first), missValues);
}

TEST_F(JitCache, CorruptedEntriesAreRebuilt) {
  auto first = compileOrDie(kModule, options());
  ASSERT_TRUE(first);
  const std::string entry = first->cacheEntryPath();
  const std::string good = readFile(entry);
  const std::vector<std::vector<float>> expected = runAndCheck(*first);
  ASSERT_GT(good.size(), kHeaderSize + 100);

  struct Damage {
    const char *what;
    std::string bytes;
    const char *note;
  };
  std::string flipped = good;
  for (size_t at : {kHeaderSize + 17, good.size() / 2, good.size() - 1})
    flipped[at] = char(flipped[at] ^ 0x5a);
  std::string otherKey = good;
  otherKey[20] = char(otherKey[20] ^ 1);
  std::string badMagic = good;
  badMagic[0] = 'X';
  std::string padded = good + std::string(16, '\0');
  std::string version = good;
  version[8] = char(version[8] + 1);
  const Damage damages[] = {
      {"flipped payload bytes", flipped, "checksum mismatch"},
      {"truncated payload", good.substr(0, good.size() / 2),
       "truncated or padded"},
      {"truncated header", good.substr(0, 40), "truncated (40 bytes)"},
      {"empty file", "", "truncated (0 bytes)"},
      {"bytes appended", padded, "truncated or padded"},
      {"another key in the header", otherKey, "written for another key"},
      {"not an entry", badMagic, "bad magic"},
      {"another format version", version, "format version"},
  };
  for (const Damage &damage : damages) {
    SCOPED_TRACE(damage.what);
    writeFile(entry, damage.bytes);
    auto rebuilt = compileOrDie(kModule, options());
    ASSERT_TRUE(rebuilt);
    EXPECT_EQ(rebuilt->cacheOutcome(), CacheOutcome::Rejected);
    EXPECT_FALSE(rebuilt->cacheHit());
    EXPECT_NE(rebuilt->cacheNote().find(damage.note), std::string::npos)
        << rebuilt->cacheNote();
    EXPECT_EQ(runAndCheck(*rebuilt), expected);
    // The entry is whole again (compilation is deterministic) and hits.
    EXPECT_EQ(readFile(entry), good);
    auto again = compileOrDie(kModule, options());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->cacheOutcome(), CacheOutcome::Hit);
    EXPECT_EQ(runAndCheck(*again), expected);
  }
  EXPECT_EQ(countFiles(dir), 1); // no temporary files left behind
}

TEST_F(JitCache, KeyFollowsModuleAndOptionsButNotLocations) {
  auto base = compileOrDie(kModule, options());
  ASSERT_TRUE(base);
  const std::string entry = base->cacheEntryPath();

  // Comments and blank lines move every location: same key.
  auto moved = compileOrDie(std::string("// a comment\n\n\n") + kModule,
                            options());
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->cacheOutcome(), CacheOutcome::Hit);
  EXPECT_EQ(moved->cacheEntryPath(), entry);

  std::vector<std::string> paths = {entry};
  auto expectNewEntry = [&](const std::string &source,
                            const JitOptions &jitOptions, const char *what) {
    SCOPED_TRACE(what);
    auto jit = compileOrDie(source, jitOptions);
    ASSERT_TRUE(jit);
    EXPECT_EQ(jit->cacheOutcome(), CacheOutcome::Miss);
    for (const std::string &path : paths)
      EXPECT_NE(jit->cacheEntryPath(), path);
    paths.push_back(jit->cacheEntryPath());
    auto again = compileOrDie(source, jitOptions);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->cacheOutcome(), CacheOutcome::Hit);
    EXPECT_EQ(again->cacheEntryPath(), jit->cacheEntryPath());
  };

  JitOptions blas = options();
  blas.blasMinFlops = 0;
  expectNewEntry(kModule, blas, "blasMinFlops");
  {
    // The BLAS variant calls the runtime's gemm, from the cache too.
    auto jit = compileOrDie(kModule, blas);
    ASSERT_TRUE(jit);
    ASSERT_TRUE(jit->cacheHit());
    int64_t calls = blasCallCount();
    runAndCheck(*jit);
    EXPECT_EQ(blasCallCount() - calls, 1);
  }
  JitOptions o3 = options();
  o3.optLevel = 3;
  expectNewEntry(kModule, o3, "optLevel");
  std::string changed = kModule;
  size_t at = changed.find("math.tanh");
  ASSERT_NE(at, std::string::npos);
  changed.replace(at, 9, "math.sin ");
  expectNewEntry(changed, options(), "a different op");
  EXPECT_EQ(countFiles(dir), 4);

  // And the original entry still hits.
  auto last = compileOrDie(kModule, options());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->cacheOutcome(), CacheOutcome::Hit);
  EXPECT_EQ(last->cacheEntryPath(), entry);
}

TEST_F(JitCache, DisabledAndUnwritable) {
  JitOptions none;
  none.cacheDir.clear();
  auto jit = compileOrDie(kModule, none);
  ASSERT_TRUE(jit);
  EXPECT_EQ(jit->cacheOutcome(), CacheOutcome::Disabled);
  EXPECT_EQ(jit->cacheEntryPath(), "");
  runAndCheck(*jit);

  // A cache "directory" below a regular file: compiling still works.
  ASSERT_FALSE(llvm::sys::fs::create_directories(dir));
  writeFile(dir + "/file", "x");
  JitOptions blocked;
  blocked.cacheDir = dir + "/file/cache";
  auto unwritable = compileOrDie(kModule, blocked);
  ASSERT_TRUE(unwritable);
  EXPECT_EQ(unwritable->cacheOutcome(), CacheOutcome::Miss);
  EXPECT_NE(unwritable->cacheNote().find("cannot create"), std::string::npos)
      << unwritable->cacheNote();
  runAndCheck(*unwritable);
}

TEST_F(JitCache, WritingPrunesOldEntriesAndTemporaryFiles) {
  ASSERT_FALSE(llvm::sys::fs::create_directories(dir));
  auto age = [&](const std::string &name, int days) {
    std::string path = dir + "/" + name;
    writeFile(path, "stale");
    struct timeval times[2];
    times[0].tv_sec = times[1].tv_sec = ::time(nullptr) - days * 86400;
    times[0].tv_usec = times[1].tv_usec = 0;
    EXPECT_EQ(::utimes(path.c_str(), times), 0);
    return path;
  };
  std::string old = age(std::string(64, 'a') + ".bismobj", 40);
  std::string recent = age(std::string(64, 'b') + ".bismobj", 3);
  std::string killedWriter = age(std::string(64, 'c') + ".bismobj.tmp-1234", 2);
  std::string otherFile = age("README", 400);
  auto jit = compileOrDie(kModule, options());
  ASSERT_TRUE(jit);
  EXPECT_EQ(jit->cacheOutcome(), CacheOutcome::Miss);
  EXPECT_FALSE(test::fileExists(old));
  EXPECT_FALSE(test::fileExists(killedWriter));
  EXPECT_TRUE(test::fileExists(recent));
  EXPECT_TRUE(test::fileExists(otherFile)); // not ours
  EXPECT_TRUE(test::fileExists(jit->cacheEntryPath()));
}

TEST_F(JitCache, ErrorsAreNotCached) {
  const char *unsupported = R"mlir(
func.func @dyn(%a: tensor<?xf32>) -> tensor<?xf32> {
  return %a : tensor<?xf32>
}
)mlir";
  for (int i = 0; i < 2; ++i) {
    auto jit = JitModule::compileSource(unsupported, options());
    ASSERT_FALSE(bool(jit));
    std::string message = llvm::toString(jit.takeError());
    EXPECT_NE(message.find("function 'dyn': argument 0 has type"),
              std::string::npos)
        << message;
  }
  EXPECT_FALSE(llvm::sys::fs::exists(dir) && countFiles(dir) > 0);
}

TEST(JitCacheDirectory, FromTheEnvironment) {
  struct Saved {
    const char *name;
    std::optional<std::string> value;
  };
  std::vector<Saved> saved;
  for (const char *name :
       {"BISM_NO_CACHE", "BISM_CACHE_DIR", "XDG_CACHE_HOME", "HOME"}) {
    const char *value = std::getenv(name);
    saved.push_back({name, value ? std::optional<std::string>(value)
                                 : std::nullopt});
    ::unsetenv(name);
  }
  EXPECT_EQ(defaultCacheDirectory(), "");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(defaultCacheDirectory(), "/home/u/.cache/bism");
  EXPECT_EQ(JitOptions().cacheDir, "/home/u/.cache/bism");
  ::setenv("XDG_CACHE_HOME", "relative/ignored", 1);
  EXPECT_EQ(defaultCacheDirectory(), "/home/u/.cache/bism");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(defaultCacheDirectory(), "/xdg/bism");
  ::setenv("BISM_CACHE_DIR", "/tmp/c", 1);
  EXPECT_EQ(defaultCacheDirectory(), "/tmp/c");
  ::setenv("BISM_NO_CACHE", "0", 1);
  EXPECT_EQ(defaultCacheDirectory(), "/tmp/c");
  ::setenv("BISM_NO_CACHE", "1", 1);
  EXPECT_EQ(defaultCacheDirectory(), "");
  EXPECT_EQ(JitOptions().cacheDir, "");
  for (const Saved &s : saved) {
    if (s.value)
      ::setenv(s.name, s.value->c_str(), 1);
    else
      ::unsetenv(s.name);
  }
}

/// A module of many functions is compiled in parts, one per thread (on a
/// machine with one core, whole), and the parts link into one program:
/// every function computes what the single-part build computes.
TEST_F(JitCache, ModuleCompiledInPartsLinksAsOne) {
  std::string source;
  const int functions = 96;
  for (int i = 0; i < functions; ++i)
    source += "func.func @f" + std::to_string(i) +
              "(%x: tensor<64xf32>) -> tensor<64xf32> {\n"
              "  %c = bism.constant dense<" + std::to_string(i + 1) +
              ".0> : tensor<64xf32>\n"
              "  %y = bism.mul %x, %c : tensor<64xf32>\n"
              "  %e = bism.tanh %y : tensor<64xf32>\n"
              "  return %e : tensor<64xf32>\n}\n";
  auto jit = compileOrDie(source, options());
  ASSERT_TRUE(jit);
  std::string bytes = readFile(jit->cacheEntryPath());
  ASSERT_GT(bytes.size(), kHeaderSize + 12);
  uint32_t parts = uint32_t(uint8_t(bytes[kHeaderSize + 8])) |
                   uint32_t(uint8_t(bytes[kHeaderSize + 9])) << 8;
  if (llvm::hardware_concurrency().compute_thread_count() > 1)
    EXPECT_GT(parts, 1u);
  else
    EXPECT_EQ(parts, 1u);
  HostTensor x(ElementType::f32, {64});
  for (int j = 0; j < 64; ++j)
    x.dataAs<float>()[j] = 0.01f * float(j - 32);
  for (int i = 0; i < functions; ++i) {
    auto result = jit->call("f" + std::to_string(i), {x});
    ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
    for (int j = 0; j < 64; ++j)
      EXPECT_NEAR((*result)[0].dataAs<float>()[j],
                  std::tanh(double(x.dataAs<float>()[j]) * (i + 1)), 2e-6)
          << "f" << i << "[" << j << "]";
  }
  // A hit links the same parts.
  auto again = compileOrDie(source, options());
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->cacheHit());
  auto result = again->call("f95", {x});
  ASSERT_TRUE(bool(result));
  EXPECT_NEAR((*result)[0].dataAs<float>()[40], std::tanh(0.08 * 96), 2e-6);
}
