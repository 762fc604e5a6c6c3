#include "core/timer.hpp"

#include <cstdio>

namespace surro {

std::string PhaseTimers::summary() const {
  std::string out;
  char buf[128];
  for (const auto& [phase, e] : m_entries) {
    std::snprintf(buf, sizeof(buf), "%s%s=%.3fs(%lld)", out.empty() ? "" : " ", phase.c_str(),
                  e.seconds, e.calls);
    out += buf;
  }
  return out;
}

}  // namespace surro
