package io.streambelief.model.record;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * Binary form of {@link GradientSlice} (format 2), as it crosses the network from a worker to a
 * parameter server: type and version bytes, shard, worker, push, base version, examples, their
 * {@link ExampleDigest} (count, sum, xor), the shard's length, an encoding byte and the values.
 * The encoding is chosen per slice for the fewest bytes: the values dense or as (index gap,
 * value) pairs with varint gaps, and as 32-bit floats or, when every value is a bfloat16 already
 * (as compression rounds them), as their upper 16 bits. Decoding always gives the dense values
 * back, bit for bit (but for a negative zero, which a sparse encoding returns as zero).
 *
 * <p>No checksum, unlike our Kafka records: these bytes only travel inside Flink's network stack.
 */
public final class GradientSliceCodec {
    private static final byte TYPE = 'G';
    private static final byte VERSION = 2;
    private static final int SPARSE = 1;
    private static final int BFLOAT16 = 2;
    private static final int HEADER = 2 + 4 + 4 + 8 + 8 + 4 + ExampleDigest.BYTES + 4 + 1;

    private GradientSliceCodec() {}

    public static byte[] encode(GradientSlice slice) {
        Plan plan = Plan.of(slice);
        ByteBuffer buffer = ByteBuffer.allocate(HEADER + plan.bodySize());
        buffer.put(TYPE).put(VERSION).putInt(slice.shardId()).putInt(slice.worker()).putLong(slice.push())
                .putLong(slice.baseVersion()).putInt(slice.examples());
        slice.digest().putTo(buffer).putInt(slice.length()).put((byte) plan.encoding());
        if (plan.sparse()) {
            int[] indices;
            float[] entries;
            if (slice.isSparse()) {
                indices = slice.indices();
                entries = slice.entries();
            } else {
                float[] values = slice.values();
                indices = new int[plan.entries()];
                entries = new float[plan.entries()];
                int count = 0;
                for (int i = 0; i < values.length; i++) {
                    if (values[i] != 0f) {
                        indices[count] = i;
                        entries[count++] = values[i];
                    }
                }
            }
            buffer.putInt(indices.length);
            Varints.putGaps(buffer, indices);
            for (float v : entries) {
                putValue(buffer, v, plan.bfloat16());
            }
        } else if (!plan.bfloat16()) {
            buffer.asFloatBuffer().put(slice.values());
        } else {
            for (float v : slice.values()) {
                putValue(buffer, v, true);
            }
        }
        return buffer.array();
    }

    /** The size {@link #encode} gives, without encoding. */
    public static int encodedSize(GradientSlice slice) {
        return HEADER + Plan.of(slice).bodySize();
    }

    public static GradientSlice decode(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            if (in.get() != TYPE) {
                throw new RecordFormatException("Not a GradientSlice record: type byte " + (bytes[0] & 0xff));
            }
            int version = in.get();
            if (version != VERSION) {
                throw new RecordFormatException("GradientSlice record has format version " + version
                        + "; this build reads version " + VERSION);
            }
            int shard = in.getInt();
            int worker = in.getInt();
            long push = in.getLong();
            long baseVersion = in.getLong();
            int examples = in.getInt();
            ExampleDigest digest = ExampleDigest.getFrom(in);
            int length = in.getInt();
            int encoding = in.get();
            if (length < 0 || encoding < 0 || encoding > (SPARSE | BFLOAT16)) {
                throw new RecordFormatException("GradientSlice record has length " + length + ", encoding " + encoding);
            }
            boolean bfloat16 = (encoding & BFLOAT16) != 0;
            float[] values = new float[length];
            if ((encoding & SPARSE) != 0) {
                int count = in.getInt();
                if (count < 0 || count > length) {
                    throw new RecordFormatException("GradientSlice record has " + count + " entries for " + length);
                }
                for (int index : Varints.getGaps(in, count, length, "GradientSlice")) {
                    values[index] = getValue(in, bfloat16);
                }
            } else if (!bfloat16) {
                if (4L * length > in.remaining()) {
                    throw new BufferUnderflowException();
                }
                in.asFloatBuffer().get(values);
                in.position(in.position() + 4 * length);
            } else {
                for (int i = 0; i < length; i++) {
                    values[i] = getValue(in, true);
                }
            }
            if (in.hasRemaining()) {
                throw new RecordFormatException("GradientSlice record has " + in.remaining() + " trailing bytes");
            }
            return new GradientSlice(shard, worker, push, baseVersion, examples, values).withDigest(digest);
        } catch (BufferUnderflowException e) {
            throw new RecordFormatException("GradientSlice record is truncated");
        }
    }

    /**
     * The cheapest encoding of a slice and its body size. A sparse slice is planned from its
     * entries alone (one of them may be zero: it is sent as it is).
     */
    private record Plan(boolean sparse, boolean bfloat16, int entries, int bodySize) {
        static Plan of(GradientSlice slice) {
            boolean bfloat16 = true;
            int entries = 0;
            long gapBytes = 0;
            if (slice.isSparse()) {
                for (float v : slice.entries()) {
                    bfloat16 &= isBfloat16(v);
                }
                entries = slice.indices().length;
                gapBytes = Varints.gapsSize(slice.indices());
            } else {
                float[] values = slice.values();
                int previous = -1;
                for (int i = 0; i < values.length; i++) {
                    float v = values[i];
                    if (v != 0f) {
                        bfloat16 &= isBfloat16(v);
                        entries++;
                        gapBytes += Varints.size(i - previous);
                        previous = i;
                    }
                }
            }
            int width = bfloat16 ? 2 : 4;
            long sparseSize = 4 + gapBytes + (long) width * entries;
            long denseSize = (long) width * slice.length();
            return sparseSize < denseSize ? new Plan(true, bfloat16, entries, (int) sparseSize)
                    : new Plan(false, bfloat16, entries, (int) denseSize);
        }

        private static boolean isBfloat16(float v) {
            return (Float.floatToRawIntBits(v) & 0xFFFF) == 0;
        }

        int encoding() {
            return (sparse ? SPARSE : 0) | (bfloat16 ? BFLOAT16 : 0);
        }
    }

    private static void putValue(ByteBuffer buffer, float v, boolean bfloat16) {
        if (bfloat16) {
            buffer.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        } else {
            buffer.putFloat(v);
        }
    }

    private static float getValue(ByteBuffer in, boolean bfloat16) {
        return bfloat16 ? Float.intBitsToFloat((in.getShort() & 0xFFFF) << 16) : in.getFloat();
    }
}
