// End-to-end tests of the physlearn program: every experiment file runs (shortened), errors exit
// non-zero with a message naming the key, results are reproducible bit for bit.
#include <doctest/doctest.h>

#include "skip.h"

#include "cli_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using cli_test::Outcome;
using cli_test::physlearn;
using cli_test::slurp;
using cli_test::without_timings;

fs::path scratch(const std::string& name) { return cli_test::scratch("cli_" + name); }

}  // namespace

TEST_CASE("xor.json trains to zero training error and writes the result files") {
  auto dir = scratch("xor");
  auto r = physlearn("run experiments/xor.json --quiet --out '" + (dir / "run").string() + "'", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json results = json::parse(slurp((dir / "run/results.json").string()));
  CHECK(results["final"]["train_error"] == 0.0);
  CHECK(results["epochs"].size() == 300);
  for (const char* key : {"epoch", "train_loss", "train_error", "test_error", "wall_seconds"})
    CHECK(results["epochs"][0].contains(key));
  const json resolved = json::parse(slurp((dir / "run/config.resolved.json").string()));
  CHECK(resolved["solver"]["sweeps"] == 20);
  CHECK(resolved["learning"]["g_min"] == 0.0);  // a default, filled in
  const std::string history = slurp((dir / "run/history.csv").string());
  CHECK(history.rfind("epoch,train_loss,train_error,test_loss,test_error,wall_seconds\n", 0) == 0);
  CHECK(std::count(history.begin(), history.end(), '\n') == 301);
}

TEST_CASE("xor-vteam.json trains a chip of VTEAM memristors to zero training error") {
  auto dir = scratch("xor_vteam");
  auto r = physlearn("run experiments/xor-vteam.json --quiet --out '" + (dir / "run").string() + "'", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json results = json::parse(slurp((dir / "run/results.json").string()));
  CHECK(results["final"]["train_error"] == 0.0);
  CHECK(results["epochs"][0]["devices"]["pulses"].get<long>() > 0);
  const json chip = json::parse(slurp((dir / "run/chip.json").string()));
  CHECK(chip["params"]["device"]["model"] == "vteam");
}

TEST_CASE("same seed, same results, bit for bit, another seed differs") {
  auto dir = scratch("determinism");
  const std::string common = "run experiments/xor.json --quiet --set learning.epochs=30 --out '";
  REQUIRE(physlearn(common + (dir / "a").string() + "'", dir).status == 0);
  REQUIRE(physlearn(common + (dir / "b").string() + "'", dir).status == 0);
  REQUIRE(physlearn(common + (dir / "c").string() + "' --set seed=2", dir).status == 0);
  const json a = without_timings(json::parse(slurp((dir / "a/results.json").string())));
  const json b = without_timings(json::parse(slurp((dir / "b/results.json").string())));
  const json c = without_timings(json::parse(slurp((dir / "c/results.json").string())));
  CHECK(a.dump() == b.dump());
  CHECK(a.dump() != c.dump());
}

TEST_CASE("config errors exit non-zero and name the key, the value and the rule") {
  auto dir = scratch("errors");
  auto unknown = physlearn("run experiments/xor.json --set learning.epohcs=3", dir);
  CHECK(unknown.status != 0);
  CHECK(unknown.err.find("learning.epohcs: 3: unknown key") != std::string::npos);
  auto negative = physlearn("run experiments/xor.json --set learning.g_min=-1", dir);
  CHECK(negative.status != 0);
  CHECK(negative.err.find("learning.g_min: -1.0: must be >= 0") != std::string::npos);
  auto wrong_type = physlearn("run experiments/xor.json --set network.hidden=[3]", dir);
  CHECK(wrong_type.status != 0);
  CHECK(wrong_type.err.find("network.hidden[0]") != std::string::npos);
  auto choice = physlearn("run experiments/xor.json --set learning.variant=sideways", dir);
  CHECK(choice.err.find("learning.variant: \"sideways\": must be one of: positive, negative, centered") !=
        std::string::npos);
  auto layers = physlearn("run experiments/xor.json --set learning.lr_weights=[0.1,0.1,0.1]", dir);
  CHECK(layers.err.find("learning.lr_weights") != std::string::npos);
  // The solver section holds the keys of its type only: xor.json's 20 sweeps are layered's.
  auto other_type = physlearn("run experiments/xor.json --set solver.type=newton", dir);
  CHECK(other_type.status != 0);
  CHECK(other_type.err.find("solver.sweeps: 20: unknown key (known keys here: abstol, ") !=
        std::string::npos);
  auto solver_type = physlearn("run experiments/xor.json --set solver.type=spectral", dir);
  CHECK(solver_type.err.find("solver.type: \"spectral\": must be one of: layered, newton, "
                             "ngspice, transient") != std::string::npos);

  std::ofstream(dir / "bad.json") << "{\"name\": \"x\", ";
  auto malformed = physlearn("run '" + (dir / "bad.json").string() + "'", dir);
  CHECK(malformed.status != 0);
  CHECK(malformed.err.find("malformed JSON") != std::string::npos);

  auto missing = physlearn("run experiments/xor.json --set data.type=fashion-mnist --set network.inputs=784 "
                           "--set network.outputs=10 --set data.path=/nonexistent",
                           dir);
  CHECK(missing.status != 0);
  CHECK(missing.err.find("/nonexistent") != std::string::npos);
  CHECK(missing.err.find("dataset-fashion-mnist") != std::string::npos);
}

TEST_CASE("an error leaves earlier results in place") {
  auto dir = scratch("keep");
  const std::string out = (dir / "run").string();
  REQUIRE(physlearn("run experiments/xor.json --quiet --set learning.epochs=5 --out '" + out + "'", dir).status == 0);
  const std::string before = slurp(out + "/results.json");
  CHECK(physlearn("run experiments/xor.json --quiet --set learning.beta=-1 --out '" + out + "'", dir).status != 0);
  CHECK(slurp(out + "/results.json") == before);
}

TEST_CASE("solve prints node potentials of a JSON circuit, a floating node is an error") {
  auto dir = scratch("solve");
  std::ofstream(dir / "divider.json") << R"({"elements": [
    {"type": "voltage_source", "name": "V1", "nodes": ["in", "0"], "volts": 3.0},
    {"type": "resistor", "name": "R1", "nodes": ["in", "mid"], "r": 2000},
    {"type": "resistor", "name": "R2", "nodes": ["mid", "0"], "r": 1000}]})";
  auto r = physlearn("solve '" + (dir / "divider.json").string() + "'", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json out = json::parse(r.out);
  CHECK(out["nodes"]["mid"].get<double>() == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(out["branches"]["V1"].get<double>() == doctest::Approx(-1e-3).epsilon(1e-12));
  std::ofstream(dir / "floating.json") << R"({"elements": [
    {"type": "voltage_source", "name": "V1", "nodes": ["in", "0"], "volts": 1.0},
    {"type": "current_source", "name": "I1", "nodes": ["0", "island"], "amps": 1e-3}]})";
  auto f = physlearn("solve '" + (dir / "floating.json").string() + "'", dir);
  CHECK(f.status != 0);
  CHECK(f.err.find("island") != std::string::npos);
}

