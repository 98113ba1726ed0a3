//===- Metrics.cpp - JSON-lines metrics and the progress line -------------===//
#include "bism/runtime/Metrics.h"
#include "bism/runtime/FileIO.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <unistd.h>

namespace bism::runtime {

std::string formatMetricsLine(int64_t step, const MetricValues &values) {
  std::string line = "{\"step\": " + std::to_string(step);
  char buffer[64];
  for (const auto &[name, value] : values) {
    line += ", \"" + name + "\": ";
    if (std::isfinite(value)) {
      std::snprintf(buffer, sizeof(buffer), "%.9g", value);
      line += buffer;
    } else {
      line += "null";
    }
  }
  return line + "}";
}

std::string jsonFixedOrNull(double value, int decimals) {
  if (!std::isfinite(value))
    return "null";
  char buffer[400];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

std::string jsonStep(const std::string *step) {
  if (!step)
    return "null";
  bool count = !step->empty() && step->size() < 19 &&
               step->find_first_not_of("0123456789") == std::string::npos;
  return count ? *step : jsonQuoted(*step);
}

int64_t metricsLineStep(const std::string &line) {
  const char *key = "{\"step\": ";
  if (line.compare(0, std::strlen(key), key) != 0)
    return -1;
  return std::strtoll(line.c_str() + std::strlen(key), nullptr, 10);
}

bool metricInLine(const std::string &line, const std::string &name,
                  double &value) {
  std::string key = "\"" + name + "\": ";
  size_t at = line.find(key);
  if (at == std::string::npos)
    return false;
  const char *start = line.c_str() + at + key.size();
  char *end = nullptr;
  value = std::strtod(start, &end);
  return end != start;
}

MetricsLog::~MetricsLog() {
  if (file_)
    std::fclose(file_);
}

bool MetricsLog::open(const std::string &path, int64_t resumeStep,
                      std::string &error) {
  path_ = path;
  if (resumeStep >= 0) {
    std::string existing, why;
    std::string kept;
    if (readWholeFile(path, existing, why)) {
      std::istringstream lines(existing);
      std::string line;
      while (std::getline(lines, line)) {
        int64_t step = metricsLineStep(line);
        if (step >= 0 && step <= resumeStep)
          kept += line + "\n";
      }
    }
    if (!writeFileAtomically(path, kept, error))
      return false;
    file_ = std::fopen(path.c_str(), "a");
  } else {
    file_ = std::fopen(path.c_str(), "w");
  }
  if (!file_) {
    error = "cannot open " + quotedPath(path) + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool MetricsLog::write(int64_t step, const MetricValues &values,
                       std::string &error) {
  std::string line = formatMetricsLine(step, values) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
      std::fflush(file_) != 0) {
    error = "cannot write " + quotedPath(path_) + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

ProgressLine::ProgressLine(int64_t firstStep, int64_t totalSteps, bool enabled)
    : firstStep_(firstStep), totalSteps_(totalSteps),
      enabled_(enabled && ::isatty(STDERR_FILENO)), start_(Clock::now()),
      lastDraw_(start_) {}

double ProgressLine::rate(int64_t step) const {
  double seconds =
      std::chrono::duration<double>(Clock::now() - start_).count();
  return seconds > 0 ? double(step - firstStep_) / seconds : 0.0;
}

void ProgressLine::exclude(double seconds) {
  start_ += std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(seconds));
}

void ProgressLine::update(int64_t step, double loss) {
  if (!enabled_)
    return;
  Clock::time_point now = Clock::now();
  if (step < totalSteps_ &&
      std::chrono::duration<double>(now - lastDraw_).count() < 0.2)
    return;
  lastDraw_ = now;
  double itPerSecond = rate(step);
  int64_t eta = itPerSecond > 0 ? int64_t(double(totalSteps_ - step) / itPerSecond) : 0;
  std::fprintf(stderr,
               "\r\033[Kstep %" PRId64 "/%" PRId64 "  %.0f it/s  loss %.5g  "
               "ETA %" PRId64 ":%02" PRId64,
               step, totalSteps_, itPerSecond, loss, eta / 60, eta % 60);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::finish() {
  if (drawn_)
    std::fputc('\n', stderr);
  drawn_ = false;
}

std::string jsonQuoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", unsigned(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::vector<std::string> metricWarnings(const MetricValues &values,
                                        int64_t aisChains) {
  std::vector<std::string> warnings;
  char text[320];
  for (const auto &[name, value] : values) {
    if (!std::isfinite(value)) {
      std::snprintf(text, sizeof(text),
                    "%s is %g: the model has diverged or the evaluation "
                    "failed",
                    name.c_str(), value);
      warnings.push_back(text);
    } else if (std::fabs(value) > 1e8 && name != "ais_log_z") {
      std::snprintf(text, sizeof(text),
                    "%s = %.4g is absurdly large: the model has most likely "
                    "diverged",
                    name.c_str(), value);
      warnings.push_back(text);
    }
    if (name == "ais_ess" && value < 0.1 * double(aisChains)) {
      std::snprintf(text, sizeof(text),
                    "AIS's effective sample size is %.1f of %lld chains "
                    "(under 10%%): its log Z, and the log-likelihood, are "
                    "unreliable; raise --ais-steps or --ais-chains",
                    value, static_cast<long long>(aisChains));
      warnings.push_back(text);
    }
  }
  return warnings;
}

double auroc(const std::vector<double> &positives,
             const std::vector<double> &negatives) {
  if (positives.empty() || negatives.empty())
    return std::nan("");
  // Scores with their side (true: positive), ascending; ties share the
  // mean rank, so a tied pair counts ½.
  std::vector<std::pair<double, bool>> all;
  all.reserve(positives.size() + negatives.size());
  for (double s : positives) {
    if (!std::isfinite(s))
      return std::nan("");
    all.push_back({s, true});
  }
  for (double s : negatives) {
    if (!std::isfinite(s))
      return std::nan("");
    all.push_back({s, false});
  }
  std::sort(all.begin(), all.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  double positiveRankSum = 0.0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first)
      ++j;
    double meanRank = 0.5 * double(i + 1 + j); // ranks i+1 … j
    for (size_t k = i; k < j; ++k)
      if (all[k].second)
        positiveRankSum += meanRank;
    i = j;
  }
  double n1 = double(positives.size()), n0 = double(negatives.size());
  return (positiveRankSum - n1 * (n1 + 1) / 2) / (n1 * n0);
}

} // namespace bism::runtime
