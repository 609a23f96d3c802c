package io.streambelief.model.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.streambelief.model.record.ModelUpdate;

class FedAvgRoundTest {
    private static final FedAvgRound.Settings TWO_CLIENTS_ONE_SECOND = new FedAvgRound.Settings(2, 1_000, null);

    @Test
    void theRoundsUpdateIsTheExampleWeightedMeanOfItsClients() {
        FedAvgRound round = new FedAvgRound(7, Set.of(), 0, TWO_CLIENTS_ONE_SECOND, 3);
        float[][] deltas = {{1, -2, 0.5f}, {0.25f, 4, -1}, {-3, 0, 2}};
        long[] examples = {10, 30, 60};
        List<ModelUpdate> updates = List.of(update("client-0", 7, examples[0], deltas[0]),
                update("client-1", 7, examples[1], deltas[1]), update("client-2", 7, examples[2], deltas[2]));

        float[] mean = close(round, updates, 0);

        for (int i = 0; i < 3; i++) {
            double reference = (10 * deltas[0][i] + 30 * deltas[1][i] + 60 * deltas[2][i]) / 100.0;
            assertThat((double) mean[i]).as("coordinate %d", i).isCloseTo(reference, within(1e-6));
        }
    }

    @Test
    void aClientIsCountedOnceHoweverOftenItsUpdateArrives() {
        FedAvgRound round = new FedAvgRound(1, Set.of(), 0, TWO_CLIENTS_ONE_SECOND, 1);
        float[] mean = close(round, List.of(update("a", 1, 10, new float[] {1}), update("b", 1, 10, new float[] {3}),
                update("a", 1, 10, new float[] {1}), update("a", 1, 50, new float[] {100})), 0);

        assertThat(round.clientsCounted()).isEqualTo(2);
        assertThat(mean).containsExactly(2f);
        assertThat(round.offer(update("a", 1, 50, new float[] {100}))).as("a different update from a counted client")
                .isEqualTo(Offer.DUPLICATE);
    }

    @Test
    void updatesOfAnotherRoundOrAnUnsampledClientOrMalformedAreDropped() {
        FedAvgRound round = new FedAvgRound(5, Set.of("a", "b"), 0, TWO_CLIENTS_ONE_SECOND, 2);

        assertThat(round.offer(update("a", 4, 10, new float[] {1, 1}))).isEqualTo(Offer.STALE);
        assertThat(round.offer(update("a", 6, 10, new float[] {1, 1}))).isEqualTo(Offer.FROM_THE_FUTURE);
        assertThat(round.offer(update("c", 5, 10, new float[] {1, 1}))).isEqualTo(Offer.NOT_SAMPLED);
        assertThat(round.offer(update("a", 5, 10, new float[] {1}))).isEqualTo(Offer.MALFORMED);
        assertThat(round.offer(update("a", 5, 10, new float[] {1, Float.NaN}))).isEqualTo(Offer.MALFORMED);
        assertThat(round.offer(update("a", 5, 10, new float[] {Float.POSITIVE_INFINITY, 1}))).isEqualTo(Offer.MALFORMED);
        assertThat(round.clientsCounted()).isZero();
        assertThat(round.offer(update("a", 5, 10, new float[] {1, 1}))).as("a's own update still counts")
                .isEqualTo(Offer.COUNTED);
    }

    @Test
    void aRoundClosesWithAllItsSampledClientsOrAtTheDeadlineWithEnoughOfThem() {
        FedAvgRound round = new FedAvgRound(1, Set.of("a", "b", "c"), 1_000, TWO_CLIENTS_ONE_SECOND, 1);

        round.offer(update("a", 1, 1, new float[] {1}));
        assertThat(round.readyToClose(1_500)).isFalse();
        assertThat(round.readyToClose(5_000)).as("past the deadline, but fewer than min-clients").isFalse();

        round.offer(update("b", 1, 1, new float[] {1}));
        assertThat(round.readyToClose(1_999)).as("min-clients reached, c may still come").isFalse();
        assertThat(round.readyToClose(2_000)).as("at the deadline with min-clients").isTrue();

        round.offer(update("c", 1, 1, new float[] {1}));
        assertThat(round.readyToClose(1_001)).as("every sampled client reported").isTrue();
    }

    @Test
    void withCentralNoiseEveryClientWeighsTheSameAndTheMeanIsNoisy() {
        FedAvgRound round = new FedAvgRound(1, Set.of(), 0, new FedAvgRound.Settings(1, 0, new CentralNoise(0, 1)), 1);
        assertThat(close(round, List.of(update("a", 1, 10, new float[] {1}), update("b", 1, 1_000, new float[] {3})), 0))
                .as("examples give no weight under DP").containsExactly(2f);

        FedAvgRound noisy = new FedAvgRound(1, Set.of(), 0, new FedAvgRound.Settings(1, 0, new CentralNoise(1, 1)), 1);
        List<ModelUpdate> one = List.of(update("a", 1, 10, new float[] {1}));
        float[] mean = close(noisy, one, 42);
        assertThat(mean).isNotEqualTo(new float[] {1});
        assertThat(close(new FedAvgRound(1, Set.of(), 0, noisy.settings(), 1), one, 42)).as("the same seed, the same noise")
                .isEqualTo(mean);
    }

    /** What the aggregator does with a round: each counted update into the aggregate with its weight, then the mean. */
    private static float[] close(FedAvgRound round, List<ModelUpdate> updates, long seed) {
        Aggregate aggregate = new Aggregate(updates.get(0).delta().length);
        for (ModelUpdate update : updates) {
            if (round.offer(update) == Offer.COUNTED) {
                aggregate.add(update.delta(), round.weightOf(update));
            }
        }
        return round.settings().mean(aggregate, seed);
    }

    static ModelUpdate update(String client, long round, long examples, float[] delta) {
        return new ModelUpdate("m", client, round, round, examples, 0, delta);
    }
}
