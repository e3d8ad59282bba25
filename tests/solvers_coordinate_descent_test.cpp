#include <doctest/doctest.h>

#include "circuits/drn.h"
#include "solvers/coordinate_descent.h"
#include "solvers_support.h"

using namespace physlearn;
using solvers_test::one_hot;
using solvers_test::random_inputs;

namespace {

circuits::LayeredNetwork drn(int inputs, std::vector<int> hidden, int outputs, double gain) {
  circuits::DrnParams p;
  p.inputs = inputs;
  p.input_gain = gain;
  p.hidden = std::move(hidden);
  p.outputs = outputs;
  p.bias_init = 0.2;
  return circuits::build_drn(p, 17);
}

/// Float32 copies of a network's arrays, kept alive for a LayeredArrays<float> view.
struct Float32Copy {
  std::vector<solvers::MatrixX<float>> weights;
  std::vector<solvers::RowVectorX<float>> biases;
  explicit Float32Copy(const circuits::LayeredNetwork& net) {
    for (const auto& w : net.weights) weights.push_back(w.cast<float>());
    for (const auto& b : net.biases) biases.push_back(b.cast<float>());
  }
};

}  // namespace

TEST_CASE("float32 coordinate descent follows float64 to 1e-5 V on a Fashion-MNIST-sized input") {
  // 784 pixels and their inverted copies, the gain of DRN-XS: potentials up to 3.4 V, which
  // float32 follows to about 2e-6 V.
  const auto net = drn(784, {64}, 10, 60.0);
  const Float32Copy copy(net);
  const solvers::LayeredArrays<float> arrays32{copy.weights, copy.biases, net.polarity,
                                               net.has_biases, net.inverted_inputs};
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(8, 784, 5));
  const Eigen::MatrixXd y = one_hot(8, 10);
  const solvers::MatrixX<float> v32 = v.cast<float>(), y32 = y.cast<float>();
  for (double beta : {0.0, 0.5, -0.5}) {
    CAPTURE(beta);
    solvers::BlockCoordinateDescent<double> exact(4, 0.0, 1);
    solvers::BlockCoordinateDescent<float> fast(4, 0.0, 1);
    auto a = solvers::BasicLayeredState<double>::zeros(net, 8);
    auto b = solvers::BasicLayeredState<float>::zeros(net, 8);
    exact.set_inputs(solvers::arrays_of(net), v);
    exact.relax(solvers::arrays_of(net), {beta, &y}, a);
    fast.set_inputs(arrays32, v32);
    fast.relax(arrays32, {beta, &y32}, b);
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
      const double difference = (a.layers[l] - b.layers[l].cast<double>()).cwiseAbs().maxCoeff();
      CHECK(a.layers[l].cwiseAbs().maxCoeff() > 0.1);  // volts, not a trivially small state
      CHECK(difference < 1e-5);
    }
  }
}

TEST_CASE("inverted input copies: the half-depth drive equals the full product") {
  const auto net = drn(20, {8, 6}, 3, 4.0);
  const Eigen::MatrixXd v = net.input_voltages(random_inputs(5, 20, 8));
  // The same network seen without inverted copies takes the full product of the inputs.
  auto plain = solvers::arrays_of(net);
  plain.inverted_inputs = false;
  solvers::BlockCoordinateDescent<double> half(1, 1e-13, 100000), full(1, 1e-13, 100000);
  auto a = solvers::BasicLayeredState<double>::zeros(net, 5);
  auto b = solvers::BasicLayeredState<double>::zeros(net, 5);
  half.set_inputs(solvers::arrays_of(net), v);
  half.relax(solvers::arrays_of(net), {}, a);
  full.set_inputs(plain, v);
  full.relax(plain, {}, b);
  for (std::size_t l = 0; l < a.layers.size(); ++l)
    CHECK((a.layers[l] - b.layers[l]).cwiseAbs().maxCoeff() < 1e-12);
  // Inputs that are not exact inverted copies take the full product even when the network says
  // it has copies.
  Eigen::MatrixXd odd = v;
  odd(0, 25) += 0.5;
  CHECK_FALSE(solvers::inverted_copies(odd));
  CHECK(solvers::inverted_copies(v));
  auto c = solvers::BasicLayeredState<double>::zeros(net, 5);
  auto d = solvers::BasicLayeredState<double>::zeros(net, 5);
  half.set_inputs(solvers::arrays_of(net), odd);
  half.relax(solvers::arrays_of(net), {}, c);
  full.set_inputs(plain, odd);
  full.relax(plain, {}, d);
  CHECK((c.outputs() - d.outputs()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((c.outputs() - a.outputs()).cwiseAbs().maxCoeff() > 1e-6);
}
