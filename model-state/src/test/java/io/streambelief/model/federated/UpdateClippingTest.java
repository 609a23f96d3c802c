package io.streambelief.model.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class UpdateClippingTest {

    @Test
    void everyClippedUpdateIsWithinTheNormAndKeepsItsDirection() {
        SplittableRandom random = new SplittableRandom(3);
        for (int trial = 0; trial < 1_000; trial++) {
            float[] update = new float[1 + random.nextInt(500)];
            double scale = Math.pow(10, random.nextDouble(-3, 4));
            for (int i = 0; i < update.length; i++) {
                update[i] = (float) (scale * (random.nextDouble() - 0.5));
            }
            double maxNorm = random.nextDouble(0.01, 10);

            float[] clipped = UpdateClipping.clip(update, maxNorm);

            double norm = UpdateClipping.l2Norm(update);
            assertThat(UpdateClipping.l2Norm(clipped)).as("trial %d", trial).isLessThanOrEqualTo(maxNorm);
            if (norm <= maxNorm) {
                assertThat(clipped).as("an update within the norm is left as it is").isEqualTo(update);
            } else {
                assertThat(UpdateClipping.l2Norm(clipped)).isCloseTo(maxNorm, within(maxNorm * 1e-5));
                double cosine = 0;
                for (int i = 0; i < update.length; i++) {
                    cosine += (double) update[i] * clipped[i];
                }
                cosine /= norm * UpdateClipping.l2Norm(clipped);
                assertThat(cosine).as("same direction").isCloseTo(1, within(1e-5));
            }
        }
    }

    @Test
    void theNormMustBePositive() {
        assertThatThrownBy(() -> UpdateClipping.clip(new float[] {1}, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> UpdateClipping.clip(new float[] {1}, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
