//===- PlanBuffers.cpp - a function's temporaries in one planned arena ----===//
//
// The step's hundreds of temporaries (one per kernel result) have static
// shapes and, after inlining, lifetimes that are intervals of one block:
// placing them once at compile time replaces every malloc/free per step by
// a view into a global arena.
//
//===----------------------------------------------------------------------===//
#include "bism/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace bism {
#define GEN_PASS_DEF_BISMPLANBUFFERS
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {

constexpr int64_t kAlignment = 64;
using bism::kArenaBytesSuffix;
/// The .bss arenas of one module together stay below this: JIT-linked code
/// reaches its constants with 32-bit offsets, and the linker puts the
/// writable data between them. A function whose arena would pass it (a deep
/// image model's step plans about 1.4 GB) gets its arena from the heap once
/// per call instead.
constexpr int64_t kMaxGlobalArenaBytes = int64_t(1) << 30;

struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t begin, end; // positions in the block: the alloc, the last use
  int64_t bytes;
  int64_t offset = -1;
};

/// Bytes of a static, identity-layout memref of int or float elements.
std::optional<int64_t> staticBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace() || !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t bits = type.getElementTypeBitWidth();
  if (bits % 8 != 0)
    return std::nullopt;
  return type.getNumElements() * (bits / 8);
}

/// The position in `block` of the last use of `alloc` or of any memref
/// derived from it (views, casts, the base buffer of extracted metadata),
/// not counting `memref.dealloc`s; nullopt if some use is outside `block`.
/// Buffer deallocation frees everything at the end of the block, so the
/// lifetime is taken from the uses, not from the dealloc.
std::optional<int64_t>
lastUse(memref::AllocOp alloc, Block &block,
        const DenseMap<Operation *, int64_t> &position) {
  int64_t last = position.lookup(alloc);
  SmallVector<Value> worklist = {alloc.getResult()};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (Operation *user : value.getUsers()) {
      if (isa<memref::DeallocOp>(user))
        continue;
      Operation *inBlock = block.findAncestorOpInBlock(*user);
      if (!inBlock)
        return std::nullopt;
      last = std::max(last, position.lookup(inBlock));
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()))
          worklist.push_back(result);
    }
  }
  return last;
}

/// The plannable allocs of `block`: static allocs freed by a single dealloc
/// in the same block and not used outside it.
SmallVector<Buffer> collectBuffers(Block &block) {
  DenseMap<Operation *, int64_t> position;
  int64_t index = 0;
  for (Operation &op : block)
    position[&op] = index++;
  SmallVector<Buffer> buffers;
  for (Operation &op : block) {
    auto alloc = dyn_cast<memref::AllocOp>(op);
    if (!alloc || !alloc.getDynamicSizes().empty() ||
        !alloc.getSymbolOperands().empty())
      continue;
    std::optional<int64_t> bytes = staticBytes(alloc.getType());
    if (!bytes || *bytes == 0)
      continue;
    SmallVector<memref::DeallocOp> deallocs;
    for (Operation *user : alloc->getUsers())
      if (auto dealloc = dyn_cast<memref::DeallocOp>(user))
        deallocs.push_back(dealloc);
    if (deallocs.size() != 1 || deallocs.front()->getBlock() != &block)
      continue;
    std::optional<int64_t> end = lastUse(alloc, block, position);
    if (!end || *end > position[deallocs.front()])
      continue;
    buffers.push_back({alloc, deallocs.front(), position[alloc], *end, *bytes});
  }
  return buffers;
}

