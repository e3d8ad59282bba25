#include "circuits/spice.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "core/error.h"

namespace physlearn::circuits {

std::string spice_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

namespace {

std::string lower(std::string s) { return spice_lower(std::move(s)); }


bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_identifier_start(char c) { return is_letter(c) || c == '_'; }
bool is_identifier_char(char c) { return is_identifier_start(c) || is_digit(c); }

std::string trim(const std::string& s) {
  std::size_t begin = 0, end = s.size();
  while (begin < end && is_space(s[begin])) ++begin;
  while (end > begin && is_space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

/// Scans a SPICE number starting at `pos`: [sign] digits [. digits] [e [sign] digits] [letters].
/// Returns false (pos unchanged) when no mantissa digits are there. On success `pos` is past the
/// letters. Throws for a number out of double's range.
bool scan_number(const std::string& s, std::size_t& pos, double& value, bool allow_sign) {
  std::size_t i = pos;
  std::string sign;
  if (allow_sign && i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++];
  std::string whole, fraction;
  while (i < s.size() && is_digit(s[i])) whole += s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) fraction += s[i++];
  }
  if (whole.empty() && fraction.empty()) return false;
  long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    bool negative = false;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) negative = s[j++] == '-';
    if (j < s.size() && is_digit(s[j])) {
      while (j < s.size() && is_digit(s[j])) {
        if (exponent < 100000) exponent = 10 * exponent + (s[j] - '0');
        ++j;
      }
      if (negative) exponent = -exponent;
      i = j;
    }
  }
  std::string letters;
  while (i < s.size() && is_letter(s[i])) letters += static_cast<char>(std::tolower(s[i++]));
  // SPICE scale factors (ngspice manual 2.3.1); the rest of the letters is a unit.
  double multiplier = 1.0;
  if (letters.compare(0, 3, "meg") == 0) {
    exponent += 6;
  } else if (letters.compare(0, 3, "mil") == 0) {
    multiplier = 25.4e-6;
  } else if (!letters.empty()) {
    switch (letters[0]) {
      case 't':
        exponent += 12;
        break;
      case 'g':
        exponent += 9;
        break;
      case 'k':
        exponent += 3;
        break;
      case 'm':
        exponent -= 3;
        break;
      case 'u':
        exponent -= 6;
        break;
      case 'n':
        exponent -= 9;
        break;
      case 'p':
        exponent -= 12;
        break;
      case 'f':
        exponent -= 15;
        break;
      default:
        break;
    }
  }
  const std::string decimal =
      sign + (whole.empty() ? "0" : whole) + "." + fraction + "e" + std::to_string(exponent);
  errno = 0;
  const double parsed = std::strtod(decimal.c_str(), nullptr) * multiplier;
  if (!std::isfinite(parsed) || (errno == ERANGE && parsed != 0.0))
    throw Error(cat("number \"", s.substr(pos, i - pos), "\" is out of range"));
  value = parsed;
  pos = i;
  return true;
}

/// Recursive-descent evaluator of plain arithmetic over SPICE numbers and parameters.
class ExpressionParser {
 public:
  ExpressionParser(std::string text, const std::map<std::string, double>& params)
      : s_(std::move(text)), params_(params) {}

  /// Parses one expression from `pos` and leaves `pos` after it (and after trailing blanks).
  double parse(std::size_t& pos) {
    pos_ = pos;
    const double value = sum();
    skip();
    pos = pos_;
    return value;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(cat("expression \"", trim(s_), "\": ", what));
  }

