package io.streambelief.model.parameters;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ShardState;

/**
 * One parameter-server shard: a contiguous range of the model's parameters, the optimizer's slots
 * for it, the number of gradients applied (its version), of examples they covered, and each
 * worker's last push applied. This is the parameter server's whole logic; the Flink operator only
 * keys, caches and checkpoints it.
 *
 * <p>Not thread-safe: one shard is owned by one operator subtask.
 */
public final class ParameterShard {
    private final int shardId;
    private final Optimizer optimizer;
    private final float[] values;
    private final float[][] slots;
    private long version;
    private long examplesApplied;
    private ExampleDigest digest;
    private long[] pushesApplied;
    private final float[] average;
    private final double averageDecay;
    /** Timestamp of the last record published, so the next one's is later (see {@link #toUpdate}). */
    private long publishedAtMillis;
    /** The values and slots as the last delta left them at the workers; null until the first (full) delta. */
    private float[] deltaValues;
    private float[][] deltaSlots;
    private long deltaVersion;
    private int deltasSinceFull;

    private ParameterShard(int shardId, Optimizer optimizer, float[] values, float[][] slots, long version,
            long examplesApplied, ExampleDigest digest, long[] pushesApplied, float[] average, double averageDecay) {
        this.digest = digest;
        this.shardId = shardId;
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.values = values;
        this.slots = slots;
        this.version = version;
        this.examplesApplied = examplesApplied;
        this.pushesApplied = pushesApplied;
        this.average = average;
        this.averageDecay = averageDecay;
    }

    /** A shard holding {@code initialValues} (taken over, not copied) with fresh optimizer slots and no average. */
    public static ParameterShard initial(int shardId, float[] initialValues, Optimizer optimizer) {
        return initial(shardId, initialValues, optimizer, 0);
    }

    /**
     * A shard holding {@code initialValues} (taken over, not copied) with fresh optimizer slots,
     * which also keeps a moving average of its values (Polyak averaging): after each step,
     * {@code average = d * average + (1 - d) * values} with {@code d = min(averageDecay, (1 + t) / (10 + t))}
     * at step t, so the average follows quickly at first (TensorFlow's rule). Asynchronous
     * updates make the latest values noisy; their average is the better model to serve.
     *
     * @param averageDecay between 0 and 1; 0 keeps no average
     */
    public static ParameterShard initial(int shardId, float[] initialValues, Optimizer optimizer, double averageDecay) {
        if (!(averageDecay >= 0 && averageDecay < 1)) {
            throw new IllegalArgumentException("The average's decay must be in [0, 1), got " + averageDecay);
        }
        float[][] slots = new float[optimizer.slotCount()][initialValues.length];
        optimizer.initializeSlots(slots);
        float[] average = averageDecay > 0 ? initialValues.clone() : new float[0];
        return new ParameterShard(shardId, optimizer, initialValues, slots, 0, 0, ExampleDigest.EMPTY, new long[0],
                average, averageDecay);
    }

    /** The shard as it was checkpointed, averaging with {@code averageDecay} as before. */
    public static ParameterShard restore(ShardState state, Optimizer optimizer, double averageDecay) {
        if (state.slots().length != optimizer.slotCount()) {
            throw new IllegalStateException("Shard " + state.shardId() + " was checkpointed with "
                    + state.slots().length + " optimizer slot(s), but " + optimizer + " needs "
                    + optimizer.slotCount() + "; restart from a checkpoint of the same optimizer");
        }
        float[][] slots = copy(state.slots());
        float[] average = averageDecay > 0
                ? (state.average().length == state.values().length ? state.average().clone() : state.values().clone())
                : new float[0];
        return new ParameterShard(state.shardId(), optimizer, state.values().clone(), slots, state.version(),
                state.examplesApplied(), state.digest() != null ? state.digest() : ExampleDigest.EMPTY,
                state.pushesApplied().clone(), average, averageDecay);
    }

    /**
     * Applies one gradient, unless it contains NaN or infinity: such a gradient would poison the
     * parameters for good, so it is refused and the shard stays as it was.
     *
     * @return the gradient's staleness (versions applied since the one it was computed on), or
     *     {@code -1} if it was refused
     */
    public long apply(GradientSlice gradient) {
        check(gradient);
        if (!isFinite(gradient.values())) {
            return -1;
        }
        long staleness = Math.max(0, version - gradient.baseVersion());
        step(gradient.values(), gradient.examples());
        digest = digest.plus(gradient.digest());
        acknowledge(gradient);
        return staleness;
    }

    /**
     * Applies one synchronous step: the example-weighted mean of every worker's gradient for it,
     * as one update, so W workers with batch B step exactly like one process with batch W·B. A
     * gradient with NaN or infinity in it is left out of the mean (and still acknowledged, so its
     * worker is not waited for); if all are, the shard stays as it was.
     *
     * @return how many of the gradients were refused
     */
    public int applyStep(List<GradientSlice> gradients) {
        float[] mean = new float[values.length];
        long examples = 0;
        int refused = 0;
        for (GradientSlice gradient : gradients) {
            check(gradient);
            if (!isFinite(gradient.values())) {
                refused++;
                continue;
            }
            float[] g = gradient.values();
            for (int i = 0; i < mean.length; i++) {
                mean[i] += gradient.examples() * g[i];
            }
            examples += gradient.examples();
            digest = digest.plus(gradient.digest());
        }
        if (examples > 0) {
            float scale = 1f / examples;
            for (int i = 0; i < mean.length; i++) {
                mean[i] *= scale;
            }
            step(mean, examples);
        }
        gradients.forEach(this::acknowledge);
        return refused;
    }

