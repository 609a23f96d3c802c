package io.streambelief.model.record;

import java.nio.ByteBuffer;

/**
 * Binary form of {@link ParamUpdate} (format 1): model id, shard id, version, examples applied,
 * timestamp, then the values as big-endian floats, in the {@link Frame} envelope.
 */
public final class ParamUpdateCodec {
    private static final Frame FRAME = new Frame("ParamUpdate", (byte) 'P', (byte) 1);

    private ParamUpdateCodec() {}

    public static byte[] encode(ParamUpdate update) {
        int size = Frame.stringSize(update.modelId()) + 4 + 8 + 8 + 8 + 4 + 4 * update.values().length;
        ByteBuffer buffer = FRAME.begin(size);
        Frame.putString(buffer, update.modelId());
        buffer.putInt(update.shardId()).putLong(update.version()).putLong(update.examplesApplied())
                .putLong(update.timestampMillis());
        Frame.putFloats(buffer, update.values());
        return FRAME.seal(buffer);
    }

    public static ParamUpdate decode(byte[] bytes) {
        return FRAME.read(bytes, body -> new ParamUpdate(Frame.getString(body), body.getInt(), body.getLong(),
                body.getLong(), body.getLong(), Frame.getFloats(body)));
    }
}