 private:
  void skip() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  char peek() {
    skip();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  double sum() {
    double value = product();
    for (char c = peek(); c == '+' || c == '-'; c = peek()) {
      ++pos_;
      const double right = product();
      value = c == '+' ? value + right : value - right;
    }
    return value;
  }
  double product() {
    double value = unary();
    for (char c = peek(); c == '*' || c == '/'; c = peek()) {
      ++pos_;
      const double right = unary();
      if (c == '/' && right == 0.0) fail("division by zero");
      value = c == '*' ? value * right : value / right;
    }
    if (!std::isfinite(value)) fail("the result is not finite");
    return value;
  }
  double unary() {
    const char c = peek();
    if (c == '-' || c == '+') {
      ++pos_;
      const double value = unary();
      return c == '-' ? -value : value;
    }
    return primary();
  }
  double primary() {
    const char c = peek();
    if (c == '(') {
      ++pos_;
      const double value = sum();
      if (peek() != ')') fail(cat("missing ')' at column ", pos_ + 1));
      ++pos_;
      return value;
    }
    if (is_identifier_start(c)) {
      const std::size_t begin = pos_;
      while (pos_ < s_.size() && is_identifier_char(s_[pos_])) ++pos_;
      const std::string name = s_.substr(begin, pos_ - begin);
      if (peek() == '(')
        fail(cat("function '", name, "' is not supported (plain arithmetic: + - * / and ())"));
      const auto it = params_.find(lower(name));
      if (it == params_.end()) fail(cat("unknown parameter '", name, "'"));
      return it->second;
    }
    double value = 0.0;
    const std::size_t begin = pos_;
    if (scan_number(s_, pos_, value, false)) {
      if (pos_ < s_.size() && (is_digit(s_[pos_]) || s_[pos_] == '.'))
        fail(cat("malformed number \"", s_.substr(begin, pos_ - begin + 1), "...\""));
      return value;
    }
    if (c == '\0') fail("ends where a number, parameter or '(' was expected");
    fail(cat("unexpected '", c, "' at column ", pos_ + 1));
  }

  const std::string s_;
  const std::map<std::string, double>& params_;
  std::size_t pos_ = 0;
};
/// Transient source functions (ngspice manual 4.1): errors, as only DC is supported.
const std::set<std::string>& transient_functions() {
  static const std::set<std::string> names = {"sin", "pulse",   "exp",      "pwl", "sffm",
                                              "am",  "trnoise", "trrandom", "port"};
  return names;
}


/// Solver-control and listing options: they do not change the circuit.
const std::set<std::string>& ignored_options() {
  static const std::set<std::string> names = {
      "chgtol",    "trtol",    "itl2",         "itl3",         "itl4",   "itl5",     "itl6",
      "gminsteps", "srcsteps", "pivtol",       "pivrel",       "method", "maxord",   "noacct",
      "acct",      "nomod",    "nopage",       "list",         "node",   "opts",     "keepopinfo",
      "klu",       "sparse",   "savecurrents", "norefvalue",   "warn",   "maxwarns", "interp",
      "noopiter",  "cshunt",   "xmu",          "numdgt",       "defad",  "defas",    "defl",
      "defw",      "badmos3",  "bypass",       "trytocompact", "noinit", "post",     "ingold",
      "seed"};
  return names;
}


}  // namespace

SpiceReader::SpiceReader(std::string source, SpiceOptions& options)
    : source_(std::move(source)), options_(options) {}

void SpiceReader::fail(const SpiceCard& card, const std::string& what) const {
  throw Error(cat(source_, ":", card.line, ": ", what, " (card \"", card.text, "\")"));
}

void SpiceReader::warn(const SpiceCard& card, const std::string& what) {
  options_.warnings.push_back(cat(source_, ":", card.line, ": ", what));
}

void SpiceReader::split_cards(const std::string& text) {
  std::istringstream in(text);
  std::string raw;
  int line_number = 0;
  bool in_control = false;
  SpiceCard control_card;
  while (std::getline(in, raw)) {
    ++line_number;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (line_number == 1) {
      options_.title = trim(raw);
      continue;
    }
    std::string line = raw;
    const std::string stripped = trim(line);
    if (stripped.empty() || stripped[0] == '*') continue;
    // End-of-line comments: ';' anywhere, '$' at the start or after a blank (ngspice).
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == ';' || (line[i] == '$' && (i == 0 || is_space(line[i - 1])))) {
        line.erase(i);
        break;
      }
    }
    line = trim(line);
    if (line.empty()) continue;
    const std::string low = lower(line);
    if (in_control) {
      if (low.compare(0, 5, ".endc") == 0) in_control = false;
      continue;
    }
    if (low.compare(0, 8, ".control") == 0) {
      in_control = true;
      control_card = SpiceCard{line_number, line, {}};
      warn(control_card, ".control ... .endc block ignored (ngspice script commands)");
      continue;
    }
    if (line[0] == '+') {
      if (cards_.empty())
        throw Error(cat(source_, ":", line_number,
                        ": a continuation line ('+') with no card "
                        "before it (card \"",
                        line, "\")"));
      cards_.back().text += " " + trim(line.substr(1));
      continue;
    }
    if (low == ".end" || (low.compare(0, 4, ".end") == 0 && is_space(low[4]))) {
      options_.has_end = true;
      break;
    }
    cards_.push_back(SpiceCard{line_number, line, {}});
  }
  if (in_control) fail(control_card, ".control block without .endc");
}

