package io.streambelief.flink.parse;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.streambelief.kafka.example.ExampleParser;
import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.model.Example;

/**
 * Turns raw records of the examples topic into examples for the model; every record that is not
 * one (unparseable, wrong size, bad label, NaN, empty, oversized) goes to the dead-letter side
 * output ({@link DeadLetters}) with its reason and is counted, and training goes on.
 */
public final class ParseExamples extends ProcessFunction<RawRecord, Example> {
    private static final long serialVersionUID = 1L;

    private final int numFeatures;
    private final int numLabels;
    private final int maxBytes;
    private transient ExampleParser parser;
    private transient Counter parsed;
    private transient Counter deadLetters;

    public ParseExamples(int numFeatures, int numLabels, int maxBytes) {
        this.numFeatures = numFeatures;
        this.numLabels = numLabels;
        this.maxBytes = maxBytes;
    }

    @Override
    public void open(OpenContext context) {
        parser = new ExampleParser(numFeatures, numLabels, maxBytes);
        parsed = getRuntimeContext().getMetricGroup().counter("examplesParsed");
        deadLetters = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(RawRecord record, Context context, Collector<Example> out) {
        Example example;
        try {
            example = parser.parse(record.value());
        } catch (MalformedExampleException e) {
            deadLetters.inc();
            context.output(DeadLetters.OUTPUT, DeadLetters.of(record, e));
            return;
        }
        parsed.inc();
        out.collect(example);
    }
}
