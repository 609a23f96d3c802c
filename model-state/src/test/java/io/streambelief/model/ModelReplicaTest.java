package io.streambelief.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.api.Test;

import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamDelta;

class ModelReplicaTest {
    /** 25 parameters in shards of 10, 10 and 5. */
    private static final ParameterLayout LAYOUT = new ParameterLayout(25, 10);
    private static final Optimizer ADAGRAD = Optimizer.adagrad(0.1);

    private final Random random = new Random(5);
    private final float[] initial = gaussian(25);
    private final ParameterShard[] servers = new ParameterShard[3];

    ModelReplicaTest() {
        for (int shard = 0; shard < 3; shard++) {
            servers[shard] = ParameterShard.initial(shard, LAYOUT.slice(initial, shard), ADAGRAD);
        }
    }

    @Test
    void aLoneWorkersReplicaIsExactlyTheServersStateAtEveryStep() {
        ModelReplica replica = ModelReplica.initial(initial, LAYOUT, ADAGRAD, 0);
        for (int step = 0; step < 5; step++) {
            float[] gradient = gaussian(25);
            long push = replica.push(gradient);
            serversApply(0, push, gradient);

            assertThat(replica.values()).as("before the servers answer").containsExactly(servers());
            receiveAll(replica);
            replica.merge();
            assertThat(replica.values()).as("after").containsExactly(servers());
        }
    }

    @Test
    void ownPushesTheServersHaveNotAppliedYetAreAppliedAgainOnTopOfWhatArrives() {
        ModelReplica replica = ModelReplica.initial(initial, LAYOUT, ADAGRAD, 0);
        float[] first = gaussian(25);
        float[] second = gaussian(25);
        float[] peer = gaussian(25);
        serversApply(0, replica.push(first), first);
        serversApply(1, 1, peer);
        long late = replica.push(second);

        receiveAll(replica);
        replica.merge();

        serversApply(0, late, second);
        assertThat(replica.values()).as("the peer's push, then ours, as the servers will apply them")
                .containsExactly(servers());
    }

    @Test
    void itKnowsHowFarBehindItsPeersAndItselfTheParametersItComputesOnAre() {
        ModelReplica replica = ModelReplica.initial(initial, LAYOUT, ADAGRAD, 1);
        for (int i = 0; i < 3; i++) {
            float[] gradient = gaussian(25);
            serversApply(1, replica.push(gradient), gradient);
        }
        serversApply(0, 1, gaussian(25));
        serversApply(2, 1, gaussian(25));
        serversApply(2, 2, gaussian(25));

        receiveAll(replica);
        assertThat(replica.slowestPeerPush(3)).as("nothing merged yet").isZero();
        replica.merge();

        assertThat(replica.slowestPeerPush(3)).as("worker 0 has pushed once").isEqualTo(1);
        assertThat(replica.slowestPeerPush(2)).as("worker 2 left out").isEqualTo(1);
        assertThat(replica.acknowledgedPush()).isEqualTo(3);
        ModelReplica alone = ModelReplica.initial(initial, LAYOUT, ADAGRAD, 0);
        alone.push(gaussian(25));
        assertThat(alone.slowestPeerPush(1)).as("no peers: never behind").isEqualTo(1);
    }

    @Test
    void aRestoredReplicaKeepsWhatItKnewOfEveryWorker() {
        ModelReplica replica = ModelReplica.initial(initial, LAYOUT, ADAGRAD, 0);
        serversApply(1, 1, gaussian(25));
        serversApply(1, 2, gaussian(25));
        receiveAll(replica);
        replica.merge();

        ModelReplica restored = ModelReplica.restore(replica.toState(), LAYOUT, ADAGRAD, 0, 4);

        assertThat(restored.values()).containsExactly(replica.values());
        assertThat(restored.slowestPeerPush(2)).isEqualTo(2);
        assertThat(restored.lastPush()).isEqualTo(4);
    }

    @Test
    void aLoneWorkersReplicaFollowingSparseDeltasIsExactlyTheServersState() {
        ModelReplica replica = ModelReplica.initial(initial, LAYOUT, ADAGRAD, 0);
        for (int step = 0; step < 20; step++) {
            float[] gradient = sparse(25, 3);
            serversApply(0, replica.push(gradient), gradient);
            for (ParameterShard server : servers) {
                ParamDelta delta = server.toDelta("m", 0, 8);
                assertThat(delta.isFull()).as("step %d", step).isEqualTo(step % 8 == 0);
                assertThat(replica.receive(delta)).isTrue();
            }
            replica.merge();

            assertThat(replica.values()).as("step %d", step).containsExactly(servers());
            assertThat(replica.toState().slots()[0]).containsExactly(serverSlots());
        }
    }

    @Test
    void aDeltaThatDoesNotFollowTheLastOneReceivedWaitsForTheNextFullOne() {
        ModelReplica replica = ModelReplica.initial(initial, LAYOUT, ADAGRAD, 0);
        float[] gradient = sparse(25, 3);
        serversApply(0, replica.push(gradient), gradient);
        assertThat(replica.receive(servers[0].toDelta("m", 0, 3))).as("the first is full").isTrue();

        serversApply(0, replica.push(gradient), gradient);
        servers[0].toDelta("m", 0, 3);
        serversApply(0, replica.push(gradient), gradient);
        ParamDelta afterAMissedOne = servers[0].toDelta("m", 0, 3);
        assertThat(afterAMissedOne.isFull()).isFalse();
        assertThat(replica.receive(afterAMissedOne)).isFalse();

        serversApply(0, replica.push(gradient), gradient);
        assertThat(replica.receive(servers[0].toDelta("m", 0, 3))).as("full again").isTrue();
        replica.merge();
        assertThat(LAYOUT.slice(replica.values(), 0)).containsExactly(LAYOUT.slice(servers(), 0));
    }

    private float[] sparse(int n, int entries) {
        float[] values = new float[n];
        for (int i = 0; i < entries; i++) {
            values[random.nextInt(n)] = (float) random.nextGaussian();
        }
        return values;
    }

    private float[] serverSlots() {
        float[] all = new float[25];
        for (ParameterShard server : servers) {
            LAYOUT.place(all, server.shardId(), server.toState().slots()[0]);
        }
        return all;
    }

    private void serversApply(int worker, long push, float[] gradient) {
        for (int shard = 0; shard < 3; shard++) {
            servers[shard].apply(new GradientSlice(shard, worker, push, servers[shard].version(), 32,
                    LAYOUT.slice(gradient, shard)));
        }
    }

    private void receiveAll(ModelReplica replica) {
        for (ParameterShard server : servers) {
            assertThat(replica.receive(server.toUpdate("m", 0))).isTrue();
        }
    }

    private float[] servers() {
        float[] all = new float[25];
        for (ParameterShard server : servers) {
            LAYOUT.place(all, server.shardId(), server.toUpdate("m", 0).values());
        }
        return all;
    }

    private float[] gaussian(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
