package io.streambelief.model.parameters;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import io.streambelief.model.ParameterLayout;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ReplicaState;

/** What a worker's replica takes from the feedback topics, which anyone who can write to them can fill. */
class ModelReplicaTest {
    private static final ParameterLayout LAYOUT = new ParameterLayout(10, 5);

    private final ModelReplica replica = ModelReplica.initial(new float[10], LAYOUT, Optimizer.parse("sgd:lr=0.1"), 0);

    @Test
    void aRecordAcknowledgingAPushNotYetMadeIsFromAFailedAttemptAndNotTaken() {
        replica.push(ones());

        // After a restore the feedback replays from the checkpoint: this record of the failed
        // attempt already holds the worker's push 2, which the restored worker is about to make again.
        assertThat(replica.receive(shard(0, 7f, 2))).isFalse();
        assertThat(replica.receive(shard(0, 7f, 1))).isTrue();
        replica.merge();

        assertThat(Arrays.copyOf(replica.values(), 5)).containsOnly(7f);
    }

    /**
     * At a checkpoint barrier the servers' state holds every push the worker made, so the replica
     * restored from it must too: not only what the servers had sent back by then.
     */
    @Test
    void aRestoredReplicaHoldsThePushesTheServersHadNotAcknowledgedAtTheCheckpoint() {
        replica.push(ones());
        replica.push(ones());
        assertThat(replica.receive(shard(0, 7f, 1))).isTrue();
        replica.merge();

        ModelReplica restored = ModelReplica.restore(replica.toState(), LAYOUT, Optimizer.parse("sgd:lr=0.1"), 0, 2);

        assertThat(restored.values()).containsExactly(replica.values());
        assertThat(Arrays.copyOf(restored.values(), 5)).containsOnly(7f - 0.1f);
        assertThat(Arrays.copyOfRange(restored.values(), 5, 10)).containsOnly(-0.2f);
        assertThat(restored.acknowledgedPush()).as("the servers' state holds both pushes").isEqualTo(2);
    }

    /**
     * In BSP the unacknowledged push is part of a step the servers are still gathering: applied
     * alone it would be a step no server takes, so the checkpoint keeps what the servers sent.
     */
    @Test
    void aBulkSynchronousCheckpointKeepsWhatTheServersSentAndTheWorkersLastPush() {
        replica.push(ones());
        assertThat(replica.receive(shard(0, 7f, 0))).isTrue();

        ReplicaState state = replica.receivedState();
        ModelReplica restored = ModelReplica.restore(state, LAYOUT, Optimizer.parse("sgd:lr=0.1"), 0, state.lastPush());

        assertThat(state.worker()).isZero();
        assertThat(Arrays.copyOf(restored.values(), 5)).containsOnly(7f);
        assertThat(Arrays.copyOfRange(restored.values(), 5, 10)).containsOnly(0f);
        assertThat(restored.lastPush()).isEqualTo(1);
        assertThat(restored.acknowledgedPush()).as("push 1 awaits its step's result").isZero();
    }

    /** Replayed after a restore: published before the checkpoint, read after it, older than the restored state. */
    @Test
    void aRecordOlderThanWhatTheReplicaHoldsIsNotTaken() {
        replica.push(ones());
        replica.push(ones());
        ModelReplica restored = ModelReplica.restore(replica.toState(), LAYOUT, Optimizer.parse("sgd:lr=0.1"), 0, 2);

        assertThat(restored.receive(shard(0, 7f, 1))).as("holds push 1 of 2 only").isFalse();
        assertThat(restored.receive(shard(0, 7f, 2))).isTrue();
    }

    @Test
    void aRecordWithNanOrInfiniteValuesIsNotTaken() {
        float[] values = new float[5];
        values[2] = Float.NaN;
        assertThat(replica.receive(new ParamUpdate("m", 0, 1, 1, 1, values, new float[0][], new long[] {0},
                new float[0]))).isFalse();
        values[2] = Float.POSITIVE_INFINITY;
        assertThat(replica.receive(new ParamUpdate("m", 0, 1, 1, 1, values, new float[0][], new long[] {0},
                new float[0]))).isFalse();

        assertThat(replica.hasUnmerged()).isFalse();
        assertThat(replica.values()).containsOnly(0f);
    }

    private static ParamUpdate shard(int shard, float value, long ownPushesApplied) {
        float[] values = new float[LAYOUT.length(shard)];
        Arrays.fill(values, value);
        return new ParamUpdate("m", shard, 3, 32, 3, values, new float[0][], new long[] {ownPushesApplied},
                new float[0]);
    }

    private static float[] ones() {
        float[] gradient = new float[10];
        Arrays.fill(gradient, 1f);
        return gradient;
    }
}
