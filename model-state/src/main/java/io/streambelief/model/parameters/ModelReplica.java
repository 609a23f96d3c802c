package io.streambelief.model.parameters;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Objects;

import io.streambelief.model.ParameterLayout;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ReplicaState;

/**
 * A Downpour worker's copy of the model, with read-your-writes: the state last received from
 * the parameter servers, plus the worker's own pushes those servers have not applied yet,
 * applied here at once with the same optimizer. A worker therefore never computes on parameters
 * that lack its own gradients; only other workers' updates still in flight are stale. With one
 * worker (as during warmstart) the replica equals the parameter servers' state at every step,
 * which is plain sequential training.
 *
 * <p>Received shard records carry the optimizer's slots and, per worker, the last push they
 * contain; {@link #merge()} rebuilds each changed shard from them and re-applies the pushes
 * that came later. Not thread-safe: one per worker subtask.
 */
public final class ModelReplica {
    /** Pushes kept for re-application at most; older ones are dropped (parameter servers that far behind are stuck anyway). */
    static final int MAX_PENDING_PUSHES = 256;

    private final ParameterLayout layout;
    private final Optimizer optimizer;
    private final int worker;

    private final float[] receivedValues;
    private final float[][] receivedSlots;
    private final long[] receivedVersions;
    private final long[] receivedPushes;
    /** Per shard, the last push of every worker that the received values contain. */
    private final long[][] receivedAcks;
    /** The same for the merged values, which the worker computes on. */
    private final long[][] acks;
    private final BitSet unmerged;

    private final float[] values;
    private final float[][] slots;
    private final long[] versions;
    private final ArrayDeque<Push> pending = new ArrayDeque<>();
    private long lastPush;

    private record Push(long sequence, float[] gradient) {}

    private ModelReplica(ParameterLayout layout, Optimizer optimizer, int worker, float[] values, float[][] slots,
            long[] versions, long[][] acks, long lastPush) {
        this.layout = layout;
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.worker = worker;
        this.receivedValues = values;
        this.receivedSlots = slots;
        this.receivedVersions = versions;
        this.receivedPushes = new long[layout.shardCount()];
        this.receivedAcks = new long[layout.shardCount()][];
        this.acks = new long[layout.shardCount()][];
        for (int shard = 0; shard < acks.length; shard++) {
            receivedAcks[shard] = acks[shard].clone();
            this.acks[shard] = acks[shard].clone();
            receivedPushes[shard] = ack(acks[shard], worker);
        }
        this.unmerged = new BitSet(layout.shardCount());
        this.values = values.clone();
        this.slots = new float[slots.length][];
        for (int i = 0; i < slots.length; i++) {
            this.slots[i] = slots[i].clone();
        }
        this.versions = versions.clone();
        this.lastPush = lastPush;
    }

    /** A replica of the model's initial state, as every parameter server starts from it. */
    public static ModelReplica initial(float[] initialValues, ParameterLayout layout, Optimizer optimizer, int worker) {
        if (initialValues.length != layout.numParams()) {
            throw new IllegalArgumentException("Expected " + layout.numParams() + " parameters, got " + initialValues.length);
        }
        float[][] slots = new float[optimizer.slotCount()][layout.numParams()];
        optimizer.initializeSlots(slots);
        return new ModelReplica(layout, optimizer, worker, initialValues.clone(), slots, new long[layout.shardCount()],
                new long[layout.shardCount()][0], 0);
    }

    /**
     * A replica restored from a checkpoint. Pushes continue after {@code lastPush}; none is
     * pending, because every push made before the checkpoint is in the parameter servers' state
     * of the same checkpoint.
     */
    public static ModelReplica restore(ReplicaState state, ParameterLayout layout, Optimizer optimizer, int worker,
            long lastPush) {
        if (state.values().length != layout.numParams() || state.slots().length != optimizer.slotCount()
                || state.versions().length != layout.shardCount() || state.acks().length != layout.shardCount()) {
            throw new IllegalArgumentException("The checkpointed replica does not fit this model and optimizer");
        }
        return new ModelReplica(layout, optimizer, worker, state.values().clone(), copy(state.slots()),
                state.versions().clone(), state.acks(), lastPush);
    }

