package io.streambelief.model.record;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * Binary form of {@link ReplicaState} (format 1): the values as big-endian floats, the optimizer
 * slots (count, then each like the values), the per-shard versions (count, then longs), the
 * per-shard acknowledged pushes (count, then each a count and longs), the last push and (format
 * 2) the worker's index, in the {@link Frame} envelope; format 1 reads with an unknown worker.
 *
 * <p>Workers checkpoint their replica in this form, as one byte array, rather than through
 * Flink's reflective POJO serializer: that one restores a float array four single-byte reads at a
 * time from an unbuffered checkpoint stream, which made a restored worker of a 235,000-parameter
 * model spend 13 s of its recovery reading its union state (every worker reads every replica).
 * A byte array is read in one piece.
 */
public final class ReplicaStateCodec {
    private static final Frame FRAME = new Frame("ReplicaState", (byte) 'W', (byte) 2);

    private ReplicaStateCodec() {}

    public static byte[] encode(ReplicaState state) {
        int size = 4 + 4 * state.values().length + 4 + 4 + 8 * state.versions().length + 4 + 8 + 4;
        for (float[] slot : state.slots()) {
            size += 4 + 4 * slot.length;
        }
        for (long[] acks : state.acks()) {
            size += 4 + 8 * acks.length;
        }
        ByteBuffer buffer = FRAME.begin(size);
        Frame.putFloats(buffer, state.values());
        buffer.putInt(state.slots().length);
        for (float[] slot : state.slots()) {
            Frame.putFloats(buffer, slot);
        }
        putLongs(buffer, state.versions());
        buffer.putInt(state.acks().length);
        for (long[] acks : state.acks()) {
            putLongs(buffer, acks);
        }
        buffer.putLong(state.lastPush()).putInt(state.worker());
        return FRAME.seal(buffer);
    }

    public static ReplicaState decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            float[] values = Frame.getFloats(body);
            float[][] slots = new float[count(body, 4)][];
            for (int i = 0; i < slots.length; i++) {
                slots[i] = Frame.getFloats(body);
            }
            long[] versions = getLongs(body);
            long[][] acks = new long[count(body, 4)][];
            for (int i = 0; i < acks.length; i++) {
                acks[i] = getLongs(body);
            }
            long lastPush = body.getLong();
            return new ReplicaState(values, slots, versions, acks, lastPush,
                    body.hasRemaining() ? body.getInt() : ReplicaState.UNKNOWN_WORKER);
        });
    }

    private static void putLongs(ByteBuffer buffer, long[] values) {
        buffer.putInt(values.length);
        buffer.asLongBuffer().put(values);
        buffer.position(buffer.position() + 8 * values.length);
    }

    private static long[] getLongs(ByteBuffer buffer) {
        long[] values = new long[count(buffer, 8)];
        buffer.asLongBuffer().get(values);
        buffer.position(buffer.position() + 8 * values.length);
        return values;
    }

    /** A count of elements of at least {@code elementBytes} each, checked against what is left. */
    private static int count(ByteBuffer body, int elementBytes) {
        int count = body.getInt();
        if (count < 0 || (long) count * elementBytes > body.remaining()) {
            throw new BufferUnderflowException();
        }
        return count;
    }
}
