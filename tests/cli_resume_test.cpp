// `physlearn resume` (cli/resume.h) and checkpoints end to end: a run killed with SIGKILL at an
// arbitrary point and resumed ends with the same results.json as a run never interrupted (apart
// from its timings), and a damaged or mismatched checkpoint is refused with the reason.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "cli_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using cli_test::physlearn;
using cli_test::slurp;
using cli_test::without_timings;

fs::path scratch(const std::string& name) { return cli_test::scratch("checkpoint_" + name); }


/// history.csv without its last column (wall_seconds).
std::string history_without_timings(const fs::path& file) {
  std::stringstream in(slurp(file)), out;
  std::string line;
  while (std::getline(in, line)) out << line.substr(0, line.rfind(',')) << "\n";
  return out.str();
}

bool complete(const fs::path& dir) {
  if (!fs::exists(dir / "results.json")) return false;
  return json::parse(slurp(dir / "results.json")).value("complete", false);
}

/// Two moons (1000 samples, 250 mini-batches an epoch) on a chip with every random stream in use
/// (device-to-device, cycle-to-cycle and read noise, stochastic rounding, drift), momentum and a
/// decaying learning rate: about a second, long enough to be killed in the middle.
const std::string kNoisyChip =
    "run experiments/xor.json --set data.type=two-moons --set data.samples=1000"
    " --set learning.epochs=60 --set learning.lr_decay=0.99"
    " --set 'chip={\"seed\":3,\"device\":{\"model\":\"soft-bounds\",\"dg\":1e-6,\"g_min\":1e-6,"
    "\"g_max\":1e-4},\"variability\":{\"d2d_sigma\":0.2,\"c2c_sigma\":0.3,\"read_sigma\":0.01,"
    "\"drift_nu\":0.02},\"g_unit\":1e-4}' --set controller.rounding=stochastic"
    " --set controller.drift_seconds=1";

/// The digital baseline on the same data, larger so that it too runs for about a second.
const std::string kBackprop =
    "run experiments/xor.json --set data.type=two-moons --set data.samples=20000"
    " --set learning.epochs=60 --set learning.lr_decay=0.99 --set learning.rule=backprop";

/// The default training path (EP on the layered solver, no chip: the fused float32 model).
const std::string kFused =
    "run experiments/xor.json --set data.type=two-moons --set data.samples=5000"
    " --set learning.epochs=60 --set learning.lr_decay=0.99 --set learning.momentum=0.5";

/// Starts a run with checkpoints every 3 epochs, waits for its first checkpoint, lets it go on
/// for `delay_ms` and kills it (SIGKILL). Returns false if it finished before the kill.
bool interrupted_run(const std::string& arguments, const fs::path& out, int delay_ms) {
  const pid_t pid = cli_test::physlearn_background(
      arguments + " --quiet --checkpoint-every 3 --out '" + out.string() + "'",
      out.parent_path() / "bg");
  const auto start = std::chrono::steady_clock::now();
  while (!fs::exists(out / "checkpoint.json") &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  kill(-pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return !complete(out);
}

}  // namespace

TEST_CASE("a run killed with SIGKILL and resumed ends with the results of an uninterrupted run") {
  auto dir = scratch("resume");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"chip", kNoisyChip}, {"backprop", kBackprop}, {"fused", kFused}};
  int delay = 23;
  for (const auto& [name, arguments] : cases) {
    CAPTURE(name);
    const fs::path reference = dir / (name + "-reference"), resumed = dir / (name + "-resumed");
    auto r = physlearn(arguments + " --quiet --out '" + reference.string() + "'", dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    REQUIRE_MESSAGE(interrupted_run(arguments, resumed, delay),
                    "the run finished before it was killed");
    delay += 31;
    REQUIRE(fs::exists(resumed / "checkpoint.json"));
    const json partial = json::parse(slurp(resumed / "results.json"));
    MESSAGE(name << ": killed after epoch " << partial["epochs"].size());
    auto again = physlearn("resume '" + resumed.string() + "' --quiet", dir);
    REQUIRE_MESSAGE(again.status == 0, again.err);
    CHECK(again.out.find("results in") != std::string::npos);
    const json a = json::parse(slurp(reference / "results.json"));
    const json b = json::parse(slurp(resumed / "results.json"));
    CHECK(b["complete"] == true);
    CHECK(without_timings(a).dump() == without_timings(b).dump());
    CHECK(history_without_timings(reference / "history.csv") ==
          history_without_timings(resumed / "history.csv"));
    CHECK(slurp(reference / "config.resolved.json") == slurp(resumed / "config.resolved.json"));
    if (name == "chip") {
      CHECK(slurp(reference / "chip.json") == slurp(resumed / "chip.json"));
      CHECK(slurp(reference / "conductances_end.csv") == slurp(resumed / "conductances_end.csv"));
    }
    CHECK_FALSE(fs::exists(resumed / "checkpoint.json"));  // a finished run removes its checkpoint
    auto finished = physlearn("resume '" + resumed.string() + "'", dir);
    CHECK(finished.status == 0);
    CHECK(finished.err.find("the run is complete") != std::string::npos);
  }
}

