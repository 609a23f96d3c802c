package io.streambelief.model.federated;

import java.io.Serializable;

/**
 * The running aggregate of one shard's updates: Σ wᵢ·xᵢ and Σ wᵢ, in doubles so that many small
 * updates do not round away. Who is counted and with what weight is the round's or the buffer's
 * decision ({@link FedAvgRound}, {@link FedBuffBuffer}); this only sums.
 */
public final class Aggregate implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] sum;
    private double weight;
    private int count;

    public Aggregate(int dimension) {
        this.sum = new double[dimension];
    }

    public void add(float[] values, double w) {
        if (values.length != sum.length) {
            throw new IllegalArgumentException("An update of " + values.length + " values for an aggregate of " + sum.length);
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] += w * values[i];
        }
        weight += w;
        count++;
    }

    public int count() {
        return count;
    }

    public int dimension() {
        return sum.length;
    }

    /**
     * (Σ wᵢ·xᵢ + noise) / divisor as floats; with {@code noise}, seeded by {@code seed}, added to
     * the sum first. The divisor is Σ wᵢ, or the count where the weights are not to be trusted as a
     * normaliser (under DP, and in FedBuff, whose staleness factors scale the updates down on purpose).
     */
    public float[] mean(CentralNoise noise, long seed, boolean divideByCount) {
        if (count == 0) {
            throw new IllegalStateException("No update to average");
        }
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
