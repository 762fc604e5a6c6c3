#include "app/run_config.hpp"

#include "core/io.hpp"

namespace surro::app {

RunSection read_run_section(config::Node& node) {
  RunSection r;
  r.name = node.get_string("name", "surro", {[](const std::string& s) {
                                               return !s.empty() && s.find('/') == std::string::npos;
                                             },
                                             "a non-empty name without '/'"});
  r.output_dir = node.get_string("output_dir", "runs/" + r.name);
  r.seed = static_cast<std::uint64_t>(node.get_int("seed", 0, config::non_negative()));
  r.log_level = node.get_string("log_level", "info", config::one_of({"error", "warn", "info", "debug"}));
  node.finish();
  return r;
}

ResolvedConfig resolve_config(const std::string& path, const std::vector<std::string>& overrides) {
  config::json raw = path.empty() ? config::json::object() : config::load_file(path);
  for (const auto& o : overrides) config::apply_override(raw, o);
  const std::string file = path.empty() ? "<command line>" : path;

  ResolvedConfig out;
  config::Node root(raw, file, "", &out.resolved);
  config::Node run = root.child("run");
  out.run = read_run_section(run);
  root.finish();
  return out;
}

std::string save_resolved_config(const ResolvedConfig& cfg) {
  const std::string path = cfg.run.output_dir + "/config.json";
  io::write_text_atomic(path, cfg.resolved.dump(2) + "\n");
  return path;
}

}  // namespace surro::app
