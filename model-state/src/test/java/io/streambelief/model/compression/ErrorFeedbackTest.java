package io.streambelief.model.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.streambelief.model.ParameterLayout;

class ErrorFeedbackTest {
    /** 250 parameters in shards of 100, 100 and 50. */
    private static final ParameterLayout LAYOUT = new ParameterLayout(250, 100);

    private final Random random = new Random(11);

    @Test
    void whatIsSentPlusTheResidualIsAlwaysTheSumOfEveryGradient() {
        ErrorFeedback feedback = new ErrorFeedback(new GradientCompression(0.05, true), LAYOUT);
        double[] given = new double[250];
        double[] sent = new double[250];
        for (int step = 0; step < 500; step++) {
            float[] gradient = gaussian(250, 1 + step % 7);
            add(given, gradient);
            add(sent, feedback.compress(gradient).values());

            float[] residual = feedback.residual();
            for (int i = 0; i < 250; i++) {
                // Float sums of 500 steps: the tolerance is rounding, not anything dropped.
                assertThat(sent[i] + residual[i]).as("entry %d after step %d", i, step)
                        .isCloseTo(given[i], org.assertj.core.data.Offset.offset(1e-3 * (1 + Math.abs(given[i]))));
            }
        }
        add(sent, feedback.drain(new float[250]).values());
        assertThat(feedback.hasResidual()).isFalse();
        for (int i = 0; i < 250; i++) {
            assertThat(sent[i]).isCloseTo(given[i], org.assertj.core.data.Offset.offset(1e-3 * (1 + Math.abs(given[i]))));
        }
    }

    @Test
    void eachPushSendsExactlyTheLargestEntriesOfEveryShard() {
        ErrorFeedback feedback = new ErrorFeedback(new GradientCompression(0.05, false), LAYOUT);
        float[] gradient = gaussian(250, 1);

        float[] sent = feedback.compress(gradient).values();

        for (int shard = 0; shard < 3; shard++) {
            float[] kept = LAYOUT.slice(sent, shard);
            float[] all = LAYOUT.slice(gradient, shard);
            int k = shard < 2 ? 5 : 3;
            float smallestSent = Float.MAX_VALUE;
            int count = 0;
            for (int i = 0; i < kept.length; i++) {
                if (kept[i] != 0f) {
                    assertThat(kept[i]).isEqualTo(all[i]);
                    smallestSent = Math.min(smallestSent, Math.abs(kept[i]));
                    count++;
                }
            }
            assertThat(count).as("shard %d", shard).isEqualTo(k);
            for (int i = 0; i < kept.length; i++) {
                if (kept[i] == 0f) {
                    assertThat(Math.abs(all[i])).isLessThanOrEqualTo(smallestSent);
                }
            }
        }
    }

    /** Large shards, mostly zeros (dead ReLUs) and many ties: the sampled threshold must not change what is sent. */
    @Test
    void largeShardsWithZerosAndTiesStillSendExactlyTheLargest() {
        ParameterLayout layout = new ParameterLayout(3 * 65_536, 65_536);
        for (int trial = 0; trial < 20; trial++) {
            ErrorFeedback feedback = new ErrorFeedback(new GradientCompression(0.01, false), layout);
            float[] gradient = new float[layout.numParams()];
            for (int i = 0; i < gradient.length; i++) {
                int kind = random.nextInt(10);
                gradient[i] = kind < 6 ? 0f : kind < 8 ? 0.25f * (random.nextBoolean() ? 1 : -1)
                        : (float) random.nextGaussian() * (trial % 3 == 0 ? 1e-3f : 1f);
            }
            ErrorFeedback.Sent pushed = feedback.compress(gradient);
            float[] sent = pushed.values();
            for (int shard = 0; shard < 3; shard++) {
                float[] kept = layout.slice(sent, shard);
                assertThat(pushed.indices()[shard]).as("the index list of what is sent, ascending")
                        .containsExactly(nonZeroIndices(kept));
                assertThat(pushed.entries(layout, shard)).containsExactly(valuesAt(kept, nonZeroIndices(kept)));
                float[] all = layout.slice(gradient, shard);
                float smallestSent = Float.MAX_VALUE;
                float largestKept = 0;
                for (int i = 0; i < kept.length; i++) {
                    if (kept[i] != 0f) {
                        smallestSent = Math.min(smallestSent, Math.abs(kept[i]));
                    } else {
                        largestKept = Math.max(largestKept, Math.abs(all[i]));
                    }
                }
                assertThat(nonZeros(kept)).as("trial %d shard %d", trial, shard).isEqualTo(656);
                assertThat(largestKept).isLessThanOrEqualTo(smallestSent);
            }
        }
    }

