package io.streambelief.model.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ServerOptimizerTest {

    @Test
    void fedAvgAddsTheMeanUpdate() {
        ServerOptimizer fedavg = ServerOptimizer.parse("fedavg");
        float[] model = {1, 2, 3};
        fedavg.apply(model, fedavg.newSlots(3), new float[] {0.5f, -1, 0}, 1);
        assertThat(model).containsExactly(1.5f, 1, 3);
    }

    @Test
    void fedAvgMWithoutMomentumIsFedAvg() {
        ServerOptimizer fedavgm = ServerOptimizer.parse("fedavgm:mu=0");
        float[] model = {1, 2, 3};
        float[][] slots = fedavgm.newSlots(3);
        fedavgm.apply(model, slots, new float[] {0.5f, -1, 0}, 1);
        fedavgm.apply(model, slots, new float[] {0.5f, -1, 0}, 2);
        assertThat(model).containsExactly(2, 0, 3);
    }

    @Test
    void fedAdamMovesEachCoordinateTowardsItsUpdateByAboutItsLearningRate() {
        ServerOptimizer fedadam = ServerOptimizer.parse("fedadam:lr=0.1");
        float[] model = {0, 0, 0};
        fedadam.apply(model, fedadam.newSlots(3), new float[] {5, -0.5f, 0}, 1);
        assertThat(model[0]).isBetween(0.09f, 0.1f);
        assertThat(model[1]).isBetween(-0.1f, -0.09f);
        assertThat(model[2]).isZero();
    }

    @Test
    void anUnknownOptimizerIsRefusedNamingTheSupportedOnes() {
        assertThatThrownBy(() -> ServerOptimizer.parse("fedprox")).hasMessageContaining("fedavg, fedavgm");
        assertThatThrownBy(() -> ServerOptimizer.parse("fedavg:lr=2")).hasMessageContaining("no options");
    }
}
