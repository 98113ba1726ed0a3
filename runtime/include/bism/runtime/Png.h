//===- Png.h - PNG pictures of samples and densities ------------*- C++ -*-===//
//
// Writes 8-bit PNG files (with libpng) for looking at a model: grids of image
// samples, density heat maps and scatter plots over the unit square. Writes
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
bool writeImageGrid(const std::string &path, const HostTensor &images,
                    int64_t imageH, int64_t imageW, int64_t columns,
                    std::string &error);

/// The [gridH * gridW, 2] f64 points (x, y) at which writeDensityHeatmap
/// expects log-densities: entry r * gridW + c is the centre of cell (r, c),
/// x = (c + 0.5) / gridW, y = (r + 0.5) / gridH over [0,1]^2.
HostTensor densityGridPoints(int64_t gridH, int64_t gridW);

/// Draws exp(logDensity - max) (row-major, gridH x gridW as laid out by
/// densityGridPoints) through a viridis-like colour map, one pixel per cell,
/// with y upward (grid row 0 is the bottom image row). Non-finite values
/// count as zero density; at least one value must be finite.
bool writeDensityHeatmap(const std::string &path,
                         const std::vector<double> &logDensity, int64_t gridH,
                         int64_t gridW, std::string &error);

/// Plots the [N, 2] (f32 or f64) points that fall in [0,1]^2 on a white
/// size x size grey picture, y upward; each point darkens its pixel by a
/// factor 0.6, so dense regions go black.
bool writeScatter(const std::string &path, const HostTensor &points,
                  int64_t size, std::string &error);

/// The colour map of writeDensityHeatmap: t in [0,1] (clamped) to RGB, linear
/// between nine samples of matplotlib's viridis.
void viridis(double t, uint8_t rgb[3]);

} // namespace bism::runtime

#endif // BISM_RUNTIME_PNG_H
