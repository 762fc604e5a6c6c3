#include "app/run_config.hpp"

#include "core/io.hpp"
#include "core/log.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace surro::app {

RunSection read_run_section(config::Node& node) {
  RunSection r;
  r.name =
      node.get_string("name", "surro",
                      {[](const std::string& s) { return !s.empty() && s.find('/') == std::string::npos; },
                       "a non-empty name without '/'"});
  r.output_dir =
      node.get_string("output_dir", "runs/" + r.name,
                      {[](const std::string& s) { return !s.empty(); }, "a non-empty folder path"});
  r.seed = static_cast<std::uint64_t>(node.get_int64("seed", 0, config::non_negative()));
  r.log_level = node.get_string("log_level", "info", config::one_of({"error", "warn", "info", "debug"}));
  node.finish();
  return r;
}

DatasetSection read_dataset_section(config::Node& node) {
  DatasetSection d;
  d.train = node.get_int("train", d.train, config::positive());
  d.valid = node.get_int("valid", d.valid, config::non_negative());
  d.test = node.get_int("test", d.test, config::non_negative());
  d.per_file = node.get_int("per_file", d.per_file, config::positive());
  d.batch = std::min(node.get_int("batch", d.per_file, config::positive()), d.per_file);
  node.finish();
  return d;
}

SimulateSection read_simulate_section(config::Node& node) {
  SimulateSection s;
  s.sample = node.get_int("sample", s.sample, config::non_negative());
  s.vtk = node.get_bool("vtk", s.vtk);
  node.finish();
  return s;
}

JobSections read_job_sections(config::Node& root, bool need_solver) {
  JobSections out;
  if (root.has("solver") || need_solver) {
    if (!root.has("solver"))
      root.fail("solver", "missing; expected a solver section with a \"type\" (one of the solver types)");
    config::Node s = root.child("solver");
    out.solver = solvers::make_solver(s);
  }
  if (root.has("dataset")) {
    config::Node d = root.child("dataset");
    out.dataset = read_dataset_section(d);
  }
  if (root.has("simulate")) {
    config::Node m = root.child("simulate");
    out.simulate = read_simulate_section(m);
  }
  return out;
}

ResolvedConfig resolve_config(const std::string& path, const std::vector<std::string>& overrides,
                              const std::function<void(config::Node& root)>& read_sections) {
  config::json raw = path.empty() ? config::json::object() : config::load_file(path);
  for (const auto& o : overrides) config::apply_override(raw, o);

  ResolvedConfig out;
  out.file = path.empty() ? "<command line>" : path;
  config::Node root(raw, out.file, "", &out.resolved);
  config::Node run = root.child("run");
  out.run = read_run_section(run);
  log::set_level(log::parse_level(out.run.log_level));
  if (read_sections) read_sections(root);
  root.finish();
  return out;
}

std::string save_resolved_config(const ResolvedConfig& cfg) {
  const std::string path = cfg.run.output_dir + "/config.json";
  io::write_text_atomic(path, cfg.resolved.dump(2) + "\n");
  return path;
}

namespace {

// The absolute, resolved components of a path (no empty trailing component for "dir/").
std::vector<std::string> resolved_parts(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  if (ec) p = fs::absolute(path).lexically_normal();
  std::vector<std::string> parts;
  for (const auto& part : p)
    if (!part.empty()) parts.push_back(part.string());
  return parts;
}

// True when `inner` is `outer` or lies below it.
bool within(const std::vector<std::string>& inner, const std::vector<std::string>& outer) {
  return inner.size() >= outer.size() && std::equal(outer.begin(), outer.end(), inner.begin());
}

}  // namespace

void check_output_dir(const std::string& key, const std::string& dir,
                      const std::vector<std::pair<std::string, std::string>>& inputs) {
  namespace fs = std::filesystem;
  if (dir.empty()) SURRO_THROW(ErrorKind::usage, key << ": expected an output folder, got an empty path");
  const std::vector<std::string> out = resolved_parts(dir);
  if (out.size() <= 1)  // just the root ("/")
    SURRO_THROW(ErrorKind::usage, key << " = '" << dir << "': refusing to write into the filesystem root");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    SURRO_THROW(ErrorKind::usage, key << " = '" << dir << "': exists and is not a folder");
  for (const auto& [what, path] : inputs) {
    if (path.empty()) continue;
    if (within(out, resolved_parts(path)))
      SURRO_THROW(ErrorKind::usage, key << " = '" << dir << "': is "
                                        << (out == resolved_parts(path) ? "" : "inside ") << "the " << what
                                        << " '" << path
                                        << "' this command reads; its files could be overwritten; choose "
                                        << "another folder");
  }
}

void check_output_file(const std::string& key, const std::string& file,
                       const std::vector<std::pair<std::string, std::string>>& inputs) {
  namespace fs = std::filesystem;
  if (file.empty()) SURRO_THROW(ErrorKind::usage, key << ": expected an output file, got an empty path");
  std::error_code ec;
  if (fs::is_directory(file, ec))
    SURRO_THROW(ErrorKind::usage, key << " = '" << file << "': is a folder; expected an output file path");
  const std::vector<std::string> out = resolved_parts(file);
  for (const auto& [what, path] : inputs) {
    if (path.empty()) continue;
    if (within(out, resolved_parts(path)))
      SURRO_THROW(ErrorKind::usage, key << " = '" << file << "': is inside the " << what << " '" << path
                                        << "' this command reads; its files could be overwritten; choose "
                                        << "another place");
  }
}

namespace {

void collect_differences(const config::json& a, const config::json& b, const std::string& path,
                         const std::vector<std::string>& ignored, std::vector<std::string>& out) {
  for (const auto& skip : ignored)
    if (path == skip) return;
  if (a.is_object() && b.is_object()) {
    auto sub = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
    for (const auto& [key, value] : a.items()) {
      if (!b.contains(key)) {
        if (std::find(ignored.begin(), ignored.end(), sub(key)) == ignored.end()) out.push_back(sub(key));
      } else {
        collect_differences(value, b[key], sub(key), ignored, out);
      }
    }
    for (const auto& [key, value] : b.items())
      if (!a.contains(key) && std::find(ignored.begin(), ignored.end(), sub(key)) == ignored.end())
        out.push_back(sub(key));
  } else if (a != b) {
    out.push_back(path);
  }
}

}  // namespace

std::vector<std::string> differing_keys(const config::json& was, const config::json& now,
                                        const std::vector<std::string>& ignored) {
  std::vector<std::string> out;
  collect_differences(was, now, "", ignored, out);
  return out;
}

void refuse_changed_keys(const std::string& what, const std::vector<std::string>& changed,
                         const std::string& advice) {
  if (changed.empty()) return;
  std::string keys;
  for (const auto& k : changed) keys += (keys.empty() ? "" : ", ") + k;
  SURRO_THROW(ErrorKind::usage, what << ": " << keys << " changed; " << advice);
}

std::string fingerprint(const config::json& value) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : value.dump()) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace surro::app
