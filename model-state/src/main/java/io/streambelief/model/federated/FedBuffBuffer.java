package io.streambelief.model.federated;

import java.io.Serializable;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * FedBuff's buffered asynchronous aggregation (Nguyen et al. 2022) for one shard: clients train
 * whenever they can, from whatever global version they last read; each update is scaled down by
 * its staleness τ (the versions published since its base) as {@code 1/√(1+τ)}, and every
 * {@code size} updates the buffer's mean is applied as a new version. Updates staler than
 * {@code maxStaleness}, or a second one from the same client and base version, are dropped.
 */
public final class FedBuffBuffer implements Serializable {
    private static final long serialVersionUID = 1L;

    public record Settings(int size, long maxStaleness, CentralNoise noise) implements Serializable {
        public Settings {
            if (size < 1) {
                throw new IllegalArgumentException("The buffer holds at least one update, got " + size);
            }
            if (maxStaleness < 0) {
                throw new IllegalArgumentException("The staleness bound cannot be negative, got " + maxStaleness);
            }
        }
    }

    private final Settings settings;
    private final int dimension;
    private WeightedSum sum;
    /** Clients counted per base version, kept while an update from that version could still be taken. */
    private final TreeMap<Long, Set<String>> counted = new TreeMap<>();

    public FedBuffBuffer(Settings settings, int dimension) {
        this.settings = settings;
        this.dimension = dimension;
        this.sum = new WeightedSum(dimension);
    }

    /** The factor an update of this staleness is scaled by. */
    public static double stalenessWeight(long staleness) {
        return 1 / Math.sqrt(1 + staleness);
    }

    public Offer offer(String clientId, long baseVersion, float[] values, long currentVersion) {
        if (values.length != dimension || !FedAvgRound.finite(values)) {
            return Offer.MALFORMED;
        }
        long staleness = currentVersion - baseVersion;
        if (staleness < 0) {
            return Offer.FROM_THE_FUTURE;
        }
        if (staleness > settings.maxStaleness()) {
            return Offer.STALE;
        }
        if (!counted.computeIfAbsent(baseVersion, version -> new HashSet<>()).add(clientId)) {
            return Offer.DUPLICATE;
        }
        sum.add(values, stalenessWeight(staleness));
        return Offer.COUNTED;
    }

    public int buffered() {
        return sum.count();
    }

    public boolean full() {
        return sum.count() >= settings.size();
    }

    /**
     * The buffer's aggregate, Σ s(τᵢ)·Δᵢ / K as in the paper (the staleness factors shrink stale
     * updates rather than renormalise them away), noisy under central DP; the buffer is then empty.
     * {@code newVersion} is the version this aggregate makes: bases it leaves too stale are forgotten.
     */
    public float[] drain(long noiseSeed, long newVersion) {
        if (sum.count() == 0) {
            throw new IllegalStateException("The buffer is empty");
        }
        float[] mean = sum.mean(settings.noise(), noiseSeed, true);
        sum = new WeightedSum(dimension);
        counted.headMap(newVersion - settings.maxStaleness()).clear();
        return mean;
    }
}
