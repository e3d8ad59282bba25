#include "core/schema.h"

#include <iomanip>
#include <set>

namespace physlearn {

std::string json_text(const json& value) {
  std::string text = value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

Field& Schema::add(std::shared_ptr<Field> field) {
  for (const auto& f : fields_)
    if (f->key == field->key) throw std::logic_error("schema declares key twice: " + field->key);
  fields_.push_back(std::move(field));
  return *fields_.back();
}

void Schema::section(const std::string& key, const std::string& doc,
                     std::function<void(Schema&)> describe) {
  auto f = std::make_shared<Field>();
  f->key = key;
  f->doc = doc;
  f->type = "section";
  // The sub-schema binds references into the caller's struct, so it is rebuilt on each use.
  f->read = [describe](const json& value, const std::string& path) {
    if (!value.is_object()) throw ConfigError(path, json_text(value), "must be an object");
    Schema sub;
    describe(sub);
    sub.read(value, path);
  };
  f->write = [describe]() {
    Schema sub;
    describe(sub);
    return sub.write();
  };
  f->default_value = f->write;
  f->document = [describe](std::ostream& out, const std::string& prefix) {
    Schema sub;
    describe(sub);
    sub.document(out, prefix);
  };
  add(f);
}

void Schema::optional_section(const std::string& key, const std::string& doc, bool& present,
                              std::function<void(Schema&)> describe) {
  section(key, doc + " (optional: absent means none)", describe);
  Field& f = *fields_.back();
  bool* flag = &present;
  auto read = f.read;
  f.read = [flag, read](const json& value, const std::string& path) {
    read(value, path);
    *flag = true;
  };
  f.present = [flag]() { return *flag; };
}

void Schema::variant(const std::string& key, const std::string& doc, const std::string& selector,
                     std::string& chosen, std::vector<Alternative> alternatives,
                     std::function<void(Schema&)> common) {
  auto f = std::make_shared<Field>();
  f->key = key;
  f->doc = doc;
  f->type = "section";
  std::string* target = &chosen;
  std::string names;
  for (const auto& a : alternatives) names += (names.empty() ? "" : ", ") + a.name;
  auto find = [alternatives](const std::string& name) -> const Alternative* {
    for (const auto& a : alternatives)
      if (a.name == name) return &a;
    return nullptr;
  };
  // The chosen alternative's keys: the common ones first, then its own.
  auto describe = [common](const Alternative& a, Schema& sub) {
    if (common) common(sub);
    a.describe(sub);
  };
  f->read = [target, find, describe, names, selector](const json& value, const std::string& path) {
    if (!value.is_object()) throw ConfigError(path, json_text(value), "must be an object");
    std::string name = *target;
    if (value.contains(selector))
      name = detail::convert<std::string>(value[selector], join_path(path, selector));
    const Alternative* a = find(name);
    if (!a)
      throw ConfigError(join_path(path, selector), json_text(json(name)), "must be one of: " + names);
    *target = name;
    Schema sub;
    std::string read_again = name;  // the selector is a known key here; its value is taken above
    sub.field(selector, read_again, "");
    describe(*a, sub);
    sub.read(value, path);
  };
  f->write = [target, find, describe, selector, key]() {
    const Alternative* a = find(*target);
    if (!a) throw std::logic_error(key + ": no alternative named \"" + *target + "\"");
    Schema sub;
    describe(*a, sub);
    json out = json::object();
    out[selector] = *target;
    const json fields = sub.write();
    for (auto it = fields.begin(); it != fields.end(); ++it) out[it.key()] = it.value();
    return out;
  };
  f->default_value = f->write;
  f->document = [alternatives, common, names, target, selector](std::ostream& out,
                                                               const std::string& prefix) {
    const std::string selector_path = join_path(prefix, selector);
    out << std::left << std::setw(40) << selector_path << " string  default "
        << json(*target).dump() << "  one of: " << names << "\n";
    if (common) {
      out << "  (any " << selector_path << ")\n";
      Schema sub;
      common(sub);
      sub.document(out, prefix);
    }
    for (const auto& a : alternatives) {
      out << "  (" << selector_path << " = \"" << a.name << "\")";
      if (!a.doc.empty()) out << "  " << a.doc;
      out << "\n";
      Schema sub;
      a.describe(sub);
      sub.document(out, prefix);
    }
  };
  add(f);
}

void Schema::read(const json& object, const std::string& path) const {
  if (!object.is_object()) throw ConfigError(path.empty() ? "(top level)" : path, json_text(object), "must be an object");
  std::set<std::string> known;
  for (const auto& f : fields_) known.insert(f->key);
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!known.count(it.key())) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError(join_path(path, it.key()), json_text(it.value()),
                        "unknown key (known keys here: " + list + ")");
    }
  }
  for (const auto& f : fields_) {
    auto it = object.find(f->key);
    if (it != object.end()) f->read(*it, join_path(path, f->key));
  }
}

json Schema::write() const {
  json out = json::object();
  for (const auto& f : fields_)
    if (!f->present || f->present()) out[f->key] = f->write();
  return out;
}

void Schema::document(std::ostream& out, const std::string& prefix) const {
  for (const auto& f : fields_) {
    std::string path = join_path(prefix, f->key);
    if (f->document) {
      out << std::left << std::setw(40) << path << " section  " << f->doc << "\n";
      f->document(out, path);
      continue;
    }
    out << std::left << std::setw(40) << path << " " << f->type << "  default "
        << json_text(f->default_value());
    if (!f->unit.empty()) out << "  unit " << f->unit;
    if (!f->rule.empty()) out << "  (" << f->rule << ")";
    out << "  " << f->doc << "\n";
  }
}

}  // namespace physlearn