std::vector<SpiceToken> SpiceReader::tokenize(const SpiceCard& card, bool split_parentheses) const {
  std::vector<SpiceToken> tokens;
  const std::string& s = card.text;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c) || (split_parentheses && (c == '(' || c == ')' || c == ','))) {
      ++i;
      continue;
    }
    if (c == '=') {
      tokens.push_back({"=", false});
      ++i;
      continue;
    }
    if (c == '{' || c == '\'') {
      const char close = c == '{' ? '}' : '\'';
      int depth = 0;
      std::size_t j = i;
      for (; j < s.size(); ++j) {
        if (c == '{' && s[j] == '{') ++depth;
        if (s[j] == close && (c == '\'' ? j > i : --depth == 0)) break;
      }
      if (j >= s.size())
        fail(card, cat("unterminated expression: '", c, "' without '", close, "'"));
      tokens.push_back({s.substr(i + 1, j - i - 1), true});
      i = j + 1;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j]) && s[j] != '=' && s[j] != '{' &&
           !(split_parentheses && (s[j] == '(' || s[j] == ')' || s[j] == ',')))
      ++j;
    tokens.push_back({s.substr(i, j - i), false});
    i = j;
  }
  return tokens;
}

double SpiceReader::number(const SpiceCard& card, const SpiceToken& token, const std::string& what) const {
  try {
    if (token.expression) return evaluate_spice_expression(token.text, options_.params);
    return parse_spice_number(token.text);
  } catch (const Error& e) {
    std::string hint;
    if (!token.expression && !token.text.empty() && is_identifier_start(token.text[0]) &&
        options_.params.count(lower(token.text)) > 0)
      hint = cat(" (write {", token.text, "} to use the parameter)");
    fail(card, cat(what, ": ", e.what(), hint));
  }
}

std::vector<std::pair<std::string, const SpiceToken*>> SpiceReader::assignments(
    const SpiceCard& card, const std::vector<SpiceToken>& tokens, std::size_t first) const {
  std::vector<std::pair<std::string, const SpiceToken*>> out;
  for (std::size_t i = first; i < tokens.size();) {
    const SpiceToken& name = tokens[i];
    if (name.expression || name.text == "=")
      fail(card, cat("expected a name, found \"", name.text, "\""));
    if (i + 1 < tokens.size() && tokens[i + 1].text == "=" && !tokens[i + 1].expression) {
      if (i + 2 >= tokens.size() || (tokens[i + 2].text == "=" && !tokens[i + 2].expression))
        fail(card, cat("'", name.text, "=' has no value"));
      out.emplace_back(lower(name.text), &tokens[i + 2]);
      i += 3;
    } else {
      out.emplace_back(lower(name.text), nullptr);
      i += 1;
    }
  }
  return out;
}

int SpiceReader::node(const std::string& written) {
  if (is_ground_name(written)) return kGround;
  const std::string key = lower(written);
  const auto it = nodes_.find(key);
  if (it != nodes_.end()) return it->second;
  const int index = circuit_.add_node(written);
  nodes_.emplace(key, index);
  return index;
}

void SpiceReader::claim_element_name(const SpiceCard& card, const std::string& name) {
  const auto inserted = element_lines_.emplace(lower(name), card.line);
  if (!inserted.second)
    fail(card, cat("duplicate element name '", name,
                   "' (SPICE names are case-insensitive; first "
                   "defined at line ",
                   inserted.first->second, ")"));
}

void SpiceReader::param_card(const SpiceCard& card) {
  // .param name = expr [,] name = expr ...: each expression bare (up to where it cannot go on),
  // in {} or in ''.
  const std::string& s = card.text;
  std::size_t pos = 0;
  while (pos < s.size() && !is_space(s[pos])) ++pos;  // ".param"
  bool any = false;
  while (true) {
    while (pos < s.size() && (is_space(s[pos]) || s[pos] == ',')) ++pos;
    if (pos >= s.size()) break;
    if (!is_identifier_start(s[pos]))
      fail(card, cat(".param: expected a parameter name at column ", pos + 1));
    const std::size_t begin = pos;
    while (pos < s.size() && is_identifier_char(s[pos])) ++pos;
    const std::string name = s.substr(begin, pos - begin);
    while (pos < s.size() && is_space(s[pos])) ++pos;
    if (pos >= s.size() || s[pos] != '=')
      fail(card, cat(".param: expected '=' after '", name, "'"));
    ++pos;
    while (pos < s.size() && is_space(s[pos])) ++pos;
    // The value: in {} or '', else a bare expression up to where it cannot go on.
    auto evaluate = [&]() {
      if (pos >= s.size()) throw Error("no value after '='");
      if (s[pos] == '{' || s[pos] == '\'') {
        const char close = s[pos] == '{' ? '}' : '\'';
        const std::size_t end = s.find(close, pos + 1);
        if (end == std::string::npos) throw Error(cat("'", s[pos], "' without '", close, "'"));
        const double x =
            evaluate_spice_expression(s.substr(pos + 1, end - pos - 1), options_.params);
        pos = end + 1;
        return x;
      }
      ExpressionParser parser(s.substr(pos), options_.params);
      std::size_t used = 0;
      const double x = parser.parse(used);
      pos += used;
      if (pos < s.size() && !is_identifier_start(s[pos]) && s[pos] != ',')
        throw Error(cat("unexpected '", s[pos], "' at column ", pos + 1));
      return x;
    };
    double value = 0.0;
    try {
      value = evaluate();
    } catch (const Error& e) {
      fail(card, cat(".param ", name, ": ", e.what()));
    }
    const std::string key = lower(name);
    const auto previous = param_lines_.find(key);
    if (previous != param_lines_.end())
      fail(card,
           cat(".param: parameter '", name, "' is already defined at line ", previous->second));
    param_lines_.emplace(key, card.line);
    options_.params[key] = value;
    any = true;
  }
  if (!any) fail(card, ".param without any name=value");
}

