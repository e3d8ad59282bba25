// Learning on crossbars (learning/crossbar.h): the EP update from the devices' own drops is the
// gradient of the loss of the whole circuit, wires included (checked by finite differences of the
// loss), the ideal-wire crossbar gives the layered network's update, and rules that need the
// layered view are refused.
#include <doctest/doctest.h>

#include <cmath>

#include "circuits/crossbar.h"
#include "circuits/drn.h"
#include "core/error.h"
#include "learning/crossbar.h"
#include "learning/gradient.h"
#include "learning/executor.h"
#include "learning/rule.h"

using physlearn::circuits::build_drn;
using physlearn::circuits::CrossbarParams;
using physlearn::circuits::DrnParams;
using physlearn::circuits::LayeredNetwork;
using physlearn::learning::CrossbarExecutor;
using physlearn::learning::make_plan;
using physlearn::learning::ParameterGradient;
using physlearn::learning::PhasePlan;

namespace {

LayeredNetwork network(const std::string& diode) {
  DrnParams p;
  p.inputs = 3;
  p.input_gain = 1.5;
  p.hidden = {4};
  p.outputs = 2;
  p.diode = diode;
  p.bias_init = 0.1;
  LayeredNetwork net = build_drn(p, 11);
  for (auto& w : net.weights) w.array() += 0.1;
  return net;
}

double loss(CrossbarExecutor& phases, const LayeredNetwork& net, const Eigen::MatrixXd& v,
            const Eigen::MatrixXd& y) {
  Eigen::MatrixXd o;
  phases.predict(net, v, o);
  return 0.5 * (o - y).squaredNorm() / static_cast<double>(v.rows());
}

/// Central finite differences of the batch-mean loss in every conductance and bias.
ParameterGradient finite_differences(CrossbarExecutor& phases, LayeredNetwork net,
                                     const Eigen::MatrixXd& v, const Eigen::MatrixXd& y) {
  ParameterGradient g = ParameterGradient::zeros_like(net);
  const double h = 1e-6;
  // Every parameter with the place of its derivative.
  std::vector<std::pair<double*, double*>> entries;
  for (int l = 0; l < net.num_weight_layers(); ++l) {
    for (Eigen::Index k = 0; k < net.weights[l].size(); ++k)
      entries.emplace_back(net.weights[l].data() + k, g.weights[l].data() + k);
    for (Eigen::Index i = 0; i < net.biases[l].size(); ++i)
      entries.emplace_back(net.biases[l].data() + i, g.biases[l].data() + i);
  }
  for (auto [value, derivative] : entries) {
    const double v0 = *value;
    *value = v0 + h;
    const double up = loss(phases, net, v, y);
    *value = v0 - h;
    const double down = loss(phases, net, v, y);
    *value = v0;
    *derivative = (up - down) / (2 * h);
  }
  return g;
}

}  // namespace

TEST_CASE("crossbar EP: the device-drop update is the loss gradient of the circuit with wires") {
  /// "tiled": the sparse solver on tiles of 2 x 2 with a summing resistor per tile column.
  for (const auto& [diode, solver_name] : std::vector<std::pair<std::string, std::string>>{
           {"none", "sparse"}, {"ideal", "sparse"}, {"ideal", "dense"}, {"ideal", "newton"},
           {"ideal", "tiled"}}) {
    CAPTURE(diode);
    CAPTURE(solver_name);
    const LayeredNetwork net = network(diode);
    CrossbarParams params;
    params.solver = solver_name == "tiled" ? "sparse" : solver_name;
    params.wire_resistance = 300.0;
    params.access_resistance = 1000.0;
    if (solver_name == "tiled") {
      params.tile_rows = 2;
      params.tile_cols = 2;
      params.summing_resistance = 200.0;
    }
    const physlearn::solvers::NewtonOptions newton_options;
    const PhasePlan rule = make_plan({"ep", "centered", 1e-4, 0.5});
    CrossbarExecutor phases(net, params, 1e-4, newton_options);
    Eigen::MatrixXd x(3, 3);
    x << 0.2, 0.9, 0.4, 0.7, 0.1, 0.5, 0.3, 0.6, 0.8;
    const Eigen::MatrixXd v = net.input_voltages(x);
    Eigen::MatrixXd y(3, 2);
    y << 1, 0, 0, 1, 1, 0;
    ParameterGradient ep = ParameterGradient::zeros_like(net);
    Eigen::MatrixXd free_outputs;
    phases.direction(rule, net, v, y, free_outputs, ep);
    const ParameterGradient fd = finite_differences(phases, net, v, y);
    const Eigen::VectorXd a = ep.flatten(), b = fd.flatten();
    const double cosine = a.dot(b) / (a.norm() * b.norm());
    const double relative = (a - b).norm() / b.norm();
 MESSAGE(diode << ", " << solver_name << ": cosine " << cosine << ", relative error " << relative);
    CHECK(cosine > 1 - 1e-8);
    CHECK(relative < 1e-4);
    CHECK(phases.take_iterations() > 0);
  }
}

