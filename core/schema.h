#pragma once
/// Self-describing parameter structs.
///
/// A parameter struct holds its defaults; a `describe(Schema&, Struct&)` function binds each member
/// to a key with its doc line, unit and rule. The same description reads JSON (strictly: unknown
/// keys are errors, every error names the JSON path, the value and the rule), writes the resolved
/// JSON (every default filled in), and prints the documentation, so the three cannot drift.
///
///   struct SgdParams { double lr = 0.01; int epochs = 10; };
///   void describe(Schema& s, SgdParams& p) {
///     s.field("lr", p.lr, "learning rate").min(0.0);
///     s.field("epochs", p.epochs, "passes over the training set").min(1);
///   }
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace physlearn {

using json = nlohmann::json;

/// Short text of a JSON value for error messages.
std::string json_text(const json& value);

/// One key of a schema: how to read, write and document it.
struct Field {
  std::string key;
  std::string doc;
  std::string unit;
  std::string type;  // "number", "integer", "boolean", "string", "array of integer", "section", ...
  std::string rule;  // human-readable constraint, e.g. ">= 0", "one of: a, b"
  std::function<void(const json&, const std::string& path)> read;
  std::function<json()> write;
  std::function<json()> default_value;  // the value when the field was declared
  std::function<void(std::ostream&, const std::string& prefix)> document;  // sections only
  std::function<bool()> present;  // optional sections: written only when present
};

template <class T>
class FieldBuilder;

class Schema {
 public:
  Schema() = default;
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  /// A scalar, string, or array of scalars bound to `ref`. Default is ref's current value.
  template <class T>
  FieldBuilder<T> field(const std::string& key, T& ref, const std::string& doc);

  /// A nested object described by `describe(Schema&)` (a lambda binding the sub-struct).
  void section(const std::string& key, const std::string& doc,
               std::function<void(Schema&)> describe);

  /// A nested object that may be absent: reading it sets `present`; it is written only when present.
  void optional_section(const std::string& key, const std::string& doc, bool& present,
                        std::function<void(Schema&)> describe);

  /// One alternative of a variant: the selector's value that chooses it, the describe function
  /// of its own keys, and a one-line doc (may be empty).
  struct Alternative {
    std::string name;
    std::function<void(Schema&)> describe;
    std::string doc = "";
  };

  /// A nested object whose `selector` key (e.g. "type", "model") chooses among alternatives:
  ///   {selector: name, ...the common keys, ...that alternative's own keys}.
  /// `chosen` is bound to a string member; the default alternative is its current value, and an
  /// object without the selector keeps it. `common` (optional) describes keys of every
  /// alternative: read and written with each one (written right after the selector) and
  /// documented once, before the alternatives. Only the chosen alternative's keys are read and
  /// written; any other key is an error naming it and listing the keys known for that
  /// alternative; an unknown name is an error listing the names.
  void variant(const std::string& key, const std::string& doc, const std::string& selector,
               std::string& chosen, std::vector<Alternative> alternatives,
               std::function<void(Schema&)> common = nullptr);

  /// Reads `object` at `path` into the bound members. Unknown keys are errors.
  void read(const json& object, const std::string& path) const;
  /// The bound members' values as JSON (the resolved configuration).
  json write() const;
  /// One line per key: "path  type  default  unit  rule  doc".
  void document(std::ostream& out, const std::string& prefix) const;

  const std::vector<std::shared_ptr<Field>>& fields() const { return fields_; }
  Field& add(std::shared_ptr<Field> field);

 private:
  std::vector<std::shared_ptr<Field>> fields_;
};

/// Joins a path and a key: join_path("network", "hidden") == "network.hidden".
std::string join_path(const std::string& path, const std::string& key);

namespace detail {
template <class T>
struct TypeName;
template <>
struct TypeName<double> {
  static constexpr const char* name = "number";
};
template <>
struct TypeName<int> {
  static constexpr const char* name = "integer";
};
template <>
struct TypeName<long> {
  static constexpr const char* name = "integer";
};
template <>
struct TypeName<bool> {
  static constexpr const char* name = "boolean";
};
template <>
struct TypeName<std::string> {
  static constexpr const char* name = "string";
};
template <class T>
struct TypeName<std::vector<T>> {
  static std::string name_of() { return std::string("array of ") + TypeName<T>::name; }
};
template <class T>
std::string type_name() {
  if constexpr (std::is_class_v<T> && !std::is_same_v<T, std::string>)
    return TypeName<T>::name_of();
  else
    return TypeName<T>::name;
}

/// The element type a rule applies to: T itself, or the element of an array field.
template <class T>
struct ElementOf {
  using type = T;
};
template <class T>
struct ElementOf<std::vector<T>> {
  using type = T;
};

/// Converts a JSON value to T, or throws ConfigError naming path and the expected type.
template <class T>
T convert(const json& value, const std::string& path) {
  auto bad = [&]() { return ConfigError(path, json_text(value), "must be " + type_name<T>()); };
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) throw bad();
    return value.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (value.is_number_integer()) return value.get<T>();
    if (value.is_number_float()) {
      double d = value.get<double>();
      if (d == static_cast<double>(static_cast<long long>(d))) return static_cast<T>(d);
    }
    throw bad();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) throw bad();
    return value.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) throw bad();
    return value.get<std::string>();
  } else {
    // A single value stands for a one-element array.
    if (!value.is_array()) return T{convert<typename T::value_type>(value, path)};
    T out;
    for (std::size_t i = 0; i < value.size(); ++i)
      out.push_back(convert<typename T::value_type>(value[i], path + "[" + std::to_string(i) + "]"));
    return out;
  }
}
}  // namespace detail

