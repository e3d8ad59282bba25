// What every trained model shares (learning/model.h): expect_state_kind, the check a model's
// load_state makes first, and the defaults of the Model interface that a model may leave alone.
#include <doctest/doctest.h>

#include <string>

#include "core/error.h"
#include "learning/model.h"

using physlearn::Error;
using physlearn::json;
using physlearn::learning::expect_state_kind;
using physlearn::learning::Model;

namespace {

/// The smallest model: overrides only what Model requires, so every default is the interface's.
class Minimal final : public Model {
 public:
  long num_parameters() const override { return 3; }
  std::string description() const override { return "minimal 1-1"; }
  void train_batch(const Eigen::MatrixXd&, const Eigen::MatrixXd&, Eigen::MatrixXd& outputs) override {
    outputs.setZero(1, 1);
  }
  void predict(const Eigen::MatrixXd&, Eigen::MatrixXd& outputs) override { outputs.setZero(1, 1); }
  void end_epoch() override {}
};

}  // namespace

TEST_CASE("expect_state_kind accepts the state of its own kind") {
  /// The kind asked for, with other members beside it: no error.
  CHECK_NOTHROW(expect_state_kind(json{{"kind", "layered"}, {"weights", json::array()}}, "layered",
                                  "cp.json: model"));
  CHECK_NOTHROW(expect_state_kind(json{{"kind", "baseline"}}, "baseline", "w"));
}

TEST_CASE("expect_state_kind refuses another kind, naming where and both kinds") {
  /// The whole message, written out by hand: where, the kind found (as JSON) and the one expected.
  CHECK_THROWS_WITH_AS(expect_state_kind(json{{"kind", "baseline"}}, "layered", "cp.json: model"),
                       "cp.json: model: the state of another model (kind \"baseline\", expected "
                       "\"layered\")",
                       Error);
  /// Kinds differ by case too.
  CHECK_THROWS_WITH_AS(expect_state_kind(json{{"kind", "Layered"}}, "layered", "m"),
                       "m: the state of another model (kind \"Layered\", expected \"layered\")",
                       Error);
  /// A kind that is not text is another kind, shown as it is written.
  CHECK_THROWS_WITH_AS(expect_state_kind(json{{"kind", 3}}, "layered", "m"),
                       "m: the state of another model (kind 3, expected \"layered\")", Error);
}

TEST_CASE("expect_state_kind: a state without a kind, or not an object, names where") {
  CHECK_THROWS_WITH_AS(expect_state_kind(json{{"weights", 1}}, "layered", "cp.json: model"),
                       "cp.json: model: \"kind\" is missing", Error);
  CHECK_THROWS_WITH_AS(expect_state_kind(json::array({"layered"}), "layered", "cp.json: model"),
                       "cp.json: model: must be an object", Error);
}

TEST_CASE("Model's defaults: no alignment, no device or physics figures, no conductances") {
  Minimal model;
  /// What a model that measures nothing reports: empty and null.
  CHECK(model.take_alignment().empty());
  CHECK(model.take_device_figures().is_null());
  CHECK(model.take_physics().is_null());
  CHECK(model.conductances().empty());
  /// A model without checkpoint support refuses both ways, naming itself (and where, on load).
  CHECK_THROWS_WITH_AS(model.save_state(),
                       "checkpoints: the model minimal 1-1 cannot save its state", Error);
  CHECK_THROWS_WITH_AS(model.load_state(json{{"kind", "minimal"}}, "cp.json: model"),
                       "cp.json: model: the model minimal 1-1 cannot load a state", Error);
  /// save() writes nothing anywhere by default and does not throw.
  CHECK_NOTHROW(model.save("/nonexistent/physlearn_test_learning_model"));
}
