#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "devices/chip.h"
#include "devices_support.h"

using namespace physlearn;
using namespace physlearn::devices;
using devices_test::config_error_path;
using devices_test::parse;
using devices_test::rel;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "physlearn-devices-test";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::vector<Eigen::MatrixXd> random_weights(std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd(12, 9), Eigen::MatrixXd(9, 4)};
  for (auto& m : w) m = Eigen::MatrixXd::NullaryExpr(m.rows(), m.cols(), [&]() { return u(rng); });
  return w;
}

/// Changes for every layer, the same sequence for a given seed.
std::vector<Eigen::MatrixXd> random_changes(std::mt19937_64& rng,
                                            const std::vector<Eigen::MatrixXd>& like, double size) {
  std::uniform_real_distribution<double> u(-size, size);
  std::vector<Eigen::MatrixXd> out;
  for (const auto& m : like)
    out.push_back(Eigen::MatrixXd::NullaryExpr(m.rows(), m.cols(), [&]() { return u(rng); }));
  return out;
}

/// Everything noisy at once.
ChipParams noisy() {
  return parse(R"({
    "seed": 7,
    "device": {"model": "soft-bounds", "dg": 2e-6, "up_down": 0.05},
    "variability": {"d2d_sigma": 0.2, "d2d_distribution": "lognormal", "c2c_sigma": 0.1,
                    "c2c_sigma_range": 0.01, "read_sigma": 0.02, "read_sigma_range": 0.005,
                    "stuck_min_rate": 0.05, "stuck_max_rate": 0.05, "drift_nu": 0.05,
                    "drift_t0": 10, "endurance": 400},
    "g_unit": 1e-4, "pulse_voltage": 1.5, "pulse_width": 1e-7})");
}

void train(Chip& chip, std::vector<Eigen::MatrixXd>& w, std::uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  for (int s = 0; s < steps; ++s) {
    const auto changes = random_changes(rng, w, 0.2);
    for (int l = 0; l < chip.num_layers(); ++l)
      chip.program(l, w[static_cast<std::size_t>(l)], changes[static_cast<std::size_t>(l)]);
    if (s % 3 == 2) chip.drift(60.0);
  }
}

}  // namespace

TEST_CASE("the chip section reads, writes back and documents itself") {
  const ChipParams p = noisy();
  CHECK(p.device.model == "soft-bounds");
  CHECK(p.device.soft_bounds.dg == 2e-6);
  CHECK(p.variability.endurance == 400);
  ChipParams copy = p;
  Schema s;
  describe(s, copy);
  const json written = s.write();
  CHECK(written["device"]["model"] == "soft-bounds");
  CHECK_FALSE(written["device"].contains("gamma"));  // only the chosen model's keys
  CHECK(parse(written.dump()).variability.drift_t0 == 10);
  std::ostringstream doc;
  s.document(doc, "chip");
  CHECK(doc.str().find("chip.device.model") != std::string::npos);
  CHECK(doc.str().find("chip.variability.drift_nu") != std::string::npos);
  CHECK(doc.str().find("(chip.device.model = \"neurosim\")") != std::string::npos);
}

