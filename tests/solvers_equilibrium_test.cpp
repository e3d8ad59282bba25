#include <doctest/doctest.h>

#include "circuits/drn.h"
#include <sstream>
#include <stdexcept>

#include "solvers/equilibrium.h"
#include "solvers/newton.h"
#include "solvers/newton_layered.h"
#include "solvers/ngspice.h"
#include "solvers/transient_layered.h"
#include "solvers_support.h"

using namespace physlearn;
using solvers_test::one_hot;
using solvers_test::random_inputs;
using solvers_test::small_drn;

namespace {

/// The solver section read from `section` (as the experiment's "solver" key).
solvers::SolverParams read_solver(const std::string& section) {
  solvers::SolverParams p;
  Schema s;
  solvers::describe_solver(s, "solver", "steady-state solver", p);
  s.read(json::parse(R"({"solver": )" + section + "}"), "");
  return p;
}

std::string solver_error(const std::string& section) {
  try {
    read_solver(section);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the solver types are registered by name, each with a doc, defaults and its solver") {
  std::vector<std::string> names;
  for (const auto& t : solvers::solver_types()) {
    names.push_back(t.name);
    CHECK_FALSE(t.doc.empty());
  }
  CHECK(names == std::vector<std::string>{"layered", "newton", "ngspice", "transient"});
  auto net = small_drn({4}, 2);
  for (const auto& name : names) {
    CAPTURE(name);
    solvers::SolverParams p;
    p.type = name;
    CHECK(solvers::make_solver(p, net)->name() == name);
  }
  solvers::SolverParams unknown;
  unknown.type = "spectral";
  CHECK_THROWS_WITH_AS(
      solvers::make_solver(unknown, net),
      "solver.type: \"spectral\": must be one of: layered, newton, ngspice, transient", ConfigError);
}

TEST_CASE("the solver section holds every type's options, its defaults those of the old keys") {
  const solvers::SolverParams p;
  CHECK(p.type == "layered");
  CHECK(p.precision == "auto");
  const auto& layered = p.options<solvers::LayeredSolverOptions>("layered");
  CHECK(layered.sweeps == 4);
  CHECK(layered.tolerance == 0.0);
  CHECK(layered.max_sweeps == 1000);
  // newton_options: the defaults the former newton_abstol, newton_vntol, newton_max_iterations
  // keys had, and NewtonOptions' defaults for the rest.
  const solvers::NewtonOptions newton = solvers::newton_options(p);
  const solvers::NewtonOptions plain;
  CHECK(newton.abstol == 1e-14);
  CHECK(newton.vntol == 1e-12);
  CHECK(newton.max_iterations == 200);
  CHECK(newton.reltol == plain.reltol);
  CHECK(newton.max_active_set_iterations == plain.max_active_set_iterations);
  CHECK(newton.junction_limiting == plain.junction_limiting);
  CHECK(newton.ideal_diode_scale == plain.ideal_diode_scale);
  const auto& spice = p.options<solvers::NgspiceSolverOptions>("ngspice");
  CHECK(spice.reltol == 1e-12);
  CHECK(spice.abstol == 1e-15);
  CHECK(spice.vntol == 1e-12);
  CHECK(spice.ideal_diode_emission == 1e-8);
  CHECK_FALSE(spice.verbose);
  const auto& transient = p.options<solvers::TransientSolverOptions>("transient");
  CHECK(transient.capacitance == std::vector<double>{1e-12});
  CHECK(transient.settle == "final");
  CHECK(transient.max_steps == 100000);
  // Another struct than the registered one, or a name not registered, is a bug.
  CHECK_THROWS_AS(p.options<solvers::NewtonOptions>("layered"), std::logic_error);
  CHECK_THROWS_AS(p.options<solvers::NewtonOptions>("spectral"), std::logic_error);
}

TEST_CASE("copies of the solver section are deep") {
  solvers::SolverParams a;
  solvers::SolverParams b = a;
  b.options<solvers::TransientSolverOptions>("transient").capacitance = {3e-12};
  CHECK(a.options<solvers::TransientSolverOptions>("transient").capacitance ==
        std::vector<double>{1e-12});
  a = b;
  b.options<solvers::TransientSolverOptions>("transient").capacitance = {4e-12};
  CHECK(a.options<solvers::TransientSolverOptions>("transient").capacitance ==
        std::vector<double>{3e-12});
}

TEST_CASE("the solver section reads and writes only the chosen type's keys, precision with each") {
  solvers::SolverParams p = read_solver(
      R"({"type": "transient", "precision": "float64", "capacitance": [2e-12, 3e-12],
          "settle": "slew"})");
  CHECK(p.type == "transient");
  CHECK(p.precision == "float64");
  const auto& t = p.options<solvers::TransientSolverOptions>("transient");
  CHECK(t.capacitance == std::vector<double>{2e-12, 3e-12});
  CHECK(t.settle == "slew");
  CHECK(p.options<solvers::LayeredSolverOptions>("layered").sweeps == 4);  // not read: default
  const json written = solvers::to_json(p);
  CHECK(written["type"] == "transient");
  CHECK(written["precision"] == "float64");
  CHECK(written["max_duration"] == 1e-6);
  CHECK_FALSE(written.contains("sweeps"));
  CHECK(written.size() == 11);  // type, precision and the 9 transient keys
  CHECK(solvers::to_json(read_solver(written.dump())) == written);

  // Newton's keys are NewtonOptions' own.
  const solvers::SolverParams n = read_solver(R"({"type": "newton", "max_iterations": 50,
                                                  "junction_limiting": false})");
  CHECK(solvers::newton_options(n).max_iterations == 50);
  CHECK_FALSE(solvers::newton_options(n).junction_limiting);

