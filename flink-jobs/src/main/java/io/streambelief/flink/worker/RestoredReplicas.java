package io.streambelief.flink.worker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.StateInitializationContext;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.model.parameters.ModelReplica;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.record.ReplicaState;
import io.streambelief.model.record.ReplicaStateCodec;

/**
 * Every worker's replica as one checkpoint kept them (union state), and what a restored worker
 * makes of them.
 *
 * <p>SSP and BSP workers follow model-params through a consumer of their own, outside the
 * checkpoint's barriers, so a worker may have taken in records that the parameter servers
 * published after their own snapshot — results of pushes that other workers made after theirs.
 * Such a replica is ahead of the checkpoint; restored from it, a worker would compute on values
 * that the restored servers do not have and in BSP push a step they never gather. Every worker
 * names its last push in its state, so a replica is within the checkpoint when it acknowledges
 * no worker's push beyond that worker's last: the replica of the worker that pushed least is
 * always one. The same test tells a record of the failed attempt, still on the topic, from one
 * the checkpoint covers.
 */
public final class RestoredReplicas {
    private final List<ReplicaState> states;
    /** By worker index; empty when a state does not name its worker (format 1). */
    private final Map<Integer, Long> lastPushes;

    private RestoredReplicas(List<ReplicaState> states, Map<Integer, Long> lastPushes) {
        this.states = states;
        this.lastPushes = lastPushes;
    }

    /**
     * Every worker's checkpointed replica. Union state: after a restore (even at another
     * parallelism) each worker sees every checkpointed replica and continues from the freshest
     * within the checkpoint (see above). Encoded with {@link ReplicaStateCodec},
     * which says why.
     */
    public static ListState<byte[]> state(StateInitializationContext context) throws Exception {
        return context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("replica", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    /** What {@link #state} keeps for {@code replica} in {@code mode}. */
    public static List<byte[]> checkpointed(ModelReplica replica, TrainingMode mode) {
        return List.of(ReplicaStateCodec.encode(mode == TrainingMode.BSP ? replica.receivedState() : replica.toState()));
    }

    public static RestoredReplicas decode(Iterable<byte[]> checkpointed) {
        List<ReplicaState> states = new ArrayList<>();
        Map<Integer, Long> lastPushes = new HashMap<>();
        boolean named = true;
        for (byte[] encoded : checkpointed) {
            ReplicaState state = ReplicaStateCodec.decode(encoded);
            states.add(state);
            named &= state.worker() != ReplicaState.UNKNOWN_WORKER;
            lastPushes.merge(state.worker(), state.lastPush(), Math::max);
        }
        return new RestoredReplicas(states, named ? lastPushes : Map.of());
    }

    /**
     * Worker {@code index}'s replica: the freshest checkpointed replica of this model's shape
     * within the checkpoint, numbering pushes after its own last one (BSP steps count them), or
     * after every worker's when there is no state of its own (a new worker, a state of format 1);
     * the initial parameters when there is none.
     */
    public ModelReplica replicaFor(TrainingConfig config, int index) {
        ParameterLayout layout = config.layout();
        ReplicaState freshest = null;
        ReplicaState freshestWithin = null;
        long lastPush = 0;
        for (ReplicaState state : states) {
            lastPush = Math.max(lastPush, state.lastPush());
            if (state.values().length != layout.numParams()) {
                continue;
            }
            if (freshest == null || state.totalVersion() > freshest.totalVersion()) {
                freshest = state;
            }
            if (withinCheckpoint(state.acks()) && (freshestWithin == null
                    || state.totalVersion() > freshestWithin.totalVersion())) {
                freshestWithin = state;
            }
        }
        ReplicaState chosen = freshestWithin != null ? freshestWithin : freshest;
        return chosen != null
                ? ModelReplica.restore(chosen, layout, config.optimizer(), index, lastPushes.getOrDefault(index, lastPush))
                : ModelReplica.initial(config.spec().initialParameters(), layout, config.optimizer(), index);
    }

    private boolean withinCheckpoint(long[][] acks) {
        for (long[] shardAcks : acks) {
            if (!withinCheckpoint(shardAcks)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether values acknowledging these pushes (per worker) hold no push made after the
     * checkpoint: false for a record that a failed attempt published.
     */
    public boolean withinCheckpoint(long[] pushesApplied) {
        for (int worker = 0; worker < pushesApplied.length; worker++) {
            Long last = lastPushes.get(worker);
            if (last != null && pushesApplied[worker] > last) {
                return false;
            }
        }
        return true;
    }
}
