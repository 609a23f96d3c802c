package io.streambelief.flink.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.model.parameters.ModelReplica;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.record.ReplicaState;
import io.streambelief.model.record.ReplicaStateCodec;

/**
 * Restoring BSP and SSP workers, whose replicas may have taken in records published after the
 * checkpoint: here worker 0 had pushed step 99 and worker 1 step 100 when the checkpoint was taken,
 * and worker 1 had already received the servers' result of step 100 — which needs worker 0's push
 * 100, made after the checkpoint.
 */
class RestoredReplicasTest {
    private static final TrainingConfig CONFIG = TrainingConfig.builder("unused:9092")
            .spec(ModelSpec.parse("mlp:6-4-3", 1)).shardSize(20).build();
    private static final int SHARDS = CONFIG.layout().shardCount();

    private final ReplicaState worker0 = state(0, 99, 98, 1f);
    private final ReplicaState worker1 = state(1, 100, 100, 2f);

    @Test
    void bothWorkersContinueFromTheFreshestReplicaWithinTheCheckpointEachAfterItsOwnLastPush() {
        RestoredReplicas restored = decode(worker0, worker1);

        ModelReplica first = restored.replicaFor(CONFIG, 0);
        ModelReplica second = restored.replicaFor(CONFIG, 1);

        assertThat(first.values()).as("not worker 1's, which holds step 100").containsOnly(1f);
        assertThat(second.values()).containsOnly(1f);
        assertThat(first.lastPush()).isEqualTo(99);
        assertThat(second.lastPush()).isEqualTo(100);
        assertThat(first.acknowledgedPush()).isEqualTo(98);
        assertThat(second.acknowledgedPush()).as("its push 100 awaits worker 0's").isEqualTo(98);
    }

    @Test
    void aRecordHoldingAPushMadeAfterTheCheckpointIsFromTheFailedAttempt() {
        RestoredReplicas restored = decode(worker0, worker1);

        assertThat(restored.withinCheckpoint(new long[] {99, 99})).isTrue();
        assertThat(restored.withinCheckpoint(new long[] {99, 100})).isTrue();
        assertThat(restored.withinCheckpoint(new long[] {100, 100})).isFalse();
        assertThat(decode().withinCheckpoint(new long[] {100, 100})).as("a fresh start").isTrue();
    }

    @Test
    void aNewWorkerNumbersItsPushesAfterEveryWorkersLast() {
        assertThat(decode(worker0, worker1).replicaFor(CONFIG, 2).lastPush()).isEqualTo(100);
        assertThat(decode().replicaFor(CONFIG, 0).values()).containsExactly(CONFIG.spec().initialParameters());
    }

    /** A worker's state whose values are all {@code value}, holding step {@code acknowledged} of every worker. */
    private static ReplicaState state(int worker, long lastPush, long acknowledged, float value) {
        float[] values = new float[CONFIG.layout().numParams()];
        Arrays.fill(values, value);
        long[] versions = new long[SHARDS];
        long[][] acks = new long[SHARDS][];
        for (int shard = 0; shard < SHARDS; shard++) {
            versions[shard] = acknowledged;
            acks[shard] = new long[] {acknowledged, acknowledged};
        }
        float[][] slots = new float[CONFIG.optimizer().slotCount()][values.length];
        return new ReplicaState(values, slots, versions, acks, lastPush, worker);
    }

    private static RestoredReplicas decode(ReplicaState... states) {
        List<byte[]> encoded = new ArrayList<>();
        for (ReplicaState state : states) {
            encoded.add(ReplicaStateCodec.encode(state));
        }
        return RestoredReplicas.decode(encoded);
    }
}