TEST_CASE("crossbar rules: ideal wires give the layered network's update for every rule") {
  const LayeredNetwork net = network("ideal");
  Eigen::MatrixXd x(2, 3);
  x << 0.2, 0.9, 0.4, 0.7, 0.1, 0.5;
  const Eigen::MatrixXd v = net.input_voltages(x);
  Eigen::MatrixXd y(2, 2);
  y << 1, 0, 0, 1;
  const physlearn::solvers::NewtonOptions newton_options;
  for (const auto& [name, variant] : std::vector<std::pair<std::string, std::string>>{
           {"ep", "centered"}, {"ep", "positive"}, {"chl", "centered"}, {"cl", "negative"}}) {
    CAPTURE(name);
    CAPTURE(variant);
    const PhasePlan rule = make_plan({name, variant, 0.3, 0.5});
    CrossbarExecutor phases(net, CrossbarParams{}, 1e-4, newton_options);
    ParameterGradient on_crossbar = ParameterGradient::zeros_like(net);
    Eigen::MatrixXd outputs;
    phases.direction(rule, net, v, y, outputs, on_crossbar);

    physlearn::solvers::CoordinateDescentSolver layered(1, 1e-13, 100000);
    physlearn::solvers::LayeredState free;
    ParameterGradient reference = ParameterGradient::zeros_like(net);
    physlearn::learning::layered_direction(rule, net, layered, v, y, free, reference);
    CHECK((on_crossbar.flatten() - reference.flatten()).cwiseAbs().maxCoeff() < 1e-8);
    CHECK((outputs - free.outputs()).cwiseAbs().maxCoeff() < 1e-9);
  }
}

TEST_CASE("crossbar rules: the reduced solve equals Newton on the full circuit, with IR drop") {
  const LayeredNetwork net = network("ideal");
  Eigen::MatrixXd x(4, 3);
  x << 0.2, 0.9, 0.4, 0.7, 0.1, 0.5, 0.9, 0.9, 0.1, 0.0, 0.3, 1.0;
  const Eigen::MatrixXd v = net.input_voltages(x);
  Eigen::MatrixXd y(4, 2);
  y << 1, 0, 0, 1, 0, 1, 1, 0;
  const physlearn::solvers::NewtonOptions newton_options;
  for (const auto& [name, variant] : std::vector<std::pair<std::string, std::string>>{
           {"ep", "centered"}, {"ep", "negative"}, {"chl", "centered"}, {"cl", "centered"}}) {
    CAPTURE(name);
    const PhasePlan rule = make_plan({name, variant, 0.4, 0.5});
    CrossbarParams params;
    params.wire_resistance = 200.0;
    params.access_resistance = 300.0;
    params.row_pairs = "interleaved";
    ParameterGradient reduced = ParameterGradient::zeros_like(net), newton = reduced;
    Eigen::MatrixXd o_reduced, o_newton;
    CrossbarExecutor(net, params, 1e-4, newton_options).direction(rule, net, v, y, o_reduced, reduced);
    params.solver = "newton";
    CrossbarExecutor(net, params, 1e-4, newton_options).direction(rule, net, v, y, o_newton, newton);
    CHECK((o_reduced - o_newton).cwiseAbs().maxCoeff() < 1e-9);
    CHECK((reduced.flatten() - newton.flatten()).cwiseAbs().maxCoeff() < 1e-8);
    CHECK(reduced.flatten().norm() > 1e-3);
  }
}

TEST_CASE("crossbar rules: the exact gradient is refused with the reason") {
  const LayeredNetwork net = network("ideal");
  const PhasePlan rule = make_plan({"exact", "centered", 0.3, 0.5});
  CrossbarExecutor phases(net, CrossbarParams{}, 1e-4, physlearn::solvers::NewtonOptions{});
  ParameterGradient g = ParameterGradient::zeros_like(net);
  Eigen::MatrixXd v = net.input_voltages(Eigen::MatrixXd::Constant(1, 3, 0.5)), o;
  CHECK_THROWS_WITH_AS(phases.direction(rule, net, v, Eigen::MatrixXd::Ones(1, 2), o, g),
                       doctest::Contains("needs the layered view"), physlearn::ConfigError);
}