TEST_CASE("configuration errors name their key") {
  CHECK(config_error_path([] { parse(R"({"device": {"model": "constant-step", "foo": 1}})"); }) ==
        "chip.device.foo");
  CHECK(config_error_path([] { parse(R"({"device": {"model": "memristor"}})"); }) ==
        "chip.device.model");
  CHECK(config_error_path([] { parse(R"({"device": {"model": "neurosim", "nl_ltp": 12}})"); }) ==
        "chip.device.nl_ltp");
  CHECK(config_error_path([] { parse(R"({"device": {"model": "constant-step", "dg": 0}})"); }) ==
        "chip.device.dg");
  CHECK(config_error_path([] { parse(R"({"variability": {"stuck_min_rate": 1.5}})"); }) ==
        "chip.variability.stuck_min_rate");
  CHECK(config_error_path([] { parse(R"({"variability": {"levels": 1}})"); }) ==
        "chip.variability.levels");
  CHECK(config_error_path([] { parse(R"({"variability": {"d2d_distribution": "cauchy"}})"); }) ==
        "chip.variability.d2d_distribution");
  CHECK(config_error_path([] { parse(R"({"variability": {"d2d_sigmas": {"dg": -1}}})"); }) ==
        "chip.variability.d2d_sigmas.dg");
  CHECK(config_error_path([] { parse(R"({"g_unit": 0})"); }) == "chip.g_unit");
  CHECK(config_error_path([] { parse(R"({"colour": "blue"})"); }) == "chip.colour");
  const std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd::Zero(2, 2)};
  CHECK(config_error_path([&] {
          Chip c(parse(R"({"device": {"model": "constant-step", "g_min": 2e-4, "g_max": 1e-4}})"),
                 w);
        }) == "chip.device.g_max");
  CHECK(config_error_path([&] {
          Chip c(parse(R"({"variability": {"stuck_min_rate": 0.6, "stuck_max_rate": 0.6}})"), w);
        }) == "chip.variability.stuck_max_rate");
  CHECK(
      config_error_path([&] {
        Chip c(
            parse(
                R"({"device": {"model": "exp-step"},
                    "variability": {"d2d_sigmas": {"gamma": 0.1}}})"),
            w);
      }) == "chip.variability.d2d_sigmas.gamma");
  // A chip made in code is held to the same rules.
  ChipParams bad;
  bad.g_unit = -1.0;
  CHECK(config_error_path([&] { Chip c(bad, w); }) == "chip.g_unit");
  bad = ChipParams();
  bad.variability.c2c_sigma = -0.1;
  CHECK(config_error_path([&] { Chip c(bad, w, "run.chip"); }) == "run.chip.variability.c2c_sigma");
}

