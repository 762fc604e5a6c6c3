#include "core/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace surro::config {
namespace {

[[noreturn]] void usage_error(const std::string& message) { throw Error(ErrorKind::usage, message); }

std::string describe(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  if (v.is_string()) return "the string " + s;
  if (v.is_object()) return "an object";
  if (v.is_array()) return "the array " + s;
  return s;
}

// Line and column (1-based) of a byte offset into text.
std::pair<int, int> line_col(const std::string& text, std::size_t offset) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Rejects a key that appears twice in one object (nlohmann keeps the last silently), naming the
// key and its JSON path. One frame per open object or array: its path, the keys seen (objects)
// or the next element index (arrays).
class DuplicateKeyCheck {
 public:
  explicit DuplicateKeyCheck(std::string file) : m_file(std::move(file)) {}
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        m_frames.push_back({element_path(), event == json::parse_event_t::array_start, 0, {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        m_frames.pop_back();
        if (!m_frames.empty()) ++m_frames.back().index;
        break;
      case json::parse_event_t::key: {
        Frame& f = m_frames.back();
        const std::string key = parsed.get<std::string>();
        if (std::find(f.keys.begin(), f.keys.end(), key) != f.keys.end())
          usage_error(m_file + ": " + (f.path.empty() ? key : f.path + "." + key) +
                      ": duplicate key (JSON objects must not repeat a key)");
        f.keys.push_back(key);
        f.key = key;
        break;
      }
      case json::parse_event_t::value:
        if (!m_frames.empty()) ++m_frames.back().index;
        break;
    }
    return true;
  }

 private:
  struct Frame {
    std::string path;
    bool array;
    std::size_t index;              // arrays: the element being read
    std::string key;                // objects: the key being read
    std::vector<std::string> keys;  // objects: every key so far
  };
  // The path of the value about to be read, from the innermost open frame.
  std::string element_path() const {
    if (m_frames.empty()) return "";
    const Frame& f = m_frames.back();
    if (f.array) return f.path + "[" + std::to_string(f.index) + "]";
    return f.path.empty() ? f.key : f.path + "." + f.key;
  }
  std::string m_file;
  std::vector<Frame> m_frames;
};

}  // namespace

json load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage_error(path + ": cannot open config file: " + std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    DuplicateKeyCheck duplicates(path);
    json value = json::parse(text, std::ref(duplicates));
    if (!value.is_object()) usage_error(path + ": expected a JSON object at the top level, got " + describe(value));
    return value;
  } catch (const json::exception& e) {
    // parse_error: "[json.exception.parse_error.101] parse error at line 3, column 5: ...";
    // out_of_range 406 (a number beyond double, 1e400): "[json.exception.out_of_range.406] number
    // overflow parsing '1e400'". Keep the reason and give the position.
    std::string reason = e.what();
    const auto tag = reason.find("] ");
    if (tag != std::string::npos) reason = reason.substr(tag + 2);
    const auto colon = reason.find(": ", reason.find("parse error"));
    if (reason.rfind("parse error", 0) == 0 && colon != std::string::npos) reason = reason.substr(colon + 2);
    std::string where = path;
    if (const auto* pe = dynamic_cast<const json::parse_error*>(&e)) {
      const auto [line, col] = line_col(text, pe->byte > 0 ? pe->byte - 1 : 0);
      where += ":" + std::to_string(line) + ":" + std::to_string(col);
    }
    usage_error(where + ": malformed JSON: " + reason);
  }
}

void apply_override(json& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    usage_error("--set '" + assignment + "': expected key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error&) {
    value = text;  // bare words are strings: --set run.name=ns64
  } catch (const json::out_of_range&) {
    usage_error("--set '" + assignment + "': " + text + " is out of range for a number");
  }

  json* node = &root;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '[') {
      const auto close = path.find(']', i);
      if (close == std::string::npos) usage_error("--set '" + assignment + "': unclosed '[' in the key path");
      const std::string digits = path.substr(i + 1, close - i - 1);
      if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit))
        usage_error("--set '" + assignment + "': '[" + digits + "]' is not an array index");
      const std::size_t index = std::stoul(digits);
      if (!node->is_array() || index >= node->size())
        usage_error("--set '" + assignment + "': " + path.substr(0, i) + " has no element [" + digits + "]");
      node = &(*node)[index];
      i = close + 1;
      if (i < path.size() && path[i] == '.') ++i;
    } else {
      const auto end = path.find_first_of(".[", i);
      const std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
      if (key.empty()) usage_error("--set '" + assignment + "': empty key in the key path");
      if (node->is_null()) *node = json::object();
      if (!node->is_object())
        usage_error("--set '" + assignment + "': " + path.substr(0, i ? i - 1 : 0) + " is not an object");
      node = &(*node)[key];
      i = end == std::string::npos ? path.size() : (path[end] == '.' ? end + 1 : end);
    }
  }
  *node = std::move(value);
}

