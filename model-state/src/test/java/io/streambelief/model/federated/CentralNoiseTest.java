package io.streambelief.model.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class CentralNoiseTest {

    @Test
    void eachCoordinateGetsZeroMeanNoiseWithStandardDeviationNoiseMultiplierTimesClipNorm() {
        CentralNoise noise = new CentralNoise(1.3, 0.7);
        double[] sum = new double[400_000];
        noise.addTo(sum, 11);

        double mean = 0;
        for (double value : sum) {
            mean += value;
        }
        mean /= sum.length;
        double variance = 0;
        double fourth = 0;
        for (double value : sum) {
            double d = value - mean;
            variance += d * d;
            fourth += d * d * d * d;
        }
        variance /= sum.length;
        fourth /= sum.length;

        double sigma = 1.3 * 0.7;
        assertThat(noise.standardDeviation()).isCloseTo(sigma, within(1e-12));
        // Standard errors at n = 400,000: mean σ/632, standard deviation σ/894; five of them each.
        assertThat(mean).isCloseTo(0, within(5 * sigma / Math.sqrt(sum.length)));
        assertThat(Math.sqrt(variance)).isCloseTo(sigma, within(5 * sigma / Math.sqrt(2.0 * sum.length)));
        assertThat(fourth / (variance * variance)).as("a normal's kurtosis").isCloseTo(3, within(0.05));
    }

    @Test
    void theSameSeedAddsTheSameNoiseAndNoMultiplierAddsNone() {
        double[] first = new double[100];
        double[] second = new double[100];
        new CentralNoise(1, 1).addTo(first, 5);
        new CentralNoise(1, 1).addTo(second, 5);
        assertThat(first).isEqualTo(second);

        double[] untouched = {1, 2, 3};
        new CentralNoise(0, 1).addTo(untouched, 5);
        assertThat(untouched).containsExactly(1, 2, 3);
    }
}
