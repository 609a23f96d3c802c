package io.streambelief.model.federated;

import java.io.Serializable;
import java.util.HashSet;
import java.util.Set;

/**
 * One FedAvg round of one shard of the model (McMahan et al. 2017): updates of the round's sampled
 * clients are summed weighted by their examples, each client counted once, and the round closes
 * once at least {@code minClients} have reported and either every sampled client has or the
 * deadline has passed — so stragglers delay a round by at most the deadline.
 *
 * <p>With central DP the weights are uniform: a client's influence must not grow with the examples
 * it claims, since the noise is calibrated to one clipped update.
 */
public final class FedAvgRound implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * @param minClients the round closes with no fewer
     * @param deadlineMillis after this long from its opening, a round closes with whoever reported (if enough did)
     */
    public record Settings(int minClients, long deadlineMillis, CentralNoise noise) implements Serializable {
        public Settings {
            if (minClients < 1) {
                throw new IllegalArgumentException("A round needs at least one client, got " + minClients);
            }
            if (deadlineMillis < 0) {
                throw new IllegalArgumentException("The deadline cannot be negative, got " + deadlineMillis);
            }
        }
    }

    private final long round;
    private final Set<String> sampled;
    private final long openedMillis;
    private final Settings settings;
    private final WeightedSum sum;
    private final Set<String> counted = new HashSet<>();

    /** @param sampled the clients asked to report; empty: any client may */
    public FedAvgRound(long round, Set<String> sampled, long openedMillis, Settings settings, int dimension) {
        this.round = round;
        this.sampled = Set.copyOf(sampled);
        this.openedMillis = openedMillis;
        this.settings = settings;
        this.sum = new WeightedSum(dimension);
    }

    public long round() {
        return round;
    }

    public Offer offer(String clientId, long updateRound, long examples, float[] values) {
        if (values.length != sum.dimension() || !finite(values) || examples < 1) {
            return Offer.MALFORMED;
        }
        if (updateRound < round) {
            return Offer.STALE;
        }
        if (updateRound > round) {
            return Offer.FROM_THE_FUTURE;
        }
        if (!sampled.isEmpty() && !sampled.contains(clientId)) {
            return Offer.NOT_SAMPLED;
        }
        if (!counted.add(clientId)) {
            return Offer.DUPLICATE;
        }
        sum.add(values, settings.noise() == null ? examples : 1);
        return Offer.COUNTED;
    }

    public int clientsCounted() {
        return counted.size();
    }

    public boolean readyToClose(long nowMillis) {
        if (counted.size() < settings.minClients()) {
            return false;
        }
        boolean allReported = !sampled.isEmpty() && counted.size() == sampled.size();
        return allReported || nowMillis >= openedMillis + settings.deadlineMillis();
    }

    /**
     * The round's mean update: weighted by examples, or, with central DP, the noisy sum over the
     * clients counted. {@code noiseSeed} decides the noise, so a replayed round adds the same.
     */
    public float[] close(long noiseSeed) {
        if (counted.isEmpty()) {
            throw new IllegalStateException("Round " + round + " has no update to close with");
        }
        return sum.mean(settings.noise(), noiseSeed, settings.noise() != null);
    }

    static boolean finite(float[] values) {
        for (float value : values) {
            if (!Float.isFinite(value)) {
                return false;
            }
        }
        return true;
    }
}