TEST_CASE("schema documents every section") {
  auto dir = scratch("schema");
  auto r = physlearn("schema", dir);
  REQUIRE(r.status == 0);
  for (const char* key : {"network.input_gain", "solver.sweeps", "learning.beta", "data.path", "output.dir"})
    CHECK(r.out.find(key) != std::string::npos);
}

TEST_CASE("gradcheck: EP on fmnist-drn-xs.json agrees with the exact gradient") {
  if (!physlearn_test::have_fashion_mnist())
    PHYSLEARN_SKIP("Fashion-MNIST not installed (dataset-fashion-mnist)");
  auto dir = scratch("gradcheck");
  auto g = physlearn("gradcheck experiments/fmnist-drn-xs.json --set data.train_size=100 --set data.test_size=10", dir);
  REQUIRE_MESSAGE(g.status == 0, g.err);
  const json check = json::parse(g.out);
  CHECK(check["variant"] == "centered");
  CHECK(check["experiment_solver"]["type"] == "layered");
  CHECK(check["experiment_solver"]["sweeps"] == 4);
  CHECK(check["cosine"].get<double>() > 0.999);
  CHECK(check.contains("relative_error"));
  CHECK(check.contains("beta"));
}

TEST_CASE("CHL and coupled learning reduce the loss on XOR") {
  auto dir = scratch("rules");
  for (const char* rule : {"chl", "cl"}) {
    CAPTURE(rule);
    const std::string out = (dir / rule).string();
    auto r = physlearn(std::string("run experiments/xor.json --quiet --set learning.rule=") + rule +
                           " --set learning.lr_weights=0.05 --set learning.lr_biases=0.05 --out '" + out + "'",
                       dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const json results = json::parse(slurp(out + "/results.json"));
    const double first = results["epochs"][0]["train_loss"], last = results["epochs"].back()["train_loss"];
    CHECK(last < 0.1 * first);
    CHECK(results["final"]["train_error"] == 0.0);
  }
}

TEST_CASE("compare trains each rule on the same data and writes compare.json and compare.csv") {
  auto dir = scratch("compare");
  auto r = physlearn("compare experiments/xor.json --quiet --set learning.epochs=20 "
                     "--rules ep-centered,chl,backprop,exact --out '" + (dir / "cmp").string() + "'",
                     dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json c = json::parse(slurp((dir / "cmp/compare.json").string()));
  REQUIRE(c["rules"].size() == 4);
  CHECK(c["rules"][0]["rule"] == "ep-centered");
  // Circuit rules report their alignment with the exact gradient per layer; exact aligns perfectly
  // up to the solver's convergence, backprop has none.
  CHECK(c["rules"][0]["alignment"].size() == 2);
  CHECK(c["rules"][0]["alignment"][1]["cosine"].get<double>() > 0.99);
  CHECK(c["rules"][3]["alignment"][0]["cosine"].get<double>() > 0.999);
  CHECK_FALSE(c["rules"][2].contains("alignment"));
  const std::string csv = slurp((dir / "cmp/compare.csv").string());
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);
  CHECK(r.out.find("ep-centered") != std::string::npos);
  // Without alignment logging, EP takes the fused path and reports no alignment.
  auto fast = physlearn("compare experiments/xor.json --quiet --set learning.epochs=20 --alignment-every 0 "
                        "--rules ep-centered,backprop --out '" + (dir / "fast").string() + "'", dir);
  REQUIRE_MESSAGE(fast.status == 0, fast.err);
  const json f = json::parse(slurp((dir / "fast/compare.json").string()));
  CHECK_FALSE(f["rules"][0].contains("alignment"));
  CHECK(f["rules"][0]["test_error"] == c["rules"][0]["test_error"]);  // the same training, faster
  auto bad = physlearn("compare experiments/xor.json --rules ep,hebb", dir);
  CHECK(bad.status != 0);
  CHECK(bad.err.find("--rules: \"ep\"") != std::string::npos);
  // A rule's own overrides: chl's learning rate, recorded in compare.json and in its run.
  auto own = physlearn("compare experiments/xor.json --quiet --set learning.epochs=20 "
                       "--rules ep-centered,chl --rule-set 'chl:learning.lr_weights=[0.003,0.002]' "
                       "--out '" + (dir / "own").string() + "'", dir);
  REQUIRE_MESSAGE(own.status == 0, own.err);
  const json o = json::parse(slurp((dir / "own/compare.json").string()));
  CHECK_FALSE(o["rules"][0].contains("overrides"));
  CHECK(o["rules"][0]["test_error"] == c["rules"][0]["test_error"]);  // ep-centered unchanged
  CHECK(o["rules"][1]["overrides"] == json::array({"learning.lr_weights=[0.003,0.002]"}));
  const json chl_config = json::parse(slurp((dir / "own/chl/config.resolved.json").string()));
  CHECK(chl_config["learning"]["lr_weights"] == json::array({0.003, 0.002}));
  CHECK(own.out.find("learning.lr_weights=[0.003,0.002]") != std::string::npos);
  // Entries without a rule, or for a rule not compared, and bad keys are refused before any run.
  for (const std::string entry : {"learning.beta=0.1", "cl:learning.beta=0.1"}) {
    auto refused = physlearn("compare experiments/xor.json --rules chl --rule-set '" + entry +
                                 "' --out '" + (dir / "refused").string() + "'",
                             dir);
    CHECK(refused.status != 0);
    CHECK(refused.err.find("--rule-set") != std::string::npos);
  }
  auto unknown = physlearn("compare experiments/xor.json --rules chl --rule-set chl:learning.colour=1 "
                           "--out '" + (dir / "unknown").string() + "'", dir);
  CHECK(unknown.status != 0);
  CHECK(unknown.err.find("learning.colour") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "refused"));
  CHECK_FALSE(fs::exists(dir / "unknown"));
}