TEST_CASE(
    "a truncated, damaged, other-version or mismatched checkpoint is refused with the reason") {
  auto dir = scratch("refuse");
  const fs::path run = dir / "run";
  REQUIRE(interrupted_run(kNoisyChip, run, 0));
  const std::string checkpoint = slurp(run / "checkpoint.json");
  const json value = json::parse(checkpoint);
  CHECK(value["format"] == "physlearn-checkpoint");
  CHECK(value["config_hash"].get<std::string>().rfind("fnv1a64:", 0) == 0);
  CHECK(value["model"]["weights"][0]["data"].is_string());  // base64

  auto attempt = [&](const std::string& name, const std::function<void(const fs::path&)>& damage) {
    const fs::path copy = dir / name;
    fs::copy(run, copy, fs::copy_options::recursive);
    damage(copy);
    const std::string before = slurp(copy / "results.json");
    auto r = physlearn("resume '" + copy.string() + "' --quiet", dir);
    CHECK(r.status != 0);
    CHECK(slurp(copy / "results.json") == before);  // nothing touched
    return r.err;
  };
  auto write = [](const fs::path& file, const std::string& text) { std::ofstream(file) << text; };
  CHECK(attempt("truncated", [&](const fs::path& d) {
          write(d / "checkpoint.json", checkpoint.substr(0, checkpoint.size() / 2));
        }).find("checkpoint.json: truncated or malformed") != std::string::npos);
  CHECK(attempt("version", [&](const fs::path& d) {
          json v = value;
          v["version"] = 99;
          write(d / "checkpoint.json", v.dump());
        }).find("checkpoint version 99; this build reads version 2") != std::string::npos);
  // Version 1 held the solver section as one flat list of prefixed keys (transient_*, ...).
  CHECK(value["version"] == 2);
  CHECK(attempt("version-1", [&](const fs::path& d) {
          json v = value;
          v["version"] = 1;
          write(d / "checkpoint.json", v.dump());
        }).find("checkpoint version 1; this build reads version 2") != std::string::npos);
  CHECK(attempt("edited", [&](const fs::path& d) {
          json v = value;
          v["config"]["learning"]["beta"] = 0.3;
          write(d / "checkpoint.json", v.dump());
        }).find("does not match its hash") != std::string::npos);
  CHECK(attempt("other-config", [&](const fs::path& d) {
          json c = json::parse(slurp(d / "config.resolved.json"));
          c["learning"]["epochs"] = 10;
          write(d / "config.resolved.json", c.dump());
        }).find("the checkpoint is of another configuration") != std::string::npos);
  CHECK(attempt("shape", [&](const fs::path& d) {
          json v = value;
          v["model"]["weights"][0]["data"] = "AAAA";
          write(d / "checkpoint.json", v.dump());
        }).find("model.weights[0]") != std::string::npos);
  CHECK(attempt("missing", [&](const fs::path& d) {
          fs::remove(d / "checkpoint.json");
        }).find("no checkpoint") != std::string::npos);
}
