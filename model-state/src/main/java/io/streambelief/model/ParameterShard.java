package io.streambelief.model;

import java.util.Objects;

import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ShardState;

/**
 * One parameter-server shard: a contiguous range of the model's parameters, the optimizer's slots
 * for it, the number of gradients applied (its version) and of examples they covered. This is the
 * parameter server's whole logic; the Flink operator only keys, caches and checkpoints it.
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

    private ParameterShard(int shardId, Optimizer optimizer, float[] values, float[][] slots, long version,
            long examplesApplied) {
        this.shardId = shardId;
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.values = values;
        this.slots = slots;
        this.version = version;
        this.examplesApplied = examplesApplied;
    }

    /** A shard holding {@code initialValues} (taken over, not copied) with fresh optimizer slots. */
    public static ParameterShard initial(int shardId, float[] initialValues, Optimizer optimizer) {
        float[][] slots = new float[optimizer.slotCount()][initialValues.length];
        optimizer.initializeSlots(slots);
        return new ParameterShard(shardId, optimizer, initialValues, slots, 0, 0);
    }

    /** The shard as it was checkpointed. */
    public static ParameterShard restore(ShardState state, Optimizer optimizer) {
        if (state.slots().length != optimizer.slotCount()) {
            throw new IllegalStateException("Shard " + state.shardId() + " was checkpointed with "
                    + state.slots().length + " optimizer slot(s), but " + optimizer + " needs "
                    + optimizer.slotCount() + "; restart from a checkpoint of the same optimizer");
        }
        float[][] slots = new float[state.slots().length][];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = state.slots()[i].clone();
        }
        return new ParameterShard(state.shardId(), optimizer, state.values().clone(), slots, state.version(),
                state.examplesApplied());
    }

    /**
     * Applies one gradient, unless it contains NaN or infinity: such a gradient would poison the
     * parameters for good, so it is refused and the shard stays as it was.
     *
     * @return the gradient's staleness (versions applied since the one it was computed on), or
     *     {@code -1} if it was refused
     */
    public long apply(GradientSlice gradient) {
        if (gradient.shardId() != shardId) {
            throw new IllegalArgumentException("Gradient for shard " + gradient.shardId() + " sent to shard " + shardId);
        }
        if (gradient.values().length != values.length) {
            throw new IllegalArgumentException("Gradient for shard " + shardId + " has " + gradient.values().length
                    + " values, the shard has " + values.length);
        }
        if (!isFinite(gradient.values())) {
            return -1;
        }
        long staleness = Math.max(0, version - gradient.baseVersion());
        optimizer.apply(values, slots, gradient.values(), version + 1);
        version++;
        examplesApplied += gradient.examples();
        return staleness;
    }

    static boolean isFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** The record published to model-params: a copy of the current values. */
    public ParamUpdate toUpdate(String modelId, long timestampMillis) {
        return new ParamUpdate(modelId, shardId, version, examplesApplied, timestampMillis, values.clone());
    }

    /** A copy for the checkpoint. */
    public ShardState toState() {
        float[][] slotCopy = new float[slots.length][];
        for (int i = 0; i < slots.length; i++) {
            slotCopy[i] = slots[i].clone();
        }
        return new ShardState(shardId, version, examplesApplied, values.clone(), slotCopy);
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
