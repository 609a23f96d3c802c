package io.streambelief.model.federated;

import java.io.Serializable;
import java.util.SplittableRandom;

/**
 * Gaussian noise added by the server to the sum of clipped updates (central DP, as TensorFlow
 * Federated's and Flower's DP aggregators): each coordinate gets N(0, (z·C)²) for noise multiplier
 * z and clipping norm C, the sensitivity of the sum to one client. It protects each client's
 * contribution in what the server publishes; it does not hide updates from the server itself.
 *
 * <p>The draws come from the seed each call is given (the aggregator derives it from the round), so
 * a round replayed after a restore adds the same noise it added before — never a second draw an
 * observer could average away.
 */
public record CentralNoise(double noiseMultiplier, double clipNorm) implements Serializable {

    public CentralNoise {
        if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException("The noise multiplier must be finite and at least 0, got " + noiseMultiplier);
        }
        if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("The clipping norm must be positive and finite, got " + clipNorm);
        }
    }

    /** The standard deviation of each coordinate's noise: z·C. */
    public double standardDeviation() {
        return noiseMultiplier * clipNorm;
    }

    /** Adds independent noise of {@link #standardDeviation()} to every coordinate of {@code sum}. */
    public void addTo(double[] sum, long seed) {
        double sigma = standardDeviation();
        if (sigma == 0) {
            return;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < sum.length; i++) {
            sum[i] += sigma * standardNormal(random);
        }
    }

    /** A standard normal draw (Marsaglia's polar method; SplittableRandom has none of its own). */
    public static double standardNormal(SplittableRandom random) {
        double u;
        double v;
        double s;
        do {
            u = 2 * random.nextDouble() - 1;
            v = 2 * random.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }
}
