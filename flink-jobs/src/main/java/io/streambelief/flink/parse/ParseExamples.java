package io.streambelief.flink.parse;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.util.Collector;

import io.streambelief.kafka.example.ExampleParser;
import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.model.Example;

/**
 * Turns raw records of the examples topic into examples for the model; every record that is not
 * one (unparseable, wrong size, bad label, NaN, empty, oversized) goes to the dead-letter side
 * output ({@link DeadLetters}) with its reason and is counted, and training goes on.
 */
public final class ParseExamples extends ParseRecords<Example, Example> {
    private static final long serialVersionUID = 1L;

    private final int numFeatures;
    private final int numLabels;
    private final int maxBytes;
    private transient ExampleParser parser;

    public ParseExamples(int numFeatures, int numLabels, int maxBytes) {
        this.numFeatures = numFeatures;
        this.numLabels = numLabels;
        this.maxBytes = maxBytes;
    }

    @Override
    public void open(OpenContext context) {
        super.open(context);
        parser = new ExampleParser(numFeatures, numLabels, maxBytes);
    }

    @Override
    Example parse(byte[] value) throws MalformedExampleException {
        return parser.parse(value);
    }

    @Override
    void emit(RawRecord record, Example example, Collector<Example> out) {
        out.collect(example);
    }
}
