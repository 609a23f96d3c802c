package io.streambelief.flink.parse;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.streambelief.kafka.example.MalformedExampleException;

/**
 * The path the dense and the sparse parser share: a record that does not parse goes to the
 * dead-letter side output ({@link DeadLetters}) with its reason and is counted, and training goes
 * on; one that does is counted and handed on.
 *
 * @param <E> what a record parses into
 * @param <OUT> what the operator emits for it
 */
abstract class ParseRecords<E, OUT> extends ProcessFunction<RawRecord, OUT> {
    private static final long serialVersionUID = 1L;

    private transient Counter parsed;
    private transient Counter deadLetters;

    @Override
    public void open(OpenContext context) {
        parsed = getRuntimeContext().getMetricGroup().counter("examplesParsed");
        deadLetters = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    /** Called after {@link #open}; throws with the reason the dead letter will carry. */
    abstract E parse(byte[] value) throws MalformedExampleException;

    abstract void emit(RawRecord record, E parsedValue, Collector<OUT> out);

    @Override
    public final void processElement(RawRecord record, Context context, Collector<OUT> out) {
        E value;
        try {
            value = parse(record.value());
        } catch (MalformedExampleException e) {
            deadLetters.inc();
            context.output(DeadLetters.OUTPUT, DeadLetters.of(record, e));
            return;
        }
        parsed.inc();
        emit(record, value, out);
    }
}
