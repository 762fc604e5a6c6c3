#pragma once
// Progress for long runs. On a terminal: one bar on stderr, redrawn in place, with rate and ETA.
// Otherwise (batch jobs, log files): a plain line at most every `interval` seconds and at the end,
// so a Slurm log shows progress without carriage-return clutter.
#include <chrono>
#include <string>

namespace surro::app {

class Progress {
 public:
  Progress(std::string what, long long total, long long done_already = 0, double interval_s = 30.0);
  void advance(long long n);  // n more units finished
  void finish();

 private:
  void draw(bool force);
  std::string m_what;
  long long m_total, m_done, m_start_done;
  double m_interval;
  bool m_tty;
  std::chrono::steady_clock::time_point m_start, m_last;
};

// "1h02m", "3m12s", "45s"
std::string format_duration(double seconds);

}  // namespace surro::app