/// Adds rules to a field as it is declared: .min(0).max(1).unit("S").one_of({...}).
template <class T>
class FieldBuilder {
 public:
  using Element = typename detail::ElementOf<T>::type;
  FieldBuilder(Field& field, std::shared_ptr<std::vector<std::function<void(
                                 const Element&, const std::string&)>>> checks)
      : field_(field), checks_(std::move(checks)) {}

  FieldBuilder& unit(const std::string& u) {
    field_.unit = u;
    return *this;
  }
  /// value >= bound (for arrays: every element).
  FieldBuilder& min(Element bound) {
    return check([bound](const Element& v) { return !(v < bound); }, ">= " + text(bound));
  }
  /// value > bound.
  FieldBuilder& greater(Element bound) {
    return check([bound](const Element& v) { return v > bound; }, "> " + text(bound));
  }
  FieldBuilder& max(Element bound) {
    return check([bound](const Element& v) { return !(bound < v); }, "<= " + text(bound));
  }
  FieldBuilder& one_of(std::vector<std::string> names) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return check(
        [names](const Element& v) {
          if constexpr (std::is_same_v<Element, std::string>) {
            for (const auto& n : names)
              if (n == v) return true;
          }
          return false;
        },
        "one of: " + list);
  }
  /// A custom rule: `ok(value)` must hold; `rule` says what it requires.
  FieldBuilder& check(std::function<bool(const Element&)> ok, const std::string& rule) {
    field_.rule += (field_.rule.empty() ? "" : "; ") + rule;
    checks_->push_back([ok, rule](const Element& v, const std::string& path) {
      if (!ok(v)) throw ConfigError(path, json_text(json(v)), "must be " + rule);
    });
    return *this;
  }

 private:
  static std::string text(const Element& v) { return json_text(json(v)); }
  Field& field_;
  std::shared_ptr<std::vector<std::function<void(const Element&, const std::string&)>>> checks_;
};

template <class T>
FieldBuilder<T> Schema::field(const std::string& key, T& ref, const std::string& doc) {
  using Builder = FieldBuilder<T>;
  using Element = typename Builder::Element;
  auto checks =
      std::make_shared<std::vector<std::function<void(const Element&, const std::string&)>>>();
  auto f = std::make_shared<Field>();
  f->key = key;
  f->doc = doc;
  f->type = detail::type_name<T>();
  T initial = ref;
  T* target = &ref;
  f->read = [target, checks](const json& value, const std::string& path) {
    T parsed = detail::convert<T>(value, path);
    if constexpr (std::is_same_v<T, Element>) {
      for (const auto& c : *checks) c(parsed, path);
    } else {
      for (std::size_t i = 0; i < parsed.size(); ++i)
        for (const auto& c : *checks) c(parsed[i], path + "[" + std::to_string(i) + "]");
    }
    *target = parsed;
  };
  f->write = [target]() { return json(*target); };
  f->default_value = [initial]() { return json(initial); };
  Field& added = add(f);
  return Builder(added, checks);
}

/// Reads a JSON file; a missing file or malformed JSON is an Error naming the file and position.
json load_json_file(const std::string& filename);

/// The whole text of a file; a file that cannot be opened is an Error naming it.
std::string read_text_file(const std::string& filename);

/// Writes `text` to `filename` atomically (temporary file, then rename).
void write_file_atomic(const std::string& filename, const std::string& text);

/// Applies a command-line override "a.b.c=value" to `config`: the value is parsed as JSON when it
/// parses, else taken as a string; null removes the key ("chip=null": no chip section). Unknown
/// keys are caught later by the schema.
void apply_override(json& config, const std::string& assignment);

/// Sets the value at a dotted path ("chip.variability.levels") of `config`, making the objects on
/// the way; null removes the key. `what` names the override in errors (e.g. "--set").
void set_path(json& config, const std::string& path, const json& value, const std::string& what);

}  // namespace physlearn
