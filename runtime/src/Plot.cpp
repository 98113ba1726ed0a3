//===- Plot.cpp - figures through PLplot ----------------------------------===//
#include "bism/runtime/Plot.h"

#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unistd.h>

namespace bism::runtime::plot {
namespace {

constexpr int kWidth = 900, kHeight = 720;

/// Colour map 0: white background, black axes, then the series colours
/// (matplotlib's tab10, which stays apart for colour-blind readers).
void setPalette() {
  static const int colours[][3] = {
      {255, 255, 255}, {0, 0, 0},       {31, 119, 180}, {255, 127, 14},
      {44, 160, 44},   {214, 39, 40},   {148, 103, 189}, {140, 86, 75},
      {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  int count = int(sizeof(colours) / sizeof(colours[0]));
  plscmap0n(count);
  for (int i = 0; i < count; ++i)
    plscol0(i, colours[i][0], colours[i][1], colours[i][2]);
}

/// Colour map 1: viridis, by its control points.
void setViridis() {
  PLFLT position[] = {0.0, 0.25, 0.5, 0.75, 1.0};
  PLFLT red[] = {0.267, 0.229, 0.128, 0.369, 0.993};
  PLFLT green[] = {0.005, 0.322, 0.567, 0.789, 0.906};
  PLFLT blue[] = {0.329, 0.546, 0.551, 0.383, 0.144};
  plscmap1n(256);
  plscmap1l(1, 5, position, red, green, blue, nullptr);
}

/// The colour of series `i` in colour map 0.
PLINT seriesColour(size_t i) { return PLINT(2 + i % 10); }

/// Opens a PNG page on `path`'s temporary file; false when it cannot be
/// written (checked before PLplot, which would exit on it).
bool begin(const std::string &temporary, std::string &error) {
  if (FILE *probe = std::fopen(temporary.c_str(), "wb")) {
    std::fclose(probe);
  } else {
    error = "cannot write '" + temporary + "'";
    return false;
  }
  plsdev("pngcairo");
  plsfnam(temporary.c_str());
  plspage(0, 0, kWidth, kHeight, 0, 0);
  setPalette();
  plinit();
  pladv(0);
  plschr(0, 1.1);
  return true;
}

/// Ends the page and moves the PNG into place.
bool finish(const std::string &temporary, const std::string &path,
            std::string &error) {
  plend1();
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot write '" + path + "'";
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

void frame(const Extent &extent, const Labels &labels, bool logY = false) {
  plwind(extent.xMin, extent.xMax, extent.yMin, extent.yMax);
  plcol0(1);
  plwidth(1.0);
  plbox("bcnst", 0.0, 0, logY ? "bcnstvl" : "bcnstv", 0.0, 0);
  pllab(labels.x.c_str(), labels.y.c_str(), labels.title.c_str());
}

/// A legend of `names` (markers or lines in the series colours): inside
/// the top right corner, or (`above`) above the plot, centred, two entries
/// a row (a row of long run names ran off the picture).
void legend(const std::vector<std::string> &names, bool lines,
            bool above = false) {
  size_t n = names.size();
  if (n == 0 || (n == 1 && names[0].empty()))
    return;
  std::vector<PLINT> options(n, lines ? PL_LEGEND_LINE : PL_LEGEND_SYMBOL),
      textColours(n, 1), lineColours(n), lineStyles(n, 1), symbolColours(n),
      symbolNumbers(n, 3), boxColours(n, 0), boxPatterns(n, 0);
  std::vector<PLFLT> lineWidths(n, 2.0), symbolScales(n, 1.0),
      boxScales(n, 0.0), boxLineWidths(n, 0.0);
  std::vector<const char *> texts(n), symbols(n, "#(727)");
  for (size_t i = 0; i < n; ++i) {
    lineColours[i] = symbolColours[i] = seriesColour(i);
    texts[i] = names[i].c_str();
  }
  PLFLT width = 0, height = 0;
  pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           above ? PL_POSITION_TOP | PL_POSITION_OUTSIDE
                 : PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE,
           above ? 0.0 : 0.02, 0.02, 0.08, 0, 1, 1,
           above ? PLINT((n + 1) / 2) : 0, above ? PLINT(std::min<size_t>(n, 2)) : 0,
           PLINT(n), options.data(), 1.0, 1.0, 1.6,
           1.0, textColours.data(), texts.data(), boxColours.data(),
           boxPatterns.data(), boxScales.data(), boxLineWidths.data(),
           lineColours.data(), lineStyles.data(), lineWidths.data(),
           symbolColours.data(), symbolScales.data(), symbolNumbers.data(),
           symbols.data());
}

void markers(const PointSet &set, PLINT colour, double scale) {
  if (set.x.empty())
    return;
  plcol0(colour);
  plschr(0, scale);
  plstring(PLINT(set.x.size()), set.x.data(), set.y.data(), "#(727)");
  plschr(0, 1.1);
}

} // namespace

Extent extentOf(const std::vector<const std::vector<double> *> &xs,
                const std::vector<const std::vector<double> *> &ys,
                double margin) {
  double inf = std::numeric_limits<double>::infinity();
  Extent e{inf, -inf, inf, -inf};
  auto grow = [](const std::vector<const std::vector<double> *> &all,
                 double &low, double &high) {
    for (const std::vector<double> *values : all)
      for (double v : *values)
        if (std::isfinite(v)) {
          low = std::min(low, v);
          high = std::max(high, v);
        }
  };
  grow(xs, e.xMin, e.xMax);
  grow(ys, e.yMin, e.yMax);
  auto pad = [&](double &low, double &high) {
    if (!(low <= high)) {
      low = 0;
      high = 1;
    }
    double span = high - low;
    if (span <= 0)
      span = 1;
    low -= margin * span;
    high += margin * span;
  };
  pad(e.xMin, e.xMax);
  pad(e.yMin, e.yMax);
  return e;
}

bool densityPlot(const std::string &path, const std::vector<double> &values,
                 int64_t rows, int64_t columns, const Extent &extent,
                 const std::string &valueLabel, const PointSet *overlay,
                 const Labels &labels, std::string &error) {
  if (rows < 2 || columns < 2 || int64_t(values.size()) != rows * columns) {
    error = "density grid of " + std::to_string(values.size()) +
            " values is not " + std::to_string(rows) + "x" +
            std::to_string(columns);
    return false;
  }
  std::string temporary = path + ".tmp";
  if (!begin(temporary, error))
    return false;
  setViridis();
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (double v : values)
    if (std::isfinite(v)) {
      low = std::min(low, v);
      high = std::max(high, v);
    }
  if (!(low < high)) {
    low = std::isfinite(low) ? low - 1 : 0;
    high = low + 2;
  }
  // PLplot's image is indexed [x][y].
  size_t width = size_t(columns), height = size_t(rows);
  std::vector<std::vector<PLFLT>> image(width, std::vector<PLFLT>(height));
  std::vector<const PLFLT *> pointers(width);
  for (int64_t c = 0; c < columns; ++c) {
    for (int64_t r = 0; r < rows; ++r) {
      double v = values[size_t(r * columns + c)];
      image[size_t(c)][size_t(r)] = std::isfinite(v) ? v : low;
    }
    pointers[size_t(c)] = image[size_t(c)].data();
  }
  plvpor(0.13, 0.8, 0.14, 0.9);
  plwind(extent.xMin, extent.xMax, extent.yMin, extent.yMax);
  plimagefr(pointers.data(), PLINT(columns), PLINT(rows), extent.xMin,
            extent.xMax, extent.yMin, extent.yMax, low, high, low, high,
            nullptr, nullptr);
  if (overlay)
    markers(*overlay, 0, 0.35);
  frame(extent, labels);
  if (overlay && !overlay->label.empty()) {
    plcol0(1);
    plmtex("t", 0.6, 1.0, 1.0, ("white: " + overlay->label).c_str());
  }
  // The colour bar, with its own axis.
  PLFLT barWidth = 0, barHeight = 0;
  PLINT labelOptions[] = {PL_COLORBAR_LABEL_RIGHT};
  const char *barLabels[] = {valueLabel.c_str()};
  const char *axisOptions[] = {"bcvtm"};
  PLFLT ticks[] = {0.0};
  PLINT subTicks[] = {0};
  PLINT valueCounts[] = {2};
  PLFLT range[] = {low, high};
  const PLFLT *ranges[] = {range};
  plcol0(1);
  plcolorbar(&barWidth, &barHeight, PL_COLORBAR_GRADIENT,
             PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
             0.03, 0.0, 0.04, 1.0, 0, 1, 1, 0.0, 0.0, 0, 0.0, 1, labelOptions,
             barLabels, 1, axisOptions, ticks, subTicks, valueCounts, ranges);
  return finish(temporary, path, error);
}

bool scatterPlot(const std::string &path, const std::vector<PointSet> &sets,
                 const Labels &labels, std::string &error) {
  std::vector<const std::vector<double> *> xs, ys;
  for (const PointSet &set : sets) {
    xs.push_back(&set.x);
    ys.push_back(&set.y);
  }
  Extent extent = extentOf(xs, ys);
  std::string temporary = path + ".tmp";
  if (!begin(temporary, error))
    return false;
  plvpor(0.12, 0.95, 0.12, 0.9);
  frame(extent, labels);
  std::vector<std::string> names;
  for (size_t i = 0; i < sets.size(); ++i) {
    markers(sets[i], seriesColour(i), sets.size() > 1 ? 0.45 : 0.5);
    names.push_back(sets[i].label);
  }
  legend(names, /*lines=*/false);
  return finish(temporary, path, error);
}

bool linePlot(const std::string &path, const std::vector<Series> &series,
              const Labels &labels, bool logY, std::string &error, double yMin,
              double yMax) {
  // What is drawn: log10 y on a log axis (positive values only).
  std::vector<Series> drawn = series;
  for (Series &s : drawn) {
    Series kept{{}, {}, s.label};
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]) &&
          (!logY || s.y[i] > 0)) {
        kept.x.push_back(s.x[i]);
        kept.y.push_back(logY ? std::log10(s.y[i]) : s.y[i]);
      }
    s = std::move(kept);
  }
  std::vector<const std::vector<double> *> xs, ys;
  for (const Series &s : drawn) {
    xs.push_back(&s.x);
    ys.push_back(&s.y);
  }
  Extent extent = extentOf(xs, ys, 0.04);
  if (std::isfinite(yMin))
    extent.yMin = logY ? std::log10(yMin) : yMin;
  if (std::isfinite(yMax))
    extent.yMax = logY ? std::log10(yMax) : yMax;
  if (!(extent.yMin < extent.yMax)) {
    error = "the y range is empty (y from " + std::to_string(yMin) + " to " +
            std::to_string(yMax) + ")";
    return false;
  }
  std::string temporary = path + ".tmp";
  if (!begin(temporary, error))
    return false;
  // The legend sits above the frame, two entries a row: the frame's top
  // comes down by a row's height for each row after the first.
  size_t legendRows = series.size() > 1 ? (series.size() + 1) / 2 : 0;
  double top = 0.86 - 0.045 * double(legendRows > 1 ? legendRows - 1 : 0);
  plvpor(0.14, 0.95, 0.12, top);
  Labels untitled = labels;
  untitled.title.clear();
  frame(extent, untitled, logY);
  // The title above the frame, unless it repeats the y label (it would
  // sit where the legend's rows are).
  if (labels.title != labels.y || legendRows == 0)
    plmtex("t", 2.2, 0.0, 0.0, labels.title.c_str());
  std::vector<std::string> names;
  for (size_t i = 0; i < drawn.size(); ++i) {
    plcol0(seriesColour(i));
    plwidth(2.0);
    if (drawn[i].x.size() > 1)
      plline(PLINT(drawn[i].x.size()), drawn[i].x.data(), drawn[i].y.data());
    else if (drawn[i].x.size() == 1)
      plstring(1, drawn[i].x.data(), drawn[i].y.data(), "#(727)");
    names.push_back(drawn[i].label);
  }
  plwidth(1.0);
  // Above the plot, where no curve is.
  legend(names, /*lines=*/true, /*above=*/true);
  return finish(temporary, path, error);
}

} // namespace bism::runtime::plot
