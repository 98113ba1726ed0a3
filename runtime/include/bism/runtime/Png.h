//===- Png.h - PNG pictures: raw pixels and image grids ---------*- C++ -*-===//
//
// Writes 8-bit PNG files (with libpng): raw pixels and grids of image
// samples. (Plots with axes, densities, scatters and curves, are Plot.h's,
// drawn by PLplot.) Writes
// are atomic like writeNpy's (path + ".tmp", fsync, rename), so a failed
// write leaves no file behind; errors name the path.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_PNG_H
#define BISM_RUNTIME_PNG_H

#include "bism/runtime/HostTensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bism::runtime {

/// Writes `height` rows of `width` pixels of `channels` bytes (1 grey,
/// 3 RGB), row-major from the top row.
bool writePng(const std::string &path, int width, int height, int channels,
              const uint8_t *pixels, std::string &error);

/// Tiles the N images of `images` (f32 or f64, first dimension N, imageH *
/// imageW values each, in [0,1]; clamped, NaN as 0) as grey pictures in
/// `columns` columns (ceil(sqrt(N)) when columns <= 0), row by row, with
/// white 1-pixel gaps between and around them. Unused cells are white.
/// Each image pixel becomes `scale` x `scale` pixels (nearest neighbour).
bool writeImageGrid(const std::string &path, const HostTensor &images,
                    int64_t imageH, int64_t imageW, int64_t columns,
                    std::string &error, int64_t scale = 1);

} // namespace bism::runtime

#endif // BISM_RUNTIME_PNG_H
