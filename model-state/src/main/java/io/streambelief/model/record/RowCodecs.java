package io.streambelief.model.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Binary forms of the embedding-row records (format 1 each, in the {@link Frame} envelope), and
 * their Kafka keys: a gradient by {@code <modelId>/} and its id's 8 bytes, so that Kafka's
 * partitioner sends every gradient of a row to the same partition and a reader can skip other
 * models' cheaply; a published row by {@code <modelId>/rows/<hex id>}.
 */
public final class RowCodecs {
    private static final Frame GRADIENT = new Frame("RowGradient", (byte) 'g', (byte) 1);
    private static final Frame UPDATE = new Frame("RowUpdate", (byte) 'R', (byte) 1);

    private RowCodecs() {}

    public static byte[] encode(RowGradient gradient) {
        ByteBuffer buffer = GRADIENT.begin(8 + 4 + 4 + 4 * gradient.values().length);
        buffer.putLong(gradient.id()).putInt(gradient.examples());
        Frame.putFloats(buffer, gradient.values());
        return GRADIENT.seal(buffer);
    }

    public static RowGradient decodeGradient(byte[] bytes) {
        return GRADIENT.read(bytes, body -> new RowGradient(body.getLong(), body.getInt(), Frame.getFloats(body)));
    }

    public static byte[] gradientKey(String modelId, long id) {
        byte[] prefix = (modelId + "/").getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(id).array();
    }

    /** Whether a gradient key is of {@code modelId} (whose prefix is {@code modelId + "/"} in UTF-8). */
    public static boolean isGradientKeyOf(byte[] key, byte[] modelPrefix) {
        return key != null && key.length == modelPrefix.length + 8
                && java.util.Arrays.equals(key, 0, modelPrefix.length, modelPrefix, 0, modelPrefix.length);
    }

    public static byte[] encode(RowUpdate update) {
        ByteBuffer buffer = UPDATE.begin(Frame.stringSize(update.modelId()) + 8 + 8 + 8 + 4 + 4 * update.values().length);
        Frame.putString(buffer, update.modelId());
        buffer.putLong(update.id()).putLong(update.examplesApplied()).putLong(update.timestampMillis());
        Frame.putFloats(buffer, update.values());
        return UPDATE.seal(buffer);
    }

    public static RowUpdate decodeUpdate(byte[] bytes) {
        return UPDATE.read(bytes, body -> new RowUpdate(Frame.getString(body), body.getLong(), body.getLong(),
                body.getLong(), Frame.getFloats(body)));
    }

    public static byte[] updateKey(String modelId, long id) {
        return (modelId + "/rows/" + Long.toHexString(id)).getBytes(StandardCharsets.UTF_8);
    }
}
