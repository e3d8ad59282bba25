#include "solvers/newton_layered.h"

#include "circuits/elements/voltage_source.h"
#include "solvers/newton.h"

namespace physlearn::solvers {
namespace {

class NewtonLayeredSolver final : public EquilibriumSolver {
 public:
  NewtonLayeredSolver(const NewtonOptions& options, const circuits::LayeredNetwork& net)
      : options_(options), free_(circuits::lower_to_circuit(net), options_) {}

  std::string name() const override { return "newton"; }
  long last_iterations() const override { return last_iterations_; }

  void set_inputs(const circuits::LayeredNetwork&, const Eigen::MatrixXd& input_voltages) override {
    input_voltages_ = input_voltages;
  }

  void relax(const circuits::LayeredNetwork& net, const PhaseNudge& nudge, LayeredState& state) override {
    const Eigen::MatrixXd& input_voltages = input_voltages_;
    if (nudge.clamp && !clamped_) {
      // Clamped phases need voltage sources at the outputs: a circuit of their own.
      clamped_ = std::make_unique<Lowered>(circuits::lower_to_circuit(net, true), options_);
    }
    Lowered& lowered = nudge.clamp ? *clamped_ : free_;
    const auto& output_nodes = lowered.network.layer_nodes.back();
    std::vector<Nudge> nudges;
    Eigen::VectorXd guess = Eigen::VectorXd::Zero(lowered.network.circuit.num_nodes());
    last_iterations_ = 0;
    for (Eigen::Index b = 0; b < input_voltages.rows(); ++b) {
      lowered.network.update(net, input_voltages.row(b));
      if (nudge.clamp)
        for (std::size_t i = 0; i < lowered.network.clamp_sources.size(); ++i)
          lowered.network.circuit.list<circuits::VoltageSource>()[lowered.network.clamp_sources[i]].volts =
              (*nudge.clamp)(b, static_cast<Eigen::Index>(i));
      nudges.clear();
      if (nudge.beta != 0.0)
        for (std::size_t i = 0; i < output_nodes.size(); ++i)
          nudges.push_back({output_nodes[i], nudge.beta, (*nudge.targets)(b, static_cast<Eigen::Index>(i))});
      // Warm start from the state handed in (e.g. the free state for a nudged phase).
      for (std::size_t k = 0; k < lowered.network.input_sources.size(); ++k)
        guess(lowered.network.circuit.list<circuits::VoltageSource>()[lowered.network.input_sources[k]].plus) =
            input_voltages(b, static_cast<Eigen::Index>(k));
      for (std::size_t l = 0; l < lowered.network.layer_nodes.size(); ++l)
        for (std::size_t i = 0; i < lowered.network.layer_nodes[l].size(); ++i)
          guess(lowered.network.layer_nodes[l][i]) = state.layers[l](b, static_cast<Eigen::Index>(i));
      OperatingPoint op = lowered.newton.solve(lowered.network.circuit, nudges, &guess);
      last_iterations_ += op.iterations;
      for (std::size_t l = 0; l < lowered.network.layer_nodes.size(); ++l)
        for (std::size_t i = 0; i < lowered.network.layer_nodes[l].size(); ++i)
          state.layers[l](b, static_cast<Eigen::Index>(i)) = op.voltages(lowered.network.layer_nodes[l][i]);
    }
  }

 private:
  /// A lowered network and its Newton solver (which analyses the structure once).
  struct Lowered {
    Lowered(circuits::LoweredNetwork n, const NewtonOptions& options)
        : network(std::move(n)), newton(network.circuit, options) {}
    circuits::LoweredNetwork network;
    NewtonSolver newton;
  };
  NewtonOptions options_;
  Eigen::MatrixXd input_voltages_;
  Lowered free_;
  std::unique_ptr<Lowered> clamped_;
  long last_iterations_ = 0;
};

}  // namespace

NewtonOptions newton_options(const SolverParams& params) {
  return params.options<NewtonOptions>("newton");
}

std::unique_ptr<EquilibriumSolver> make_newton_layered_solver(const NewtonOptions& options,
                                                              const circuits::LayeredNetwork& net) {
  return std::make_unique<NewtonLayeredSolver>(options, net);
}

}  // namespace physlearn::solvers
