// Seeded random draws (devices/rng.h): the uniform and normal draws against the standard's
// mt19937_64 and the written-out formulas, their moments, saving and restoring the state,
// SplitMix64 seed mixing against its published outputs, and unbiased stochastic rounding.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "devices/rng.h"

using physlearn::devices::mix_seed;
using physlearn::devices::Rng;
using physlearn::devices::stochastic_round;

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

/// The header's uniform: u = (x >> 11) 2^-53 from one output x of the engine.
double uniform_from_engine_output(std::uint64_t x) {
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

/// Sample mean and (population) variance of `values`.
struct Moments {
  double mean = 0.0, variance = 0.0;
};
Moments moments(const std::vector<double>& values) {
  Moments m;
  for (double v : values) m.mean += v;
  m.mean /= static_cast<double>(values.size());
  for (double v : values) m.variance += (v - m.mean) * (v - m.mean);
  m.variance /= static_cast<double>(values.size());
  return m;
}

}  // namespace

TEST_CASE("uniform draws are the standard's mt19937_64 outputs as (x >> 11) 2^-53, bit for bit") {
  /// The C++ standard fixes mt19937_64: its 10000th output from the default seed 5489 is
  /// 9981545732273789042 ([rand.predef]). Rng(5489)'s 10000th uniform must be that number's
  /// top 53 bits times 2^-53.
  Rng standard_seed(5489);
  for (int k = 1; k < 10000; ++k) standard_seed.uniform();
  CHECK(standard_seed.uniform() == uniform_from_engine_output(9981545732273789042ull));

  /// For any seed, the draws equal the formula applied to a separately seeded std::mt19937_64.
  for (std::uint64_t seed : {0ull, 1ull, 42ull, 0xDEADBEEFCAFEull}) {
    CAPTURE(seed);
    Rng rng(seed);
    std::mt19937_64 engine(seed);
    bool all_equal = true, all_in_unit_interval = true;
    for (int k = 0; k < 1000; ++k) {
      const double u = rng.uniform();
      all_equal = all_equal && u == uniform_from_engine_output(engine());
      all_in_unit_interval = all_in_unit_interval && u >= 0.0 && u < 1.0;
    }
    CHECK(all_equal);
    CHECK(all_in_unit_interval);
  }
  /// The default generator is seed 0.
  CHECK(Rng() == Rng(0));
}

TEST_CASE("same seed gives the same stream of uniforms and normals, another seed another stream") {
  Rng first(7), second(7), other(8);
  bool same = true, differs = false;
  for (int k = 0; k < 500; ++k) {
    const double a = k % 3 == 0 ? first.normal() : first.uniform();
    const double b = k % 3 == 0 ? second.normal() : second.uniform();
    const double c = k % 3 == 0 ? other.normal() : other.uniform();
    same = same && a == b;
    differs = differs || a != c;
  }
  CHECK(same);
  CHECK(differs);
  CHECK(first == second);
  CHECK_FALSE(first == other);
}

TEST_CASE("normal draws follow Box-Muller on two uniforms, the sine half kept for the next call") {
  /// u1 = 1 - uniform in (0, 1], u2 = uniform, r = sqrt(-2 ln u1): the first call gives
  /// r cos(2 pi u2), the second r sin(2 pi u2) without drawing. Compared to 4e-16 relative (the
  /// header promises the numbers up to the last bits of log, sqrt, sin and cos).
  Rng rng(2024);
  std::mt19937_64 engine(2024);
  for (int pair = 0; pair < 200; ++pair) {
    CAPTURE(pair);
    const double u1 = 1.0 - uniform_from_engine_output(engine());
    const double u2 = uniform_from_engine_output(engine());
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double cosine = r * std::cos(kTwoPi * u2), sine = r * std::sin(kTwoPi * u2);
    CHECK(rng.normal() == doctest::Approx(cosine).epsilon(4e-16).scale(0.0));
    CHECK(rng.normal() == doctest::Approx(sine).epsilon(4e-16).scale(0.0));
  }
  /// The kept half used no engine output: the next uniform is the engine's next output.
  CHECK(rng.uniform() == uniform_from_engine_output(engine()));
}

TEST_CASE("uniform mean 1/2 and variance 1/12, normal mean 0, variance 1 and kurtosis 3") {
  /// Fixed seeds, so the figures are deterministic; the bounds are 4 standard errors of the
  /// estimates: SE(mean) = sigma / sqrt(N), SE(variance) = sqrt((mu4 - sigma^4) / N), with
  /// mu4 = 1/80 for U(0, 1) and 3 for N(0, 1) (SE of the 4th moment: sqrt((105 - 9) / N)).
  const int n = 200000;
  const double sqrt_n = std::sqrt(static_cast<double>(n));
  Rng rng(12345);
  std::vector<double> uniforms(n), normals(n);
  for (double& u : uniforms) u = rng.uniform();
  for (double& z : normals) z = rng.normal();

  const Moments u = moments(uniforms);
  CHECK(std::abs(u.mean - 0.5) < 4.0 * std::sqrt(1.0 / 12.0) / sqrt_n);
  CHECK(std::abs(u.variance - 1.0 / 12.0) < 4.0 * std::sqrt(1.0 / 80.0 - 1.0 / 144.0) / sqrt_n);

  const Moments z = moments(normals);
  CHECK(std::abs(z.mean) < 4.0 / sqrt_n);
  CHECK(std::abs(z.variance - 1.0) < 4.0 * std::sqrt(2.0) / sqrt_n);
  double fourth = 0.0;
  for (double v : normals) fourth += v * v * v * v;
  fourth /= n;
  CHECK(std::abs(fourth - 3.0) < 4.0 * std::sqrt(96.0) / sqrt_n);
  /// P(|z| > 2) = 0.0455 for a standard normal; binomial SE sqrt(p (1 - p) / N).
  long beyond_two = 0;
  for (double v : normals) beyond_two += std::abs(v) > 2.0;
  const double p = 0.04550026389635842;
  CHECK(std::abs(static_cast<double>(beyond_two) / n - p) < 4.0 * std::sqrt(p * (1 - p)) / sqrt_n);
}