TEST_CASE("in-situ training on a seeded chip: pulses counted, chip saved, same seed same chip") {
  auto dir = scratch("chip");
  const std::string chip =
      " --set 'chip={\"seed\":3,\"device\":{\"model\":\"constant-step\",\"dg\":1e-6,\"g_max\":1e-4},"
      "\"variability\":{\"d2d_sigma\":0.2,\"c2c_sigma\":0.2},\"g_unit\":1e-4}'"
      " --set controller.rounding=stochastic --set learning.epochs=60";
  REQUIRE(physlearn("run experiments/xor.json --quiet --out '" + (dir / "a").string() + "'" + chip, dir).status == 0);
  REQUIRE(physlearn("run experiments/xor.json --quiet --out '" + (dir / "b").string() + "'" + chip, dir).status == 0);
  const json a = without_timings(json::parse(slurp((dir / "a/results.json").string())));
  const json b = without_timings(json::parse(slurp((dir / "b/results.json").string())));
  CHECK(a.dump() == b.dump());
  CHECK(a["epochs"][0]["devices"]["pulses"].get<long>() > 0);
  CHECK(fs::file_size(dir / "a/chip.json") > 1000);
  CHECK(slurp((dir / "a/chip.json").string()) == slurp((dir / "b/chip.json").string()));
  const json resolved = json::parse(slurp((dir / "a/config.resolved.json").string()));
  CHECK(resolved["chip"]["device"]["model"] == "constant-step");
  auto bad = physlearn("run experiments/xor.json --set 'chip={\"device\":{\"model\":\"memristor9\"}}'", dir);
  CHECK(bad.status != 0);
  CHECK(bad.err.find("chip.device.model") != std::string::npos);
  // Without a chip section no chip is written.
  REQUIRE(physlearn("run experiments/xor.json --quiet --set learning.epochs=2 --out '" + (dir / "c").string() + "'", dir).status == 0);
  CHECK_FALSE(fs::exists(dir / "c/chip.json"));
}

