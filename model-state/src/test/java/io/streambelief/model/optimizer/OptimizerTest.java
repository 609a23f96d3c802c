package io.streambelief.model.optimizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

class OptimizerTest {

    @Test
    void sgdMatchesDl4jsSgdUpdaterStepByStep() {
        assertMatchesDl4j(Optimizer.sgd(0.1), 5);
    }

    @Test
    void adagradMatchesDl4jsAdaGradUpdaterStepByStep() {
        assertMatchesDl4j(Optimizer.adagrad(0.05), 20);
    }

    @Test
    void adagradWithItsOwnEpsilonMatchesDl4j() {
        assertMatchesDl4j(Optimizer.adagrad(0.2, 1e-3), 10);
    }

    @Test
    void momentumMatchesDl4jsNesterovsUpdaterStepByStep() {
        assertMatchesDl4j(Optimizer.momentum(0.05, 0.9), 20);
    }

    @Test
    void adamMatchesDl4jsAdamUpdaterStepByStep() {
        // The step size's pow and sqrt may round one ulp apart from libnd4j's; over 30 steps that stays < 1e-5.
        assertMatchesDl4j(Optimizer.adam(0.01), 30, 1e-5f);
        assertMatchesDl4j(Optimizer.adam(0.003, 0.8, 0.99, 1e-6), 10, 1e-5f);
    }

    /** Applies the same random gradients with our optimizer and with DL4J's updater; both must agree after every step. */
    private static void assertMatchesDl4j(Optimizer optimizer, int steps) {
        assertMatchesDl4j(optimizer, steps, 1e-6f);
    }

    private static void assertMatchesDl4j(Optimizer optimizer, int steps, float tolerance) {
        int n = 257;
        Random random = new Random(11);
        float[] ours = new float[n];
        for (int i = 0; i < n; i++) {
            ours[i] = random.nextFloat() - 0.5f;
        }
        INDArray theirs = Nd4j.createFromArray(ours.clone());
        float[][] slots = new float[optimizer.slotCount()][n];
        optimizer.initializeSlots(slots);
        IUpdater config = optimizer.toDl4jUpdater();
        long stateSize = config.stateSize(n);
        GradientUpdater<?> updater = config.instantiate(stateSize == 0 ? null : Nd4j.zeros(stateSize), true);

        for (int step = 1; step <= steps; step++) {
            float[] gradient = new float[n];
            for (int i = 0; i < n; i++) {
                gradient[i] = (float) random.nextGaussian();
            }
            optimizer.apply(ours, slots, gradient.clone(), step);
            INDArray update = Nd4j.createFromArray(gradient);
            updater.applyUpdater(update, step - 1, 0);
            theirs.subi(update);

            float[] expected = theirs.toFloatVector();
            for (int i = 0; i < n; i++) {
                assertThat(ours[i]).as("parameter %d after step %d", i, step).isCloseTo(expected[i], within(tolerance));
            }
        }
    }

    @Test
    void parsesNamesAndOptions() {
        assertThat(Optimizer.parse("sgd:lr=0.5")).isEqualTo(Optimizer.sgd(0.5));
        assertThat(Optimizer.parse(" adagrad ")).isEqualTo(Optimizer.adagrad(0.01));
        assertThat(Optimizer.parse("AdaGrad:lr=0.1,eps=1e-4")).isEqualTo(Optimizer.adagrad(0.1, 1e-4));
        assertThat(Optimizer.parse(Optimizer.DEFAULT)).isEqualTo(Optimizer.adagrad(0.03));
        assertThat(Optimizer.parse("momentum:lr=0.02")).isEqualTo(Optimizer.momentum(0.02, 0.9));
        assertThat(Optimizer.parse("adam")).isEqualTo(Optimizer.adam(1e-3, 0.9, 0.999, 1e-8));
        assertThat(Optimizer.parse("adam:beta2=0.99,lr=0.002")).isEqualTo(Optimizer.adam(0.002, 0.9, 0.99, 1e-8));
    }

    @Test
    void toStringParsesBackToTheSameOptimizer() {
        for (Optimizer optimizer : new Optimizer[] {Optimizer.sgd(0.2), Optimizer.adagrad(0.03, 1e-5),
                Optimizer.momentum(0.01, 0.5), Optimizer.adam(0.004, 0.85, 0.995, 1e-7)}) {
            assertThat(Optimizer.parse(optimizer.toString())).isEqualTo(optimizer);
        }
    }

    @Test
    void refusesUnknownNamesOptionsAndValues() {
        assertThatThrownBy(() -> Optimizer.parse("rmsprop")).hasMessageContaining("Unknown optimizer 'rmsprop'")
                .hasMessageContaining("supported: sgd");
        assertThatThrownBy(() -> Optimizer.parse("sgd:momentum=0.9")).hasMessageContaining("unknown option(s) [momentum]");
        assertThatThrownBy(() -> Optimizer.parse("sgd:lr=fast")).hasMessageContaining("'fast' is not a number");
        assertThatThrownBy(() -> Optimizer.parse("sgd:lr")).hasMessageContaining("expected key=value");
        assertThatThrownBy(() -> Optimizer.parse("sgd:lr=-1")).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> Optimizer.parse("momentum:mu=1")).hasMessageContaining("mu must be in [0, 1)");
        assertThatThrownBy(() -> Optimizer.parse("adam:beta1=1.5")).hasMessageContaining("must be in [0, 1)");
    }
}