void SpiceReader::options_card(const SpiceCard& card) {
  const std::vector<SpiceToken> tokens = tokenize(card, true);
  for (const auto& assignment : assignments(card, tokens, 1)) {
    const std::string& name = assignment.first;
    const SpiceToken* value_token = assignment.second;
    auto value = [&](bool positive) {
      if (value_token == nullptr)
        fail(card, cat(".options: ", name, " needs a value (", name, "=...)"));
      const double x = number(card, *value_token, cat(".options ", name));
      if (positive && !(x > 0.0)) fail(card, cat(".options ", name, " = ", x, ": must be > 0"));
      return x;
    };
    if (name == "temp" || name == "tnom") {
      const double kelvin = value(false) + kCelsiusToKelvin;
      if (!(kelvin > 0.0))
        fail(card, cat(".options ", name, ": ", kelvin - kCelsiusToKelvin,
                       " Celsius is at or below 0 K"));
      (name == "temp" ? options_.temperature : options_.tnom) = kelvin;
    } else if (name == "gmin") {
      const double g = value(false);
      if (g < 0.0) fail(card, cat(".options gmin = ", g, ": must be >= 0"));
      options_.gmin = g;
    } else if (name == "reltol") {
      options_.reltol = value(true);
    } else if (name == "abstol") {
      options_.abstol = value(true);
    } else if (name == "vntol") {
      options_.vntol = value(true);
    } else if (name == "itl1") {
      const double x = value(true);
      if (x != std::floor(x) || x > INT_MAX)
        fail(card, cat(".options itl1 = ", x, ": must be a positive whole number"));
      options_.itl1 = static_cast<int>(x);
    } else if (name == "rshunt") {
      warn(card, ".options: rshunt ignored (no shunt resistors are added to the nodes)");
    } else if (ignored_options().count(name) > 0) {
      warn(card, cat(".options: ", name,
                     " ignored (a solver or listing setting of SPICE; "
                     "physlearn's Newton has its own)"));
    } else {
      warn(card, cat(".options: unknown option '", name, "' ignored"));
    }
  }
}

void SpiceReader::model_card(const SpiceCard& card) {
  const std::vector<SpiceToken> tokens = tokenize(card, true);
  if (tokens.size() < 3 || tokens[1].expression || tokens[2].expression)
    fail(card, ".model needs a name and a type: .model NAME D(IS=... N=...)");
  const std::string name = tokens[1].text;
  const std::string type = lower(tokens[2].text);
  // The kind that owns the model type reads its parameters.
  const ElementGroup* owner = nullptr;
  std::string types;
  for (const auto& kind : element_kinds()) {
    const std::string own = kind->spice_model_type();
    if (own.empty()) continue;
    types += (types.empty() ? "" : ", ") + std::string(1, static_cast<char>(std::toupper(
                                                          static_cast<unsigned char>(own[0])))) +
             own.substr(1);
    if (own == type) owner = kind.get();
  }
  if (owner == nullptr)
    fail(card, cat(".model ", name, ": unknown model type '", tokens[2].text, "' (supported: ",
                   types, ")"));
  SpiceModel model;
  model.type = type;
  model.line = card.line;
  model.values = owner->read_spice_model(*this, card, name, 3);
  const auto inserted = models_.emplace(lower(name), model);
  if (!inserted.second)
    fail(card, cat(".model ", name, " is already defined at line ", inserted.first->second.line));
}