TEST_CASE("a trained network is saved and restarts a run exactly, a mismatched file is refused") {
  auto dir = scratch("initial_network");
  REQUIRE(physlearn("run experiments/xor.json --quiet --set learning.epochs=40 --out '" + (dir / "a").string() + "'", dir).status == 0);
  REQUIRE(fs::exists(dir / "a/network.json"));
  const std::string from = " --set 'initial_network=\"" + (dir / "a/network.json").string() + "\"'";
  auto r = physlearn("run experiments/xor.json --quiet --set learning.epochs=0 --out '" + (dir / "b").string() + "'" + from, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json a = json::parse(slurp((dir / "a/results.json").string()));
  const json b = json::parse(slurp((dir / "b/results.json").string()));
  CHECK(a["final"]["test_loss"] == b["final"]["test_loss"]);  // same conductances, bit for bit
  CHECK(slurp((dir / "a/network.json").string()) == slurp((dir / "b/network.json").string()));
  auto bad = physlearn("run experiments/xor.json --quiet --set 'network.hidden=[6]'" + from, dir);
  CHECK(bad.status != 0);
  CHECK(bad.err.find("network.json") != std::string::npos);
  CHECK(bad.err.find("sizes") != std::string::npos);
}

TEST_CASE("transfer: chip A to chip B, fine-tuning and ex-situ, in one table") {
  auto dir = scratch("transfer");
  const std::string chip =
      " --set 'chip={\"seed\":1,\"device\":{\"model\":\"soft-bounds\",\"dg\":2e-6,\"g_max\":1e-4},"
      "\"variability\":{\"d2d_sigma\":0.3,\"stuck_min_rate\":0.1},\"g_unit\":1e-4}'"
      " --set 'transfer={\"target_chip_seed\":7,\"fine_tune_epochs\":5}' --set learning.epochs=30";
  auto r = physlearn("transfer experiments/xor.json --quiet --out '" + (dir / "t").string() + "'" + chip, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json t = json::parse(slurp((dir / "t/transfer.json").string()));
  REQUIRE(t["steps"].size() == 6);
  std::vector<std::string> names;
  for (const auto& s : t["steps"]) names.push_back(s["step"]);
  CHECK(names == std::vector<std::string>{"chip-a", "chip-b", "chip-b-tuned", "software", "ex-situ",
                                          "ex-situ-tuned"});
  CHECK(t["steps"][1]["chip_seed"] == 7);
  CHECK(t["steps"][1]["epochs"] == 0);
  CHECK(t["steps"][2]["epochs"] == 5);
  // Chip B holds what its own devices made of A's network: not A's conductances.
  CHECK(slurp((dir / "t/chip-a/network.json").string()) != slurp((dir / "t/chip-b/network.json").string()));
  const std::string csv = slurp((dir / "t/transfer.csv").string());
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 7);
  CHECK(r.out.find("ex-situ-tuned") != std::string::npos);
  auto no_chip = physlearn("transfer experiments/xor.json --quiet", dir);
  CHECK(no_chip.status != 0);
  CHECK(no_chip.err.find("chip") != std::string::npos);
}

TEST_CASE("transfer on a crossbar: in situ with wires, software, ex-situ, in one table") {
  auto dir = scratch("transfer_crossbar");
  const std::string crossbar =
      " --set 'crossbar={\"wire_resistance\":20,\"g_unit\":1e-3}' --set solver.type=newton"
      " --set solver.sweeps=null"
      " --set 'transfer={\"fine_tune_epochs\":3}' --set learning.epochs=20";
  auto r = physlearn("transfer experiments/xor.json --quiet --out '" + (dir / "t").string() + "'" + crossbar, dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const json t = json::parse(slurp((dir / "t/transfer.json").string()));
  REQUIRE(t["steps"].size() == 4);
  CHECK(t["steps"][0]["step"] == "in-situ");
  CHECK(t["steps"][2]["step"] == "ex-situ");
  CHECK(t["steps"][2]["chip_seed"].is_null());
  const json software = json::parse(slurp((dir / "t/software/config.resolved.json").string()));
  CHECK_FALSE(software.contains("crossbar"));
  CHECK(software["solver"]["type"] == "layered");
  CHECK(software["solver"]["sweeps"] == 4);  // the layered type's defaults
  CHECK(software["solver"]["precision"] == "auto");
  const json ex_situ = json::parse(slurp((dir / "t/ex-situ/config.resolved.json").string()));
  CHECK(ex_situ["crossbar"]["wire_resistance"] == 20.0);
}
