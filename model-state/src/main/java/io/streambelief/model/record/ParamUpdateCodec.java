package io.streambelief.model.record;

import java.nio.ByteBuffer;

/**
 * Binary form of {@link ParamUpdate} (format 1): model id, shard id, version, examples applied,
 * timestamp, the values as big-endian floats, the optimizer slots (count, then each like the
 * values), the pushes applied (count, then longs), the values' moving average (like the
 * values; empty when there is none) and (format 2) the {@link ExampleDigest} of the examples
 * applied (count, sum, xor), in the {@link Frame} envelope. Format 1 records read with an empty
 * digest.
 */
public final class ParamUpdateCodec {
    private static final Frame FRAME = new Frame("ParamUpdate", (byte) 'P', (byte) 2);

    private ParamUpdateCodec() {}

    public static byte[] encode(ParamUpdate update) {
        ByteBuffer buffer = FRAME.begin(bodySize(update));
        Frame.putString(buffer, update.modelId());
        buffer.putInt(update.shardId()).putLong(update.version()).putLong(update.examplesApplied())
                .putLong(update.timestampMillis());
        Frame.putFloats(buffer, update.values());
        buffer.putInt(update.slots().length);
        for (float[] slot : update.slots()) {
            Frame.putFloats(buffer, slot);
        }
        buffer.putInt(update.pushesApplied().length);
        for (long push : update.pushesApplied()) {
            buffer.putLong(push);
        }
        Frame.putFloats(buffer, update.average());
        update.digest().putTo(buffer);
        return FRAME.seal(buffer);
    }

    /** The size {@link #encode} gives, without encoding. */
    public static int encodedSize(ParamUpdate update) {
        return Frame.HEADER + bodySize(update) + Frame.TRAILER;
    }

    private static int bodySize(ParamUpdate update) {
        int size = Frame.stringSize(update.modelId()) + 4 + 8 + 8 + 8 + 4 + 4 * update.values().length
                + 4 + 8 * update.pushesApplied().length + 4 + 4 + 4 * update.average().length + ExampleDigest.BYTES;
        for (float[] slot : update.slots()) {
            size += 4 + 4 * slot.length;
        }
        return size;
    }

    public static ParamUpdate decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            String modelId = Frame.getString(body);
            int shardId = body.getInt();
            long version = body.getLong();
            long examples = body.getLong();
            long timestamp = body.getLong();
            float[] values = Frame.getFloats(body);
            float[][] slots = new float[count(body, 4)][];
            for (int i = 0; i < slots.length; i++) {
                slots[i] = Frame.getFloats(body);
                if (slots[i].length != values.length) {
                    throw new RecordFormatException("ParamUpdate slot " + i + " has " + slots[i].length
                            + " values for a shard of " + values.length);
                }
            }
            long[] pushes = new long[count(body, 8)];
            for (int i = 0; i < pushes.length; i++) {
                pushes[i] = body.getLong();
            }
            float[] average = Frame.getFloats(body);
            if (average.length != 0 && average.length != values.length) {
                throw new RecordFormatException("ParamUpdate average has " + average.length + " values for a shard of "
                        + values.length);
            }
            ExampleDigest digest = body.hasRemaining() ? ExampleDigest.getFrom(body) : ExampleDigest.EMPTY;
            return new ParamUpdate(modelId, shardId, version, examples, timestamp, values, slots, pushes, average,
                    digest);
        });
    }

    /** A count of elements of at least {@code elementBytes} each, checked against what is left. */
    private static int count(ByteBuffer body, int elementBytes) {
        int count = body.getInt();
        if (count < 0 || (long) count * elementBytes > body.remaining()) {
            throw new java.nio.BufferUnderflowException();
        }
        return count;
    }
}
