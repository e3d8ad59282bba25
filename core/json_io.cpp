#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/schema.h"

namespace physlearn {

std::string read_text_file(const std::string& filename) {
  std::ifstream in(filename, std::ios::binary);
  if (!in) throw Error(cat(filename, ": cannot open file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

json load_json_file(const std::string& filename) {
  const std::string text = read_text_file(filename);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse errors, and numbers out of range (1e400)
    throw Error(cat(filename, ": malformed JSON: ", e.what()));
  }
}

void write_file_atomic(const std::string& filename, const std::string& text) {
  const std::string temporary = filename + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(cat(filename, ": cannot write file"));
    out << text;
    out.flush();
    if (!out) throw Error(cat(filename, ": write failed"));
  }
  if (std::rename(temporary.c_str(), filename.c_str()) != 0)
    throw Error(cat(filename, ": cannot rename temporary file into place"));
}

void apply_override(json& config, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set", json_text(json(assignment)), "must look like key.path=value");
  std::string path = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error&) {
    value = text;  // a bare word: a string
  }
  set_path(config, path, value, "--set " + json_text(json(assignment)));
}

void set_path(json& config, const std::string& path, const json& value, const std::string& what) {
  json* node = &config;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw Error(cat(what, ": \"", path, "\" has an empty key"));
    if (value.is_null() && (!node->is_object() || !node->contains(key))) return;  // nothing to remove
    if (!node->is_object()) *node = json::object();
    if (dot == std::string::npos) {
      if (value.is_null()) node->erase(key);
      else (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

}  // namespace physlearn
