package io.streambelief.model.federated;

import java.io.Serializable;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Which clients a FedAvg round asks to train: {@code perRound} of a known population, drawn
 * without replacement from a seed and the round, so that the aggregator and every client compute
 * the same set without a message between them (a client checks {@link #isSampled} before it
 * trains). A population of 0 samples nobody in particular: any client may report.
 */
public record ClientSampling(int population, int perRound, long seed) implements Serializable {

    public static final ClientSampling ANY_CLIENT = new ClientSampling(0, 0, 0);

    public ClientSampling {
        if (population < 0 || perRound < 0 || perRound > population) {
            throw new IllegalArgumentException("Sampling needs 0 <= clients per round <= population, got " + perRound
                    + " of " + population);
        }
        if (population > 0 && perRound == 0) {
            throw new IllegalArgumentException("A round samples at least one of the " + population + " clients");
        }
    }

    /** The id of the {@code index}-th client of the population, as simulated clients are named. */
    public static String clientId(int index) {
        return "client-" + index;
    }

    /** The clients asked to report in {@code round}; empty when any client may. */
    public Set<String> sampled(long round) {
        if (population == 0) {
            return Set.of();
        }
        int[] order = new int[population];
        for (int i = 0; i < population; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + round);
        Set<String> chosen = new LinkedHashSet<>();
        for (int i = 0; i < perRound; i++) {
            int j = i + random.nextInt(population - i);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
            chosen.add(clientId(order[i]));
        }
        return chosen;
    }

    public boolean isSampled(String clientId, long round) {
        return population == 0 || sampled(round).contains(clientId);
    }

    /** The fraction of the population each round samples, q of the privacy accounting (1 when unknown). */
    public double rate() {
        return population == 0 ? 1 : (double) perRound / population;
    }
}
