package io.streambelief.model.record;

import java.nio.ByteBuffer;

import io.streambelief.model.ModelSpec;

/**
 * Binary form of {@link ModelDefinition} (format 1): model id, spec source, DL4J JSON and shard
 * size, in the {@link Frame} envelope.
 */
public final class ModelDefinitionCodec {
    private static final Frame FRAME = new Frame("ModelDefinition", (byte) 'M', (byte) 1);

    private ModelDefinitionCodec() {}

    public static byte[] encode(ModelDefinition definition) {
        ModelSpec spec = definition.spec();
        int size = Frame.stringSize(definition.modelId()) + Frame.stringSize(spec.source())
                + Frame.stringSize(spec.dl4jJson()) + 4;
        ByteBuffer buffer = FRAME.begin(size);
        Frame.putString(buffer, definition.modelId());
        Frame.putString(buffer, spec.source());
        Frame.putString(buffer, spec.dl4jJson());
        buffer.putInt(definition.shardSize());
        return FRAME.seal(buffer);
    }

    public static ModelDefinition decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            String modelId = Frame.getString(body);
            String source = Frame.getString(body);
            String json = Frame.getString(body);
            int shardSize = body.getInt();
            try {
                return new ModelDefinition(modelId, ModelSpec.of(source, json), shardSize);
            } catch (IllegalArgumentException e) {
                throw new RecordFormatException("ModelDefinition record holds an invalid model: " + e.getMessage());
            }
        });
    }
}
