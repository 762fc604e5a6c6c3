#pragma once
// JSON configuration: loading, --set overrides, validation with exact locations, "type" factories.
//
// Precedence: command line (--set) > config file > built-in defaults. A config is read through
// Node objects; each read validates the value and records it (default included) in the resolved
// config, which is what a run echoes and saves. Errors are Error(usage) with one line naming the
// file and the JSON path:
//   run.json: model.modes[1]: expected a positive integer, got -3
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace surro::config {

using json = nlohmann::ordered_json;  // keeps the user's key order in the echoed config

// Reads and parses a JSON file. Errors: missing/unreadable file, malformed JSON with line:column.
json load_file(const std::string& path);

// Applies one "key.path=value" override. The path uses dots for object keys and [i] for array
// elements (model.modes[1]=16); value is parsed as JSON when it is valid JSON (16, true, [1,2],
// "text") and taken as a string otherwise (run.name=ns64). Missing objects on the path are created;
// unknown keys are then caught by validation like any other unknown key.
void apply_override(json& root, const std::string& assignment);

// A validation rule for a value of type T, and how to describe what it expects.
template <class T>
struct Check {
  std::function<bool(const T&)> ok;
  std::string expected;  // "a positive integer"
};
Check<long long> positive();
Check<long long> non_negative();
Check<double> positive_number();
Check<double> non_negative_number();
Check<double> in_range(double lo, double hi);  // closed interval
Check<std::string> one_of(std::vector<std::string> values);

class Node {
 public:
  // `value` must outlive the Node; `resolved` receives what was read (may be null).
  Node(const json& value, std::string file, std::string path, json* resolved);

  // Typed reads. get() uses `fallback` when the key is absent; require() throws.
  // Integers (get_int, require_int, get_int_array) must fit in 32 bits (they become int sizes,
  // counts and indices); get_int64 accepts any signed 64-bit value (seeds). A value out of range,
  // or a float that is not a whole number, is an error naming the JSON path.
  long long get_int(const std::string& key, long long fallback, const Check<long long>& check = {});
  long long get_int64(const std::string& key, long long fallback, const Check<long long>& check = {});
  long long require_int(const std::string& key, const Check<long long>& check = {});
  double get_number(const std::string& key, double fallback, const Check<double>& check = {});
  double require_number(const std::string& key, const Check<double>& check = {});
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback,
                         const Check<std::string>& check = {});
  std::string require_string(const std::string& key, const Check<std::string>& check = {});
  std::vector<long long> get_int_array(const std::string& key, const std::vector<long long>& fallback,
                                       const Check<long long>& check = {});
  std::vector<double> get_number_array(const std::string& key, const std::vector<double>& fallback,
                                       const Check<double>& check = {});

  std::vector<std::string> get_string_array(const std::string& key, const std::vector<std::string>& fallback);

  bool has(const std::string& key) const;
  // A nested object; an absent key reads as {} so its defaults apply.
  Node child(const std::string& key);
  // Rejects every key that was not read, listing the accepted keys (and a close match).
  void finish() const;

  const std::string& path() const { return m_path; }
  const std::string& file() const { return m_file; }
  // Throws Error(usage) "file: path.key: message".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  std::string key_path(const std::string& key) const;
  long long read_int(const std::string& key, long long fallback, const Check<long long>& check,
                     long long limit);
  const json* lookup(const std::string& key);
  void record(const std::string& key, json value);

  const json* m_value;
  std::string m_file, m_path;
  json* m_resolved;
  std::vector<std::string> m_read;
};

// Builds a Product from a section with a "type" key: {"type": "fno", ...}.
template <class Product>
class Registry {
 public:
  using Maker = std::function<Product(Node& section)>;
  explicit Registry(std::string what) : m_what(std::move(what)) {}

  void add(const std::string& type, Maker maker) { m_makers[type] = std::move(maker); }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& kv : m_makers) out.push_back(kv.first);
    return out;
  }
  Product make(Node& section) const {
    std::vector<std::string> names = types();
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    const std::string type =
        section.require_string("type", Check<std::string>{nullptr, "a " + m_what + " type (" + list + ")"});
    auto it = m_makers.find(type);
    if (it == m_makers.end())
      section.fail("type", "unknown " + m_what + " type '" + type + "'; valid types: " + list);
    return it->second(section);
  }

 private:
  std::string m_what;
  std::map<std::string, Maker> m_makers;
};

}  // namespace surro::config