TEST_CASE("a chip lays its devices on the weights, an ideal chip makes the exact change") {
  ChipParams p;  // ideal, [0, 100 uS], 100 uS per unit
  const std::vector<Eigen::MatrixXd> w0 = {
      (Eigen::MatrixXd(2, 2) << 0.2, 1.5, -0.1, 0.7).finished()};
  Chip chip(p, w0);
  CHECK(chip.num_layers() == 1);
  CHECK(chip.num_devices() == 4);
  const Eigen::MatrixXd g = chip.conductances(0);
  CHECK(g(0, 0) == doctest::Approx(0.2));
  CHECK(g(0, 1) == doctest::Approx(1.0));  // clipped to g_max
  CHECK(g(1, 0) == 0.0);
  // The ideal device: one write makes the exact change, clipped to [g_min, g_max].
  CHECK(chip.model().name() == "ideal");
  Eigen::MatrixXd a = g;
  const Eigen::MatrixXd change = (Eigen::MatrixXd(2, 2) << 0.1, 0.3, -0.2, 0.25).finished();
  const auto stats = chip.program(0, a, change);
  const Eigen::MatrixXd b = (g + change).cwiseMax(0.0).cwiseMin(1.0);
  CHECK((a - b).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(stats.pulses == 4);
  // Shape mismatches are errors.
  Eigen::MatrixXd wrong(3, 2);
  CHECK(error_of([&] {
          chip.program(0, wrong, Eigen::MatrixXd::Zero(3, 2));
        }).find("chip layer 0 is 2x2") == 0);
  CHECK_THROWS_AS(chip.conductances(1), Error);
  Eigen::MatrixXd nan_change = Eigen::MatrixXd::Zero(2, 2);
  nan_change(1, 1) = std::nan("");
  CHECK(error_of([&] { chip.program(0, a, nan_change); }).find("is not finite") !=
        std::string::npos);
}

TEST_CASE("same seed, same chip and same trajectory, another seed, another chip") {
  const auto w0 = random_weights(1, 0.0, 1.0);
  auto wa = w0, wb = w0, wc = w0;
  Chip a(noisy(), w0), b(noisy(), w0);
  ChipParams other = noisy();
  other.seed = 8;
  Chip c(other, w0);
  CHECK(a.to_json() == b.to_json());
  CHECK((a.parameter(0, "dg").array() != c.parameter(0, "dg").array()).any());
  train(a, wa, 5, 10);
  train(b, wb, 5, 10);
  train(c, wc, 5, 10);
  CHECK(a.to_json() == b.to_json());
  for (std::size_t l = 0; l < w0.size(); ++l) {
    CHECK((wa[l].array() == wb[l].array()).all());
    CHECK((wa[l].array() != wc[l].array()).any());
  }
  CHECK((a.read(0).array() == b.read(0).array()).all());
  CHECK(a.totals().pulses == b.totals().pulses);
  CHECK(a.totals().pulses > 0);
}

TEST_CASE("stuck devices: about the configured fractions, and they never move") {
  ChipParams p = parse(R"({"seed": 3, "device": {"model": "constant-step", "dg": 1e-6},
                           "variability": {"stuck_min_rate": 0.1, "stuck_max_rate": 0.05}})");
  std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd::Constant(200, 100, 0.5)};
  Chip chip(p, w);
  const double n = 20000.0;
  CHECK(chip.count(DeviceStatus::stuck_min) / n == rel(0.1, 0.15));
  CHECK(chip.count(DeviceStatus::stuck_max) / n == rel(0.05, 0.2));
  const Eigen::MatrixXd before = chip.conductances(0);
  std::mt19937_64 rng(11);
  for (int s = 0; s < 20; ++s) chip.program(0, w[0], random_changes(rng, w, 0.1)[0]);
  const Eigen::MatrixXd after = chip.conductances(0);
  bool stuck_still = true, free_moved = false;
  for (Eigen::Index c = 0; c < after.cols(); ++c)
    for (Eigen::Index r = 0; r < after.rows(); ++r) {
      const DeviceStatus s = chip.status(0, r, c);
      if (s == DeviceStatus::stuck_min) stuck_still = stuck_still && after(r, c) == 0.0;
      if (s == DeviceStatus::stuck_max) stuck_still = stuck_still && after(r, c) == 1.0;
      if (s == DeviceStatus::ok) free_moved = free_moved || after(r, c) != before(r, c);
    }
  CHECK(stuck_still);
  CHECK(free_moved);
}

TEST_CASE("finite levels: every programmed conductance sits on one of N levels") {
  ChipParams p = parse(R"({"device": {"model": "constant-step", "dg": 1e-6},
                           "variability": {"levels": 5, "c2c_sigma": 0.3}})");
  auto w = random_weights(2, 0.0, 1.0);
  Chip chip(p, w);
  auto on_grid = [](const Eigen::MatrixXd& g) {
    return ((g * 4.0).array() - (g * 4.0).array().round()).abs().maxCoeff() < 1e-12;
  };
  CHECK(on_grid(chip.conductances(0)));
  std::mt19937_64 rng(4);
  for (int s = 0; s < 5; ++s) {
    const auto changes = random_changes(rng, w, 0.3);
    chip.program(0, w[0], changes[0]);
    chip.program(1, w[1], changes[1]);
  }
  CHECK(on_grid(w[0]));
  CHECK(on_grid(w[1]));
  // From 0.25 (25 uS), 30 pulses of 1 uS reach 55 uS, which rounds to the 50 uS level.
  std::vector<Eigen::MatrixXd> one = {Eigen::MatrixXd::Constant(1, 1, 0.25)};
  ChipParams q = p;
  q.variability.c2c_sigma = 0.0;
  Chip single(q, one);
  single.program(0, one[0], Eigen::MatrixXd::Constant(1, 1, 0.30));
  CHECK(one[0](0, 0) == doctest::Approx(0.5));
}