Check<long long> positive() {
  return {[](const long long& v) { return v > 0; }, "a positive integer"};
}
Check<long long> non_negative() {
  return {[](const long long& v) { return v >= 0; }, "a non-negative integer"};
}
Check<double> positive_number() {
  return {[](const double& v) { return v > 0; }, "a positive number"};
}
Check<double> non_negative_number() {
  return {[](const double& v) { return v >= 0; }, "a non-negative number"};
}
Check<double> in_range(double lo, double hi) {
  std::ostringstream os;
  os << "a number in [" << lo << ", " << hi << "]";
  return {[lo, hi](const double& v) { return v >= lo && v <= hi; }, os.str()};
}
Check<std::string> one_of(std::vector<std::string> values) {
  std::string list;
  for (const auto& v : values) list += (list.empty() ? "" : ", ") + ("\"" + v + "\"");
  return {[values](const std::string& v) { return std::find(values.begin(), values.end(), v) != values.end(); },
          "one of " + list};
}

Node::Node(const json& value, std::string file, std::string path, json* resolved)
    : m_value(&value), m_file(std::move(file)), m_path(std::move(path)), m_resolved(resolved) {
  if (!m_value->is_object() && !m_value->is_null())
    usage_error(m_file + ": " + (m_path.empty() ? "<top level>" : m_path) + ": expected an object, got " +
                describe(*m_value));
  if (m_resolved && !m_resolved->is_object()) *m_resolved = json::object();
}

std::string Node::key_path(const std::string& key) const { return m_path.empty() ? key : m_path + "." + key; }

void Node::fail(const std::string& key, const std::string& message) const {
  usage_error(m_file + ": " + key_path(key) + ": " + message);
}

bool Node::has(const std::string& key) const { return m_value->is_object() && m_value->contains(key); }

const json* Node::lookup(const std::string& key) {
  m_read.push_back(key);
  if (!has(key)) return nullptr;
  return &(*m_value)[key];
}

void Node::record(const std::string& key, json value) {
  if (m_resolved) (*m_resolved)[key] = std::move(value);
}

namespace {
template <class T>
void check_value(const Node& node, const std::string& key, const T& v, const Check<T>& check,
                 const std::string& type_desc, const json& raw) {
  if (check.ok && !check.ok(v)) node.fail(key, "expected " + check.expected + ", got " + describe(raw));
  (void)type_desc;
}

// Integers are range-checked here, at parse time, so no reader casts a wrapped value: `limit` is
// the largest magnitude accepted (int32 for get_int, whose values become int sizes and counts).
long long as_int(const Node& node, const std::string& key, const json& v, const Check<long long>& check,
                 long long limit) {
  const std::string expected = check.expected.empty() ? "an integer" : check.expected;
  const auto out_of_range = [&](bool above) {
    node.fail(key, "expected " + expected +
                       (above ? " no larger than " + std::to_string(limit)
                              : " no smaller than " + std::to_string(-limit - 1)) +
                       ", got " + describe(v));
  };
  if (v.is_number_unsigned()) {
    if (v.get<unsigned long long>() > static_cast<unsigned long long>(limit)) out_of_range(true);
    return v.get<long long>();
  }
  if (v.is_number_integer()) {
    const long long x = v.get<long long>();
    if (x > limit || x < -limit - 1) out_of_range(x > limit);
    return x;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
      if (d > static_cast<double>(limit) || d < -static_cast<double>(limit) - 1) out_of_range(d > 0);
      return static_cast<long long>(d);
    }
  }
  node.fail(key, "expected " + expected + ", got " + describe(v));
}

constexpr long long kInt32Max = 2147483647LL;
constexpr long long kInt64Max = 9223372036854775807LL;

double as_number(const Node& node, const std::string& key, const json& v, const Check<double>& check) {
  if (v.is_number()) return v.get<double>();
  node.fail(key, "expected " + (check.expected.empty() ? std::string("a number") : check.expected) +
                     ", got " + describe(v));
}
}  // namespace

long long Node::get_int(const std::string& key, long long fallback, const Check<long long>& check) {
  return read_int(key, fallback, check, kInt32Max);
}

long long Node::get_int64(const std::string& key, long long fallback, const Check<long long>& check) {
  return read_int(key, fallback, check, kInt64Max);
}

long long Node::read_int(const std::string& key, long long fallback, const Check<long long>& check,
                         long long limit) {
  const json* v = lookup(key);
  long long out = fallback;
  if (v) {
    out = as_int(*this, key, *v, check, limit);
    check_value(*this, key, out, check, "an integer", *v);
  }
  record(key, out);
  return out;
}

long long Node::require_int(const std::string& key, const Check<long long>& check) {
  if (!has(key)) fail(key, "missing; expected " + (check.expected.empty() ? std::string("an integer") : check.expected));
  return get_int(key, 0, check);
}

