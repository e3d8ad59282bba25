#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/binary.h"

using namespace physlearn;

TEST_CASE("arrays come back bit for bit through base64, for every element size") {
  const std::vector<double> d = {
      0.1, -0.0, std::numeric_limits<double>::denorm_min(), std::nan(""), 1e308, 1.0 / 3.0, -2.5};
  for (std::size_t n = 0; n <= d.size(); ++n) {  // every padding
    const auto back = decode_array<double>(encode_array(d.data(), n), n, "d");
    REQUIRE(back.size() == n);
    CHECK(std::memcmp(back.data(), d.data(), n * sizeof(double)) == 0);
  }
  const std::vector<float> f = {0.1f, -3.5f, 1e-40f};
  const auto fb = decode_array<float>(encode_array(f.data(), f.size()), f.size(), "f");
  CHECK(std::memcmp(fb.data(), f.data(), sizeof(float) * f.size()) == 0);
  const std::vector<std::int32_t> i = {0, -1, 2147483647, 42};
  CHECK(decode_array<std::int32_t>(encode_array(i.data(), i.size()), i.size(), "i") == i);
  const std::vector<std::uint8_t> b = {0, 255, 7};
  CHECK(decode_array<std::uint8_t>(encode_array(b.data(), b.size()), b.size(), "b") == b);
  CHECK(encode_array(b.data(), b.size()) == "AP8H");
}

TEST_CASE("decoding names what is wrong: count, alphabet, type") {
  const std::vector<double> d = {1.0, 2.0};
  const json text = encode_array(d.data(), d.size());
  CHECK_THROWS_WITH(decode_array<double>(text, 3, "w.g"), "w.g: holds 2 values, expected 3");
  CHECK_THROWS_WITH(decode_array<double>(json("AAA*"), 0, "w.g"), doctest::Contains("w.g: "));
  CHECK_THROWS_WITH(decode_array<double>(json(3), 1, "w.g"), "w.g: must be a base64 string");
}

TEST_CASE("matrices keep their shape and values, a wrong shape is refused") {
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6.25;
  m(0, 0) = 0.1;
  const json j = encode_matrix(m);
  Eigen::MatrixXd same = Eigen::MatrixXd::Zero(2, 3), any;
  decode_matrix(j, same, true, "m");
  CHECK(same == m);
  decode_matrix(j, any, false, "m");
  CHECK(any == m);
  Eigen::MatrixXd other = Eigen::MatrixXd::Zero(3, 2);
  CHECK_THROWS_WITH(decode_matrix(j, other, true, "m"), "m: shape 2x3, expected 3x2");
  std::vector<Eigen::RowVectorXd> rows = {Eigen::RowVectorXd::LinSpaced(4, 0, 1)};
  std::vector<Eigen::RowVectorXd> back = {Eigen::RowVectorXd::Zero(4)};
  decode_matrices(encode_matrices(rows), back, true, "b");
  CHECK(back[0] == rows[0]);
}

TEST_CASE("a random engine continues from its saved state") {
  std::mt19937_64 a(12345);
  for (int k = 0; k < 1000; ++k) a();
  std::mt19937_64 b;
  set_engine_state(b, engine_state(a), "rng");
  for (int k = 0; k < 10; ++k) CHECK(a() == b());
  CHECK_THROWS_WITH(set_engine_state(b, json("1 2 3"), "rng"),
                    "rng: malformed random engine state");
}
