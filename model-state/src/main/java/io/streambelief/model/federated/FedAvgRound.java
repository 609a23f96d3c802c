package io.streambelief.model.federated;

import java.io.Serializable;
import java.util.HashSet;
import java.util.Set;

import io.streambelief.model.record.ModelUpdate;

/**
 * Who counts in one FedAvg round (McMahan et al. 2017): updates of the round's sampled clients,
 * each client once, to be summed weighted by their examples ({@link Aggregate}); the round closes
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

        /**
         * A closed round's update from the aggregate of its counted clients: weighted by examples,
         * or, under central DP, the noisy sum over the clients. {@code noiseSeed} decides the noise,
         * so a replayed round adds the same.
         */
        public float[] mean(Aggregate aggregate, long noiseSeed) {
            return aggregate.mean(noise, noiseSeed, noise != null);
        }
    }

    private final long round;
    private final Set<String> sampled;
    private final long openedMillis;
    private final Settings settings;
    private final int dimension;
    private final Set<String> counted = new HashSet<>();

    /** @param sampled the clients asked to report; empty: any client may */
    public FedAvgRound(long round, Set<String> sampled, long openedMillis, Settings settings, int dimension) {
        this.round = round;
        this.sampled = Set.copyOf(sampled);
        this.openedMillis = openedMillis;
        this.settings = settings;
        this.dimension = dimension;
    }

    public long round() {
        return round;
    }

    public Settings settings() {
        return settings;
    }

    /** Whether {@code update} counts in this round; a counted one goes into the round's aggregate with {@link #weightOf}. */
    public Offer offer(ModelUpdate update) {
        if (update.delta().length != dimension || !update.isFinite()) {
            return Offer.MALFORMED;
        }
        if (update.round() < round) {
            return Offer.STALE;
        }
        if (update.round() > round) {
            return Offer.FROM_THE_FUTURE;
        }
        if (!sampled.isEmpty() && !sampled.contains(update.clientId())) {
            return Offer.NOT_SAMPLED;
        }
        if (!counted.add(update.clientId())) {
            return Offer.DUPLICATE;
        }
        return Offer.COUNTED;
    }

    /** Its examples, or 1 under central DP. */
    public double weightOf(ModelUpdate update) {
        return settings.noise() == null ? update.examples() : 1;
    }


    public int clientsCounted() {
        return counted.size();
    }

    public long deadlineMillis() {
        return openedMillis + settings.deadlineMillis();
    }

    public boolean readyToClose(long nowMillis) {
        if (counted.size() < settings.minClients()) {
            return false;
        }
        boolean allReported = !sampled.isEmpty() && counted.size() == sampled.size();
        return allReported || nowMillis >= openedMillis + settings.deadlineMillis();
    }

}
