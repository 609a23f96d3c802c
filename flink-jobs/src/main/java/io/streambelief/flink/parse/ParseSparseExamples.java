package io.streambelief.flink.parse;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.util.Collector;

import io.streambelief.flink.io.ParsedExample;
import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;
import io.streambelief.model.sparse.SparseExample;

/**
 * Turns raw records into sparse examples, each with an id that is its place in the topic
 * (partition and offset), so that a replayed record becomes the same example.
 * What does not parse goes to the dead-letter side output ({@link DeadLetters}) with its reason and is counted.
 */
public final class ParseSparseExamples extends ParseRecords<SparseExample, ParsedExample> {
    private static final long serialVersionUID = 1L;
    private static final int OFFSET_BITS = 44;

    private final FeatureSchema schema;
    private final int maxBytes;
    private transient SparseExampleParser parser;

    public ParseSparseExamples(FeatureSchema schema, int maxBytes) {
        this.schema = schema;
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
    void emit(RawRecord record, SparseExample example, Collector<ParsedExample> out) {
        out.collect(new ParsedExample(((long) record.partition() << OFFSET_BITS) | record.offset(), example));
    }
}