    private void check(GradientSlice gradient) {
        if (gradient.shardId() != shardId) {
            throw new IllegalArgumentException("Gradient for shard " + gradient.shardId() + " sent to shard " + shardId);
        }
        if (gradient.values().length != values.length) {
            throw new IllegalArgumentException("Gradient for shard " + shardId + " has " + gradient.values().length
                    + " values, the shard has " + values.length);
        }
    }

    private void step(float[] gradient, long examples) {
        optimizer.apply(values, slots, gradient, version + 1);
        version++;
        if (average.length > 0) {
            float d = (float) Math.min(averageDecay, (1.0 + version) / (10.0 + version));
            for (int i = 0; i < values.length; i++) {
                average[i] = d * average[i] + (1 - d) * values[i];
            }
        }
        examplesApplied += examples;
    }

    private void acknowledge(GradientSlice gradient) {
        if (gradient.worker() >= pushesApplied.length) {
            pushesApplied = Arrays.copyOf(pushesApplied, gradient.worker() + 1);
        }
        pushesApplied[gradient.worker()] = Math.max(pushesApplied[gradient.worker()], gradient.push());
    }

    static boolean isFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The record published to model-params: a copy of the current state, stamped with
     * {@code nowMillis} or, if that is not later than the shard's previous record, one millisecond
     * after it (a hybrid logical clock). A shard's records therefore carry strictly increasing
     * timestamps, also across restores: a restored shard's version goes back to the checkpoint's,
     * but the wall clock has moved on past every record published before the failure. Serving
     * derives the model version from these timestamps, so it never goes back either.
     */
    public ParamUpdate toUpdate(String modelId, long nowMillis) {
        publishedAtMillis = Math.max(publishedAtMillis + 1, nowMillis);
        return new ParamUpdate(modelId, shardId, version, examplesApplied, publishedAtMillis, values.clone(),
                copy(slots), pushesApplied.clone(), average.clone(), digest);
    }

    /**
     * What changed since the previous delta, for the workers: the entries whose value or slots
     * differ from what the previous delta left (an optimizer that leaves entries with a zero
     * gradient alone, as SGD and Adagrad do, changes only what compressed pushes touched). The
     * first delta of a shard — also the first after a restore, since this is not state — and
     * every {@code fullEvery}-th one is full, so a worker that missed one catches up.
     */
    public ParamDelta toDelta(String modelId, long nowMillis, int fullEvery) {
        long base = deltaVersion;
        deltaVersion = version;
        if (deltaValues == null || ++deltasSinceFull >= fullEvery) {
            deltaValues = values.clone();
            deltaSlots = copy(slots);
            deltasSinceFull = 0;
            return new ParamDelta(modelId, shardId, version, -1, examplesApplied, nowMillis, values.length, null,
                    values.clone(), copy(slots), pushesApplied.clone());
        }
        int changed = 0;
        int[] indices = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            if (differs(values, deltaValues, i) || slotsDiffer(i)) {
                indices[changed++] = i;
            }
        }
        indices = Arrays.copyOf(indices, changed);
        float[] changedValues = new float[changed];
        float[][] changedSlots = new float[slots.length][changed];
        for (int n = 0; n < changed; n++) {
            int i = indices[n];
            changedValues[n] = deltaValues[i] = values[i];
            for (int s = 0; s < slots.length; s++) {
                changedSlots[s][n] = deltaSlots[s][i] = slots[s][i];
            }
        }
        return new ParamDelta(modelId, shardId, version, base, examplesApplied, nowMillis, values.length, indices,
                changedValues, changedSlots, pushesApplied.clone());
    }

    private boolean slotsDiffer(int i) {
        for (int s = 0; s < slots.length; s++) {
            if (differs(slots[s], deltaSlots[s], i)) {
                return true;
            }
        }
        return false;
    }

    private static boolean differs(float[] a, float[] b, int i) {
        return Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i]);
    }

    /**
     * The shard for a model snapshot: what serving needs (values, average, counts), without the
     * optimizer's slots or the workers' pushes; not a publication, so the clock above stays.
     */
    public ParamUpdate toSnapshot(String modelId, long timestampMillis) {
        return new ParamUpdate(modelId, shardId, version, examplesApplied, timestampMillis, values.clone(),
                new float[0][], new long[0], average.clone(), digest);
    }

    /** A copy for the checkpoint. */
    public ShardState toState() {
        return new ShardState(shardId, version, examplesApplied, values.clone(), copy(slots), pushesApplied.clone(),
                average.clone(), digest);
    }

    static float[][] copy(float[][] arrays) {
        float[][] copy = new float[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            copy[i] = arrays[i].clone();
        }
        return copy;
    }

    public int shardId() {
        return shardId;
    }

    public long version() {
        return version;
    }

    public long examplesApplied() {
        return examplesApplied;
    }

    public int size() {
        return values.length;
    }
}
