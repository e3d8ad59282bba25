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
  const circuits::LayeredNetwork& net;
  explicit Float32Copy(const circuits::LayeredNetwork& network) : net(network) {
    for (const auto& w : net.weights) weights.push_back(w.cast<float>());
    for (const auto& b : net.biases) biases.push_back(b.cast<float>());
  }
  /// The view the float32 solver reads.
  solvers::LayeredArrays<float> arrays() const {
    return {weights, biases, net.polarity, net.has_biases, net.inverted_inputs};
  }
};

}  // namespace

TEST_CASE("float32 coordinate descent follows float64 to 1e-5 V on a Fashion-MNIST-sized input") {
  // 784 pixels and their inverted copies, the gain of DRN-XS: potentials up to 3.4 V, which
  // float32 follows to about 2e-6 V.
  const auto net = drn(784, {64}, 10, 60.0);
  const Float32Copy copy(net);
  const solvers::LayeredArrays<float> arrays32 = copy.arrays();
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

namespace {

/// Plain sweeps, for the packed kernels to be checked against: each layer set to
/// clip((currents in + bias [+ beta y]) / (total conductance [+ beta])), odd layers then even.
Eigen::MatrixXd plain_relax_outputs(const circuits::LayeredNetwork& net, const Eigen::MatrixXd& v,
                                    double beta, const Eigen::MatrixXd& y, int sweeps,
                                    std::vector<Eigen::MatrixXd>& layers) {
  const int count = net.num_weight_layers(), last = count - 1;
  layers.assign(count, Eigen::MatrixXd());
  for (int l = 0; l < count; ++l) layers[l] = Eigen::MatrixXd::Zero(v.rows(), net.sizes[l + 1]);
  for (int sweep = 0; sweep < sweeps; ++sweep)
    for (int parity = 0; parity < 2; ++parity)
      for (int l = parity; l < count; l += 2) {
        Eigen::MatrixXd current = (l == 0 ? v : layers[l - 1]) * net.weights[l];
        current.rowwise() += net.biases[l];
        Eigen::RowVectorXd total = net.weights[l].colwise().sum();
        if (l < last) {
          current += layers[l + 1] * net.weights[l + 1].transpose();
          total += net.weights[l + 1].rowwise().sum().transpose();
        } else if (beta != 0.0) {
          current += beta * y;
          total.array() += beta;
        }
        for (Eigen::Index i = 0; i < current.cols(); ++i) {
          Eigen::ArrayXd column = current.col(i).array() / total(i);
          if (net.polarity[l](i) > 0) column = column.max(0.0);
          if (net.polarity[l](i) < 0) column = column.min(0.0);
          layers[l].col(i) = column.matrix();
        }
      }
  return layers.back();
}

}  // namespace

TEST_CASE("the packed kernels of narrow layers equal plain sweeps, in both precisions") {
  // Output widths that take every group size of the packed output product (8, 4, 2, 1), one and
  // two hidden layers (the second hidden layer's next layer is narrow, its base a product), and
  // batches that are and are not whole packets (the general products).
  for (int outputs : {10, 7, 13, 3}) {
    for (const std::vector<int>& hidden : {std::vector<int>{24}, std::vector<int>{24, 40}}) {
      for (Eigen::Index batch : {32, 13}) {
        CAPTURE(outputs);
        CAPTURE(hidden.size());
        CAPTURE(batch);
        const auto net = drn(20, hidden, outputs, 4.0);
        const Eigen::MatrixXd v = net.input_voltages(random_inputs(batch, 20, 3));
        const Eigen::MatrixXd y = one_hot(batch, outputs);
        const Float32Copy copy(net);
        const solvers::LayeredArrays<float> arrays32 = copy.arrays();
        const solvers::MatrixX<float> v32 = v.cast<float>(), y32 = y.cast<float>();
        for (double beta : {0.0, 0.5}) {
          std::vector<Eigen::MatrixXd> expected;
          plain_relax_outputs(net, v, beta, y, 5, expected);
          solvers::BlockCoordinateDescent<double> exact(5, 0.0, 1);
          solvers::BlockCoordinateDescent<float> fast(5, 0.0, 1);
          auto a = solvers::BasicLayeredState<double>::zeros(net, batch);
          auto b = solvers::BasicLayeredState<float>::zeros(net, batch);
          exact.set_inputs(solvers::arrays_of(net), v);
          exact.relax(solvers::arrays_of(net), {beta, &y}, a);
          fast.set_inputs(arrays32, v32);
          fast.relax(arrays32, {beta, &y32}, b);
          for (std::size_t l = 0; l < expected.size(); ++l) {
            CHECK(expected[l].cwiseAbs().maxCoeff() > 0.1);
            CHECK((a.layers[l] - expected[l]).cwiseAbs().maxCoeff() < 1e-12);
            CHECK((b.layers[l].cast<double>() - expected[l]).cwiseAbs().maxCoeff() < 1e-5);
          }
        }
      }
    }
  }
}