TEST_CASE("finite levels with stochastic rounding: updates below a level count on average") {
  // 5 levels, 25 uS apart. From the 25 uS level, 5 pulses of 1 uS reach 30 uS: nearest rounding
  // takes every device back to 25 uS (the update is lost); stochastic rounding takes a device up
  // to 50 uS with probability 0.2, so the mean is 30 uS.
  ChipParams p = parse(R"({"device": {"model": "constant-step", "dg": 1e-6},
                           "variability": {"levels": 5, "level_rounding": "stochastic"}})");
  const int n = 4000;
  auto program = [&](const ChipParams& params) {
    std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd::Constant(1, n, 0.25)};
    Chip chip(params, w);
    chip.program(0, w[0], Eigen::MatrixXd::Constant(1, n, 0.05));
    return Eigen::MatrixXd(w[0]);
  };
  const Eigen::MatrixXd g = program(p);
  const long up = (g.array() == 0.5).count();
  CHECK(up + (g.array() == 0.25).count() == n);  // every device on one of the two levels
  const double sd = std::sqrt(0.2 * 0.8 / n);
  CHECK(std::abs(static_cast<double>(up) / n - 0.2) < 4.0 * sd);
  CHECK(std::abs(g.mean() - 0.30) < 4.0 * 0.25 * sd);
  CHECK(program(p) == g);  // the same chip seed, the same draws
  ChipParams nearest = p;
  nearest.variability.level_rounding = "nearest";
  CHECK((program(nearest).array() == 0.25).all());
  CHECK(config_error_path([] {
          parse(R"({"variability": {"levels": 4, "level_rounding": "up"}})");
        }) == "chip.variability.level_rounding");
}

TEST_CASE("retention drift: G = G0 (t / t0)^-nu since the last programming") {
  ChipParams p = parse(R"({"device": {"model": "constant-step", "dg": 1e-6},
                           "variability": {"drift_nu": 0.1, "drift_t0": 2}})");
  std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd::Constant(1, 2, 0.5)};
  Chip chip(p, w);
  chip.drift(1.5);  // before t0: no change
  CHECK(chip.conductances(0)(0, 0) == 0.5);
  chip.program(0, w[0], (Eigen::MatrixXd(1, 2) << 0.0, 0.1).finished());  // device 1 -> 0.6
  chip.drift(100.0);
  Eigen::MatrixXd g = chip.conductances(0);
  CHECK(g(0, 0) == doctest::Approx(0.5 * std::pow(101.5 / 2.0, -0.1)).epsilon(1e-12));
  CHECK(g(0, 1) == doctest::Approx(0.6 * std::pow(100.0 / 2.0, -0.1)).epsilon(1e-12));
  chip.drift(900.0);
  g = chip.conductances(0);
  CHECK(g(0, 1) == doctest::Approx(0.6 * std::pow(1000.0 / 2.0, -0.1)).epsilon(1e-12));
  CHECK(chip.time() == 1001.5);
  // Programming restarts the clock from the drifted conductance.
  const double drifted = g(0, 1);
  chip.program(0, w[0], (Eigen::MatrixXd(1, 2) << 0.0, 0.05).finished());
  chip.drift(10.0);
  CHECK(chip.conductances(0)(0, 1) ==
        doctest::Approx((drifted + 0.05) * std::pow(10.0 / 2.0, -0.1)).epsilon(1e-9));
  CHECK_THROWS_AS(chip.drift(-1.0), Error);
}

