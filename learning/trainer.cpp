#include "learning/trainer.h"

#include <limits>

#include "circuits/network_io.h"
#include "core/binary.h"

namespace physlearn::learning {

Trainer::Trainer(circuits::LayeredNetwork net, const circuits::LayeredNetwork* start,
                 PhasePlan plan, std::unique_ptr<PhaseExecutor> executor,
                 std::unique_ptr<DeviceArray> devices, const OptimizerSettings& optimizer,
                 int alignment_every, std::vector<int> digital_sizes, double energy_per_mac,
                 bool on_crossbars)
    : net_(std::move(net)),
      plan_(std::move(plan)),
      executor_(std::move(executor)),
      devices_(std::move(devices)),
      optimizer_(optimizer.momentum, optimizer.lr_weights, optimizer.lr_biases,
                 optimizer.lr_decay),
      alignment_every_(alignment_every),
      digital_sizes_(std::move(digital_sizes)),
      energy_per_mac_(energy_per_mac),
      on_crossbars_(on_crossbars),
      direction_(ParameterGradient::zeros_like(net_)) {
  if (start) net_.biases = start->biases;  // sources: set exactly
  devices_->program_start(net_.weights, start ? &start->weights : nullptr);
  if (alignment_every_ > 0) {
    if (!net_.ideal_diodes && net_.params.diode != "none")
      throw ConfigError("learning.alignment_every", std::to_string(alignment_every_),
                        "needs network.diode \"ideal\" or \"none\" (the exact gradient)");
    reference_ = std::make_unique<solvers::CoordinateDescentSolver>(1, 1e-10, 100000);
  }
  sums_.assign(static_cast<std::size_t>(net_.num_weight_layers()), {});
}

std::string Trainer::description() const {
  return "DRN " + circuits::sizes_text(net_.sizes) + (on_crossbars_ ? " on crossbars" : "") +
         ", rule " + plan_.name + ", solver " + executor_->name();
}

void Trainer::train_batch(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                          Eigen::MatrixXd& outputs) {
  devices_->read(net_.weights);
  voltages_ = net_.input_voltages(inputs);
  executor_->direction(plan_, net_, voltages_, targets, outputs, direction_);
  if (reference_ && batch_++ % alignment_every_ == 0) measure_alignment(targets);
  constexpr double kUnbounded = std::numeric_limits<double>::infinity();
  for (int l = 0; l < net_.num_weight_layers(); ++l) {
    const auto k = static_cast<std::size_t>(l);
    devices_->step(l, optimizer_, direction_.weights[k], net_.weights[k]);
    if (net_.has_biases)  // bias currents are sources, set exactly
      optimizer_.apply(l, true, direction_.biases[k], net_.biases[k], -kUnbounded, kUnbounded);
  }
}

void Trainer::predict(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& outputs) {
  devices_->read(net_.weights);
  voltages_ = net_.input_voltages(inputs);
  executor_->predict(net_, voltages_, outputs);
}

void Trainer::end_epoch() {
  optimizer_.end_epoch();
  devices_->end_epoch(net_.weights);
}

json Trainer::take_physics() { return executor_->take_physics(digital_sizes_, energy_per_mac_); }

void Trainer::save(const std::string& out_dir) {
  devices_->save(out_dir);
  // The trained network (noise-free device conductances with a chip), for initial_network.
  circuits::LayeredNetwork trained = net_;
  for (int l = 0; l < trained.num_weight_layers(); ++l) {
    const auto k = static_cast<std::size_t>(l);
    trained.weights[k] = devices_->conductances(l, net_.weights[k]);
  }
  circuits::save_network(trained, out_dir + "/network.json");
}

std::vector<LayerAlignment> Trainer::take_alignment() {
  std::vector<LayerAlignment> out;
  if (measured_ == 0) return out;
  for (auto& s : sums_) {
    out.push_back({s.cosine / measured_, s.norm_ratio / measured_});
    s = {};
  }
  measured_ = 0;
  return out;
}

std::vector<const Eigen::MatrixXd*> Trainer::conductances() const {
  std::vector<const Eigen::MatrixXd*> out;
  for (const auto& w : net_.weights) out.push_back(&w);
  return out;
}

json Trainer::save_state() const {
  std::vector<double> sums;
  for (const auto& a : sums_) sums.insert(sums.end(), {a.cosine, a.norm_ratio});
  json state = {{"kind", "circuit"},
                {"weights", encode_matrices(net_.weights)},
                {"biases", encode_matrices(net_.biases)},
                {"optimizer", optimizer_.state()},
                {"batch", batch_},
                {"measured", measured_},
                {"alignment_sums", encode_array(sums.data(), sums.size())}};
  devices_->save_state(state);
  return state;
}

void Trainer::load_state(const json& state, const std::string& where) {
  expect_state_kind(state, "circuit", where);
  decode_matrices(member(state, "weights", where), net_.weights, true, where + ".weights");
  decode_matrices(member(state, "biases", where), net_.biases, true, where + ".biases");
  optimizer_.set_state(member(state, "optimizer", where), where + ".optimizer");
  batch_ = member(state, "batch", where).get<long>();
  measured_ = member(state, "measured", where).get<int>();
  const auto sums = decode_array<double>(member(state, "alignment_sums", where), 2 * sums_.size(),
                                         where + ".alignment_sums");
  for (std::size_t l = 0; l < sums_.size(); ++l) sums_[l] = {sums[2 * l], sums[2 * l + 1]};
  devices_->set_state(state, where);
}

void Trainer::measure_alignment(const Eigen::MatrixXd& targets) {
  auto converged = solvers::LayeredState::zeros(net_, voltages_.rows());
  reference_->set_inputs(net_, voltages_);
  reference_->relax(net_, solvers::PhaseNudge::free(), converged);
  const ParameterGradient exact = exact_gradient(net_, voltages_, converged, targets);
  for (int l = 0; l < net_.num_weight_layers(); ++l) {
    const Eigen::VectorXd r = direction_.flatten_layer(l), x = exact.flatten_layer(l);
    auto& s = sums_[static_cast<std::size_t>(l)];
    s.cosine += cosine(r, x);
    s.norm_ratio += x.norm() > 0.0 ? r.norm() / x.norm() : 0.0;
  }
  ++measured_;
}

}  // namespace physlearn::learning
