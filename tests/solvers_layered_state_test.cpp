// The shapes the layered solvers share (solvers/layered_state.h): zero states of the network's
// layer sizes, the phase's nudge, the test for inverted input copies, the first layer's sums
// (total conductance and the differential weights that give the input drive at half depth) and
// the read-only view of a network.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "circuits/drn.h"
#include "solvers/layered_state.h"
#include "solvers_support.h"

using namespace physlearn;

namespace {

circuits::LayeredNetwork network(bool inverted_inputs) {
  circuits::DrnParams p;
  p.inputs = 4;
  p.inverted_inputs = inverted_inputs;
  p.hidden = {6, 4};
  p.outputs = 2;
  p.init = "uniform";
  p.init_low = 0.1;
  p.init_high = 1.0;
  p.bias_init = 0.2;
  return circuits::build_drn(p, 13);
}

}  // namespace

TEST_CASE("layered state: zeros have one batch x units block per non-input layer") {
  const auto net = network(true);
  REQUIRE(net.sizes == std::vector<int>{8, 6, 4, 2});
  const auto s = solvers::BasicLayeredState<double>::zeros(net, 7);
  REQUIRE(s.layers.size() == 3);
  for (std::size_t l = 0; l < 3; ++l) {
    CAPTURE(l);
    CHECK(s.layers[l].rows() == 7);
    CHECK(s.layers[l].cols() == net.sizes[l + 1]);
    CHECK(s.layers[l].isZero(0.0));
  }
  /// outputs() is the last layer itself.
  CHECK(&s.outputs() == &s.layers.back());
  const auto f = solvers::BasicLayeredState<float>::zeros(net, 2);
  CHECK(f.outputs().rows() == 2);
  CHECK(f.outputs().cols() == 2);
}

TEST_CASE("layered state: the phase's nudge is free, nudged towards targets or clamped") {
  const Eigen::MatrixXd targets = solvers_test::one_hot(3, 2);
  const auto free = solvers::BasicPhaseNudge<double>::free();
  CHECK(free.beta == 0.0);
  CHECK(free.targets == nullptr);
  CHECK(free.clamp == nullptr);
  const auto nudge = solvers::BasicPhaseNudge<double>::nudge(-0.25, targets);
  CHECK(nudge.beta == -0.25);
  CHECK(nudge.targets == &targets);
  CHECK(nudge.clamp == nullptr);
  const auto clamped = solvers::BasicPhaseNudge<double>::clamped(targets);
  CHECK(clamped.beta == 0.0);
  CHECK(clamped.targets == nullptr);
  CHECK(clamped.clamp == &targets);
}

TEST_CASE("layered state: inverted copies are detected exactly, column pair by column pair") {
  /// The definition: an even number of columns 2n with column n + j == -column j, entry by entry.
  const auto net = network(true);
  const Eigen::MatrixXd x = solvers_test::random_inputs(5, 4, 3);
  Eigen::MatrixXd v = net.input_voltages(x);
  CHECK(solvers::inverted_copies(v));
  CHECK(solvers::inverted_copies<float>(v.cast<float>()));
  /// A zero input and its negation (-0.0 == 0.0) still pair.
  v(2, 1) = 0.0;
  v(2, 5) = -0.0;
  CHECK(solvers::inverted_copies(v));
  /// One entry off by one ulp breaks it, in either half and in any row.
  for (const auto& [row, col] : std::vector<std::pair<int, int>>{{0, 0}, {4, 7}, {3, 5}}) {
    CAPTURE(row);
    CAPTURE(col);
    Eigen::MatrixXd off = v;
    off(row, col) = std::nextafter(off(row, col), std::numeric_limits<double>::infinity());
    CHECK_FALSE(solvers::inverted_copies(off));
  }
  /// Not an even split into copies: odd widths, no columns, or copies in another order.
  CHECK_FALSE(solvers::inverted_copies(Eigen::MatrixXd(v.leftCols(7))));
  CHECK_FALSE(solvers::inverted_copies(Eigen::MatrixXd(5, 0)));
  Eigen::MatrixXd swapped = v;
  swapped.col(4).swap(swapped.col(5));
  CHECK_FALSE(solvers::inverted_copies(swapped));
  /// Without inverted inputs the network's voltages are plain x (no negative copies).
  CHECK_FALSE(solvers::inverted_copies(network(false).input_voltages(x)));
}

TEST_CASE("layered state: input sums are the units' total input conductance and differential "
          "weights") {
  /// totals_i = sum_j W0[j,i], the conductance from unit i to all input sources (the Norton
  /// conductance of the input side). With inverted copies V = [x, -x], the input drive
  /// sum_j W0[j,i] V_j equals sum_k x_k (W0[k,i] - W0[n+k,i]) = x difference: the difference
  /// matrix gives the drive at half the depth.
  for (const bool inverted : {true, false}) {
    CAPTURE(inverted);
    const auto net = network(inverted);
    const Eigen::MatrixXd& w = net.weights[0];
    solvers::InputLayerSums<double> sums;
    sums.shape(w.rows(), w.cols(), inverted);
    for (Eigen::Index i = 0; i < w.cols(); ++i) sums.fill(i, w.col(i), inverted);
    CHECK(sums.totals.size() == w.cols());
    CHECK((sums.totals - w.colwise().sum()).cwiseAbs().maxCoeff() < 1e-14);
    if (inverted) {
      REQUIRE(sums.difference.rows() == w.rows() / 2);
      REQUIRE(sums.difference.cols() == w.cols());
      const Eigen::MatrixXd x = solvers_test::random_inputs(6, 4, 9);
      const Eigen::MatrixXd drive = net.input_voltages(x) * w;
      CHECK((x * net.input_gain * sums.difference - drive).cwiseAbs().maxCoeff() < 1e-13);
    } else {
      CHECK(sums.difference.size() == 0);
    }
  }
}

TEST_CASE("layered state: arrays_of views the network's own arrays and flags") {
  const auto net = network(true);
  const auto view = solvers::arrays_of(net);
  CHECK(&view.weights == &net.weights);
  CHECK(&view.biases == &net.biases);
  CHECK(&view.polarity == &net.polarity);
  CHECK(view.has_biases == net.has_biases);
  CHECK(view.inverted_inputs);
  CHECK(view.input_sums == nullptr);
}
