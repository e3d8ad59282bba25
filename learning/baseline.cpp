#include "learning/baseline.h"

#include <limits>
#include <type_traits>

#include "circuits/drn.h"
#include "core/binary.h"
#include "learning/backprop.h"
#include "learning/optimizer.h"

namespace physlearn::learning {
namespace {

/// The digital baseline: a ReLU network of the same layer sizes trained by backprop, in the
/// precision asked for.
template <typename Scalar>
class BaselineModel final : public Model {
 public:
  BaselineModel(const std::vector<int>& sizes, std::uint64_t seed,
                const OptimizerSettings& optimizer)
      : network_(sizes, seed),
        optimizer_(optimizer.momentum, optimizer.lr_weights, optimizer.lr_biases,
                   optimizer.lr_decay) {}

  long num_parameters() const override { return network_.num_parameters(); }
  std::string description() const override {
    std::vector<int> sizes{static_cast<int>(network_.weights[0].rows())};
    for (const auto& w : network_.weights) sizes.push_back(static_cast<int>(w.cols()));
    return "ReLU network " + circuits::sizes_text(sizes) + ", backprop (" +
           (std::is_same_v<Scalar, float> ? "float32" : "float64") + ")";
  }
  void train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                   Eigen::MatrixXd& outputs) override {
    inputs_ = inputs.cast<Scalar>();
    targets_ = targets.cast<Scalar>();
    outputs = network_.forward(inputs_).template cast<double>();
    network_.backward(targets_);
    constexpr double kUnbounded = std::numeric_limits<double>::infinity();
    for (int l = 0; l < network_.num_layers(); ++l) {  // one pass per array: w <- w - lr v
      optimizer_.apply(l, false, network_.weight_gradients[l], network_.weights[l], -kUnbounded,
                       kUnbounded);
      optimizer_.apply(l, true, network_.bias_gradients[l], network_.biases[l], -kUnbounded,
                       kUnbounded);
    }
  }
  void predict(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& outputs) override {
    inputs_ = inputs.cast<Scalar>();
    outputs = network_.forward(inputs_).template cast<double>();
  }
  void end_epoch() override { optimizer_.end_epoch(); }

  json save_state() const override {
    return {{"kind", "relu-baseline"},
            {"weights", encode_matrices(network_.weights)},
            {"biases", encode_matrices(network_.biases)},
            {"optimizer", optimizer_.state()}};
  }

  void load_state(const json& state, const std::string& where) override {
    expect_state_kind(state, "relu-baseline", where);
    decode_matrices(member(state, "weights", where), network_.weights, true, where + ".weights");
    decode_matrices(member(state, "biases", where), network_.biases, true, where + ".biases");
    optimizer_.set_state(member(state, "optimizer", where), where + ".optimizer");
  }

 private:
  BasicReluNetwork<Scalar> network_;
  BasicSgdMomentum<Scalar> optimizer_;
  typename BasicReluNetwork<Scalar>::Matrix inputs_, targets_;
};

}  // namespace

std::unique_ptr<Model> make_baseline_model(bool float32, const std::vector<int>& sizes,
                                           std::uint64_t seed, const OptimizerSettings& optimizer) {
  if (float32) return std::make_unique<BaselineModel<float>>(sizes, seed, optimizer);
  return std::make_unique<BaselineModel<double>>(sizes, seed, optimizer);
}

}  // namespace physlearn::learning
