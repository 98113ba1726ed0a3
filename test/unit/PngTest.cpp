//===- PngTest.cpp - PNG pictures and plots, read back with libpng --------===//
#include "bism/runtime/Plot.h"
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

/// Reads `path` with libpng's simplified API as `channels` (grey or RGB);
/// with `exact`, the file must have been written so (no alpha).
void readPng(const std::string &path, int channels, Picture &out,
             bool exact = true) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_file(&image, path.c_str()))
      << path << ": " << image.message;
  if (exact)
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

  // Scaled by 3: each image pixel a 3x3 block.
  ASSERT_TRUE(writeImageGrid(path, floats, 2, 3, 0, error, 3)) << error;
  readPng(path, 1, picture);
  EXPECT_EQ(picture.width, 3 * (3 * 3 + 1) + 1);
  EXPECT_EQ(picture.height, 2 * (2 * 3 + 1) + 1);
  EXPECT_EQ(picture.at(1, 1), 0);
  EXPECT_EQ(picture.at(3, 6), 0);
  EXPECT_EQ(picture.at(10, 1), 255); // the gap after the first image

  EXPECT_FALSE(writeImageGrid(path, images, 2, 2, 3, error));
  EXPECT_NE(error.find("5x6xf64"), std::string::npos) << error;
  std::remove(path.c_str());
}

TEST(Png, FailedWriteNamesThePathAndLeavesNoFile) {
  std::string path = "/nonexistent/dir/grid.png", error;
  HostTensor images(ElementType::f64, {2, 4});
  EXPECT_FALSE(writeImageGrid(path, images, 2, 2, 2, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_FALSE(fileExists(path));
  EXPECT_FALSE(fileExists(path + ".tmp"));
}

namespace {

/// Pixels of `picture` within `tolerance` of `rgb` in the box [x0, x1) x
/// [y0, y1) (image coordinates, y downward).
int countColour(const Picture &picture, const int rgb[3], int x0, int x1,
                int y0, int y1, int tolerance = 12) {
  int count = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      bool close = true;
      for (int c = 0; c < 3; ++c)
        close &= std::abs(int(picture.at(x, y, c)) - rgb[c]) <= tolerance;
      count += close;
    }
  return count;
}

const int kBlue[3] = {31, 119, 180}, kOrange[3] = {255, 127, 14};

} // namespace

TEST(Plot, ExtentOfPointsWithMargin) {
  std::vector<double> x = {0, 4}, y = {-1, 1};
  plot::Extent e = plot::extentOf({&x}, {&y}, 0.25);
  EXPECT_DOUBLE_EQ(e.xMin, -1);
  EXPECT_DOUBLE_EQ(e.xMax, 5);
  EXPECT_DOUBLE_EQ(e.yMin, -1.5);
  EXPECT_DOUBLE_EQ(e.yMax, 1.5);
  std::vector<double> one = {2}, none;
  e = plot::extentOf({&one}, {&none}, 0.0);
  EXPECT_DOUBLE_EQ(e.xMin, 2);
  EXPECT_DOUBLE_EQ(e.xMax, 2);
  EXPECT_DOUBLE_EQ(e.yMin, 0);
  EXPECT_DOUBLE_EQ(e.yMax, 1);
}

// Each set in its own colour where its points are: a cluster at the lower
// left (first colour) and one at the upper right (second), on axes fitted
// to both.
TEST(Plot, ScatterDrawsEachSetWhereItsPointsAre) {
  plot::PointSet low{{}, {}, "first"}, high{{}, {}, "second"};
  for (int i = 0; i < 50; ++i) {
    low.x.push_back(-3 + 0.01 * i);
    low.y.push_back(-2 + 0.01 * i);
    high.x.push_back(7 - 0.01 * i);
    high.y.push_back(5 - 0.01 * i);
  }
  std::string path = tempPath("scatter.png"), error;
  ASSERT_TRUE(plot::scatterPlot(path, {low, high}, {"two sets", "x", "y"},
                                error))
      << error;
  Picture picture;
  readPng(path, 3, picture, /*exact=*/false);
  ASSERT_EQ(picture.width, 900);
  ASSERT_EQ(picture.height, 720);
  int w = picture.width, h = picture.height;
  EXPECT_GT(countColour(picture, kBlue, 0, w / 2, h / 2, h), 20);
  EXPECT_GT(countColour(picture, kOrange, w / 2, w, 0, h / 2), 20);
  // (The legend, top right, holds markers of both: look below it.)
  EXPECT_EQ(countColour(picture, kBlue, w / 2, w, h / 4, h / 2), 0);
  EXPECT_EQ(countColour(picture, kOrange, 0, w / 2, h / 2, h), 0);
  EXPECT_FALSE(fileExists(path + ".tmp"));
  std::remove(path.c_str());
}

// Values rising with x: viridis' dark purple on the left of the plot,
// its yellow on the right.
TEST(Plot, DensityShadesByValue) {
  const int64_t rows = 20, columns = 30;
  std::vector<double> values(size_t(rows * columns));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < columns; ++c)
      values[size_t(r * columns + c)] = double(c);
  std::string path = tempPath("density.png"), error;
  ASSERT_TRUE(plot::densityPlot(path, values, rows, columns, {0, 3, 0, 2},
                                "value", nullptr, {"rising", "x", "y"}, error))
      << error;
  Picture picture;
  readPng(path, 3, picture, /*exact=*/false);
  int y = picture.height / 2;
  int left = int(0.15 * picture.width), right = int(0.78 * picture.width);
  EXPECT_LT(picture.at(left, y, 0), 90);   // purple: little red,
  EXPECT_GT(picture.at(left, y, 2), 60);   // some blue
  EXPECT_GT(picture.at(right, y, 0), 200); // yellow
  EXPECT_GT(picture.at(right, y, 1), 200);
  EXPECT_LT(picture.at(right, y, 2), 100);
  EXPECT_FALSE(plot::densityPlot(path, values, rows, columns + 1, {0, 3, 0, 2},
                                 "value", nullptr, {}, error));
  EXPECT_NE(error.find("is not 20x31"), std::string::npos) << error;
  std::remove(path.c_str());
}

