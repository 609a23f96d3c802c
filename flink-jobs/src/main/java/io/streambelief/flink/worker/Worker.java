package io.streambelief.flink.worker;

import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.model.Example;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamDelta;

/**
 * A Downpour SGD worker (async mode). Input 1 carries examples, input 2 every parameter delta of
 * the model (model-param-deltas, broadcast to all workers). It never waits, so both arrive
 * through Flink's inputs; the received parameter state is checkpointed with the delta source's
 * offsets, a consistent pair.
 */
public final class Worker extends BaseWorker
        implements TwoInputStreamOperator<Example, ParamDelta, GradientSlice>, BoundedMultiInput {
    private static final long serialVersionUID = 1L;

    public Worker(TrainingConfig config) {
        super(config);
    }

    @Override
    public void processElement1(StreamRecord<Example> element) throws Exception {
        onExample(element.getValue());
    }

    @Override
    public void processElement2(StreamRecord<ParamDelta> element) {
        onParameters(element.getValue());
    }

    @Override
    public void endInput(int inputId) {
        if (inputId == 1) {
            flush();
        }
    }
}