    /**
     * Applies the worker's own gradient to the replica at once and keeps it until the parameter
     * servers acknowledge it.
     *
     * @return the push's sequence number, to send with the gradient
     */
    public long push(float[] gradient) {
        if (gradient.length != layout.numParams()) {
            throw new IllegalArgumentException("Expected a gradient of " + layout.numParams() + ", got " + gradient.length);
        }
        long sequence = ++lastPush;
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            int from = layout.offset(shard);
            optimizer.apply(values, slots, gradient, from, from + layout.length(shard), ++versions[shard]);
        }
        pending.addLast(new Push(sequence, gradient));
        if (pending.size() > MAX_PENDING_PUSHES) {
            pending.removeFirst();
        }
        return sequence;
    }

    /**
     * Takes in one shard as the parameter servers published it; it becomes visible at the next
     * {@link #merge()}. A record that does not fit the model (another model of the same name,
     * another shape) is ignored.
     *
     * @return whether the record was taken
     */
    public boolean receive(ParamUpdate update) {
        return receive(ParamDelta.whole(update));
    }

    /**
     * Takes in one shard's delta as the parameter servers sent it; it becomes visible at the next
     * {@link #merge()}. A delta applies on top of the version it was computed from, so one that
     * does not follow the version received last (a delta was missed, or this replica was
     * restored from an older checkpoint) is ignored until the shard's next full delta.
     *
     * <p>Three kinds are never taken; the first two come with a restore, which replays the
     * feedback from the checkpointed offsets. One that acknowledges a push this worker has not
     * made (yet) was published by the attempt that failed, and its values hold pushes the restore
     * took back and the worker is about to make again: computing on them would count those
     * examples' gradients twice in the values though once in the counts. One that acknowledges
     * fewer of its pushes than the shard's last record taken is older than what the replica
     * holds (published before the checkpoint, read after it): taking it would drop those pushes.
     * And one with NaN or infinite values, which the parameter servers never publish: taken, it
     * would make every gradient after it non-finite.
     *
     * @return whether the delta was taken
     */
    public boolean receive(ParamDelta delta) {
        int shard = delta.shardId();
        if (shard < 0 || shard >= layout.shardCount() || delta.length() != layout.length(shard)
                || (!delta.isFull() && delta.baseVersion() != receivedVersions[shard])
                || delta.pushesApplied(worker) > lastPush || delta.pushesApplied(worker) < receivedPushes[shard]
                || !finite(delta)) {
            return false;
        }
        // (Slots of another optimizer, or none, leave the received slots as they were, as for whole records.)
        boolean withSlots = delta.slots().length == slots.length;
        if (delta.isFull()) {
            layout.place(receivedValues, shard, delta.values());
            for (int i = 0; withSlots && i < slots.length; i++) {
                layout.place(receivedSlots[i], shard, delta.slots()[i]);
            }
        } else {
            int from = layout.offset(shard);
            int[] indices = delta.indices();
            for (int n = 0; n < indices.length; n++) {
                receivedValues[from + indices[n]] = delta.values()[n];
                for (int i = 0; withSlots && i < slots.length; i++) {
                    receivedSlots[i][from + indices[n]] = delta.slots()[i][n];
                }
            }
        }
        receivedVersions[shard] = delta.version();
        receivedPushes[shard] = delta.pushesApplied(worker);
        receivedAcks[shard] = delta.pushesApplied().clone();
        unmerged.set(shard);
        return true;
    }

    public boolean hasUnmerged() {
        return !unmerged.isEmpty();
    }

    /** Rebuilds every shard received since the last merge: its received state plus the pushes it lacks. */
    public void merge() {
        for (int shard = unmerged.nextSetBit(0); shard >= 0; shard = unmerged.nextSetBit(shard + 1)) {
            int from = layout.offset(shard);
            int to = from + layout.length(shard);
            System.arraycopy(receivedValues, from, values, from, to - from);
            for (int i = 0; i < slots.length; i++) {
                System.arraycopy(receivedSlots[i], from, slots[i], from, to - from);
            }
            versions[shard] = receivedVersions[shard];
            acks[shard] = receivedAcks[shard];
            for (Push push : pending) {
                if (push.sequence() > receivedPushes[shard]) {
                    optimizer.apply(values, slots, push.gradient(), from, to, ++versions[shard]);
                }
            }
        }
        unmerged.clear();
        long acknowledgedEverywhere = Arrays.stream(receivedPushes).min().orElse(0);
        while (!pending.isEmpty() && pending.peekFirst().sequence() <= acknowledgedEverywhere) {
            pending.removeFirst();
        }
    }

    /** The parameters to compute on (read-only for the caller). */
    public float[] values() {
        return values;
    }

    /** Per shard, the parameter-server version these values correspond to (read-only for the caller). */
    public long[] versions() {
        return versions;
    }

    private static boolean finite(ParamDelta delta) {
        for (float value : delta.values()) {
            if (!Float.isFinite(value)) {
                return false;
            }
        }
        for (float[] slot : delta.slots()) {
            for (float value : slot) {
                if (!Float.isFinite(value)) {
                    return false;
                }
            }
        }
        return true;
    }

    public long lastPush() {
        return lastPush;
    }

    /**
     * The last push of the slowest other worker that every shard of the merged values contains:
     * its pushes up to this one are all in the parameters this worker computes on (for bounded
     * staleness).
     *
     * @param workers how many workers there are
     */
    public long slowestPeerPush(int workers) {
        long slowest = Long.MAX_VALUE;
        for (long[] shardAcks : acks) {
            for (int w = 0; w < workers; w++) {
                if (w != worker) {
                    slowest = Math.min(slowest, ack(shardAcks, w));
                }
            }
        }
        return slowest == Long.MAX_VALUE ? lastPush : slowest;
    }

    /** The last of this worker's own pushes that every shard of the merged values contains as the servers applied it. */
    public long acknowledgedPush() {
        long acknowledged = Long.MAX_VALUE;
        for (long[] shardAcks : acks) {
            acknowledged = Math.min(acknowledged, ack(shardAcks, worker));
        }
        return acknowledged;
    }

    private static long ack(long[] acks, int worker) {
        return worker < acks.length ? acks[worker] : 0;
    }

    int pendingPushes() {
        return pending.size();
    }

    /**
     * What a checkpoint keeps: the received state (consistent with the parameter source's offsets)
     * with the worker's own pushes it lacked applied, and those pushes acknowledged.
     */
    public ReplicaState toState() {
        // At a checkpoint barrier every push made is in the parameter servers' state of the same
        // checkpoint, so the state to restore holds them all: what was received with the pushes it
        // lacks applied, as a merge would. (Only what was received would set a restored worker
        // back by its last unacknowledged pushes until the servers' first records came.)
        float[] mergedValues = receivedValues.clone();
        float[][] mergedSlots = copy(receivedSlots);
        long[] mergedVersions = receivedVersions.clone();
        long[][] mergedAcks = new long[receivedAcks.length][];
        for (int shard = 0; shard < mergedAcks.length; shard++) {
            int from = layout.offset(shard);
            int to = from + layout.length(shard);
            for (Push push : pending) {
                if (push.sequence() > receivedPushes[shard]) {
                    optimizer.apply(mergedValues, mergedSlots, push.gradient(), from, to, ++mergedVersions[shard]);
                }
            }
            mergedAcks[shard] = Arrays.copyOf(receivedAcks[shard], Math.max(receivedAcks[shard].length, worker + 1));
            mergedAcks[shard][worker] = Math.max(mergedAcks[shard][worker], lastPush);
        }
        return new ReplicaState(mergedValues, mergedSlots, mergedVersions, mergedAcks, lastPush, worker);
    }

    /**
     * What a checkpoint keeps of a bulk-synchronous worker: what the servers sent, and no more.
     * Its unacknowledged push is part of a step the servers are still gathering (in their state of
     * the same checkpoint); a restored worker waits for that step's result as it did before. The
     * push applied alone, as {@link #toState} applies it, would be a step no server takes.
     */
    public ReplicaState receivedState() {
        long[][] ownAcks = new long[receivedAcks.length][];
        for (int shard = 0; shard < ownAcks.length; shard++) {
            ownAcks[shard] = receivedAcks[shard].clone();
        }
        return new ReplicaState(receivedValues.clone(), copy(receivedSlots), receivedVersions.clone(), ownAcks,
                lastPush, worker);
    }

    private static float[][] copy(float[][] arrays) {
        float[][] copy = new float[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            copy[i] = arrays[i].clone();
        }
        return copy;
    }
}