/// Offsets for the buffers, largest first, each at the lowest aligned
/// offset free of every placed buffer it is live with. Returns the arena
/// size in bytes.
int64_t assignOffsets(SmallVector<Buffer> &buffers) {
  SmallVector<Buffer *> order;
  for (Buffer &buffer : buffers)
    order.push_back(&buffer);
  llvm::stable_sort(order, [](const Buffer *a, const Buffer *b) {
    return a->bytes > b->bytes;
  });
  auto aligned = [](int64_t bytes) {
    return (bytes + kAlignment - 1) / kAlignment * kAlignment;
  };
  int64_t arenaBytes = 0;
  SmallVector<Buffer *> placed;
  for (Buffer *buffer : order) {
    // Ranges taken during this buffer's lifetime, by start.
    SmallVector<std::pair<int64_t, int64_t>> taken;
    for (Buffer *other : placed)
      if (other->begin <= buffer->end && buffer->begin <= other->end)
        taken.push_back({other->offset, other->offset + aligned(other->bytes)});
    llvm::sort(taken);
    int64_t offset = 0;
    for (auto [start, stop] : taken) {
      if (offset + buffer->bytes <= start)
        break;
      offset = std::max(offset, stop);
    }
    buffer->offset = offset;
    arenaBytes = std::max(arenaBytes, offset + aligned(buffer->bytes));
    placed.push_back(buffer);
  }
  return arenaBytes;
}

struct PlanBuffers : bism::impl::BismPlanBuffersBase<PlanBuffers> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    int64_t globalBytes = 0;
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isExternal())
        continue;
      Block &body = func.getBody().front();
      SmallVector<Buffer> buffers = collectBuffers(body);
      if (buffers.size() < 2)
        continue;
      int64_t arenaBytes = assignOffsets(buffers);

      OpBuilder builder(module.getBodyRegion());
      // The plan's size, for the runtime to report (a public constant:
      // it outlives the JIT's object cache, unlike an attribute).
      if (func.isPublic()) {
        builder.setInsertionPoint(func);
        auto bytesType = MemRefType::get({}, builder.getI64Type());
        auto reported = memref::GlobalOp::create(
            builder, func.getLoc(),
            (func.getSymName() + kArenaBytesSuffix).str(),
            builder.getStringAttr("public"), bytesType,
            DenseElementsAttr::get(
                RankedTensorType::get({}, builder.getI64Type()),
                builder.getI64IntegerAttr(arenaBytes).getValue()),
            /*constant=*/true, /*alignment=*/IntegerAttr());
        symbols.insert(reported);
      }
      auto arenaType = MemRefType::get({arenaBytes}, builder.getI8Type());
      Value arena;
      if (globalBytes + arenaBytes <= kMaxGlobalArenaBytes) {
        globalBytes += arenaBytes;
        builder.setInsertionPoint(func);
        auto global = memref::GlobalOp::create(
            builder, func.getLoc(), (func.getSymName() + ".arena").str(),
            builder.getStringAttr("private"), arenaType,
            /*initial_value=*/builder.getUnitAttr(), /*constant=*/false,
            builder.getI64IntegerAttr(kAlignment));
        symbols.insert(global); // renames on a clash
        builder.setInsertionPointToStart(&body);
        arena = memref::GetGlobalOp::create(builder, func.getLoc(), arenaType,
                                            global.getSymName());
      } else {
        builder.setInsertionPointToStart(&body);
        arena = memref::AllocOp::create(builder, func.getLoc(), arenaType,
                                        builder.getI64IntegerAttr(kAlignment));
        builder.setInsertionPoint(body.getTerminator());
        memref::DeallocOp::create(builder, func.getLoc(), arena);
      }
      for (Buffer &buffer : buffers) {
        builder.setInsertionPoint(buffer.alloc);
        Value shift = arith::ConstantIndexOp::create(
            builder, buffer.alloc.getLoc(), buffer.offset);
        Value view = memref::ViewOp::create(
            builder, buffer.alloc.getLoc(), buffer.alloc.getType(), arena,
            shift, ValueRange{});
        buffer.dealloc.erase();
        buffer.alloc.replaceAllUsesWith(view);
        buffer.alloc.erase();
      }
    }
  }
};

} // namespace
