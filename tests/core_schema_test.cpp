#include <doctest/doctest.h>

#include <sstream>

#include "core/schema.h"

using namespace physlearn;

namespace {
struct Inner {
  double g = 1.5;
  std::vector<int> sizes = {3, 4};
};
struct Outer {
  std::string mode = "fast";
  int count = 2;
  bool flag = false;
  Inner inner;
};
void describe(Schema& s, Outer& o) {
  s.field("mode", o.mode, "a mode").one_of({"fast", "slow"});
  s.field("count", o.count, "a count").min(1).max(10);
  s.field("flag", o.flag, "a flag");
  s.section("inner", "nested", [&o](Schema& sub) {
    sub.field("g", o.inner.g, "a conductance").unit("S").min(0.0);
    sub.field("sizes", o.inner.sizes, "sizes").min(1);
  });
}
std::string error_of(const json& j) {
  Outer o;
  Schema s;
  describe(s, o);
  try {
    s.read(j, "");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("schema reads values, keeps defaults and writes the resolved object") {
  Outer o;
  Schema s;
  describe(s, o);
  s.read(json::parse(R"({"count": 5, "inner": {"sizes": [7]}})"), "");
  CHECK(o.count == 5);
  CHECK(o.mode == "fast");
  CHECK(o.inner.sizes == std::vector<int>{7});
  CHECK(o.inner.g == 1.5);
  const json out = s.write();
  CHECK(out["inner"]["g"] == 1.5);
  CHECK(out["count"] == 5);
  // The written object reads back to the same values.
  Outer again;
  Schema s2;
  describe(s2, again);
  s2.read(out, "");
  CHECK(again.count == 5);
  CHECK(again.inner.sizes == std::vector<int>{7});
}

TEST_CASE("schema errors name the JSON path, the value and the rule") {
  CHECK(error_of(json::parse(R"({"cuont": 3})")).find("cuont: 3: unknown key") == 0);
  CHECK(error_of(json::parse(R"({"count": 0})")) == "count: 0: must be >= 1");
  CHECK(error_of(json::parse(R"({"count": 2.5})")) == "count: 2.5: must be integer");
  CHECK(error_of(json::parse(R"({"mode": "medium"})")) == "mode: \"medium\": must be one of: fast, slow");
  CHECK(error_of(json::parse(R"({"inner": {"g": -1}})")) == "inner.g: -1.0: must be >= 0.0");
  CHECK(error_of(json::parse(R"({"inner": {"sizes": [2, 0]}})")) == "inner.sizes[1]: 0: must be >= 1");
  CHECK(error_of(json::parse(R"({"inner": {"typo": 1}})")).find("inner.typo: 1: unknown key") == 0);
  CHECK(error_of(json::parse(R"({"flag": "yes"})")) == "flag: \"yes\": must be boolean");
}

TEST_CASE("schema documents every key with type, default, unit and rule") {
  Outer o;
  Schema s;
  describe(s, o);
  std::ostringstream out;
  s.document(out, "");
  const std::string text = out.str();
  CHECK(text.find("inner.g") != std::string::npos);
  CHECK(text.find("unit S") != std::string::npos);
  CHECK(text.find("one of: fast, slow") != std::string::npos);
  CHECK(text.find("default 2") != std::string::npos);
}

TEST_CASE("overrides set nested keys and parse JSON values") {
  json config = json::parse(R"({"a": {"b": 1}})");
  apply_override(config, "a.b=2.5");
  apply_override(config, "a.c=[1,2]");
  apply_override(config, "name=hello");
  CHECK(config["a"]["b"] == 2.5);
  CHECK(config["a"]["c"] == json::array({1, 2}));
  CHECK(config["name"] == "hello");
  CHECK_THROWS_AS(apply_override(config, "novalue"), ConfigError);
}

namespace {
struct Square {
  double side = 1.0;
};
struct Circle {
  double radius = 2.0;
  int segments = 16;
};
/// A variant keyed by "shape" with a key common to every alternative ("color").
struct Drawing {
  std::string shape = "square";
  std::string color = "black";
  Square square;
  Circle circle;
};
void describe(Schema& s, Drawing& d) {
  s.variant("figure", "what is drawn", "shape", d.shape,
            {{"square", [&d](Schema& sub) { sub.field("side", d.square.side, "side").min(0.0); },
              "four equal sides"},
             {"circle",
              [&d](Schema& sub) {
                sub.field("radius", d.circle.radius, "radius").greater(0.0);
                sub.field("segments", d.circle.segments, "segments drawn").min(3);
              }}},
            [&d](Schema& sub) { sub.field("color", d.color, "line color").one_of({"black", "red"}); });
}
std::string variant_error(const json& j) {
  Drawing d;
  Schema s;
  describe(s, d);
  try {
    s.read(j, "");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a variant reads the chosen alternative with the common keys, and writes only those") {
  Drawing d;
  Schema s;
  describe(s, d);
  s.read(json::parse(R"({"figure": {"shape": "circle", "color": "red", "radius": 3}})"), "");
  CHECK(d.shape == "circle");
  CHECK(d.color == "red");
  CHECK(d.circle.radius == 3.0);
  CHECK(d.circle.segments == 16);
  const json out = s.write();
  CHECK(out["figure"] == json::parse(R"({"shape": "circle", "color": "red", "radius": 3.0,
                                         "segments": 16})"));
  // Without the selector the current alternative stays; the common keys go with it.
  Drawing plain;
  Schema p;
  describe(p, plain);
  p.read(json::parse(R"({"figure": {"side": 5, "color": "red"}})"), "");
  CHECK(plain.shape == "square");
  CHECK(plain.square.side == 5.0);
  CHECK(p.write()["figure"] == json::parse(R"({"shape": "square", "color": "red", "side": 5.0})"));
}

TEST_CASE("variant errors name the key, the value and the rule") {
  CHECK(variant_error(json::parse(R"({"figure": {"shape": "oval"}})")) ==
        "figure.shape: \"oval\": must be one of: square, circle");
  // A key of another alternative is unknown here; the list is this alternative's keys.
  CHECK(variant_error(json::parse(R"({"figure": {"shape": "circle", "side": 4}})")) ==
        "figure.side: 4: unknown key (known keys here: color, radius, segments, shape)");
  CHECK(variant_error(json::parse(R"({"figure": {"side": -1}})")) ==
        "figure.side: -1.0: must be >= 0.0");
  CHECK(variant_error(json::parse(R"({"figure": {"color": "blue"}})")) ==
        "figure.color: \"blue\": must be one of: black, red");
  CHECK(variant_error(json::parse(R"({"figure": {"shape": 3}})")) == "figure.shape: 3: must be string");
  CHECK(variant_error(json::parse(R"({"figure": 3})")) == "figure: 3: must be an object");
}

TEST_CASE("a variant documents its selector, the common keys once, then every alternative") {
  Drawing d;
  Schema s;
  describe(s, d);
  std::ostringstream out;
  s.document(out, "");
  const std::string text = out.str();
  const auto selector = text.find("figure.shape");
  const auto common = text.find("figure.color");
  const auto square = text.find("(figure.shape = \"square\")  four equal sides");
  const auto circle = text.find("(figure.shape = \"circle\")");
  REQUIRE(selector != std::string::npos);
  CHECK(text.find("one of: square, circle", selector) != std::string::npos);
  REQUIRE(common != std::string::npos);
  CHECK(text.find("figure.color", common + 1) == std::string::npos);
  REQUIRE(square != std::string::npos);
  REQUIRE(circle != std::string::npos);
  CHECK(selector < common);
  CHECK(common < square);
  CHECK(square < text.find("figure.side"));
  CHECK(circle < text.find("figure.segments"));
}
