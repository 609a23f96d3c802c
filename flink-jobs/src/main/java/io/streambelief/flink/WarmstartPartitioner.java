package io.streambelief.flink;

import org.apache.flink.api.common.functions.Partitioner;

import io.streambelief.model.Example;

/**
 * DistBelief's warmstart: the first examples all go to worker 0, so the model's first steps are
 * plain sequential SGD (its replica then equals the parameter servers' state at every step); after
 * that, examples go to the workers in turn. Each upstream subtask counts its own share of the
 * warmstart examples.
 */
final class WarmstartPartitioner implements Partitioner<Example> {
    private static final long serialVersionUID = 1L;

    private final long warmupPerSubtask;
    private long seen;
    private int next;

    WarmstartPartitioner(long warmstartExamples, int upstreamSubtasks) {
        this.warmupPerSubtask = (warmstartExamples + upstreamSubtasks - 1) / upstreamSubtasks;
    }

    @Override
    public int partition(Example example, int workers) {
        if (seen < warmupPerSubtask) {
            seen++;
            return 0;
        }
        next = next + 1 < workers ? next + 1 : 0;
        return next;
    }
}
