//===- Plot.h - figures through PLplot --------------------------*- C++ -*-===//
//
// The figures bism-run writes, drawn by PLplot (its cairo PNG driver: axes,
// ticks, labels, colour bars and fonts are PLplot's): 2-D densities with
// the data overlaid, sample scatter plots, and metric curves. Each writes a
// PNG atomically (a temporary file, then a rename). PLplot keeps global
// state: call these from one thread at a time.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_PLOT_H
#define BISM_RUNTIME_PLOT_H

#include <cstdint>
#include <cmath>
#include <string>
#include <vector>

namespace bism::runtime::plot {

struct Labels {
  std::string title, x = "x", y = "y";
};

/// A rectangle of the plane.
struct Extent {
  double xMin = 0, xMax = 1, yMin = 0, yMax = 1;
};

/// The smallest extent holding every (x, y), grown by `margin` of its width
/// and height on each side (a unit square around a single point).
Extent extentOf(const std::vector<const std::vector<double> *> &xs,
                const std::vector<const std::vector<double> *> &ys,
                double margin = 0.08);

/// Points drawn as markers in one colour (`label` in the legend if any).
struct PointSet {
  std::vector<double> x, y;
  std::string label;
};

/// A curve (`label` in the legend).
struct Series {
  std::vector<double> x, y;
  std::string label;
};

/// `values` ([rows][columns], row r at y = yMin + (r + ½)·dy) shaded over
/// `extent` with a colour bar labelled `valueLabel`, and `overlay` (e.g. the
/// test data) as small markers.
bool densityPlot(const std::string &path, const std::vector<double> &values,
                 int64_t rows, int64_t columns, const Extent &extent,
                 const std::string &valueLabel, const PointSet *overlay,
                 const Labels &labels, std::string &error);

/// Each point set in its own colour, on axes fitted to all of them.
bool scatterPlot(const std::string &path, const std::vector<PointSet> &sets,
                 const Labels &labels, std::string &error);

/// Curves against a common x axis (e.g. metrics against the step); with
/// `logY` the y axis is logarithmic (non-positive values are left out).
/// `yMin`/`yMax` (when finite) fix that end of the y axis (values beyond
/// are clipped by the frame), e.g. to keep one diverging run from
/// flattening the others.
bool linePlot(const std::string &path, const std::vector<Series> &series,
              const Labels &labels, bool logY, std::string &error,
              double yMin = NAN, double yMax = NAN);

} // namespace bism::runtime::plot

#endif // BISM_RUNTIME_PLOT_H
