package io.streambelief.model.federated;

import java.io.Serializable;

/** Σ wᵢ·xᵢ and Σ wᵢ over the vectors added, in doubles so that many small updates do not round away. */
final class WeightedSum implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] sum;
    private double weight;
    private int count;

    WeightedSum(int dimension) {
        this.sum = new double[dimension];
    }

    void add(float[] values, double w) {
        for (int i = 0; i < sum.length; i++) {
            sum[i] += w * values[i];
        }
        weight += w;
        count++;
    }

    int count() {
        return count;
    }

    int dimension() {
        return sum.length;
    }

    /**
     * (Σ wᵢ·xᵢ + noise) / divisor as floats; with {@code noise}, seeded by {@code seed}, added to
     * the sum first. The divisor is Σ wᵢ, or the count where the weights are not to be trusted as a
     * normaliser (under DP, and in FedBuff, whose staleness factors scale the updates down on purpose).
     */
    float[] mean(CentralNoise noise, long seed, boolean divideByCount) {
        double[] total = sum.clone();
        if (noise != null) {
            noise.addTo(total, seed);
        }
        double divisor = divideByCount ? count : weight;
        float[] mean = new float[total.length];
        for (int i = 0; i < total.length; i++) {
            mean[i] = (float) (total[i] / divisor);
        }
        return mean;
    }
}
