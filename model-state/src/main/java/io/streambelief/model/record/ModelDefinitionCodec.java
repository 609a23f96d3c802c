package io.streambelief.model.record;

import java.nio.ByteBuffer;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.RowOptimizer;
import io.streambelief.model.sparse.SparseDefinition;
import io.streambelief.model.sparse.WideDeepSpec;

/**
 * Binary form of {@link ModelDefinition}, in the {@link Frame} envelope. Format 1: model id, spec
 * source, DL4J JSON and shard size. Format 2 adds a flag byte and, for a sparse model, the schema's
 * source and JSON, the wide &amp; deep preset, the row optimizers and the table's seed.
 */
public final class ModelDefinitionCodec {
    private static final Frame FRAME = new Frame("ModelDefinition", (byte) 'M', (byte) 2);

    private ModelDefinitionCodec() {}

    public static byte[] encode(ModelDefinition definition) {
        ModelSpec spec = definition.spec();
        int size = Frame.stringSize(definition.modelId()) + Frame.stringSize(spec.source())
                + Frame.stringSize(spec.dl4jJson()) + 4 + 1;
        SparseDefinition sparse = definition.sparse();
        if (sparse != null) {
            size += Frame.stringSize(sparse.schemaSource()) + Frame.stringSize(sparse.schemaJson())
                    + Frame.stringSize(sparse.model().toString()) + Frame.stringSize(sparse.table().wideOptimizer().toString())
                    + Frame.stringSize(sparse.table().deepOptimizer().toString()) + 8;
        }
        ByteBuffer buffer = FRAME.begin(size);
        Frame.putString(buffer, definition.modelId());
        Frame.putString(buffer, spec.source());
        Frame.putString(buffer, spec.dl4jJson());
        buffer.putInt(definition.shardSize());
        buffer.put((byte) (sparse == null ? 0 : 1));
        if (sparse != null) {
            Frame.putString(buffer, sparse.schemaSource());
            Frame.putString(buffer, sparse.schemaJson());
            Frame.putString(buffer, sparse.model().toString());
            Frame.putString(buffer, sparse.table().wideOptimizer().toString());
            Frame.putString(buffer, sparse.table().deepOptimizer().toString());
            buffer.putLong(sparse.table().seed());
        }
        return FRAME.seal(buffer);
    }

    public static ModelDefinition decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            String modelId = Frame.getString(body);
            String source = Frame.getString(body);
            String json = Frame.getString(body);
            int shardSize = body.getInt();
            SparseDefinition sparse = null;
            try {
                if (body.hasRemaining() && body.get() == 1) {
                    String schemaSource = Frame.getString(body);
                    String schemaJson = Frame.getString(body);
                    WideDeepSpec model = WideDeepSpec.parse(Frame.getString(body));
                    RowOptimizer wide = RowOptimizer.parse(Frame.getString(body));
                    RowOptimizer deep = RowOptimizer.parse(Frame.getString(body));
                    sparse = new SparseDefinition(schemaSource, schemaJson, model,
                            new EmbeddingTable(model.dim(), wide, deep, body.getLong()));
                }
                return new ModelDefinition(modelId, ModelSpec.of(source, json), shardSize, sparse);
            } catch (IllegalArgumentException e) {
                throw new RecordFormatException("ModelDefinition record holds an invalid model: " + e.getMessage());
            }
        });
    }
}
