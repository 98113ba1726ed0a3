//===- Metrics.h - JSON-lines metrics and the progress line -----*- C++ -*-===//
#ifndef BISM_RUNTIME_METRICS_H
#define BISM_RUNTIME_METRICS_H

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace bism::runtime {

using MetricValues = std::vector<std::pair<std::string, double>>;

/// `{"step": 100, "loss": 0.25, ...}`; doubles with 9 significant digits
/// (exact for f32), non-finite values as null.
std::string formatMetricsLine(int64_t step, const MetricValues &values);

/// The number `name` holds in a metrics line ({"step": 10, "loss": 1.5,
/// ...}); false when the line has no such number.
bool metricInLine(const std::string &line, const std::string &name,
                  double &value);

/// What makes evaluation figures untrustworthy, one message each: a
/// non-finite or absurdly large value (|x| > 1e8: a diverged model), and an
/// AIS effective sample size ("ais_ess") under 10% of `aisChains`.
std::vector<std::string> metricWarnings(const MetricValues &values,
                                        int64_t aisChains);

/// `text` as a JSON string literal (quotes, backslashes and control
/// characters escaped).
std::string jsonQuoted(const std::string &text);

/// `value` with `decimals` digits after the point, or null when it is not
/// finite (JSON has no NaN or infinity).
std::string jsonFixedOrNull(double value, int decimals);

/// A checkpoint's "step" field as JSON: the number when it is a count, else
/// a string; null when there is none.
std::string jsonStep(const std::string *step);

/// The area under the ROC curve of a score that should be higher on
/// `positives` than on `negatives`: P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) over all
/// pairs (the Mann-Whitney statistic, by sorting: O(n log n)); NaN when a
/// side is empty or holds a non-finite score.
double auroc(const std::vector<double> &positives,
             const std::vector<double> &negatives);

/// The "step" of a line written by formatMetricsLine, or -1.
int64_t metricsLineStep(const std::string &line);

/// metrics.jsonl: one line per record, flushed as written so a crash loses at
/// most the line being written.
class MetricsLog {
public:
  ~MetricsLog();
  /// Starts a new log at `path` (truncating), or, with `resumeStep` ≥ 0,
  /// keeps the existing lines with step ≤ resumeStep (those a resumed run
  /// would not write again) and appends after them.
  bool open(const std::string &path, int64_t resumeStep, std::string &error);
  bool write(int64_t step, const MetricValues &values, std::string &error);
  const std::string &path() const { return path_; }

private:
  std::FILE *file_ = nullptr;
  std::string path_;
};

/// "step 1200/20000  850 it/s  loss 0.1234  ETA 0:22" redrawn in place on
/// stderr at most five times a second; silent when stderr is not a terminal
/// (logs and CI stay clean) or when disabled.
class ProgressLine {
public:
  ProgressLine(int64_t firstStep, int64_t totalSteps, bool enabled);
  void update(int64_t step, double loss);
  /// Ends the line (if one was drawn).
  void finish();
  /// Iterations per second since construction, less the excluded time.
  double rate(int64_t step) const;
  /// Leaves `seconds` (e.g. a held-out evaluation) out of rate and ETA.
  void exclude(double seconds);

private:
  using Clock = std::chrono::steady_clock;
  int64_t firstStep_, totalSteps_;
  bool enabled_, drawn_ = false;
  Clock::time_point start_, lastDraw_;
};

} // namespace bism::runtime

#endif // BISM_RUNTIME_METRICS_H
