//===- PngTest.cpp - PNG pictures, read back with libpng ------------------===//
#include "bism/runtime/Png.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <png.h>
#include <string>
#include <unistd.h>

#include "TempFiles.h"

using namespace bism::runtime;

namespace {

using bism::test::fileExists;
using bism::test::tempPath;

struct Picture {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
  uint8_t at(int x, int y, int c = 0) const {
    return pixels[size_t((y * width + x) * channels + c)];
  }
};

/// Reads `path` with libpng's simplified API; `channels` of the file as
/// written (grey or RGB, no alpha) must match.
void readPng(const std::string &path, int channels, Picture &out) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_file(&image, path.c_str()))
      << path << ": " << image.message;
  EXPECT_EQ(image.format, channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB);
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  ASSERT_TRUE(png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr))
      << path << ": " << image.message;
  out.width = int(image.width);
  out.height = int(image.height);
  out.channels = channels;
}

} // namespace

TEST(Png, RoundTripsRawPixels) {
  std::string path = tempPath("raw.png"), error;
  std::vector<uint8_t> rgb(4 * 3 * 3);
  for (size_t i = 0; i < rgb.size(); ++i)
    rgb[i] = uint8_t(i * 7);
  ASSERT_TRUE(writePng(path, 4, 3, 3, rgb.data(), error)) << error;
  EXPECT_FALSE(fileExists(path + ".tmp"));
  Picture picture;
  readPng(path, 3, picture);
  EXPECT_EQ(picture.width, 4);
  EXPECT_EQ(picture.height, 3);
  EXPECT_EQ(picture.pixels, rgb);
  std::remove(path.c_str());

  EXPECT_FALSE(writePng(path, 4, 3, 2, rgb.data(), error));
  EXPECT_NE(error.find("channels"), std::string::npos) << error;
  EXPECT_FALSE(writePng(path, 0, 3, 1, rgb.data(), error));
  EXPECT_NE(error.find("width 0"), std::string::npos) << error;
  EXPECT_FALSE(fileExists(path));
}

TEST(Png, ImageGridLayout) {
  // Five 2x3 images in 3 columns: 2 rows, 1-pixel white gaps and border.
  std::vector<double> values(5 * 6);
  for (int k = 0; k < 5; ++k)
    for (int i = 0; i < 6; ++i)
      values[size_t(k * 6 + i)] = (k * 6 + i) / 40.0;
  values[0] = 1.5;                                       // clamped to 1
  values[1] = -0.25;                                     // clamped to 0
  values[2] = std::numeric_limits<double>::quiet_NaN(); // drawn as 0
  HostTensor images = HostTensor::fromVector<double>({5, 6}, values);
  std::string path = tempPath("grid.png"), error;
  ASSERT_TRUE(writeImageGrid(path, images, 2, 3, 3, error)) << error;
  Picture picture;
  readPng(path, 1, picture);
  ASSERT_EQ(picture.width, 3 * 4 + 1);
  ASSERT_EQ(picture.height, 2 * 3 + 1);
  EXPECT_EQ(picture.at(0, 0), 255);
  EXPECT_EQ(picture.at(4, 1), 255); // gap between images 0 and 1
  EXPECT_EQ(picture.at(1, 1), 255);
  EXPECT_EQ(picture.at(2, 1), 0);
  EXPECT_EQ(picture.at(3, 1), 0);
  // Image k's pixel (y, x) sits at (1 + (k % 3) * 4 + x, 1 + (k / 3) * 3 + y).
  for (int k = 0; k < 5; ++k)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) {
        if (k == 0 && y == 0)
          continue;
        double v = values[size_t(k * 6 + y * 3 + x)];
        EXPECT_EQ(picture.at(1 + (k % 3) * 4 + x, 1 + (k / 3) * 3 + y),
                  uint8_t(std::lround(v * 255)))
            << k << " " << y << " " << x;
      }
  // The unused sixth cell is white.
  EXPECT_EQ(picture.at(1 + 2 * 4 + 1, 1 + 3 + 1), 255);

  // f32 images, columns chosen as ceil(sqrt(N)).
  HostTensor floats(ElementType::f32, {5, 2, 3});
  ASSERT_TRUE(writeImageGrid(path, floats, 2, 3, 0, error)) << error;
  readPng(path, 1, picture);
  EXPECT_EQ(picture.width, 3 * 4 + 1);
  EXPECT_EQ(picture.at(1, 1), 0);

  EXPECT_FALSE(writeImageGrid(path, images, 2, 2, 3, error));
  EXPECT_NE(error.find("5x6xf64"), std::string::npos) << error;
  std::remove(path.c_str());
}

