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
  // --log plain: plain lines even on a terminal (for every Progress made afterwards).
  static void set_plain(bool plain);

 private:
  void draw(bool force);
  std::string m_what;
  long long m_total, m_done, m_start_done;
  double m_interval;
  bool m_tty;
  std::chrono::steady_clock::time_point m_start, m_last;
};

// A batch-mode training line: "step 120/4000 (epoch 2/20), loss 0.0123, 512.0 samples/s, epoch time
// 1m02s, ETA 8m20s". loss: the epoch's mean per sample so far; samples_per_s and steps_per_s: the
// rates over the epoch's steps run so far (steps_per_s gives the ETA); elapsed_s: the epoch's time.
std::string step_line(long long step, long long total_steps, long long epoch, long long epochs, double loss,
                      double samples_per_s, double steps_per_s, double elapsed_s);

// "1h02m", "3m12s", "45s"
std::string format_duration(double seconds);

}  // namespace surro::app