const SpiceModel* SpiceReader::model(const std::string& name) const {
  const auto it = models_.find(lower(name));
  return it == models_.end() ? nullptr : &it->second;
}

bool SpiceReader::has_node(const std::string& written) const {
  return is_ground_name(written) || nodes_.count(lower(written)) > 0;
}

SpiceSourceFunction SpiceReader::source_function(const SpiceCard& card, std::size_t& i,
                                                 const std::string& function) {
  const std::vector<SpiceToken>& tokens = card.tokens;
  // The function's fields, from its name through the token that closes its parenthesis, in
  // forms like "SIN(0 1 1k)", "sin (0, 1, 1k)" or "PULSE( 0 5 {tr} )".
  const std::string& name = tokens[0].text;
  const std::string upper = function == "sin" ? "SIN" : "PULSE";
  std::vector<SpiceToken> fields;
  bool opened = false, closed = false;
  auto take_text = [&](std::string text) {
    if (!opened) {
      if (text.empty()) return;
      if (text[0] != '(') fail(card, cat(name, ": ", upper, " needs its fields in parentheses"));
      opened = true;
      text = text.substr(1);
    }
    const auto close = text.find(')');
    if (close != std::string::npos) {
      if (close + 1 != text.size())
        fail(card, cat(name, ": unexpected \"", text.substr(close + 1), "\" after ", upper, "(...)"));
      closed = true;
      text = text.substr(0, close);
    }
    std::string field;
    for (char c : text + ",") {
      if (c == ',') {
        if (!field.empty()) fields.push_back({field, false});
        field.clear();
      } else {
        field += c;
      }
    }
  };
  take_text(tokens[i].text.substr(function.size()));
  while (!closed && i + 1 < tokens.size()) {
    const SpiceToken& next = tokens[++i];
    if (next.expression) {
      if (!opened) fail(card, cat(name, ": ", upper, " needs its fields in parentheses"));
      fields.push_back(next);
    } else {
      take_text(next.text);
    }
  }
  if (!opened || !closed) fail(card, cat(name, ": ", upper, "( without its closing ')'"));
  SpiceSourceFunction f;
  f.kind = function;
  for (const SpiceToken& field : fields)
    f.args.push_back(number(card, field, cat(name, " ", upper, " field ", f.args.size() + 1)));
  const std::size_t most = function == "sin" ? 6 : 8;
  const std::string usage = function == "sin" ? "SIN(VO VA [FREQ [TD [THETA [PHASE]]]])"
                                              : "PULSE(V1 V2 [TD [TR [TF [PW [PER [NP]]]]]])";
  if (f.args.size() < 2 || f.args.size() > most)
    fail(card, cat(name, ": ", upper, " takes 2 to ", most, " fields, not ", f.args.size(), " (",
                   usage, ")"));
  for (std::size_t k = 2; k < f.args.size(); ++k) {
    const bool may_be_negative = function == "sin" && (k == 4 || k == 5);  // THETA, PHASE
    if (f.args[k] < 0.0 && !may_be_negative)
      fail(card, cat(name, ": ", upper, " field ", k + 1, " = ", f.args[k], " must be >= 0 (",
                     usage, ")"));
  }
  if (function == "pulse" && f.args.size() > 6 && f.args[6] > 0.0) {
    const double tr = f.args.size() > 3 ? f.args[3] : 0.0, tf = f.args.size() > 4 ? f.args[4] : 0.0;
    const double pw = f.args.size() > 5 ? f.args[5] : 0.0;
    if (f.args[6] < tr + pw + tf)
      fail(card, cat(name, ": PULSE period ", f.args[6], " s is shorter than TR + PW + TF = ",
                     tr + pw + tf, " s"));
  }
  return f;
}

double SpiceReader::value_with_ic(const SpiceCard& card, const std::string& noun,
                                  const std::string& unit) {
  const auto& tokens = card.tokens;
  const std::string& name = tokens[0].text;
  if (tokens.size() < 4) fail(card, cat(name, ": a ", noun, " needs ", name, " n1 n2 value"));
  // IC= is a transient initial condition, not read.
  for (const auto& [key, value] : assignments(card, tokens, 4)) {
    if (key != "ic" || value == nullptr)
      fail(card, cat(name, ": unexpected field '", key, "' (", name, " n1 n2 ", unit, " [IC=",
                     unit == "farads" ? "v" : "i", "])"));
    number(card, *value, cat(name, " ic"));
  }
  return number(card, tokens[3], cat(name, " value"));
}

