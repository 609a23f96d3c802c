package io.streambelief.model.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Binary forms of the embedding-row records (in the {@link Frame} envelope), and their Kafka
 * keys: a gradient by {@code <modelId>/} and its id's 8 bytes, so that Kafka's partitioner sends
 * every gradient of a row to the same partition and a reader can skip other models' cheaply; a
 * published row by {@code <modelId>/rows/<hex id>}. Format 2 of each appends the sum and the xor
 * of the examples' {@link ExampleDigest} (whose count the record holds already); format 1 records
 * read with the count alone. Format 3 of a published row appends its gradients' creation time
 * ({@link RowUpdate#gradientMillis}); earlier ones read with 0 (unknown).
 */
public final class RowCodecs {
    private static final Frame GRADIENT = new Frame("RowGradient", (byte) 'g', (byte) 2);
    private static final Frame UPDATE = new Frame("RowUpdate", (byte) 'R', (byte) 3);

    private RowCodecs() {}

    public static byte[] encode(RowGradient gradient) {
        ByteBuffer buffer = GRADIENT.begin(8 + 4 + 4 + 4 * gradient.values().length + 8 + 8);
        buffer.putLong(gradient.id()).putInt(Math.toIntExact(gradient.examples().count()));
        Frame.putFloats(buffer, gradient.values());
        putHashes(buffer, gradient.examples());
        return GRADIENT.seal(buffer);
    }

    public static RowGradient decodeGradient(byte[] bytes) {
        return GRADIENT.read(bytes, body -> {
            long id = body.getLong();
            int examples = body.getInt();
            float[] values = Frame.getFloats(body);
            return new RowGradient(id, getDigest(body, examples), values);
        });
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
        ByteBuffer buffer = UPDATE.begin(Frame.stringSize(update.modelId()) + 8 + 8 + 8 + 4 + 4 * update.values().length
                + 8 + 8 + 8);
        Frame.putString(buffer, update.modelId());
        buffer.putLong(update.id()).putLong(update.examplesApplied()).putLong(update.timestampMillis());
        Frame.putFloats(buffer, update.values());
        putHashes(buffer, update.examples());
        buffer.putLong(update.gradientMillis());
        return UPDATE.seal(buffer);
    }

    public static RowUpdate decodeUpdate(byte[] bytes) {
        return UPDATE.read(bytes, body -> {
            String modelId = Frame.getString(body);
            long id = body.getLong();
            long examples = body.getLong();
            long timestamp = body.getLong();
            float[] values = Frame.getFloats(body);
            ExampleDigest digest = getDigest(body, examples);
            return new RowUpdate(modelId, id, digest, timestamp, body.hasRemaining() ? body.getLong() : 0, values);
        });
    }

    private static void putHashes(ByteBuffer buffer, ExampleDigest examples) {
        buffer.putLong(examples.sum()).putLong(examples.xor());
    }

    /** The digest of {@code count} examples: with the hashes a format-2 body ends with, without for format 1. */
    private static ExampleDigest getDigest(ByteBuffer body, long count) {
        return body.hasRemaining() ? new ExampleDigest(count, body.getLong(), body.getLong())
                : ExampleDigest.ofCount(count);
    }

    public static byte[] updateKey(String modelId, long id) {
        return (modelId + "/rows/" + Long.toHexString(id)).getBytes(StandardCharsets.UTF_8);
    }
}
