#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "devices/chip.h"
#include "devices/models.h"

using namespace physlearn;
using namespace physlearn::devices;

namespace {

/// A one-device chip with no variability: its state is the model's trajectory.
struct OneDevice {
  Chip chip;
  OneDevice(const ChipParams& params, double g_siemens)
      : chip(params, {Eigen::MatrixXd::Constant(1, 1, g_siemens / params.g_unit)}) {}
  /// Asks for a change of dg siemens; returns the signed pulse count.
  int change(double dg) {
    Eigen::MatrixXd g(1, 1);
    Eigen::MatrixXi pulses;
    chip.program(0, g, Eigen::MatrixXd::Constant(1, 1, dg / chip.params().g_unit), &pulses);
    return pulses(0, 0);
  }
  double g() const { return chip.conductances(0)(0, 0) * chip.params().g_unit; }
};

/// Relative comparison (doctest's Approx defaults to an absolute scale of 1, which would hide
/// any error in microsiemens): |a - b| < 1e-9 (1e-6 + max(|a|, |b|)) unless a tolerance is given.
doctest::Approx near(double value, double epsilon = 1e-9) {
  return doctest::Approx(value).epsilon(epsilon).scale(1e-6);
}

ChipParams with_model(const std::string& model) {
  ChipParams p;
  p.device.model = model;
  p.g_unit = 1e-6;
  return p;
}

std::string temp_file(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "physlearn-devices-test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("constant-step: n pulses move the conductance by n dg, asymmetric by up_down") {
  ChipParams p = with_model("constant-step");
  p.device.constant_step.dg = 1e-6;
  p.device.constant_step.up_down = 0.2;
  OneDevice d(p, 50e-6);
  CHECK(d.change(7e-6) == 7);
  CHECK(d.g() == near(50e-6 + 7 * 1.2e-6, 1e-12));
  CHECK(d.change(-3.4e-6) == -3);  // round(3.4) = 3 pulses of dg (1 - beta)
  CHECK(d.g() == near(50e-6 + 7 * 1.2e-6 - 3 * 0.8e-6, 1e-12));
  CHECK(d.change(0.49e-6) == 0);  // below half a step: no pulse
  CHECK(d.change(2.5e-6) == 3);   // halves round up
}

TEST_CASE("max_pulses caps the pulses of one update") {
  ChipParams p = with_model("constant-step");
  p.device.constant_step.max_pulses = 5;
  OneDevice d(p, 10e-6);
  Eigen::MatrixXd g(1, 1);
  const ProgramStats s = d.chip.program(0, g, Eigen::MatrixXd::Constant(1, 1, 40.0));
  CHECK(s.pulses == 5);
  CHECK(s.capped == 1);
  CHECK(d.g() == near(15e-6, 1e-12));
}

TEST_CASE("soft-bounds: the step shrinks linearly to 0 at the bound it approaches") {
  SoftBoundsParams sp;
  sp.g_min = 10e-6;
  sp.g_max = 110e-6;
  sp.dg = 1e-6;
  DeviceParams dp;
  dp.model = "soft-bounds";
  dp.soft_bounds = sp;
  const auto model = make_model(dp, "chip.device");
  const auto p = model->nominal_parameters();
  for (double x : {0.0, 0.1, 0.25, 0.5, 0.9, 0.999, 1.0}) {
    const double g = sp.g_min + x * 100e-6;
    CHECK(model->step(p.data(), g, +1) == near(std::min(2e-6 * (1 - x), (1 - x) * 100e-6)));
    CHECK(model->step(p.data(), g, -1) == near(-std::min(2e-6 * x, x * 100e-6)));
  }
  CHECK(model->step(p.data(), sp.g_max, +1) == 0.0);
  CHECK(model->step(p.data(), sp.g_min, -1) == 0.0);
  CHECK(model->step(p.data(), 60e-6, +1) == near(1e-6));  // dg at the centre
}

TEST_CASE("linear-step, exp-step and pow-step steps follow their formulas") {
  const double g_min = 0.0, g_max = 100e-6, dg = 1e-6;
  auto x_of = [&](double g) { return (g - g_min) / (g_max - g_min); };
  SUBCASE("linear-step") {
    DeviceParams dp;
    dp.model = "linear-step";
    dp.linear_step.dg = dg;
    dp.linear_step.gamma_up = 0.5;
    dp.linear_step.gamma_down = 0.3;
    dp.linear_step.up_down = 0.1;
    const auto m = make_model(dp, "d");
    const auto p = m->nominal_parameters();
    for (double g : {5e-6, 30e-6, 50e-6, 80e-6}) {
      const double w = 2 * x_of(g) - 1;
      CHECK(m->step(p.data(), g, 1) == near(dg * 1.1 * (1 - 0.5 * w)));
      CHECK(m->step(p.data(), g, -1) == near(-dg * 0.9 * (1 + 0.3 * w)));
    }
  }
  SUBCASE("exp-step (aihwkit defaults)") {
    DeviceParams dp;
    dp.model = "exp-step";
    dp.exp_step.dg = dg;
    const ExpStepParams& e = dp.exp_step;
    const auto m = make_model(dp, "d");
    const auto p = m->nominal_parameters();
    for (double g : {1e-6, 20e-6, 50e-6, 70e-6, 99e-6}) {
      const double z = e.a * (2 * x_of(g) - 1) + e.b;
      const double up = std::max(0.0, 1 - e.a_up * std::exp(e.gamma_up * z));
      const double down = std::max(0.0, 1 - e.a_down * std::exp(-e.gamma_down * z));
      CHECK(m->step(p.data(), g, 1) == near(std::min(dg * up, g_max - g)));
      CHECK(m->step(p.data(), g, -1) == near(-std::min(dg * down, g - g_min)));
    }
  }
  SUBCASE("pow-step") {
    DeviceParams dp;
    dp.model = "pow-step";
    dp.pow_step.dg = dg;
    dp.pow_step.gamma = 2.0;
    dp.pow_step.gamma_up_down = 0.25;
    const auto m = make_model(dp, "d");
    const auto p = m->nominal_parameters();
    for (double g : {1e-6, 20e-6, 50e-6, 70e-6, 99e-6}) {
      const double omega = 1 - x_of(g);
      CHECK(m->step(p.data(), g, 1) == near(dg * std::pow(omega, 2.5)));
      CHECK(m->step(p.data(), g, -1) == near(-dg * std::pow(1 - omega, 1.5)));
    }
  }
}

TEST_CASE("NeuroSim: NL labels map to NeuroSim's tabulated A") {
  // Values of NeuroSim's getParamA table (formula.cpp) at labels 0.01, 1, 2.4, 4.88, 9.
  CHECK(neurosim_a_from_nl(0.01) == near(126.268958, 1e-5));
  CHECK(neurosim_a_from_nl(1.0) == near(1.251653, 1e-5));
  CHECK(neurosim_a_from_nl(2.4) == near(0.499181, 1e-5));
  CHECK(neurosim_a_from_nl(-4.88) == near(-0.200303, 1e-5));
  CHECK(neurosim_a_from_nl(9.0) == near(0.022810, 1e-4));
  for (double nl : {0.3, 2.4, -4.88, 7.5})
    CHECK(neurosim_nl_from_a(neurosim_a_from_nl(nl)) == near(nl, 1e-9));
  CHECK_THROWS_AS(neurosim_a_from_nl(12.0), Error);
}

TEST_CASE("NeuroSim: G(P) = B (1 - exp(-P/A)) + G_min and its inverse") {
  ChipParams p = with_model("neurosim");
  const NeuroSimParams& n = p.device.neurosim;
  const double a = neurosim_a_from_nl(n.nl_ltp) * n.levels_ltp;
  const double range = n.g_max - n.g_min;
  const double b = range / (1 - std::exp(-n.levels_ltp / a));
  NeuroSimCurve curve{n.g_min, n.g_max, a, static_cast<double>(n.levels_ltp)};
  for (double pp : {0.0, 1.0, 10.5, 50.0, 97.0}) {
    CHECK(curve.g(pp) == near(b * (1 - std::exp(-pp / a)) + n.g_min, 1e-12));
    CHECK(curve.p(curve.g(pp)) == near(pp, 1e-9));
  }
  CHECK(curve.g(97.0) == near(n.g_max, 1e-12));

  // A chip device from g_min, one pulse at a time, walks the LTP curve.
  OneDevice d(p, n.g_min);
  const double nominal = range / n.levels_ltp;
  for (int k = 1; k <= 20; ++k) {
    CHECK(d.change(nominal) == 1);
    CHECK(d.g() == near(b * (1 - std::exp(-k / a)) + n.g_min, 1e-9));
  }
  // Ten pulses at once: the controller counts round(dG / ((g_max - g_min) / levels_ltp)).
  CHECK(d.change(10.2 * nominal) == 10);
  CHECK(d.g() == near(b * (1 - std::exp(-30 / a)) + n.g_min, 1e-9));
  // LTD: back along the LTD curve (A < 0 for NL_LTD < 0), P -> P - 1.
  const double a_ltd = neurosim_a_from_nl(n.nl_ltd) * n.levels_ltd;
  NeuroSimCurve ltd{n.g_min, n.g_max, a_ltd, static_cast<double>(n.levels_ltd)};
  const double before = d.g();
  CHECK(d.change(-range / n.levels_ltd) == -1);
  CHECK(d.g() == near(ltd.g(ltd.p(before) - 1), 1e-9));
  CHECK(d.g() < before);
  // Saturation: many LTP pulses end at g_max, never above.
  for (int k = 0; k < 5; ++k) d.change(range);
  CHECK(d.g() == near(n.g_max));
  CHECK(d.g() <= n.g_max);
}

TEST_CASE("NeuroSim: a_ltp given directly, and NL 0 is linear") {
  ChipParams p = with_model("neurosim");
  p.device.neurosim.a_ltp = 0.5;
  p.device.neurosim.nl_ltd = 0.0;
  const auto m = make_model(p.device, "chip.device");
  CHECK(m->nominal_parameters()[2] == 0.5);
  CHECK(m->nominal_parameters()[3] == 0.0);
  const auto q = m->nominal_parameters();
  const double range = p.device.neurosim.g_max - p.device.neurosim.g_min;
  CHECK(m->step(q.data(), 50e-6, -1) == near(-range / 100));
  CHECK(m->step(q.data(), 70e-6, -1) == near(-range / 100));
}

TEST_CASE("piecewise: the measured curve is interpolated from a CSV") {
  const std::string csv = temp_file("pw.csv",
                                    "# measured device\n"
                                    "pulse,g_potentiation,g_depression\n"
                                    "0,1e-6,9e-6\n"
                                    "1,3e-6,6e-6\n"
                                    "2,4e-6,4e-6\n"
                                    "4,5e-6,2e-6\n"
                                    "5,,1e-6\n");
  ChipParams p = with_model("piecewise");
  p.device.piecewise.file = csv;
  OneDevice d(p, 1e-6);
  const auto& m = d.chip.model();
  CHECK(m.nominal_parameters()[0] == 1e-6);  // table range
  CHECK(m.nominal_parameters()[1] == 9e-6);
  CHECK(m.nominal_step(1) == near(1e-6));  // (5 - 1) uS over 4 pulses
  CHECK(m.nominal_step(-1) == near(1.6e-6));
  // Potentiation from the start of the curve: one row per pulse, then interpolated.
  CHECK(d.change(1e-6) == 1);
  CHECK(d.g() == near(3e-6));
  d.change(1e-6);
  CHECK(d.g() == near(4e-6));
  d.change(1e-6);  // pulse 3: between rows 2 and 4
  CHECK(d.g() == near(4.5e-6));
  d.change(1e-6);
  CHECK(d.g() == near(5e-6));
  d.change(1e-6);  // the end of the potentiation curve: saturated
  CHECK(d.g() == near(5e-6));
  // Depression from 5 uS: position 1.5 on the depression curve (between 6 and 4 uS at pulses
  // 1 and 2); the pulse moves to 2.5, between 4 and 2 uS at pulses 2 and 4: 3.5 uS.
  CHECK(d.change(-1.6e-6) == -1);
  CHECK(d.g() == near(3.5e-6));
  // A conductance between table points: 3.5 uS is pulse 1.5 of the potentiation curve.
  const auto q = m.nominal_parameters();
  CHECK(m.step(q.data(), 3.5e-6, 1) == near(4.25e-6 - 3.5e-6));
  SUBCASE("rescaled onto [g_min, g_max]") {
    ChipParams r = p;
    r.device.piecewise.rescale = true;
    r.device.piecewise.g_min = 0.0;
    r.device.piecewise.g_max = 80e-6;
    OneDevice e(r, 0.0);
    CHECK(e.change(10e-6) == 1);
    CHECK(e.g() == near(20e-6));  // (3 - 1) / (9 - 1) of 80 uS
  }
}

TEST_CASE("piecewise: a missing or corrupt CSV names the file and the line") {
  CHECK(error_of([] {
          load_piecewise_csv("/nonexistent/curve.csv");
        }).find("/nonexistent/curve.csv") != std::string::npos);
  const std::string bad_number =
      temp_file("bad1.csv", "pulse,g_potentiation,g_depression\n0,1e-6,2e-6\n1,abc,1e-6\n");
  CHECK(error_of([&] { load_piecewise_csv(bad_number); }) ==
        bad_number + ":3: g_potentiation \"abc\" is not a number");
  const std::string bad_header = temp_file("bad2.csv", "\n# c\npulse,g_up,g_down\n0,1,2\n");
  CHECK(error_of([&] { load_piecewise_csv(bad_header); }).rfind(bad_header + ":3: the header", 0) ==
        0);
  const std::string falling = temp_file(
      "bad3.csv", "pulse,g_potentiation,g_depression\n0,1e-6,2e-6\n1,2e-6,1e-6\n2,1.5e-6,0.5e-6\n");
  CHECK(error_of([&] { load_piecewise_csv(falling); }) ==
        falling + ":4: g_potentiation 1.5e-06 decreases (previous 2e-06)");
  const std::string cells = temp_file("bad4.csv", "pulse,g_potentiation,g_depression\n0,1e-6\n");
  CHECK(error_of([&] { load_piecewise_csv(cells); }) == cells + ":2: expected 3 cells, found 2");
  const std::string short_curve =
      temp_file("bad5.csv", "pulse,g_potentiation,g_depression\n0,1e-6,2e-6\n");
  CHECK(error_of([&] { load_piecewise_csv(short_curve); }).find("at least two points") !=
        std::string::npos);
  const std::string pulses =
      temp_file("bad6.csv", "pulse,g_potentiation,g_depression\n0,1,2\n0,2,1\n");
  CHECK(error_of([&] { load_piecewise_csv(pulses); }) ==
        pulses + ":3: pulse 0 does not increase (previous 0)");
  // A chip whose piecewise file is missing fails on construction with the file's name.
  ChipParams p = with_model("piecewise");
  p.device.piecewise.file = "/nonexistent/curve.csv";
  CHECK(error_of([&] { Chip c(p, {Eigen::MatrixXd::Zero(1, 1)}); }) ==
        "/nonexistent/curve.csv: cannot open file");
}

TEST_CASE("the example pulse-response table in experiments/ loads") {
  const PiecewiseTable t =
      load_piecewise_csv(PHYSLEARN_SOURCE_DIR "/experiments/devices-example.csv");
  CHECK(t.pot_g.size() >= 10);
  CHECK(t.dep_g.size() >= 10);
  ChipParams p = with_model("piecewise");
  p.device.piecewise.file = PHYSLEARN_SOURCE_DIR "/experiments/devices-example.csv";
  CHECK_NOTHROW(Chip(p, {Eigen::MatrixXd::Zero(2, 2)}));
}

TEST_CASE("every model keeps every device in [g_min, g_max] under noisy random updates") {
  const std::string csv =
      temp_file("pw2.csv",
                "pulse,g_potentiation,g_depression\n0,1e-6,90e-6\n10,60e-6,30e-6\n"
                "20,90e-6,1e-6\n");
  for (const auto& name : device_model_names()) {
    CAPTURE(name);
    ChipParams p = with_model(name);
    p.g_unit = 1e-5;
    p.device.piecewise.file = csv;
    p.variability.d2d_sigma = 0.3;
    p.variability.c2c_sigma = 0.5;
    p.variability.c2c_sigma_range = 0.05;
    Eigen::MatrixXd w = Eigen::MatrixXd::Constant(6, 7, 5.0);
    Chip chip(p, {w});
    const Eigen::MatrixXd g_min = chip.parameter(0, "g_min") / p.g_unit;
    const Eigen::MatrixXd g_max = chip.parameter(0, "g_max") / p.g_unit;
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(-20.0, 20.0);
    bool inside = true;
    for (int step = 0; step < 50; ++step) {
      Eigen::MatrixXd change = Eigen::MatrixXd::NullaryExpr(6, 7, [&]() { return u(rng); });
      chip.program(0, w, change);
      inside = inside && ((w - g_min).array() >= 0).all() && ((g_max - w).array() >= 0).all();
    }
    CHECK(inside);
    CHECK((w.array() == chip.conductances(0).array()).all());
  }
}
