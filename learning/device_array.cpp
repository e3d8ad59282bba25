#include "learning/device_array.h"

#include "core/binary.h"

namespace physlearn::learning {
namespace {

class IdealDevices final : public DeviceArray {
 public:
  IdealDevices(double g_min, double g_max) : g_min_(g_min), g_max_(g_max) {}

  void program_start(std::vector<Eigen::MatrixXd>& weights,
                     const std::vector<Eigen::MatrixXd>* start) override {
    if (start) weights = *start;
  }
  void read(std::vector<Eigen::MatrixXd>&) override {}
  /// The exact update clipped to [g_min, g_max], fused with the momentum step.
  void step(int layer, SgdMomentum& optimizer, const Eigen::MatrixXd& direction,
            Eigen::MatrixXd& weights) override {
    optimizer.apply(layer, false, direction, weights, g_min_, g_max_);
  }
  void end_epoch(std::vector<Eigen::MatrixXd>&) override {}
  json take_figures() override { return nullptr; }
  Eigen::MatrixXd conductances(int, const Eigen::MatrixXd& weights) const override {
    return weights;
  }
  void save(const std::string&) const override {}
  void save_state(json&) const override {}
  void set_state(const json& state, const std::string& where) override {
    if (state.contains("chip")) throw Error(where + ": a chip state (the run has no chip)");
  }

 private:
  double g_min_, g_max_;
};

class ChipDevices final : public DeviceArray {
 public:
  ChipDevices(const devices::ChipParams& chip, const ControllerParams& controller,
              const std::vector<Eigen::MatrixXd>& weights)
      : chip_(chip, weights),
        controller_(controller, chip_, static_cast<std::uint64_t>(chip.seed)) {}

  /// A network from elsewhere goes through this chip's own devices, from their fresh state.
  void program_start(std::vector<Eigen::MatrixXd>& weights,
                     const std::vector<Eigen::MatrixXd>* start) override {
    if (start)
      for (int l = 0; l < chip_.num_layers(); ++l)
        controller_.program(l, weights[static_cast<std::size_t>(l)],
                            (*start)[static_cast<std::size_t>(l)] - chip_.conductances(l));
    for (int l = 0; l < chip_.num_layers(); ++l)
      controller_.read(l, weights[static_cast<std::size_t>(l)]);
  }
  /// With read noise, every batch's phases see a fresh read of the devices.
  void read(std::vector<Eigen::MatrixXd>& weights) override {
    if (controller_.noisy_reads())
      for (int l = 0; l < chip_.num_layers(); ++l)
        controller_.read(l, weights[static_cast<std::size_t>(l)]);
  }
  void step(int layer, SgdMomentum& optimizer, const Eigen::MatrixXd& direction,
            Eigen::MatrixXd& weights) override {
    controller_.program(layer, weights, optimizer.step(layer, false, direction));
  }
  void end_epoch(std::vector<Eigen::MatrixXd>& weights) override {
    controller_.end_epoch(weights);
  }
  json take_figures() override {
    const devices::ProgramStats s = controller_.take_stats();
    return {{"pulses", s.pulses},
            {"devices_pulsed", s.devices_pulsed},
            {"capped", s.capped},
            {"programming_energy", s.energy}};
  }
  Eigen::MatrixXd conductances(int layer, const Eigen::MatrixXd&) const override {
    return chip_.conductances(layer);
  }
  void save(const std::string& out_dir) const override { chip_.save(out_dir + "/chip.json"); }
  void save_state(json& state) const override {
    state["chip"] = chip_.to_json();
    state["controller"] = controller_.state();
  }
  void set_state(const json& state, const std::string& where) override {
    if (!state.contains("chip")) throw Error(where + ": no chip state (the run has a chip)");
    chip_ = devices::Chip::from_json(state["chip"], where + ".chip");
    controller_.set_state(member(state, "controller", where), where + ".controller");
  }

 private:
  devices::Chip chip_;
  LearningController controller_;
};

}  // namespace

std::unique_ptr<DeviceArray> make_ideal_devices(double g_min, double g_max) {
  return std::make_unique<IdealDevices>(g_min, g_max);
}

std::unique_ptr<DeviceArray> make_chip_devices(const devices::ChipParams& chip,
                                               const ControllerParams& controller,
                                               const std::vector<Eigen::MatrixXd>& weights) {
  return std::make_unique<ChipDevices>(chip, controller, weights);
}

}  // namespace physlearn::learning