    @Test
    void tiesAtTheThresholdStillSendExactlyK() {
        ErrorFeedback feedback = new ErrorFeedback(new GradientCompression(0.05, false), LAYOUT);
        float[] gradient = new float[250];
        Arrays.fill(gradient, 0.5f);

        ErrorFeedback.Sent pushed = feedback.compress(gradient);
        float[] sent = pushed.values();

        assertThat(pushed.indices()[0]).containsExactly(0, 1, 2, 3, 4);
        assertThat(nonZeros(LAYOUT.slice(sent, 0))).isEqualTo(5);
        assertThat(nonZeros(LAYOUT.slice(sent, 2))).isEqualTo(3);
    }

    @Test
    void bfloat16RoundingIsWithinHalfAUnitInItsEighthSignificantBit() {
        for (int n = 0; n < 100_000; n++) {
            float value = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(20) - 10));
            float rounded = ErrorFeedback.toBfloat16(value);
            assertThat(Float.floatToRawIntBits(rounded) & 0xFFFF).as("a bfloat16").isZero();
            assertThat((double) Math.abs(rounded - value)).as("%s", value)
                    .isLessThanOrEqualTo(Math.abs(value) * Math.pow(2, -8));
        }
        assertThat(ErrorFeedback.toBfloat16(1f)).isEqualTo(1f);
        assertThat(ErrorFeedback.toBfloat16(0f)).isEqualTo(0f);
    }

    @Test
    void withoutCompressionTheGradientPassesUntouchedAndNothingIsKept() {
        ErrorFeedback feedback = new ErrorFeedback(GradientCompression.NONE, LAYOUT);
        float[] gradient = gaussian(250, 1);

        ErrorFeedback.Sent pushed = feedback.compress(gradient);
        assertThat(pushed.values()).isSameAs(gradient);
        assertThat(pushed.isSparse()).as("whole shards").isFalse();
        assertThat(feedback.hasResidual()).isFalse();
    }

    @Test
    void restoredResidualsAreAddedUpSoThatARescaleLosesNone() {
        float[] a = gaussian(250, 1);
        float[] b = gaussian(250, 1);
        ErrorFeedback feedback = new ErrorFeedback(new GradientCompression(0.05, false), LAYOUT);

        feedback.restore(List.of(a, b));

        float[] residual = feedback.residual();
        for (int i = 0; i < 250; i++) {
            assertThat(residual[i]).isEqualTo(a[i] + b[i]);
        }
        assertThatThrownBy(() -> feedback.restore(List.of(new float[3]))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theSelectionFindsTheKthLargest() {
        for (int trial = 0; trial < 200; trial++) {
            int length = 1 + random.nextInt(300);
            float[] values = new float[length];
            for (int i = 0; i < length; i++) {
                values[i] = random.nextInt(4) == 0 ? 1f : random.nextFloat();
            }
            int k = 1 + random.nextInt(length);
            float[] sorted = values.clone();
            Arrays.sort(sorted);

            assertThat(ErrorFeedback.kthLargest(values, length, k)).isEqualTo(sorted[length - k]);
        }
    }

    @Test
    void densityOutsideItsRangeIsRefused() {
        assertThatThrownBy(() -> new GradientCompression(0, false)).hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> new GradientCompression(1.5, false)).hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> new GradientCompression(Double.NaN, false)).hasMessageContaining("(0, 1]");
    }

    private float[] gaussian(int n, double scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (scale * random.nextGaussian());
        }
        return values;
    }

    private static void add(double[] sum, float[] values) {
        for (int i = 0; i < sum.length; i++) {
            sum[i] += values[i];
        }
    }

    private static int nonZeros(float[] values) {
        int n = 0;
        for (float v : values) {
            n += v != 0f ? 1 : 0;
        }
        return n;
    }

    private static int[] nonZeroIndices(float[] values) {
        return java.util.stream.IntStream.range(0, values.length).filter(i -> values[i] != 0f).toArray();
    }

    private static float[] valuesAt(float[] values, int[] indices) {
        float[] at = new float[indices.length];
        for (int n = 0; n < indices.length; n++) {
            at[n] = values[indices[n]];
        }
        return at;
    }
}