double SpiceReader::source_value(const SpiceCard& card, char letter) {
  const std::vector<SpiceToken>& tokens = card.tokens;
  const std::string& name = tokens[0].text;
  const std::string usage = cat(name, " n+ n- [DC] value");
  if (tokens.size() < 3) fail(card, cat(name, ": needs ", usage));
  bool have_value = false;
  double value = 0.0;
  std::optional<SpiceSourceFunction> waveform;
  for (std::size_t i = 3; i < tokens.size(); ++i) {
    const SpiceToken& t = tokens[i];
    const std::string word = t.expression ? std::string() : lower(t.text);
    const std::string function = word.substr(0, word.find('('));
    if (word == "dc") {
      if (have_value || i + 1 >= tokens.size())
        fail(card, cat(name, ": DC needs one value (", usage, ")"));
      value = number(card, tokens[++i], cat(name, " DC value"));
      have_value = true;
    } else if (word == "ac") {
      // AC magnitude [phase]: no AC analysis here.
      for (int k = 0; k < 2 && i + 1 < tokens.size(); ++k) {
        const SpiceToken& next = tokens[i + 1];
        const std::string low = lower(next.text);
        if (!next.expression &&
            (low == "dc" || !(is_digit(low[0]) || low[0] == '.' || low[0] == '-' || low[0] == '+')))
          break;
        number(card, next, cat(name, " AC value"));
        ++i;
      }
    } else if (!t.expression && letter == 'v' && (function == "sin" || function == "pulse")) {
      if (waveform) fail(card, cat(name, ": a second transient function"));
      waveform = source_function(card, i, function);
    } else if (!t.expression && transient_functions().count(function) > 0) {
      fail(card, cat(name, ": the transient source function ", t.text.substr(0, function.size()),
                     " is not supported (", letter == 'v' ? "SIN and PULSE" : "DC values only",
                     " on ", letter == 'v' ? "voltage" : "current", " sources)"));
    } else if (!have_value) {
      value = number(card, t, cat(name, " value"));
      have_value = true;
    } else {
      fail(card, cat(name, ": unexpected field \"", t.text, "\" (", usage, " [AC mag [phase]])"));
    }
  }
  if (waveform) {
    waveform->source = name;
    waveform->line = card.line;
    if (!have_value) value = waveform->waveform(1.0, 1.0)(0.0);  // the value at t = 0
    options_.source_functions.push_back(*waveform);
  } else if (!have_value) {
    warn(card, cat(name, " has no value: ", letter == 'v' ? "0 V" : "0 A", " assumed"));
  }
  return value;
}

void SpiceReader::element_card(SpiceCard card) {
  card.tokens = tokenize(card, false);
  const std::vector<SpiceToken>& tokens = card.tokens;
  if (tokens.empty() || tokens[0].expression) fail(card, "expected an element name");
  const std::string& name = tokens[0].text;
  const char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  for (std::size_t i = 1; i < tokens.size() && i < 3; ++i)
    if (tokens[i].expression || tokens[i].text == "=")
      fail(card, cat(name, ": \"", tokens[i].text, "\" is not a node name"));
  std::string supported;
  for (const auto& kind : element_kinds()) {
    const std::string letters = kind->spice_letters();
    for (char l : letters)
      supported += (supported.empty() ? "" : ", ") +
                   std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(l))));
    if (letters.find(letter) == std::string::npos) continue;
    claim_element_name(card, name);
    kind->read_spice(*this, card);
    return;
  }
  switch (letter) {
    case 'x':
      fail(card, cat(name, ": subcircuit instances (X) are not supported"));
    case 'f':
    case 'h':
      fail(card, cat(name, ": current-controlled sources (F, H) are not supported"));
    case 'b':
      fail(card, cat(name, ": behavioural sources (B) are not supported"));
    case 'q':
    case 'm':
    case 'j':
    case 'z':
      fail(card, cat(name, ": transistors (", static_cast<char>(std::toupper(letter)),
                     ") are not supported"));
    default:
      fail(card, cat("unknown element type '", name[0], "' (supported: ", supported, ")"));
  }
}

