#pragma once
// Profiling regions and phase timers.
//
// ScopedRegion pushes a Kokkos profiling region (visible to Kokkos Tools, nsys, ...); it works on
// Kokkos 3.4, which has no Kokkos::Profiling::ScopedRegion. PhaseTimers accumulate wall time per
// named phase (data, forward, backward, optimizer, io) for the run summary; a timed phase fences
// the execution space at its end so device work is counted where it was issued.
#include <Kokkos_Core.hpp>

#include <map>
#include <string>

namespace surro {

class ScopedRegion {
 public:
  explicit ScopedRegion(const std::string& label) { Kokkos::Profiling::pushRegion(label); }
  ~ScopedRegion() { Kokkos::Profiling::popRegion(); }
  ScopedRegion(const ScopedRegion&) = delete;
  ScopedRegion& operator=(const ScopedRegion&) = delete;
};

class PhaseTimers {
 public:
  struct Entry {
    double seconds = 0.0;
    long long calls = 0;
  };
  void add(const std::string& phase, double seconds) {
    Entry& e = m_entries[phase];
    e.seconds += seconds;
    e.calls += 1;
  }
  const std::map<std::string, Entry>& entries() const { return m_entries; }
  // One line: "phase=1.234s(10) phase2=..." in phase-name order, for grep-able run summaries.
  std::string summary() const;

 private:
  std::map<std::string, Entry> m_entries;
};

// Times a scope into `timers[phase]` and opens a profiling region "surro::<phase>".
template <class Exec>
class ScopedPhase {
 public:
  ScopedPhase(const Exec& exec, PhaseTimers& timers, const std::string& phase)
      : m_exec(exec), m_timers(timers), m_phase(phase), m_region("surro::" + phase) {}
  ~ScopedPhase() {
    m_exec.fence();
    m_timers.add(m_phase, m_timer.seconds());
  }
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

 private:
  Exec m_exec;
  PhaseTimers& m_timers;
  std::string m_phase;
  ScopedRegion m_region;
  Kokkos::Timer m_timer;
};

}  // namespace surro
