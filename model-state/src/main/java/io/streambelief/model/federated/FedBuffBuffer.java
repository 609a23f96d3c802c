package io.streambelief.model.federated;

import java.io.Serializable;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;

import io.streambelief.model.record.ModelUpdate;

/**
 * Who counts in FedBuff's buffered asynchronous aggregation (Nguyen et al. 2022): clients train
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

        /**
         * The buffer's update, Σ s(τᵢ)·Δᵢ / K as in the paper (the staleness factors shrink stale
         * updates rather than being renormalised away), noisy under central DP.
         */
        public float[] mean(Aggregate aggregate, long noiseSeed) {
            return aggregate.mean(noise, noiseSeed, true);
        }
    }

    private final Settings settings;
    private final int dimension;
    private int buffered;
    /** Clients counted per base version, kept while an update from that version could still be taken. */
    private final TreeMap<Long, Set<String>> counted = new TreeMap<>();

    public FedBuffBuffer(Settings settings, int dimension) {
        this.settings = settings;
        this.dimension = dimension;
    }

    /** The factor an update of this staleness is scaled by. */
    public static double stalenessWeight(long staleness) {
        return 1 / Math.sqrt(1 + staleness);
    }

    public Settings settings() {
        return settings;
    }

    /** Whether {@code update} goes into the buffer; a counted one with {@link #stalenessWeight} of its staleness. */
    public Offer offer(ModelUpdate update, long currentVersion) {
        if (update.delta().length != dimension || !update.isFinite()) {
            return Offer.MALFORMED;
        }
        long baseVersion = update.baseVersion();
        long staleness = currentVersion - baseVersion;
        if (staleness < 0) {
            return Offer.FROM_THE_FUTURE;
        }
        if (staleness > settings.maxStaleness()) {
            return Offer.STALE;
        }
        if (!counted.computeIfAbsent(baseVersion, version -> new HashSet<>()).add(update.clientId())) {
            return Offer.DUPLICATE;
        }
        buffered++;
        return Offer.COUNTED;
    }

    public int buffered() {
        return buffered;
    }

    public boolean full() {
        return buffered >= settings.size();
    }

    /**
     * Empties the buffer once its aggregate has been applied as {@code newVersion}; bases that
     * version leaves too stale are forgotten.
     */
    public void drain(long newVersion) {
        if (buffered == 0) {
            throw new IllegalStateException("The buffer is empty");
        }
        buffered = 0;
        counted.headMap(newVersion - settings.maxStaleness()).clear();
    }
}