double Node::get_number(const std::string& key, double fallback, const Check<double>& check) {
  const json* v = lookup(key);
  double out = fallback;
  if (v) {
    out = as_number(*this, key, *v, check);
    check_value(*this, key, out, check, "a number", *v);
  }
  record(key, out);
  return out;
}

double Node::require_number(const std::string& key, const Check<double>& check) {
  if (!has(key)) fail(key, "missing; expected " + (check.expected.empty() ? std::string("a number") : check.expected));
  return get_number(key, 0.0, check);
}

bool Node::get_bool(const std::string& key, bool fallback) {
  const json* v = lookup(key);
  bool out = fallback;
  if (v) {
    if (!v->is_boolean()) fail(key, "expected true or false, got " + describe(*v));
    out = v->get<bool>();
  }
  record(key, out);
  return out;
}

std::string Node::get_string(const std::string& key, const std::string& fallback, const Check<std::string>& check) {
  const json* v = lookup(key);
  std::string out = fallback;
  if (v) {
    if (!v->is_string())
      fail(key, "expected " + (check.expected.empty() ? std::string("a string") : check.expected) + ", got " +
                    describe(*v));
    out = v->get<std::string>();
    check_value(*this, key, out, check, "a string", *v);
  }
  record(key, out);
  return out;
}

std::string Node::require_string(const std::string& key, const Check<std::string>& check) {
  if (!has(key)) fail(key, "missing; expected " + (check.expected.empty() ? std::string("a string") : check.expected));
  return get_string(key, "", check);
}

std::vector<long long> Node::get_int_array(const std::string& key, const std::vector<long long>& fallback,
                                           const Check<long long>& check) {
  const json* v = lookup(key);
  std::vector<long long> out = fallback;
  if (v) {
    // "a positive integer" -> "positive integers"
    std::string elem = check.expected.empty() ? std::string("an integer") : check.expected;
    elem = elem.substr(elem.find(' ') + 1) + "s";
    if (!v->is_array()) fail(key, "expected an array of " + elem + ", got " + describe(*v));
    out.clear();
    for (std::size_t i = 0; i < v->size(); ++i) {
      const std::string ik = key + "[" + std::to_string(i) + "]";
      const long long x = as_int(*this, ik, (*v)[i], check, kInt32Max);
      check_value(*this, ik, x, check, "an integer", (*v)[i]);
      out.push_back(x);
    }
  }
  record(key, out);
  return out;
}

std::vector<double> Node::get_number_array(const std::string& key, const std::vector<double>& fallback,
                                           const Check<double>& check) {
  const json* v = lookup(key);
  std::vector<double> out = fallback;
  if (v) {
    // "a positive number" -> "positive numbers"
    std::string elem = check.expected.empty() ? std::string("a number") : check.expected;
    elem = elem.substr(elem.find(' ') + 1) + "s";
    if (!v->is_array()) fail(key, "expected an array of " + elem + ", got " + describe(*v));
    out.clear();
    for (std::size_t i = 0; i < v->size(); ++i) {
      const std::string ik = key + "[" + std::to_string(i) + "]";
      const double x = as_number(*this, ik, (*v)[i], check);
      check_value(*this, ik, x, check, "a number", (*v)[i]);
      out.push_back(x);
    }
  }
  record(key, out);
  return out;
}

std::vector<std::string> Node::get_string_array(const std::string& key, const std::vector<std::string>& fallback) {
  const json* v = lookup(key);
  std::vector<std::string> out = fallback;
  if (v) {
    if (!v->is_array()) fail(key, "expected an array of strings, got " + describe(*v));
    out.clear();
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string())
        fail(key + "[" + std::to_string(i) + "]", "expected a string, got " + describe((*v)[i]));
      out.push_back((*v)[i].get<std::string>());
    }
  }
  record(key, out);
  return out;
}

Node Node::child(const std::string& key) {
  static const json empty = json::object();
  const json* v = lookup(key);
  json* sub = nullptr;
  if (m_resolved) {
    (*m_resolved)[key] = json::object();
    sub = &(*m_resolved)[key];
  }
  if (v && !v->is_object()) fail(key, "expected an object, got " + describe(*v));
  return Node(v ? *v : empty, m_file, key_path(key), sub);
}

void Node::finish() const {
  if (!m_value->is_object()) return;
  for (const auto& item : m_value->items()) {
    if (std::find(m_read.begin(), m_read.end(), item.key()) != m_read.end()) continue;
    std::string valid, best;
    std::size_t best_d = 3;  // suggest only close matches: at most 2 edits
    std::vector<std::string> keys = m_read;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const auto& k : keys) {
      valid += (valid.empty() ? "" : ", ") + k;
      const std::size_t d = edit_distance(item.key(), k);
      if (d < best_d) {
        best_d = d;
        best = k;
      }
    }
    std::string msg = "unknown key";
    if (!best.empty()) msg += " (did you mean '" + best + "'?)";
    msg += "; valid keys here: " + (valid.empty() ? std::string("none") : valid);
    fail(item.key(), msg);
  }
}

}  // namespace surro::config
