//===- Png.cpp - PNG pictures: raw pixels and image grids -----------------===//
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
                    std::string &error, int64_t scale) {
  if (!checkSide(path, "image height", imageH, error) ||
      !checkSide(path, "image width", imageW, error) ||
      !checkSide(path, "scale", scale, error))
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
  int64_t cellH = imageH * scale, cellW = imageW * scale;
  int64_t width = columns * (cellW + 1) + 1, height = rows * (cellH + 1) + 1;
  if (!checkSide(path, "grid width", width, error) ||
      !checkSide(path, "grid height", height, error))
    return false;
  std::vector<uint8_t> pixels(size_t(width * height), 255);
  for (int64_t k = 0; k < n; ++k) {
    int64_t top = 1 + (k / columns) * (cellH + 1);
    int64_t left = 1 + (k % columns) * (cellW + 1);
    for (int64_t y = 0; y < cellH; ++y)
      for (int64_t x = 0; x < cellW; ++x)
        pixels[size_t((top + y) * width + left + x)] = toByte(valueAt(
            images, (k * imageH + y / scale) * imageW + x / scale));
  }
  return writePng(path, int(width), int(height), 1, pixels.data(), error);
}

} // namespace bism::runtime