void SpiceReader::tran_card(const SpiceCard& card) {
  if (options_.tran.has_value()) fail(card, "a second .tran card");
  const std::vector<SpiceToken> tokens = tokenize(card, true);
  std::vector<double> values;
  bool uic = false;
  for (std::size_t k = 1; k < tokens.size(); ++k) {
    if (lower(tokens[k].text) == "uic") {
      uic = true;
    } else {
      if (uic) fail(card, ".tran: UIC must come last");
      values.push_back(number(card, tokens[k], ".tran"));
    }
  }
  if (values.size() < 2 || values.size() > 4)
    fail(card, ".tran needs tstep tstop [tstart [tmax]] [UIC]");
  SpiceTran t;
  t.step = values[0];
  t.stop = values[1];
  t.start = values.size() > 2 ? values[2] : 0.0;
  t.max_step = values.size() > 3 ? values[3] : 0.0;
  t.uic = uic;
  if (!(t.step > 0.0)) fail(card, cat(".tran: tstep = ", t.step, ": must be > 0"));
  if (!(t.stop > 0.0)) fail(card, cat(".tran: tstop = ", t.stop, ": must be > 0"));
  if (!(t.start >= 0.0) || !(t.start < t.stop))
    fail(card, cat(".tran: tstart = ", t.start, ": must be >= 0 and < tstop"));
  if (!(t.max_step >= 0.0)) fail(card, cat(".tran: tmax = ", t.max_step, ": must be >= 0"));
  options_.tran = t;
}

Circuit SpiceReader::read(const std::string& text) {
  split_cards(text);
  // Parameters first (in card order), then the other control cards, then the elements, so that
  // elements may use models and parameters defined anywhere.
  std::vector<const SpiceCard*> elements;
  for (const SpiceCard& card : cards_) {
    const std::string low = lower(card.text);
    const std::string keyword = low.substr(0, low.find_first_of(" \t({"));
    if (keyword == ".param") param_card(card);
  }
  for (const SpiceCard& card : cards_) {
    const std::string low = lower(card.text);
    const std::string keyword = low.substr(0, low.find_first_of(" \t({"));
    if (keyword.empty() || keyword[0] != '.') {
      elements.push_back(&card);
    } else if (keyword == ".param") {
      // done
    } else if (keyword == ".op") {
      if (tokenize(card, true).size() != 1) fail(card, ".op takes no fields");
      options_.has_op = true;
    } else if (keyword == ".options" || keyword == ".option" || keyword == ".opt" ||
               keyword == ".opts") {
      options_card(card);
    } else if (keyword == ".model") {
      model_card(card);
    } else if (keyword == ".temp") {
      const std::vector<SpiceToken> tokens = tokenize(card, true);
      if (tokens.size() != 2) fail(card, ".temp needs one temperature in Celsius");
      const double kelvin = number(card, tokens[1], ".temp") + kCelsiusToKelvin;
      if (!(kelvin > 0.0)) fail(card, ".temp: at or below 0 K");
      options_.temperature = kelvin;
    } else if (keyword == ".title") {
      options_.title = trim(card.text.substr(6));
    } else if (keyword == ".subckt" || keyword == ".ends") {
      fail(card, "subcircuits (.subckt) are not supported");
    } else if (keyword == ".include" || keyword == ".inc" || keyword == ".lib" ||
               keyword == ".endl") {
      fail(card, cat(keyword, " is not supported (put everything in one netlist)"));
    } else if (keyword == ".tran") {
      tran_card(card);
    } else if (keyword == ".dc" || keyword == ".ac" || keyword == ".noise" ||
               keyword == ".tf" || keyword == ".pz" || keyword == ".sens" || keyword == ".disto" ||
               keyword == ".four" || keyword == ".pss" || keyword == ".sp") {
      fail(card, cat("the analysis ", keyword,
                     " is not supported (only .op, the DC operating "
                     "point)"));
    } else if (keyword == ".print" || keyword == ".plot" || keyword == ".probe" ||
               keyword == ".save" || keyword == ".width" || keyword == ".meas" ||
               keyword == ".measure") {
      warn(card, cat(keyword, " ignored (physlearn solve prints every node and branch)"));
    } else if (keyword == ".nodeset" || keyword == ".ic") {
      warn(card, cat(keyword, " ignored (a starting hint or a transient initial condition)"));
    } else {
      fail(card, cat("unknown card '", card.text.substr(0, keyword.size()), "'"));
    }
  }
  for (const SpiceCard* card : elements) element_card(*card);
  for (const auto& action : deferred_) action();
  circuit_.validate();
  return std::move(circuit_);
}

double parse_spice_number(const std::string& text) {
  std::size_t pos = 0;
  double value = 0.0;
  bool ok = false;
  try {
    ok = scan_number(text, pos, value, true);
  } catch (const Error& e) {
    throw Error(cat("malformed number \"", text, "\": ", e.what()));
  }
  if (!ok || pos != text.size())
    throw Error(cat("malformed number \"", text,
                    "\" (SPICE numbers: 1.5, -2e-3, 4.7k, 10MEG, 1uF; parameters need {})"));
  return value;
}