TEST_CASE("endurance: a device sticks after its pulses are used up") {
  ChipParams p = parse(R"({"device": {"model": "constant-step", "dg": 1e-6},
                           "variability": {"endurance": 10}})");
  std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd::Constant(1, 1, 0.2)};
  Chip chip(p, w);
  const Eigen::MatrixXd one_pulse = Eigen::MatrixXd::Constant(1, 1, 0.01);
  for (int k = 0; k < 9; ++k) chip.program(0, w[0], one_pulse);
  CHECK(chip.status(0, 0, 0) == DeviceStatus::ok);
  chip.program(0, w[0], one_pulse);
  CHECK(chip.status(0, 0, 0) == DeviceStatus::worn_out);
  CHECK(w[0](0, 0) == doctest::Approx(0.30));
  chip.program(0, w[0], Eigen::MatrixXd::Constant(1, 1, 0.05));
  chip.program(0, w[0], -one_pulse);
  CHECK(w[0](0, 0) == doctest::Approx(0.30));
  CHECK(chip.lifetime_pulses(0, 0, 0) == 16);
  CHECK(chip.count(DeviceStatus::worn_out) == 1);
}

TEST_CASE("read noise has the configured spread and leaves the state alone") {
  ChipParams p = parse(R"({"seed": 5, "variability": {"read_sigma": 0.05}})");
  std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd::Constant(100, 100, 0.5)};
  Chip chip(p, w);
  const Eigen::MatrixXd first = chip.read(0);
  const Eigen::MatrixXd second = chip.read(0);
  const Eigen::ArrayXd relative = (first.array() / 0.5 - 1.0).reshaped();
  const double mean = relative.mean();
  const double sd = std::sqrt((relative - mean).square().mean());
  CHECK(mean == doctest::Approx(0.0).epsilon(0.002).scale(1.0));
  CHECK(sd == rel(0.05, 0.04));
  CHECK((first.array() != second.array()).all());  // redrawn on every read
  CHECK((chip.conductances(0).array() == 0.5).all());
  // Additive read noise in units of the range: sd 0.01 (g_max - g_min) = 0.01 network units.
  ChipParams q = parse(R"({"seed": 5, "variability": {"read_sigma_range": 0.01}})");
  Chip chip2(q, w);
  const Eigen::ArrayXd d = (chip2.read(0).array() - 0.5).reshaped();
  CHECK(std::sqrt(d.square().mean()) == rel(0.01, 0.04));
  // Without read noise a read is the state.
  Chip quiet(ChipParams(), w);
  CHECK((quiet.read(0).array() == 0.5).all());
}

TEST_CASE("device-to-device spread and cycle-to-cycle noise have the configured size") {
  std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd::Constant(100, 100, 0.5)};
  SUBCASE("lognormal spread of one parameter") {
    ChipParams p = parse(R"({"device": {"model": "constant-step", "dg": 1e-6},
                             "variability": {"d2d_sigmas": {"dg": 0.3},
                                             "d2d_distribution": "lognormal"}})");
    Chip chip(p, w);
    const Eigen::ArrayXd logs = (chip.parameter(0, "dg").array() / 1e-6).log().reshaped();
    const double mean = logs.mean();
    CHECK(mean == doctest::Approx(0.0).epsilon(0.01).scale(1.0));
    CHECK(std::sqrt((logs - mean).square().mean()) == rel(0.3, 0.04));
    CHECK((chip.parameter(0, "g_max").array() == 1e-4).all());  // no spread where none is asked
  }
  SUBCASE("normal spread keeps steps and bounds non-negative") {
    ChipParams p = parse(R"({"device": {"model": "constant-step", "dg": 1e-6},
                             "variability": {"d2d_sigma": 1.5}})");
    Chip chip(p, w);
    CHECK(chip.parameter(0, "dg").minCoeff() == 0.0);
    CHECK((chip.parameter(0, "g_max").array() > chip.parameter(0, "g_min").array()).all());
  }
  SUBCASE("multiplicative cycle-to-cycle noise of each pulse") {
    ChipParams p = parse(R"({"device": {"model": "constant-step", "dg": 1e-6},
                             "variability": {"c2c_sigma": 0.2}})");
    Chip chip(p, w);
    Eigen::MatrixXd g = w[0];
    chip.program(0, g, Eigen::MatrixXd::Constant(100, 100, 0.01));  // one pulse each
    const Eigen::ArrayXd steps = ((g.array() - 0.5) / 0.01).reshaped();
    const double mean = steps.mean();
    CHECK(mean == rel(1.0, 0.01));
    CHECK(std::sqrt((steps - mean).square().mean()) == rel(0.2, 0.04));
  }
}

