package io.streambelief.model.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RdpAccountantTest {

    @Test
    void withoutSamplingOneRoundIsTheGaussianMechanismsRdp() {
        RdpAccountant accountant = new RdpAccountant(2, 1);
        for (int order = 2; order <= 64; order++) {
            assertThat(accountant.rdp(order)).isCloseTo(order / 8.0, within(1e-12));
        }
    }

    @Test
    void atOrderTwoTheSampledGaussianHasItsClosedForm() {
        // A₂ = (1-q)² + 2q(1-q) + q² e^(1/z²) = 1 + q² (e^(1/z²) - 1)
        for (double q : new double[] {0.001, 0.01, 0.1, 0.5}) {
            for (double z : new double[] {0.5, 1, 4}) {
                double expected = Math.log1p(q * q * Math.expm1(1 / (z * z)));
                assertThat(new RdpAccountant(z, q).rdp(2)).as("q %s, z %s", q, z).isCloseTo(expected, within(1e-12));
            }
        }
    }

    @Test
    void epsilonGrowsWithRoundsAndShrinksWithNoiseAndSampling() {
        double delta = 1e-5;
        RdpAccountant tenPercent = new RdpAccountant(1.1, 0.1);
        assertThat(tenPercent.epsilon(0, delta)).as("nothing spent but the conversion's term").isGreaterThan(0);
        assertThat(tenPercent.epsilon(100, delta)).isGreaterThan(tenPercent.epsilon(10, delta));
        assertThat(new RdpAccountant(2, 0.1).epsilon(100, delta)).isLessThan(tenPercent.epsilon(100, delta));
        assertThat(new RdpAccountant(1.1, 0.01).epsilon(100, delta)).isLessThan(tenPercent.epsilon(100, delta));
        // Subsampling amplifies privacy: never worse than the same rounds on everyone.
        assertThat(tenPercent.epsilon(100, delta)).isLessThan(new RdpAccountant(1.1, 1).epsilon(100, delta));
    }

    @Test
    void epsilonIsTheBestOrdersBound() {
        RdpAccountant accountant = new RdpAccountant(1.1, 0.1);
        int best = accountant.bestOrder(100, 1e-5);
        double epsilon = accountant.epsilon(100, 1e-5);
        assertThat(epsilon).isCloseTo(100 * accountant.rdp(best) + Math.log(1e5) / (best - 1), within(1e-9));
        for (int order = 2; order <= RdpAccountant.MAX_ORDER; order++) {
            assertThat(100 * accountant.rdp(order) + Math.log(1e5) / (order - 1)).isGreaterThanOrEqualTo(epsilon);
        }
    }
}
