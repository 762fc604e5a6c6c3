#include "app/progress.hpp"

#include "core/log.hpp"

#include <cstdio>
#include <iostream>

#include <unistd.h>

namespace surro::app {

namespace {
bool g_plain = false;
}  // namespace

void Progress::set_plain(bool plain) {
  g_plain = plain;
}

std::string step_line(long long step, long long total_steps, long long epoch, long long epochs, double loss,
                      double samples_per_s, double steps_per_s, double elapsed_s) {
  const std::string eta = steps_per_s > 0 ? format_duration(double(total_steps - step) / steps_per_s) : "-";
  char line[256];
  std::snprintf(line, sizeof(line),
                "step %lld/%lld (epoch %lld/%lld), loss %.6g, %.1f samples/s, epoch time %s, ETA %s", step,
                total_steps, epoch, epochs, loss, samples_per_s, format_duration(elapsed_s).c_str(),
                eta.c_str());
  return line;
}

std::string format_duration(double s) {
  char buf[32];
  const long long t = static_cast<long long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", t / 3600, t / 60 % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof(buf), "%llds", t);
  return buf;
}

Progress::Progress(std::string what, long long total, long long done_already, double interval_s)
    : m_what(std::move(what)),
      m_total(total),
      m_done(done_already),
      m_start_done(done_already),
      m_interval(interval_s),
      m_tty(!g_plain && ::isatty(STDERR_FILENO) == 1 && log::level() >= log::Level::info),
      m_start(std::chrono::steady_clock::now()),
      m_last(m_start) {}

void Progress::advance(long long n) {
  m_done += n;
  draw(false);
}

void Progress::finish() {
  draw(true);
  if (m_tty) std::cerr << '\n';
}

void Progress::draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  const double since_last = std::chrono::duration<double>(now - m_last).count();
  if (!force && !m_tty && since_last < m_interval) return;
  if (!force && m_tty && since_last < 0.2) return;
  m_last = now;
  const double elapsed = std::chrono::duration<double>(now - m_start).count();
  const long long fresh = m_done - m_start_done;
  const double rate = elapsed > 0 ? fresh / elapsed : 0.0;
  const std::string eta = (rate > 0 && m_done < m_total) ? format_duration((m_total - m_done) / rate) : "-";
  const double frac = m_total > 0 ? double(m_done) / m_total : 1.0;
  char line[256];
  if (m_tty) {
    const int width = 30, filled = static_cast<int>(frac * width);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::snprintf(line, sizeof(line), "\r%s [%s] %3.0f%% %lld/%lld  %.2f/s  ETA %s   ", m_what.c_str(),
                  bar.c_str(), 100 * frac, m_done, m_total, rate, eta.c_str());
    std::cerr << line << std::flush;
  } else {
    std::snprintf(line, sizeof(line), "%s: %lld/%lld (%.0f%%), %.2f/s, elapsed %s, ETA %s", m_what.c_str(),
                  m_done, m_total, 100 * frac, rate, format_duration(elapsed).c_str(), eta.c_str());
    SURRO_LOG_INFO(line);
  }
}

}  // namespace surro::app