TEST_CASE("a restored state continues bit for bit, a kept normal half included") {
  Rng rng(99);
  for (int k = 0; k < 17; ++k) rng.uniform();
  rng.normal();  // an odd number of normals: the sine half is kept and is part of the state
  const std::string saved = rng.state();
  Rng restored(1);
  restored.set_state(saved);
  CHECK(restored == rng);
  CHECK(restored.state() == saved);
  bool same = true;
  for (int k = 0; k < 300; ++k) same = same && (k % 2 ? restored.uniform() == rng.uniform()
                                                      : restored.normal() == rng.normal());
  CHECK(same);

  /// Without a kept half, too (a fresh generator).
  Rng fresh(5), copy(0);
  copy.set_state(fresh.state());
  CHECK(copy.normal() == fresh.normal());
}

TEST_CASE("a malformed state is refused and leaves the generator as it was") {
  Rng rng(3);
  const std::string before = rng.state();
  CHECK_THROWS_AS(rng.set_state("not a state"), physlearn::Error);
  CHECK_THROWS_AS(rng.set_state(before + " extra"), physlearn::Error);
  /// The kept-half flag is 0 or 1.
  std::string bad_flag = before;
  const auto flag = bad_flag.rfind(' ', bad_flag.rfind(' ') - 1) + 1;
  bad_flag[flag] = '2';
  CHECK_THROWS_AS(rng.set_state(bad_flag), physlearn::Error);
  CHECK(rng.state() == before);
  CHECK(rng == Rng(3));
}

TEST_CASE("mix_seed is SplitMix64: its published outputs for seed 0, distinct streams") {
  /// SplitMix64 (Steele, Lea, Flood 2014; Vigna's splitmix64.c) from state 0 outputs
  /// 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, ...: output k + 1 is the
  /// finaliser of 0 + (k + 1) 0x9e3779b97f4a7c15, i.e. mix_seed(0, k).
  CHECK(mix_seed(0, 0) == 0xe220a8397b1dcdafull);
  CHECK(mix_seed(0, 1) == 0x6e789e6aa1b965f4ull);
  CHECK(mix_seed(0, 2) == 0x06c45d188009454full);
  CHECK(mix_seed(0, 3) == 0xf88bb8a8724c81ecull);
  /// Seed s, stream k is the output k + 1 of the SplitMix64 sequence started at state s, which
  /// is also the output k of the sequence started at s + 0x9e3779b97f4a7c15.
  CHECK(mix_seed(17, 4) == mix_seed(17 + 0x9e3779b97f4a7c15ull, 3));
  /// The finaliser is a bijection of 64 bits: a grid of seeds and streams gives distinct words.
  std::set<std::uint64_t> words;
  for (std::uint64_t seed = 0; seed < 32; ++seed)
    for (std::uint64_t stream = 0; stream < 4; ++stream) words.insert(mix_seed(seed, stream));
  CHECK(words.size() == 32u * 4u);
}

TEST_CASE("stochastic rounding: floor(x) + [u < frac(x)], whose expectation is x") {
  /// The rule at and around the threshold u = x - floor(x).
  CHECK(stochastic_round(2.25, 0.0) == 3.0);
  CHECK(stochastic_round(2.25, 0.2499) == 3.0);
  CHECK(stochastic_round(2.25, 0.25) == 2.0);
  CHECK(stochastic_round(2.25, 0.9) == 2.0);
  CHECK(stochastic_round(-1.25, 0.7) == -1.0);  // floor -2, fraction 0.75
  CHECK(stochastic_round(-1.25, 0.8) == -2.0);
  /// Integers stay: the fraction is 0 and u >= 0.
  CHECK(stochastic_round(5.0, 0.0) == 5.0);
  CHECK(stochastic_round(-3.0, 0.999) == -3.0);
  /// Over u evenly spread on [0, 1) (midpoints of N cells), the mean is x to 1/N: exactly
  /// floor(x) + (cells below the fraction) / N.
  const int cells = 1000;
  for (double x : {0.3, 2.71828, -1.25, 7.999}) {
    CAPTURE(x);
    double sum = 0.0;
    for (int k = 0; k < cells; ++k) sum += stochastic_round(x, (k + 0.5) / cells);
    CHECK(std::abs(sum / cells - x) <= 1.0 / cells);
  }
  /// With the generator's uniforms the mean is x within 4 standard errors (sqrt(f (1 - f) / N)).
  Rng rng(77);
  const int n = 100000;
  const double x = 4.37, f = 0.37;
  double sum = 0.0;
  for (int k = 0; k < n; ++k) sum += stochastic_round(x, rng.uniform());
  CHECK(std::abs(sum / n - x) < 4.0 * std::sqrt(f * (1 - f) / n));
}
