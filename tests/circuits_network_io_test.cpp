// A layered network's file (circuits/network_io.h): written and read back bit for bit (subnormal,
// huge, negative-zero and thirds included), its JSON layout as documented, and every malformed or
// mismatched file refused with an error naming the file and what is wrong.
#include <doctest/doctest.h>

#include "circuits_support.h"

#include <Eigen/Dense>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "circuits/drn.h"
#include "circuits/network_io.h"
#include "core/error.h"

namespace fs = std::filesystem;
using physlearn::Error;
using physlearn::circuits::build_drn;
using physlearn::circuits::DrnParams;
using physlearn::circuits::LayeredNetwork;
using physlearn::circuits::load_network;
using physlearn::circuits::save_network;
using json = nlohmann::json;

namespace {

/// A fresh, empty folder for this file's tests (ctest runs test programs in parallel).
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("physlearn_test_circuits_network_io_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// 3 inputs (6 sources), hidden 4 and 2, 3 outputs: sizes 6-4-2-3.
LayeredNetwork network(std::uint64_t seed, bool biases = true) {
  DrnParams p;
  p.inputs = 3;
  p.hidden = {4, 2};
  p.outputs = 3;
  p.bias_init = 0.5;
  p.biases = biases;
  return build_drn(p, seed);
}

/// True when a and b hold the same doubles bit for bit (so -0.0 differs from 0.0).
template <class A, class B>
bool same_bits(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// The message of the Error that loading `path` into `net` throws ("" when none).
std::string load_error(const fs::path& path, LayeredNetwork& net) {
  try {
    load_network(path.string(), net);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("network file: written and read back bit for bit, in the documented layout") {
  /// Conductances and biases as JSON numbers that read back to the same double: the smallest
  /// subnormal, the smallest normal, 1/3, 0.1, 1e300 and 0 among the conductances; -0.0, -1/7,
  /// 1e-310 and -1e300 among the biases. weights[l][j][i] is W_l(j, i) (row j of layer l, the
  /// unit below), biases[l][i] the bias of unit i of layer l + 1.
  const fs::path dir = scratch("round_trip");
  const std::string file = (dir / "network.json").string();
  LayeredNetwork net = network(1);
  net.weights[0](0, 0) = std::numeric_limits<double>::denorm_min();
  net.weights[0](5, 3) = std::numeric_limits<double>::min();
  net.weights[1](1, 0) = 1.0 / 3.0;
  net.weights[1](3, 1) = 0.1;
  net.weights[2](0, 2) = 1e300;
  net.weights[2](1, 1) = 0.0;
  net.biases[0](0) = -0.0;
  net.biases[0](3) = -1.0 / 7.0;
  net.biases[1](1) = 1e-310;
  net.biases[2](2) = -1e300;
  save_network(net, file);
  CHECK_FALSE(fs::exists(file + ".tmp"));  // written to a temporary file, then renamed

  LayeredNetwork read = network(2);  // other values, same sizes
  REQUIRE_FALSE(same_bits(read.weights[0], net.weights[0]));
  load_network(file, read);
  for (int l = 0; l < 3; ++l) {
    CAPTURE(l);
    CHECK(same_bits(read.weights[l], net.weights[l]));
    CHECK(same_bits(read.biases[l], net.biases[l]));
  }
  CHECK(std::signbit(read.biases[0](0)));

  const json j = json::parse(std::ifstream(file));
  CHECK(j.at("format") == "physlearn-network");
  CHECK(j.at("version") == 1);
  CHECK(j.at("sizes") == json({6, 4, 2, 3}));
  REQUIRE(j.at("weights").size() == 3);
  REQUIRE(j.at("biases").size() == 3);
  for (int l = 0; l < 3; ++l) {
    const json& w = j["weights"][static_cast<std::size_t>(l)];
    REQUIRE(w.size() == static_cast<std::size_t>(net.sizes[l]));
    for (int r = 0; r < net.sizes[l]; ++r) {
      REQUIRE(w[static_cast<std::size_t>(r)].size() == static_cast<std::size_t>(net.sizes[l + 1]));
      for (int i = 0; i < net.sizes[l + 1]; ++i)
        CHECK(w[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)].get<double>() == net.weights[l](r, i));
    }
    const json& b = j["biases"][static_cast<std::size_t>(l)];
    REQUIRE(b.size() == static_cast<std::size_t>(net.sizes[l + 1]));
    for (int i = 0; i < net.sizes[l + 1]; ++i)
      CHECK(b[static_cast<std::size_t>(i)].get<double>() == net.biases[l](i));
  }
  // Saved again over the old file: the same text.
  const std::string first = physlearn::read_text_file(file);
  save_network(read, file);
  CHECK(physlearn::read_text_file(file) == first);
  fs::remove_all(dir);
}

TEST_CASE("network file: a network without biases writes empty bias rows and reads back") {
  const fs::path dir = scratch("no_biases");
  const std::string file = (dir / "network.json").string();
  const LayeredNetwork net = network(3, false);
  save_network(net, file);
  const json j = json::parse(std::ifstream(file));
  CHECK(j.at("biases") == json::parse("[[], [], []]"));
  LayeredNetwork read = network(4, false);
  load_network(file, read);
  for (int l = 0; l < 3; ++l) CHECK(same_bits(read.weights[l], net.weights[l]));
  // A network with biases needs them in the file.
  LayeredNetwork biased = network(4, true);
  const std::string message = load_error(file, biased);
  CHECK(message.find(file) != std::string::npos);
  CHECK(message.find("biases[0]") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("network file: malformed or mismatched files are errors naming the file and the fault") {
  /// Each case edits a correct file (of a 6-4-2-3 network) and loads it into a 6-4-2-3 network:
  /// the message holds the file's name and the words given.
  const fs::path dir = scratch("errors");
  const fs::path good = dir / "good.json";
  save_network(network(5), good.string());
  const json base = json::parse(std::ifstream(good));

  struct Case {
    std::string name;
    std::function<void(json&)> edit;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {"not an object", [](json& j) { j = json::array(); }, {"not a physlearn network file"}},
      {"another format", [](json& j) { j["format"] = "onnx"; }, {"not a physlearn network file"}},
      {"no format", [](json& j) { j.erase("format"); }, {"not a physlearn network file"}},
      {"a later version", [](json& j) { j["version"] = 2; }, {"version 2", "reads 1"}},
      {"other sizes", [](json& j) { j["sizes"] = {6, 4, 2, 2}; },
       {"layer sizes [6,4,2,2] differ", "[6,4,2,3]"}},
      {"no sizes", [](json& j) { j.erase("sizes"); }, {"layer sizes (none)"}},
      {"a row missing", [](json& j) { j["weights"][1].erase(3); }, {"weights[1]: expected 4 rows"}},
      {"a value missing", [](json& j) { j["weights"][0][2].erase(3); },
       {"weights[0][2]: expected 4 values"}},
      {"a row not an array", [](json& j) { j["weights"][2][1] = 0.5; },
       {"weights[2][1]: expected 3 values"}},
      {"a string", [](json& j) { j["weights"][2][1][0] = "0.5"; },
       {"weights[2][1][0]: not a number"}},
      {"a negative conductance", [](json& j) { j["weights"][0][0][0] = -1e-3; },
       {"conductances must be finite and >= 0"}},
      {"a short bias row", [](json& j) { j["biases"][1].erase(1); }, {"biases[1]", "expected 2 values"}},
      {"a null bias", [](json& j) { j["biases"][2][1] = nullptr; }, {"biases[2][1]: not a number"}},
      {"no weights", [](json& j) { j.erase("weights"); }, {"\"weights\" must be an array of 3 layers"}},
      {"no biases", [](json& j) { j.erase("biases"); }, {"\"biases\" must be an array of 3 layers"}},
      {"a layer missing", [](json& j) { j["weights"].erase(2); }, {"\"weights\" must be an array of 3"}},
      {"weights as an object", [](json& j) { j["weights"] = json::object(); }, {"\"weights\" must be an array"}},
      {"a numeric format", [](json& j) { j["format"] = 1; }, {"not a physlearn network file"}},
      {"a version as text", [](json& j) { j["version"] = "1"; }, {"version 1,", "reads 1"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    json j = base;
    c.edit(j);
    const fs::path file = dir / "edited.json";
    write_text(file, j.dump());
    LayeredNetwork net = network(6);
    const std::string message = load_error(file, net);
    CAPTURE(message);
    REQUIRE(!message.empty());
    CHECK(message.find(file.string()) != std::string::npos);
    for (const std::string& word : c.words)
      CHECK_MESSAGE(message.find(word) != std::string::npos, "missing: ", word);
  }

  // A refused file leaves the network as it was: the error is found in the last layer, after
  // the first layers were read.
  {
    json j = base;
    j["weights"][2][0][0] = -1.0;
    const fs::path file = dir / "late-error.json";
    write_text(file, j.dump());
    LayeredNetwork net = network(6);
    const LayeredNetwork before = net;
    CHECK(!load_error(file, net).empty());
    for (std::size_t l = 0; l < net.weights.size(); ++l) {
      CHECK(same_bits(net.weights[l], before.weights[l]));
      CHECK(same_bits(net.biases[l], before.biases[l]));
    }
  }
  // A number JSON cannot hold in a double is a malformed file, named.
  {
    std::string text = physlearn::read_text_file(good.string());
    const std::size_t at = text.find("\"weights\":[[[") + 13;
    text.replace(at, text.find(',', at) - at, "1e400");
    const fs::path file = dir / "huge.json";
    write_text(file, text);
    LayeredNetwork net = network(6);
    const std::string message = load_error(file, net);
    CHECK(message.find(file.string()) != std::string::npos);
    CHECK(message.find("malformed JSON") != std::string::npos);
  }
  // NaN or infinity cannot be written as JSON: saving refuses, naming the file and the layer,
  // and leaves no file.
  {
    LayeredNetwork bad = network(6);
    bad.weights[1](0, 0) = std::numeric_limits<double>::quiet_NaN();
    const fs::path file = dir / "nan.json";
    CHECK_THROWS_WITH_AS(save_network(bad, file.string()), doctest::Contains("layer 1"), Error);
    CHECK_FALSE(fs::exists(file));
    bad = network(6);
    bad.biases[2](1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(save_network(bad, file.string()), doctest::Contains("not finite"), Error);
  }

  LayeredNetwork net = network(6);
  const fs::path truncated = dir / "truncated.json";
  const std::string text = physlearn::read_text_file(good.string());
  write_text(truncated, text.substr(0, text.size() / 2));
  std::string message = load_error(truncated, net);
  CHECK(message.find(truncated.string()) != std::string::npos);
  CHECK(message.find("malformed JSON") != std::string::npos);
  const fs::path missing = dir / "missing.json";
  message = load_error(missing, net);
  CHECK(message.find(missing.string()) != std::string::npos);
  CHECK(message.find("cannot open") != std::string::npos);
  // Saving into a folder that does not exist names the file.
  const std::string nowhere = (dir / "no" / "such" / "network.json").string();
  CHECK_THROWS_WITH_AS(save_network(network(6), nowhere), doctest::Contains(nowhere.c_str()), Error);
  fs::remove_all(dir);
}