TEST_CASE("programming energy: V^2 (G_before + G_after)/2 t_w per pulse") {
  ChipParams p = parse(R"({"device": {"model": "constant-step", "dg": 1e-6},
                           "pulse_voltage": 2.0, "pulse_width": 1e-6})");
  std::vector<Eigen::MatrixXd> w = {Eigen::MatrixXd::Constant(1, 1, 0.5)};
  Chip chip(p, w);
  const ProgramStats s = chip.program(0, w[0], Eigen::MatrixXd::Constant(1, 1, 0.03));
  CHECK(s.pulses == 3);
  CHECK(s.devices_pulsed == 1);
  CHECK(s.energy == rel(4.0 * 1e-6 * (50.5e-6 + 51.5e-6 + 52.5e-6), 1e-12));
}

TEST_CASE("save and load: the loaded chip continues bit for bit") {
  const auto w0 = random_weights(9, 0.0, 1.0);
  auto w = w0;
  Chip chip(noisy(), w0);
  train(chip, w, 21, 6);
  chip.read(0);
  const std::string file = temp_path("chip.json");
  chip.save(file);
  Chip loaded = Chip::load(file);
  CHECK(loaded.to_json() == chip.to_json());
  CHECK(loaded.summary() == chip.summary());
  auto w_loaded = w;
  train(chip, w, 33, 6);
  train(loaded, w_loaded, 33, 6);
  for (std::size_t l = 0; l < w.size(); ++l) CHECK((w[l].array() == w_loaded[l].array()).all());
  CHECK((chip.read(1).array() == loaded.read(1).array()).all());
  CHECK(loaded.to_json() == chip.to_json());
  CHECK(chip.count(DeviceStatus::stuck_min) > 0);

  SUBCASE("a piecewise chip carries its table") {
    const std::string csv = temp_path("carried.csv");
    std::ofstream(csv) << "pulse,g_potentiation,g_depression\n0,1e-6,9e-6\n4,9e-6,1e-6\n";
    ChipParams p;
    p.device.model = "piecewise";
    p.device.piecewise.file = csv;
    p.g_unit = 1e-6;
    std::vector<Eigen::MatrixXd> v = {Eigen::MatrixXd::Constant(2, 2, 3.0)};
    Chip pw(p, v);
    pw.save(file);
    std::filesystem::remove(csv);
    Chip back = Chip::load(file);
    auto v2 = v;
    pw.program(0, v[0], Eigen::MatrixXd::Constant(2, 2, 2.0));
    back.program(0, v2[0], Eigen::MatrixXd::Constant(2, 2, 2.0));
    CHECK((v[0].array() == v2[0].array()).all());
    CHECK(v[0](0, 0) == doctest::Approx(5.0));
  }
}

TEST_CASE("loading a file of another format or version is a clear error") {
  const std::string file = temp_path("not-a-chip.json");
  std::ofstream(file) << R"({"format": "something-else"})";
  CHECK(error_of([&] { Chip::load(file); }) ==
        file + ": not a physlearn chip file (\"format\" must be \"physlearn-chip\")");
  std::ofstream(file) << R"({"format": "physlearn-chip", "version": 99})";
  CHECK(error_of([&] { Chip::load(file); }) ==
        file + ": chip file version 99; this build reads version 1");
  Chip chip(ChipParams(), {Eigen::MatrixXd::Zero(2, 2)});
  json j = chip.to_json();
  j["layers"][0]["g"] = "AAAA";
  std::ofstream(file) << j.dump();
  CHECK(error_of([&] { Chip::load(file); }).find("layers[0].g: holds 0 values, expected 4") !=
        std::string::npos);
  CHECK(error_of([] { Chip::load("/nonexistent/chip.json"); }) ==
        "/nonexistent/chip.json: cannot open file");
}