TEST(Png, DensityHeatmapHasYUpward) {
  const int64_t h = 4, w = 5;
  HostTensor points = densityGridPoints(h, w);
  ASSERT_EQ(points.typeString(), "20x2xf64");
  EXPECT_DOUBLE_EQ(points.dataAs<double>()[0], 0.1);
  EXPECT_DOUBLE_EQ(points.dataAs<double>()[1], 0.125);
  EXPECT_DOUBLE_EQ(points.dataAs<double>()[2 * 7], 0.5);     // c = 2
  EXPECT_DOUBLE_EQ(points.dataAs<double>()[2 * 7 + 1], 0.375); // r = 1

  // log p = x + 10: the maximum at the right, and -inf at grid cell (0, 0).
  std::vector<double> logDensity(size_t(h * w));
  for (int64_t i = 0; i < h * w; ++i)
    logDensity[size_t(i)] = 10 + 4 * points.dataAs<double>()[2 * i];
  logDensity[0] = -std::numeric_limits<double>::infinity();
  std::string path = tempPath("heat.png"), error;
  ASSERT_TRUE(writeDensityHeatmap(path, logDensity, h, w, error)) << error;
  Picture picture;
  readPng(path, 3, picture);
  ASSERT_EQ(picture.width, 5);
  ASSERT_EQ(picture.height, 4);
  uint8_t low[3], high[3], mid[3];
  viridis(0, low);
  viridis(1, high);
  viridis(std::exp(logDensity[5] - logDensity[19]), mid);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(picture.at(0, 3, c), low[c]);  // grid cell (0, 0): bottom left
    EXPECT_EQ(picture.at(0, 2, c), mid[c]);  // grid cell (1, 0)
    EXPECT_EQ(picture.at(4, 0, c), high[c]); // top right
  }
  EXPECT_EQ(low[0], 68);
  EXPECT_EQ(high[2], 37);

  std::vector<double> none(size_t(h * w), std::nan(""));
  EXPECT_FALSE(writeDensityHeatmap(path, none, h, w, error));
  EXPECT_NE(error.find("no finite"), std::string::npos) << error;
  EXPECT_FALSE(writeDensityHeatmap(path, logDensity, w, w, error));
  std::remove(path.c_str());
}

TEST(Png, ScatterMarksThePoints) {
  HostTensor points = HostTensor::fromVector<float>(
      {4, 2}, {0.05f, 0.05f, 0.05f, 0.05f, 0.95f, 0.55f, 2.0f, 0.5f});
  std::string path = tempPath("scatter.png"), error;
  ASSERT_TRUE(writeScatter(path, points, 10, error)) << error;
  Picture picture;
  readPng(path, 1, picture);
  ASSERT_EQ(picture.width, 10);
  EXPECT_EQ(picture.at(0, 9), uint8_t(std::lround(0.36 * 255))); // two points
  EXPECT_EQ(picture.at(9, 4), uint8_t(std::lround(0.6 * 255)));
  EXPECT_EQ(picture.at(5, 5), 255);
  std::remove(path.c_str());
}

TEST(Png, FailedWriteNamesThePathAndLeavesNoFile) {
  std::string path = "/nonexistent/dir/grid.png", error;
  HostTensor images(ElementType::f64, {2, 4});
  EXPECT_FALSE(writeImageGrid(path, images, 2, 2, 2, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_FALSE(fileExists(path));
  EXPECT_FALSE(fileExists(path + ".tmp"));
  std::vector<double> logDensity(4, 0.0);
  EXPECT_FALSE(writeDensityHeatmap(path, logDensity, 2, 2, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
}
