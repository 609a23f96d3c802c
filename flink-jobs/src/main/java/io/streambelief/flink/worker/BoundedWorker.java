package io.streambelief.flink.worker;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.model.Example;
import io.streambelief.model.record.GradientSlice;

/**
 * A worker of the SSP and BSP modes: it reads examples only, and follows model-params with a
 * consumer of its own ({@link ParameterFollower}), whose records reach it as mails of the task's
 * mailbox. When a full mini-batch must wait for more recent parameters, the worker yields to the
 * mailbox — processing parameter updates, timers and checkpoint barriers — and takes no more
 * examples meanwhile: Flink's backpressure holds the rest. This is how Flink's own
 * {@code AsyncWaitOperator} waits; an operator choosing its inputs ({@code InputSelectable})
 * would be simpler, but Flink does not checkpoint jobs that have one.
 *
 * <p>The job runs these modes with unaligned checkpoints: a barrier must overtake the examples
 * held behind a waiting worker, and must not make the parameter servers wait for it.
 */
public final class BoundedWorker extends BaseWorker
        implements OneInputStreamOperator<Example, GradientSlice>, BoundedOneInput {
    private static final long serialVersionUID = 1L;

    private transient MailboxExecutor mailbox;
    private transient ParameterFollower follower;

    public BoundedWorker(TrainingConfig config) {
        super(config);
    }

    @Override
    public void open() throws Exception {
        mailbox = getContainingTask().getMailboxExecutorFactory()
                .createExecutor(getOperatorConfig().getChainIndex());
        follower = new ParameterFollower(config, getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), mailbox,
                restored(), this::onParameters);
        follower.start();
        super.open();
    }

    @Override
    public void processElement(StreamRecord<Example> element) throws Exception {
        onExample(element.getValue());
    }

    @Override
    protected void awaitBound() throws InterruptedException {
        while (!mayTrain()) {
            follower.check();
            mailbox.yield();
        }
    }

    @Override
    public void endInput() {
        flush();
    }

    @Override
    public void close() throws Exception {
        if (follower != null) {
            follower.close();
        }
        super.close();
    }
}
