package io.streambelief.flink.config;

import java.io.Serializable;
import java.util.Random;

/**
 * Deliberate failures, for testing fault tolerance: in each of the job's first {@code attempts}
 * executions, one operator fails after a random number of events, between the bounds and seeded
 * by the attempt, taking turns: the first worker after that many mini-batches; the first
 * parameter server after that many gradients; the first parameter server again, but when told
 * of the first checkpoint that completes after that many gradients — a checkpoint complete in
 * the JobManager whose Kafka transactions are being committed at that moment, which the
 * restore must then commit (or find committed) rather than lose. So the job restores from its
 * last checkpoint again and again at unplanned points. Never set in production; {@link #NONE}
 * is the default.
 */
public record FailureInjection(int attempts, int minEvents, int maxEvents, long seed) implements Serializable {

    public static final FailureInjection NONE = new FailureInjection(0, 1, 1, 0);

    /** Where the failures come, in turn. */
    public enum Operator { WORKER, PARAMETER_SERVER, CHECKPOINT_COMMIT }

    public FailureInjection {
        if (attempts < 0 || minEvents < 1 || maxEvents < minEvents) {
            throw new IllegalArgumentException("Failure injection needs attempts >= 0 and 1 <= min <= max events");
        }
    }

    /**
     * How many events (mini-batches, gradients) the given operator lives through in this attempt
     * before it fails (for {@link Operator#CHECKPOINT_COMMIT}: at the next checkpoint's
     * completion); {@code Long.MAX_VALUE} if it does not fail.
     */
    public long eventsBeforeFailure(int attempt, Operator operator, int subtask) {
        Operator failing = Operator.values()[attempt % Operator.values().length];
        if (attempt >= attempts || subtask != 0 || operator != failing) {
            return Long.MAX_VALUE;
        }
        Random random = new Random(seed * 31 + attempt);
        return minEvents + random.nextInt(maxEvents - minEvents + 1);
    }

    /** The failure thrown: a plain runtime exception, as a bug or a lost machine would cause. */
    public static RuntimeException failure(String operator, int attempt, String progress) {
        return new IllegalStateException("Injected failure in " + operator + " (attempt " + attempt + ", after "
                + progress + ")");
    }
}
