package io.streambelief.model.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

import io.streambelief.model.record.ModelUpdate;

class FedBuffBufferTest {
    private static final FedBuffBuffer.Settings THREE_UPDATES_FOUR_VERSIONS = new FedBuffBuffer.Settings(3, 4, null);

    @Test
    void theBufferAppliesTheMeanOfItsUpdatesEachScaledByItsStaleness() {
        FedBuffBuffer buffer = new FedBuffBuffer(THREE_UPDATES_FOUR_VERSIONS, 2);
        Aggregate aggregate = new Aggregate(2);
        offer(buffer, aggregate, update("a", 10, new float[] {1, 2}), 10);
        offer(buffer, aggregate, update("b", 9, new float[] {-4, 0}), 10);
        assertThat(buffer.full()).isFalse();
        offer(buffer, aggregate, update("c", 7, new float[] {2, 2}), 10);
        assertThat(buffer.full()).isTrue();

        float[] mean = buffer.settings().mean(aggregate, 0);
        buffer.drain(11);

        double[] weights = {1, 1 / Math.sqrt(2), 1 / Math.sqrt(4)};
        assertThat((double) mean[0]).isCloseTo((weights[0] * 1 - weights[1] * 4 + weights[2] * 2) / 3, within(1e-6));
        assertThat((double) mean[1]).isCloseTo((weights[0] * 2 + weights[2] * 2) / 3, within(1e-6));
        assertThat(buffer.buffered()).as("drained").isZero();
    }

    @Test
    void anUpdateStalerThanTheBoundIsDroppedAndOneFromTheSameClientAndBaseIsCountedOnce() {
        FedBuffBuffer buffer = new FedBuffBuffer(THREE_UPDATES_FOUR_VERSIONS, 1);

        assertThat(buffer.offer(update("a", 5, new float[] {1}), 10)).isEqualTo(Offer.STALE);
        assertThat(buffer.offer(update("a", 6, new float[] {1}), 10)).as("exactly at the bound").isEqualTo(Offer.COUNTED);
        assertThat(buffer.offer(update("a", 6, new float[] {1}), 10)).isEqualTo(Offer.DUPLICATE);
        assertThat(buffer.offer(update("a", 8, new float[] {1}), 10)).as("the same client from a newer base")
                .isEqualTo(Offer.COUNTED);
        assertThat(buffer.offer(update("b", 11, new float[] {1}), 10)).isEqualTo(Offer.FROM_THE_FUTURE);
        assertThat(buffer.offer(update("b", 10, new float[] {Float.NaN}), 10)).isEqualTo(Offer.MALFORMED);
        assertThat(buffer.buffered()).isEqualTo(2);
    }

    @Test
    void aDuplicateIsRecognisedAcrossDrainsWhileItsBaseCanStillBeTaken() {
        FedBuffBuffer buffer = new FedBuffBuffer(new FedBuffBuffer.Settings(1, 4, null), 1);
        buffer.offer(update("a", 10, new float[] {1}), 10);
        buffer.drain(11);

        assertThat(buffer.offer(update("a", 10, new float[] {1}), 11)).isEqualTo(Offer.DUPLICATE);
    }

    private static void offer(FedBuffBuffer buffer, Aggregate aggregate, ModelUpdate update, long version) {
        assertThat(buffer.offer(update, version)).isEqualTo(Offer.COUNTED);
        aggregate.add(update.delta(), FedBuffBuffer.stalenessWeight(version - update.baseVersion()));
    }

    private static ModelUpdate update(String client, long baseVersion, float[] delta) {
        return new ModelUpdate("m", client, -1, baseVersion, 1, 0, delta);
    }
}
