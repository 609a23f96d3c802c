package io.streambelief.flink.parse;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.util.Collector;

import io.streambelief.flink.io.RowRequest;
import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;
import io.streambelief.model.sparse.SparseExample;

/**
 * Turns raw records into sparse examples and explodes each into one {@link RowRequest} per slot,
 * all naming the worker that will assemble it. The example's id is its place in the topic
 * (partition and offset), so a replayed record becomes the same example with the same worker.
 * What does not parse goes to the dead-letter side output ({@link DeadLetters}) with its reason and is counted.
 */
public final class ParseSparseExamples extends ParseRecords<SparseExample, RowRequest> {
    private static final long serialVersionUID = 1L;
    private static final int OFFSET_BITS = 44;

    private final FeatureSchema schema;
    private final int workers;
    private final int maxBytes;
    private transient SparseExampleParser parser;

    public ParseSparseExamples(FeatureSchema schema, int workers, int maxBytes) {
        this.schema = schema;
        this.workers = workers;
        this.maxBytes = maxBytes;
    }

    @Override
    public void open(OpenContext context) {
        super.open(context);
        parser = new SparseExampleParser(schema, maxBytes);
    }

    @Override
    SparseExample parse(byte[] value) throws MalformedExampleException {
        return parser.parse(value);
    }

    @Override
    void emit(RawRecord record, SparseExample example, Collector<RowRequest> out) {
        long exampleId = ((long) record.partition() << OFFSET_BITS) | record.offset();
        int worker = Math.floorMod(Long.hashCode(exampleId * 0x9e3779b97f4a7c15L), workers);
        long[] ids = example.ids();
        for (int slot = 0; slot < ids.length; slot++) {
            out.collect(new RowRequest(ids[slot], exampleId, worker, slot, slot == 0 ? example : null));
        }
    }
}
