package io.streambelief.model.record;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * Binary form of {@link ParamDelta} (format 1): model id, shard, version, base version, examples,
 * timestamp, length, the entry count (-1: full), the entries as varint index gaps, the values as
 * big-endian floats, the slots (count, then each like the values) and the pushes applied (count,
 * then longs), in the {@link Frame} envelope. Values are exact: a worker's replica must equal the
 * servers' state bit for bit.
 */
public final class ParamDeltaCodec {
    private static final Frame FRAME = new Frame("ParamDelta", (byte) 'D', (byte) 1);

    private ParamDeltaCodec() {}

    public static byte[] encode(ParamDelta delta) {
        ByteBuffer buffer = FRAME.begin(bodySize(delta));
        Frame.putString(buffer, delta.modelId());
        buffer.putInt(delta.shardId()).putLong(delta.version()).putLong(delta.baseVersion())
                .putLong(delta.examplesApplied()).putLong(delta.timestampMillis()).putInt(delta.length());
        int[] indices = delta.indices();
        buffer.putInt(indices == null ? -1 : indices.length);
        if (indices != null) {
            Varints.putGaps(buffer, indices);
        }
        buffer.asFloatBuffer().put(delta.values());
        buffer.position(buffer.position() + 4 * delta.values().length);
        buffer.putInt(delta.slots().length);
        for (float[] slot : delta.slots()) {
            buffer.asFloatBuffer().put(slot);
            buffer.position(buffer.position() + 4 * slot.length);
        }
        buffer.putInt(delta.pushesApplied().length);
        for (long push : delta.pushesApplied()) {
            buffer.putLong(push);
        }
        return FRAME.seal(buffer);
    }

    /** The size {@link #encode} gives, without encoding. */
    public static int encodedSize(ParamDelta delta) {
        return Frame.HEADER + bodySize(delta) + Frame.TRAILER;
    }

    private static int bodySize(ParamDelta delta) {
        int size = Frame.stringSize(delta.modelId()) + 4 + 8 + 8 + 8 + 8 + 4 + 4;
        if (delta.indices() != null) {
            size += Varints.gapsSize(delta.indices());
        }
        size += 4 * delta.values().length * (1 + delta.slots().length) + 4 + 4 + 8 * delta.pushesApplied().length;
        return size;
    }

    public static ParamDelta decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            String modelId = Frame.getString(body);
            int shardId = body.getInt();
            long version = body.getLong();
            long baseVersion = body.getLong();
            long examples = body.getLong();
            long timestamp = body.getLong();
            int length = body.getInt();
            int count = body.getInt();
            if (length < 0 || count < -1 || count > length || 4L * (count < 0 ? length : count) > body.remaining()) {
                throw new RecordFormatException("ParamDelta record has " + count + " entries of a shard of " + length);
            }
            int[] indices = count < 0 ? null : Varints.getGaps(body, count, length, "ParamDelta");
            int entries = count < 0 ? length : count;
            float[] values = floats(body, entries);
            int slotCount = body.getInt();
            if (slotCount < 0 || (long) slotCount * 4 * entries > body.remaining()) {
                throw new BufferUnderflowException();
            }
            float[][] slots = new float[slotCount][];
            for (int i = 0; i < slotCount; i++) {
                slots[i] = floats(body, entries);
            }
            int pushCount = body.getInt();
            if (pushCount < 0 || 8L * pushCount > body.remaining()) {
                throw new BufferUnderflowException();
            }
            long[] pushes = new long[pushCount];
            for (int i = 0; i < pushCount; i++) {
                pushes[i] = body.getLong();
            }
            return new ParamDelta(modelId, shardId, version, baseVersion, examples, timestamp, length, indices, values,
                    slots, pushes);
        });
    }

    private static float[] floats(ByteBuffer body, int n) {
        if (4L * n > body.remaining()) {
            throw new BufferUnderflowException();
        }
        float[] values = new float[n];
        body.asFloatBuffer().get(values);
        body.position(body.position() + 4 * n);
        return values;
    }
}