  // Another type chosen later (as transfer's software step does) has its defaults; precision stays.
  solvers::SolverParams software = read_solver(R"({"type": "newton", "precision": "float64"})");
  software.type = "layered";
  CHECK(solvers::to_json(software) ==
        json::parse(R"({"type": "layered", "precision": "float64", "sweeps": 4, "tolerance": 0.0,
                        "max_sweeps": 1000})"));
}

TEST_CASE("solver section errors name the key, the value and the rule") {
  CHECK(solver_error(R"({"type": "transient", "sweeps": 4})") ==
        "solver.sweeps: 4: unknown key (known keys here: atol, capacitance, final_tol, hold, "
        "max_duration, max_steps, precision, rtol, settle, slew_tol, type)");
  CHECK(solver_error(R"({"capacitance": [1e-12]})").find(
            "solver.capacitance: [1e-12]: unknown key (known keys here: max_sweeps, precision, "
            "sweeps, tolerance, type)") == 0);
  CHECK(solver_error(R"({"type": "spectral"})") ==
        "solver.type: \"spectral\": must be one of: layered, newton, ngspice, transient");
  CHECK(solver_error(R"({"type": "newton", "abstol": 0})") == "solver.abstol: 0.0: must be > 0.0");
  CHECK(solver_error(R"({"type": "ngspice", "vntol": -1})") == "solver.vntol: -1.0: must be > 0.0");
  CHECK(solver_error(R"({"type": "transient", "settle": "soon"})") ==
        "solver.settle: \"soon\": must be one of: final, slew");
  CHECK(solver_error(R"({"sweeps": 0})") == "solver.sweeps: 0: must be >= 1");
  CHECK(solver_error(R"({"type": "newton", "precision": "float16"})") ==
        "solver.precision: \"float16\": must be one of: auto, float64, float32");
}

TEST_CASE("the solver section documents precision once and every type's keys") {
  solvers::SolverParams p;
  Schema s;
  solvers::describe_solver(s, "solver", "steady-state solver", p);
  std::ostringstream out;
  s.document(out, "");
  const std::string text = out.str();
  CHECK(text.find("solver.type") != std::string::npos);
  CHECK(text.find("one of: layered, newton, ngspice, transient") != std::string::npos);
  const auto precision = text.find("solver.precision");
  REQUIRE(precision != std::string::npos);
  CHECK(text.find("solver.precision", precision + 1) == std::string::npos);
  for (const char* line : {"(solver.type = \"layered\")", "(solver.type = \"newton\")",
                           "(solver.type = \"ngspice\")", "(solver.type = \"transient\")",
                           "solver.sweeps", "solver.max_active_set_iterations",
                           "solver.ideal_diode_emission", "solver.capacitance", "solver.max_steps"})
    CHECK(text.find(line) != std::string::npos);
  CHECK(text.find("newton_") == std::string::npos);
  CHECK(text.find("transient_") == std::string::npos);
}