TEST(Plot, CurvesAndUnwritablePaths) {
  plot::Series rising{{1, 2, 3, 4}, {1, 10, 100, 1000}, "rising"};
  std::string path = tempPath("curves.png"), error;
  ASSERT_TRUE(plot::linePlot(path, {rising}, {"t", "step", "loss"}, true,
                             error))
      << error;
  Picture picture;
  readPng(path, 3, picture, /*exact=*/false);
  EXPECT_GT(countColour(picture, kBlue, 0, picture.width, 0, picture.height),
            200);
  std::remove(path.c_str());
  std::string bad = "/nonexistent/dir/plot.png";
  EXPECT_FALSE(plot::linePlot(bad, {rising}, {}, false, error));
  EXPECT_NE(error.find(bad), std::string::npos) << error;
  EXPECT_FALSE(fileExists(bad));
  EXPECT_FALSE(plot::scatterPlot(bad, {}, {}, error));
}

// --y-min/--y-max: the frame keeps the given range and the curve beyond it
// is clipped (the flat curve at y = 5 above y-max leaves no pixel); an
// empty range is an error, no file.
TEST(Plot, FixedYRangeClipsCurves) {
  plot::Series inside{{1, 2, 3}, {0.2, 0.5, 0.8}, "inside"};
  plot::Series above{{1, 2, 3}, {5, 5, 5}, "above"};
  std::string path = tempPath("clipped.png"), error;
  ASSERT_TRUE(plot::linePlot(path, {above, inside}, {"", "step", "y"}, false,
                             error, 0.0, 1.0))
      << error;
  Picture picture;
  readPng(path, 3, picture, /*exact=*/false);
  // Series 0 (blue) only in the legend's short line sample, series 1 drawn.
  int64_t legendBand = picture.height / 4;
  EXPECT_EQ(countColour(picture, kBlue, 0, picture.width, legendBand,
                        picture.height),
            0);
  EXPECT_GT(countColour(picture, kOrange, 0, picture.width, legendBand,
                        picture.height),
            100);
  std::remove(path.c_str());
  std::string empty = tempPath("empty-range.png");
  EXPECT_FALSE(plot::linePlot(empty, {inside}, {}, false, error, 1.0, 0.5));
  EXPECT_NE(error.find("y range is empty"), std::string::npos) << error;
  EXPECT_FALSE(fileExists(empty));
}
