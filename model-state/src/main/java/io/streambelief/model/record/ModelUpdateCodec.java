package io.streambelief.model.record;

import java.nio.ByteBuffer;

/**
 * Binary form of {@link ModelUpdate} (format 1): model id, client id, round, base version,
 * examples, timestamp, then the delta as a length and big-endian floats, in the {@link Frame}
 * envelope.
 */
public final class ModelUpdateCodec {
    private static final Frame FRAME = new Frame("ModelUpdate", (byte) 'U', (byte) 1);

    private ModelUpdateCodec() {}

    public static byte[] encode(ModelUpdate update) {
        ByteBuffer buffer = FRAME.begin(Frame.stringSize(update.modelId()) + Frame.stringSize(update.clientId())
                + 8 * 4 + 4 + 4 * update.delta().length);
        Frame.putString(buffer, update.modelId());
        Frame.putString(buffer, update.clientId());
        buffer.putLong(update.round()).putLong(update.baseVersion()).putLong(update.examples())
                .putLong(update.timestampMillis());
        Frame.putFloats(buffer, update.delta());
        return FRAME.seal(buffer);
    }

    /** @throws RecordFormatException if the bytes are not a well-formed update */
    public static ModelUpdate decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            String modelId = Frame.getString(body);
            String clientId = Frame.getString(body);
            long round = body.getLong();
            long baseVersion = body.getLong();
            long examples = body.getLong();
            long timestamp = body.getLong();
            float[] delta = Frame.getFloats(body);
            try {
                return new ModelUpdate(modelId, clientId, round, baseVersion, examples, timestamp, delta);
            } catch (IllegalArgumentException e) {
                throw new RecordFormatException("ModelUpdate record: " + e.getMessage());
            }
        });
    }
}
