package io.streambelief.model.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.streambelief.model.compression.ErrorFeedback;

class GradientSliceCodecTest {
    private static final int LENGTH = 65_536;
    private final Random random = new Random(2);

    @Test
    void aDenseGradientRoundTripsBitForBit() {
        float[] values = new float[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            values[i] = (float) random.nextGaussian();
        }
        values[7] = Float.MIN_VALUE;
        values[8] = -0f;

        GradientSlice slice = roundTrip(new GradientSlice(3, 1, 42, 17, 32, values));

        assertThat(Float.floatToRawIntBits(slice.values()[8])).isEqualTo(Float.floatToRawIntBits(-0f));
        assertThat(GradientSliceCodec.encodedSize(slice)).isGreaterThan(4 * LENGTH);
    }

    @Test
    void aSparseGradientSendsItsEntriesOnly() {
        float[] values = sparse(655, false);

        GradientSlice slice = roundTrip(new GradientSlice(0, 0, 1, 0, 32, values));

        // 655 entries: a 1-byte gap for most (about 100 apart), 4-byte values, and the header.
        assertThat(GradientSliceCodec.encodedSize(slice)).isBetween(655 * 5, 655 * 6 + 64);
    }

    @Test
    void bfloat16ValuesTakeTwoBytesEach() {
        float[] values = sparse(655, true);

        GradientSlice slice = roundTrip(new GradientSlice(0, 0, 1, 0, 32, values));

        assertThat(GradientSliceCodec.encodedSize(slice)).isBetween(655 * 3, 655 * 4 + 64);
        float[] dense = new float[1000];
        Arrays.fill(dense, 1.5f);
        assertThat(GradientSliceCodec.encodedSize(roundTrip(new GradientSlice(0, 0, 1, 0, 32, dense))))
                .as("dense, and bfloat16").isLessThan(2 * 1000 + 64);
    }

    /** A compressed push's slices arrive at the codec as index lists: the bytes must be those of the same gradient dense. */
    @Test
    void aSliceHeldAsEntriesEncodesToTheSameBytesAsItsDenseForm() {
        for (boolean bfloat16 : new boolean[] {true, false}) {
            float[] values = sparse(655, bfloat16);
            int[] indices = java.util.stream.IntStream.range(0, LENGTH).filter(i -> values[i] != 0f).toArray();
            float[] entries = new float[indices.length];
            for (int n = 0; n < indices.length; n++) {
                entries[n] = values[indices[n]];
            }
            GradientSlice held = GradientSlice.sparse(2, 1, 9, 4, 32, LENGTH, indices, entries);
            GradientSlice dense = new GradientSlice(2, 1, 9, 4, 32, values);

            assertThat(GradientSliceCodec.encode(held)).isEqualTo(GradientSliceCodec.encode(dense));
            assertThat(roundTrip(held)).isEqualTo(dense);
        }
        float[] all = new float[10];
        Arrays.fill(all, 0.5f);
        GradientSlice full = GradientSlice.sparse(0, 0, 1, 0, 32, 10, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, all);
        assertThat(GradientSliceCodec.encode(full)).as("every entry: cheaper dense")
                .isEqualTo(GradientSliceCodec.encode(new GradientSlice(0, 0, 1, 0, 32, all)));
    }

    @Test
    void aSliceHeldAsEntriesMustListAscendingIndicesWithinTheShard() {
        assertThatThrownBy(() -> GradientSlice.sparse(0, 0, 1, 0, 32, 10, new int[] {3, 3}, new float[2]))
                .hasMessageContaining("ascend");
        assertThatThrownBy(() -> GradientSlice.sparse(0, 0, 1, 0, 32, 10, new int[] {10}, new float[1]))
                .hasMessageContaining("ascend");
    }

    @Test
    void anEmptyOrAllZeroSliceRoundTrips() {
        roundTrip(new GradientSlice(0, 0, 1, 0, 32, new float[0]));
        roundTrip(new GradientSlice(0, 0, 1, 0, 32, new float[100]));
    }

    @Test
    void truncatedOrForeignBytesAreRefusedWithAFormatError() {
        byte[] bytes = GradientSliceCodec.encode(new GradientSlice(0, 0, 1, 0, 32, sparse(100, false)));

        assertThatThrownBy(() -> GradientSliceCodec.decode(Arrays.copyOf(bytes, bytes.length - 3)))
                .isInstanceOf(RecordFormatException.class).hasMessageContaining("truncated");
        byte[] foreign = bytes.clone();
        foreign[0] = 'P';
        assertThatThrownBy(() -> GradientSliceCodec.decode(foreign)).hasMessageContaining("Not a GradientSlice");
        byte[] newer = bytes.clone();
        newer[1] = 9;
        assertThatThrownBy(() -> GradientSliceCodec.decode(newer)).hasMessageContaining("format version 9");
    }

    private float[] sparse(int entries, boolean bfloat16) {
        float[] values = new float[LENGTH];
        for (int n = 0; n < entries; n++) {
            float v = (float) random.nextGaussian() + 0.001f;
            values[random.nextInt(LENGTH)] = bfloat16 ? ErrorFeedback.toBfloat16(v) : v;
        }
        return values;
    }

    private static GradientSlice roundTrip(GradientSlice slice) {
        byte[] bytes = GradientSliceCodec.encode(slice);
        assertThat(bytes).hasSize(GradientSliceCodec.encodedSize(slice));
        GradientSlice decoded = GradientSliceCodec.decode(bytes);
        assertThat(decoded).isEqualTo(slice);
        return decoded;
    }
}