TEST_CASE("the layered solution satisfies KCL and the diode constraints in the lowered circuit") {
  auto net = small_drn({8}, 5);
  const Eigen::MatrixXd x = random_inputs(4, 5, 9);
  const Eigen::MatrixXd v = net.input_voltages(x);
  solvers::CoordinateDescentSolver bcd(1, 1e-14, 1000000);
  auto state = solvers::LayeredState::zeros(net, 4);
  bcd.set_inputs(net, v);
  bcd.relax(net, {}, state);
  auto lowered = circuits::lower_to_circuit(net);
  for (Eigen::Index b = 0; b < 4; ++b) {
    lowered.update(net, v.row(b));
    // KCL at every free node: conductance currents plus bias; a clamped node's imbalance is the
    // diode's current and must flow in the diode's forward direction.
    for (int l = 0; l < net.num_weight_layers(); ++l)
      for (int i = 0; i < net.sizes[l + 1]; ++i) {
        const double vi = state.layers[l](b, i);
        const Eigen::VectorXd below = l == 0 ? Eigen::VectorXd(v.row(b).transpose())
                                             : Eigen::VectorXd(state.layers[l - 1].row(b).transpose());
        double inflow = ((below.array() - vi) * net.weights[l].col(i).array()).sum() + net.biases[l](i);
        if (l + 1 < net.num_weight_layers())
          inflow += ((state.layers[l + 1].row(b).transpose().array() - vi) *
                     net.weights[l + 1].row(i).transpose().array()).sum();
        const int polarity = net.polarity[l](i);
        if (polarity == 0 || vi != 0.0) {
          CHECK(std::abs(inflow) < 1e-10);
          CHECK(vi * polarity >= 0.0);
        } else {
          // Diode conducting: a v>=0 node pushed negative draws current from ground (inflow < 0).
          CHECK(inflow * polarity <= 1e-10);
        }
      }
  }
}

TEST_CASE("Newton's operating point of the lowered DRN has a tiny KCL residual") {
  auto net = small_drn({6}, 2);
  auto lowered = circuits::lower_to_circuit(net);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(1, 5, 1));
  lowered.update(net, v.row(0));
  solvers::NewtonSolver newton(lowered.circuit);
  auto op = newton.solve(lowered.circuit);
  CHECK(solvers::kcl_residual(lowered.circuit, op) < 1e-10);
}

TEST_CASE("Shockley-diode DRNs run on Newton, the layered solver refuses them") {
  auto net = small_drn({6}, 4, "shockley");
  solvers::SolverParams p;
  CHECK_THROWS_AS(solvers::make_solver(p, net), ConfigError);
  p.type = "newton";
  auto newton = solvers::make_solver(p, net);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(3, 5, 2));
  auto state = solvers::LayeredState::zeros(net, 3);
  newton->set_inputs(net, v);
  newton->relax(net, {}, state);
  // Soft diodes: potentials may go slightly past 0 (junction drop), never far.
  for (Eigen::Index i = 0; i < 3; ++i) CHECK(state.layers[0](0, i) > -1.0);
  for (Eigen::Index i = 3; i < 6; ++i) CHECK(state.layers[0](0, i) < 1.0);
}

TEST_CASE("fixed sweeps stop early, a tolerance converges or reports the sweep budget") {
  auto net = small_drn({8, 8}, 3);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(2, 5, 4));
  solvers::CoordinateDescentSolver four(4, 0.0, 1);
  auto s = solvers::LayeredState::zeros(net, 2);
  four.set_inputs(net, v);
  four.relax(net, {}, s);
  CHECK(four.last_iterations() == 4);
  solvers::CoordinateDescentSolver tight(1, 1e-300, 3);
  auto t = solvers::LayeredState::zeros(net, 2);
  tight.set_inputs(net, v);
  CHECK_THROWS_WITH_AS(tight.relax(net, {}, t), doctest::Contains("no convergence"), SolverError);
}

TEST_CASE("a negative nudge larger than the output conductance is refused with a reason") {
  auto net = small_drn({4}, 1);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(1, 5, 4));
  const Eigen::MatrixXd y = one_hot(1, 3);
  solvers::CoordinateDescentSolver bcd(4, 0.0, 1);
  auto s = solvers::LayeredState::zeros(net, 1);
  bcd.set_inputs(net, v);
  CHECK_THROWS_WITH_AS(bcd.relax(net, {-100.0, &y}, s), doctest::Contains("beta"), SolverError);
}
