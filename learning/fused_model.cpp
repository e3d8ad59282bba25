#include "learning/fused_model.h"

#include <type_traits>

#include "core/binary.h"
#include "learning/contrast_step.h"
#include "learning/ep.h"
#include "learning/experiment.h"
#include "learning/transfer.h"
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

  explicit FusedModel(const ExperimentConfig& config)
      : lp_(config.learning),
        net_(circuits::build_drn(config.network, static_cast<std::uint64_t>(config.seed))),
        variant_(parse_ep_variant(lp_.variant, "learning.variant")),
        solver_(config.solver.sweeps, config.solver.tolerance, config.solver.max_sweeps),
        step_(lp_.momentum, lp_.lr_weights, lp_.lr_biases, lp_.lr_decay, lp_.g_min, lp_.g_max),
        precision_(std::is_same_v<Scalar, float> ? "float32" : "float64") {
    if (!config.initial_network.empty()) {  // a trained network to start from, set exactly
      load_network(config.initial_network, net_);
      for (auto& w : net_.weights) w = w.cwiseMax(lp_.g_min).cwiseMin(lp_.g_max);
    }
    // The network's arrays live here, in Scalar, for the whole run; net_ keeps the shapes,
    // polarities and gains (and float64 copies only when conductances() asks).
    for (auto& w : net_.weights) {
      weights_.push_back(w.cwiseMax(lp_.g_min).cwiseMin(lp_.g_max).template cast<Scalar>());
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
    return "DRN " + circuits::sizes_text(net_.sizes) + ", rule ep-" + lp_.variant +
           ", solver layered (" + precision_ + ", fused)";
  }

  void train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                   Eigen::MatrixXd& outputs) override {
    set_voltages(inputs);
    targets_ = targets.cast<Scalar>();
    solver_.set_inputs(arrays(), voltages_);
    reset(free_, net_, inputs.rows());
    solver_.relax(arrays(), Nudge::free(), free_);
    const EpContrast<Scalar> contrast = ep_nudged_phases(
        variant_, lp_.beta, targets_, free_, plus_, minus_,
        [this](const Nudge& nudge, State& state) { solver_.relax(arrays(), nudge, state); });
    step_.apply(weights_, biases_, net_.has_biases, voltages_, *contrast.a, *contrast.b,
                contrast.scale, &input_sums_);
    outputs = free_.outputs().template cast<double>();
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
    save_network(trained, out_dir + "/network.json");
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

  LearningParams lp_;
  circuits::LayeredNetwork net_;
  EpVariant variant_;
  solvers::BlockCoordinateDescent<Scalar> solver_;
  ContrastStep<Scalar> step_;
  std::string precision_;
  std::vector<Matrix> weights_;
  std::vector<solvers::RowVectorX<Scalar>> biases_;
  solvers::InputLayerSums<Scalar> input_sums_;  ///< kept by step_ as it rewrites weights_[0]
  Matrix voltages_, targets_;
  State free_, plus_, minus_, evaluated_;
  mutable std::vector<Eigen::MatrixXd> exported_;
};

}  // namespace

bool fused_model_applies(const ExperimentConfig& config, std::string* reason) {
  std::string why;
  if (config.learning.rule != "ep") why = "needs learning.rule \"ep\"";
  else if (config.solver.type != "layered") why = "needs solver.type \"layered\"";
  else if (config.has_chip) why = "needs ideal devices (no chip section)";
  else if (config.learning.alignment_every > 0) why = "needs learning.alignment_every 0";
  else if (config.network.diode != "ideal" && config.network.diode != "none")
    why = "needs network.diode \"ideal\" or \"none\"";
  if (reason) *reason = why;
  return why.empty();
}

std::unique_ptr<Model> make_fused_model(const ExperimentConfig& config) {
  if (model_precision(config) == "float32") return std::make_unique<FusedModel<float>>(config);
  return std::make_unique<FusedModel<double>>(config);
}

}  // namespace physlearn::learning
