#include "solvers/newton_layered.h"

#include "solvers/newton.h"

namespace physlearn::solvers {
namespace {

class NewtonLayeredSolver final : public EquilibriumSolver {
 public:
  NewtonLayeredSolver(const SolverParams& params, const circuits::LayeredNetwork& net)
      : lowered_(circuits::lower_to_circuit(net)) {
    options_.abstol = params.newton_abstol;
    options_.vntol = params.newton_vntol;
    options_.max_iterations = params.newton_max_iterations;
    // Conductances start as the network's; the solver analyses the structure once.
    newton_ = std::make_unique<NewtonSolver>(lowered_.circuit, options_);
  }

  std::string name() const override { return "newton"; }
  long last_iterations() const override { return last_iterations_; }

  void relax(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& input_voltages,
             const PhaseNudge& nudge, LayeredState& state) override {
    const auto& output_nodes = lowered_.layer_nodes.back();
    std::vector<Nudge> nudges;
    Eigen::VectorXd guess = Eigen::VectorXd::Zero(lowered_.circuit.num_nodes());
    last_iterations_ = 0;
    for (Eigen::Index b = 0; b < input_voltages.rows(); ++b) {
      lowered_.update(net, input_voltages.row(b));
      nudges.clear();
      if (nudge.beta != 0.0)
        for (std::size_t i = 0; i < output_nodes.size(); ++i)
          nudges.push_back({output_nodes[i], nudge.beta, (*nudge.targets)(b, static_cast<Eigen::Index>(i))});
      // Warm start from the state handed in (e.g. the free state for a nudged phase).
      for (std::size_t k = 0; k < lowered_.input_sources.size(); ++k)
        guess(lowered_.circuit.voltage_sources[lowered_.input_sources[k]].plus) =
            input_voltages(b, static_cast<Eigen::Index>(k));
      for (std::size_t l = 0; l < lowered_.layer_nodes.size(); ++l)
        for (std::size_t i = 0; i < lowered_.layer_nodes[l].size(); ++i)
          guess(lowered_.layer_nodes[l][i]) = state.layers[l](b, static_cast<Eigen::Index>(i));
      OperatingPoint op = newton_->solve(lowered_.circuit, nudges, &guess);
      last_iterations_ += op.iterations;
      for (std::size_t l = 0; l < lowered_.layer_nodes.size(); ++l)
        for (std::size_t i = 0; i < lowered_.layer_nodes[l].size(); ++i)
          state.layers[l](b, static_cast<Eigen::Index>(i)) = op.voltages(lowered_.layer_nodes[l][i]);
    }
  }

 private:
  circuits::LoweredNetwork lowered_;
  NewtonOptions options_;
  std::unique_ptr<NewtonSolver> newton_;
  long last_iterations_ = 0;
};

}  // namespace

std::unique_ptr<EquilibriumSolver> make_newton_layered_solver(const SolverParams& params,
                                                              const circuits::LayeredNetwork& net) {
  return std::make_unique<NewtonLayeredSolver>(params, net);
}

}  // namespace physlearn::solvers