double evaluate_spice_expression(const std::string& text,
                                 const std::map<std::string, double>& params) {
  ExpressionParser parser(text, params);
  std::size_t pos = 0;
  const double value = parser.parse(pos);
  if (pos != text.size()) parser.fail(cat("unexpected '", text[pos], "' at column ", pos + 1));
  return value;
}

namespace {

/// A PULSE's times with ngspice's defaults for a .tran of tstep and tstop.
struct PulseTimes {
  double v1, v2, td, rise, fall, width, period, count;
};

PulseTimes pulse_times(const std::vector<double>& args, double tstep, double tstop) {
  auto arg = [&](std::size_t k, double fallback) { return k < args.size() ? args[k] : fallback; };
  PulseTimes p{};
  p.v1 = args.at(0);
  p.v2 = args.at(1);
  p.td = arg(2, 0.0);
  p.rise = arg(3, 0.0) > 0.0 ? arg(3, 0.0) : tstep;
  p.fall = arg(4, 0.0) > 0.0 ? arg(4, 0.0) : tstep;
  p.width = arg(5, tstop);
  const double per = arg(6, tstop);
  p.period = std::max(per > 0.0 ? per : tstop, p.rise + p.width + p.fall);
  p.count = arg(7, 0.0);
  return p;
}

}  // namespace

std::function<double(double)> SpiceSourceFunction::waveform(double tstep, double tstop) const {
  constexpr double kTwoPi = 6.283185307179586;
  if (kind == "sin") {
    auto arg = [this](std::size_t k, double fallback) { return k < args.size() ? args[k] : fallback; };
    const double vo = args.at(0), va = args.at(1), freq = arg(2, 1.0 / tstop), td = arg(3, 0.0);
    const double theta = arg(4, 0.0), phase = arg(5, 0.0) / 360.0;
    return [=](double t) {
      if (t < td) return vo + va * std::sin(kTwoPi * phase);
      return vo + va * std::exp(-(t - td) * theta) * std::sin(kTwoPi * (freq * (t - td) + phase));
    };
  }
  const PulseTimes p = pulse_times(args, tstep, tstop);
  return [p](double t) {
    if (t < p.td) return p.v1;
    double tau = t - p.td;
    const double k = std::floor(tau / p.period);
    if (p.count > 0.0 && k >= p.count) return p.v1;
    tau -= k * p.period;
    if (tau < p.rise) return p.v1 + (p.v2 - p.v1) * tau / p.rise;
    if (tau < p.rise + p.width) return p.v2;
    if (tau < p.rise + p.width + p.fall)
      return p.v2 + (p.v1 - p.v2) * (tau - p.rise - p.width) / p.fall;
    return p.v1;
  };
}

double SpiceSourceFunction::shortest_segment(double tstep, double tstop) const {
  if (kind != "pulse") return std::numeric_limits<double>::infinity();
  const PulseTimes p = pulse_times(args, tstep, tstop);
  double shortest = std::min({p.rise, p.fall, p.width > 0.0 ? p.width : tstop});
  const double rest = p.period - p.rise - p.width - p.fall;
  if (rest > 0.0) shortest = std::min(shortest, rest);
  return shortest;
}

std::vector<double> SpiceSourceFunction::corners(double tstep, double tstop) const {
  std::vector<double> out;
  if (kind == "sin") {
    const double td = args.size() > 3 ? args[3] : 0.0;
    if (td > 0.0 && td < tstop) out.push_back(td);
    return out;
  }
  const PulseTimes p = pulse_times(args, tstep, tstop);
  for (double k = 0.0; p.count <= 0.0 || k < p.count; k += 1.0) {
    const double start = p.td + k * p.period;
    if (start >= tstop || out.size() > 4000000) break;
    for (double c : {start, start + p.rise, start + p.rise + p.width,
                     start + p.rise + p.width + p.fall})
      if (c > 0.0 && c < tstop) out.push_back(c);
  }
  return out;
}

Circuit read_spice_netlist(const std::string& text, const std::string& source_name,
                           SpiceOptions* options_out) {
  SpiceOptions options;
  SpiceReader reader(source_name, options);
  Circuit circuit = reader.read(text);
  if (options_out != nullptr) {
    *options_out = std::move(options);
  } else {
    for (const auto& w : options.warnings) std::cerr << "physlearn: warning: " << w << "\n";
  }
  return circuit;
}

Circuit read_spice_file(const std::string& path, SpiceOptions* options_out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(cat("cannot read the SPICE netlist \"", path,
                    "\" (no such file, or no "
                    "permission)"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(cat("error reading the SPICE netlist \"", path, "\""));
  return read_spice_netlist(text.str(), path, options_out);
}

}  // namespace physlearn::circuits
