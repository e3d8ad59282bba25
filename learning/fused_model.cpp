#include "learning/fused_model.h"

#include <type_traits>

#include "core/binary.h"
#include "learning/contrast_step.h"
#include "circuits/network_io.h"
#include "learning/executor.h"
#include "solvers/coordinate_descent.h"

namespace physlearn::learning {
namespace {

/// Sets every layer of `state` to zero potentials for `batch` samples (allocating only when the
/// shapes change).
template <typename Scalar>
void reset(solvers::BasicLayeredState<Scalar>& state, const circuits::LayeredNetwork& net,
           Eigen::Index batch) {
  state.layers.resize(net.sizes.size() - 1);
  for (std::size_t l = 0; l < state.layers.size(); ++l)
    state.layers[l].setZero(batch, net.sizes[l + 1]);
}

template <typename Scalar>
class FusedModel final : public Model {
 public:
  using Matrix = solvers::MatrixX<Scalar>;

  FusedModel(circuits::LayeredNetwork net, PhasePlan plan,
             const solvers::LayeredSolverOptions& solver, const OptimizerSettings& optimizer,
             double g_min, double g_max)
      : net_(std::move(net)),
        plan_(std::move(plan)),
        solver_(solver.sweeps, solver.tolerance, solver.max_sweeps),
        step_(optimizer.momentum, optimizer.lr_weights, optimizer.lr_biases, optimizer.lr_decay,
              g_min, g_max),
        precision_(std::is_same_v<Scalar, float> ? "float32" : "float64") {
    // The network's arrays live here, in Scalar, for the whole run; net_ keeps the shapes,
    // polarities and gains (and float64 copies only when conductances() asks).
    for (auto& w : net_.weights) {
      weights_.push_back(w.cwiseMax(g_min).cwiseMin(g_max).template cast<Scalar>());
      w = Eigen::MatrixXd();
    }
    for (const auto& b : net_.biases) biases_.push_back(b.template cast<Scalar>());
  }

  long num_parameters() const override {
    long n = 0;
    for (std::size_t l = 0; l < weights_.size(); ++l)
      n += weights_[l].size() + (net_.has_biases ? biases_[l].size() : 0);
    return n;
  }
  std::string description() const override {
    return "DRN " + circuits::sizes_text(net_.sizes) + ", rule " + plan_.name +
           ", solver layered (" + precision_ + ", fused)";
  }

  void train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                   Eigen::MatrixXd& outputs) override {
    set_voltages(inputs);
    targets_ = targets.cast<Scalar>();
    solver_.set_inputs(arrays(), voltages_);
    states_.resize(plan_.phases.size());
    reset(states_[0], net_, inputs.rows());
    run_layered_plan(plan_, targets_, states_, clamps_, [this](const Nudge& nudge, State& state) {
      solver_.relax(arrays(), nudge, state);
    });
    step_.apply(weights_, biases_, net_.has_biases, voltages_, states_[plan_.a], states_[plan_.b],
                plan_.scale, &input_sums_);
    outputs = states_[0].outputs().template cast<double>();
  }

  void predict(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& outputs) override {
    set_voltages(inputs);
    solver_.set_inputs(arrays(), voltages_);
    reset(evaluated_, net_, inputs.rows());
    solver_.relax(arrays(), Nudge::free(), evaluated_);
    outputs = evaluated_.outputs().template cast<double>();
  }

  void end_epoch() override { step_.end_epoch(); }

  void save(const std::string& out_dir) override {
    circuits::LayeredNetwork trained = net_;
    for (std::size_t l = 0; l < weights_.size(); ++l) {
      trained.weights[l] = weights_[l].template cast<double>();
      trained.biases[l] = biases_[l].template cast<double>();
    }
    circuits::save_network(trained, out_dir + "/network.json");
  }

  json save_state() const override {
    return {{"kind", std::string("fused-") + precision_},
            {"weights", encode_matrices(weights_)},
            {"biases", encode_matrices(biases_)},
            {"step", step_.state()}};
  }

  void load_state(const json& state, const std::string& where) override {
    expect_state_kind(state, "fused-" + precision_, where);
    decode_matrices(member(state, "weights", where), weights_, true, where + ".weights");
    decode_matrices(member(state, "biases", where), biases_, true, where + ".biases");
    step_.set_state(member(state, "step", where), where + ".step");
    // The first layer's sums follow the weights exactly as the step fills them.
    const Matrix& first = weights_[0];
    input_sums_.shape(first.rows(), first.cols(), net_.inverted_inputs);
    for (Eigen::Index i = 0; i < first.cols(); ++i) input_sums_.fill(i, first.col(i), net_.inverted_inputs);
    input_sums_.valid = true;
  }

  std::vector<const Eigen::MatrixXd*> conductances() const override {
    exported_.resize(weights_.size());
    std::vector<const Eigen::MatrixXd*> out;
    for (std::size_t l = 0; l < weights_.size(); ++l) {
      exported_[l] = weights_[l].template cast<double>();
      out.push_back(&exported_[l]);
    }
    return out;
  }

 private:
  using State = solvers::BasicLayeredState<Scalar>;
  using Nudge = solvers::BasicPhaseNudge<Scalar>;

  solvers::LayeredArrays<Scalar> arrays() const {
    return {weights_, biases_, net_.polarity, net_.has_biases, net_.inverted_inputs, &input_sums_};
  }

  /// Source voltages gain [x, -x] (LayeredNetwork::input_voltages), straight into Scalar.
  void set_voltages(const Eigen::MatrixXd& inputs) {
    const Eigen::Index n = inputs.cols();
    voltages_.resize(inputs.rows(), net_.sizes[0]);
    voltages_.leftCols(n) = (net_.input_gain * inputs).template cast<Scalar>();
    if (net_.inverted_inputs) voltages_.rightCols(n) = -voltages_.leftCols(n);
  }

  circuits::LayeredNetwork net_;
  PhasePlan plan_;
  solvers::BlockCoordinateDescent<Scalar> solver_;
  ContrastStep<Scalar> step_;
  std::string precision_;
  std::vector<Matrix> weights_;
  std::vector<solvers::RowVectorX<Scalar>> biases_;
  solvers::InputLayerSums<Scalar> input_sums_;  ///< kept by step_ as it rewrites weights_[0]
  Matrix voltages_, targets_;
  std::vector<State> states_;  ///< per phase of the plan
  std::vector<Matrix> clamps_;
  State evaluated_;
  mutable std::vector<Eigen::MatrixXd> exported_;
};

}  // namespace

std::unique_ptr<Model> make_fused_model(bool float32, circuits::LayeredNetwork net,
                                        PhasePlan plan,
                                        const solvers::LayeredSolverOptions& solver,
                                        const OptimizerSettings& optimizer, double g_min,
                                        double g_max) {
  if (float32)
    return std::make_unique<FusedModel<float>>(std::move(net), std::move(plan), solver, optimizer,
                                               g_min, g_max);
  return std::make_unique<FusedModel<double>>(std::move(net), std::move(plan), solver, optimizer,
                                              g_min, g_max);
}

}  // namespace physlearn::learning
