//===- Png.cpp - PNG pictures of samples and densities -------------------===//
#include "bism/runtime/Png.h"
#include "bism/runtime/FileIO.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <png.h>

namespace bism::runtime {

namespace {

std::string quoted(const std::string &path) { return "'" + path + "'"; }

uint8_t toByte(double v) {
  if (!(v > 0)) // NaN too
    return 0;
  return v >= 1 ? 255 : uint8_t(std::lround(v * 255));
}

// Keeps libpng's sizes (and ours) far from int overflow.
constexpr int64_t kMaxSide = 1 << 15;

bool checkSide(const std::string &path, const char *what, int64_t value,
               std::string &error) {
  if (value > 0 && value <= kMaxSide)
    return true;
  error = "cannot write " + quoted(path) + ": " + what + " " +
          std::to_string(value) + " is not in [1, " + std::to_string(kMaxSide) +
          "]";
  return false;
}

/// Element `i` of an f32 or f64 tensor.
double valueAt(const HostTensor &t, int64_t i) {
  return t.elementType() == ElementType::f32
             ? double(static_cast<const float *>(t.data())[i])
             : static_cast<const double *>(t.data())[i];
}

bool isFloat(const HostTensor &t) {
  return t.elementType() == ElementType::f32 ||
         t.elementType() == ElementType::f64;
}

} // namespace

void viridis(double t, uint8_t rgb[3]) {
  static const uint8_t table[9][3] = {
      {68, 1, 84},    {71, 44, 122},  {59, 81, 139},
      {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
      {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  if (!(t > 0))
    t = 0;
  if (t > 1)
    t = 1;
  double x = t * 8;
  int i = std::min(int(x), 7);
  double f = x - i;
  for (int c = 0; c < 3; ++c)
    rgb[c] = uint8_t(std::lround(table[i][c] + f * (table[i + 1][c] - table[i][c])));
}

bool writePng(const std::string &path, int width, int height, int channels,
              const uint8_t *pixels, std::string &error) {
  if (!checkSide(path, "width", width, error) ||
      !checkSide(path, "height", height, error))
    return false;
  if ((channels != 1 && channels != 3) || !pixels) {
    error = "cannot write " + quoted(path) + ": " +
            std::to_string(channels) + " channels (expected 1 or 3)";
    return false;
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = png_uint_32(width);
  image.height = png_uint_32(height);
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(image, size, 0, pixels, 0, nullptr)) {
    error = "cannot write " + quoted(path) + ": libpng: " + image.message;
    png_image_free(&image);
    return false;
  }
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&image, bytes.data(), &size, 0, pixels, 0,
                                 nullptr)) {
    error = "cannot write " + quoted(path) + ": libpng: " + image.message;
    png_image_free(&image);
    return false;
  }
  bytes.resize(size);
  return writeFileAtomically(path, bytes, error);
}

bool writeImageGrid(const std::string &path, const HostTensor &images,
                    int64_t imageH, int64_t imageW, int64_t columns,
                    std::string &error) {
  if (!checkSide(path, "image height", imageH, error) ||
      !checkSide(path, "image width", imageW, error))
    return false;
  int64_t n = images.rank() >= 1 ? images.shape()[0] : 0;
  if (!isFloat(images) || n < 1 || images.numElements() != n * imageH * imageW) {
    error = "cannot write " + quoted(path) + ": images of type " +
            images.typeString() + " are not N >= 1 f32/f64 images of " +
            std::to_string(imageH) + "x" + std::to_string(imageW);
    return false;
  }
  if (columns <= 0)
    columns = int64_t(std::ceil(std::sqrt(double(n))));
  columns = std::min(columns, n);
  int64_t rows = (n + columns - 1) / columns;
  int64_t width = columns * (imageW + 1) + 1, height = rows * (imageH + 1) + 1;
  if (!checkSide(path, "grid width", width, error) ||
      !checkSide(path, "grid height", height, error))
    return false;
  std::vector<uint8_t> pixels(size_t(width * height), 255);
  for (int64_t k = 0; k < n; ++k) {
    int64_t top = 1 + (k / columns) * (imageH + 1);
    int64_t left = 1 + (k % columns) * (imageW + 1);
    for (int64_t y = 0; y < imageH; ++y)
      for (int64_t x = 0; x < imageW; ++x)
        pixels[size_t((top + y) * width + left + x)] =
            toByte(valueAt(images, (k * imageH + y) * imageW + x));
  }
  return writePng(path, int(width), int(height), 1, pixels.data(), error);
}

HostTensor densityGridPoints(int64_t gridH, int64_t gridW) {
  HostTensor points(ElementType::f64, {gridH * gridW, 2});
  double *p = points.dataAs<double>();
  for (int64_t r = 0; r < gridH; ++r)
    for (int64_t c = 0; c < gridW; ++c) {
      p[2 * (r * gridW + c)] = (c + 0.5) / gridW;
      p[2 * (r * gridW + c) + 1] = (r + 0.5) / gridH;
    }
  return points;
}

bool writeDensityHeatmap(const std::string &path,
                         const std::vector<double> &logDensity, int64_t gridH,
                         int64_t gridW, std::string &error) {
  if (!checkSide(path, "grid height", gridH, error) ||
      !checkSide(path, "grid width", gridW, error))
    return false;
  if (int64_t(logDensity.size()) != gridH * gridW) {
    error = "cannot write " + quoted(path) + ": " +
            std::to_string(logDensity.size()) + " log-densities for a " +
            std::to_string(gridH) + "x" + std::to_string(gridW) + " grid";
    return false;
  }
  double top = -std::numeric_limits<double>::infinity();
  for (double v : logDensity)
    if (std::isfinite(v))
      top = std::max(top, v);
  if (!std::isfinite(top)) {
    error = "cannot write " + quoted(path) + ": no finite log-density";
    return false;
  }
  std::vector<uint8_t> pixels(size_t(gridH * gridW * 3));
  for (int64_t r = 0; r < gridH; ++r)
    for (int64_t c = 0; c < gridW; ++c) {
      double v = logDensity[size_t(r * gridW + c)];
      double t = std::isfinite(v) ? std::exp(v - top) : 0.0;
      viridis(t, &pixels[size_t(((gridH - 1 - r) * gridW + c) * 3)]);
    }
  return writePng(path, int(gridW), int(gridH), 3, pixels.data(), error);
}

bool writeScatter(const std::string &path, const HostTensor &points,
                  int64_t size, std::string &error) {
  if (!checkSide(path, "size", size, error))
    return false;
  if (!isFloat(points) || points.rank() != 2 || points.shape()[1] != 2) {
    error = "cannot write " + quoted(path) + ": points of type " +
            points.typeString() + ", expected [N, 2] f32 or f64";
    return false;
  }
  std::vector<double> shade(size_t(size * size), 1.0);
  for (int64_t i = 0; i < points.shape()[0]; ++i) {
    double x = valueAt(points, 2 * i), y = valueAt(points, 2 * i + 1);
    if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1))
      continue;
    int64_t c = std::min(int64_t(x * size), size - 1);
    int64_t r = std::min(int64_t(y * size), size - 1);
    shade[size_t((size - 1 - r) * size + c)] *= 0.6;
  }
  std::vector<uint8_t> pixels(shade.size());
  for (size_t i = 0; i < shade.size(); ++i)
    pixels[i] = toByte(shade[i]);
  return writePng(path, int(size), int(size), 1, pixels.data(), error);
}

} // namespace bism::runtime
