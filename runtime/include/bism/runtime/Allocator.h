//===- Allocator.h - heap settings for running compiled steps ---*- C++ -*-===//
#ifndef BISM_RUNTIME_ALLOCATOR_H
#define BISM_RUNTIME_ALLOCATOR_H

namespace bism::runtime {

/// A compiled step allocates its intermediate buffers (hundreds, up to a few
/// MB each) and frees them before it returns. glibc would map and unmap each
/// large one, so every step paid page faults and zeroing for memory it had
/// just released (about 20% of a Frey step). This keeps freed memory in the
/// heap for the next step instead: call once at program start.
void keepFreedBuffersForReuse();

} // namespace bism::runtime

#endif // BISM_RUNTIME_ALLOCATOR_H
