package io.streambelief.model.engine.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.engine.dense.CpuKernels;
import io.streambelief.model.engine.dense.DenseEngine;
import io.streambelief.model.DenseNetwork;
import io.streambelief.model.engine.dense.Kernels;

/**
 * On a host with a usable GPU: the CUDA primitives compute what the CPU ones do, and copies in
 * flight land where asked (CudaDenseEngineTest holds the whole engine to the CPU one). No DL4J
 * on the classpath, so that the GPU bundle runs it too. Skipped, with the probe's reason, everywhere else.
 */
class CudaKernelsTest {

    @BeforeEach
    void needsAGpu() {
        CudaRuntime.Availability cuda = CudaRuntime.probe();
        assumeTrue(cuda.usable(), () -> "skipped: CUDA is not usable here: " + cuda.reason());
    }

    @Test
    void gemmInEveryTranspositionMatchesTheCpu() {
        int m = 37;
        int n = 19;
        int k = 53;
        float[] a = random(m * k, 1);
        float[] b = random(k * n, 2);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int lda = ta ? k : m;
                int ldb = tb ? n : k;
                float[] expected = gemm(new CpuKernels(), ta, tb, m, n, k, a, lda, b, ldb);
                float[] actual = gemm(new CudaKernels(0), ta, tb, m, n, k, a, lda, b, ldb);
                for (int i = 0; i < expected.length; i++) {
                    assertThat(actual[i]).as("C[%d], transposed %s %s", i, ta, tb)
                            .isCloseTo(expected[i], within(1e-4f * Math.max(1, Math.abs(expected[i]))));
                }
            }
        }
    }

    @Test
    void rowSumsAndBiasesMatchTheCpu() {
        float[] m = random(11 * 300, 3);
        float[] bias = random(11, 4);
        float[][] results = new float[2][];
        Kernels[] both = {new CpuKernels(), new CudaKernels(0)};
        for (int i = 0; i < 2; i++) {
            try (Kernels k = both[i]) {
                Kernels.Buffer matrix = k.upload(m);
                k.addBias(matrix, k.upload(bias), 11, 300);
                Kernels.Buffer sums = k.allocate(11);
                k.rowSums(matrix, 11, 300, sums);
                results[i] = new float[11];
                k.download(sums, results[i], 11);
            }
        }
        for (int r = 0; r < 11; r++) {
            assertThat(results[1][r]).isCloseTo(results[0][r], within(1e-3f * Math.max(1, Math.abs(results[0][r]))));
        }
    }

    @Test
    void downloadsInFlightLandWhereAskedWhicheverIsFinishedFirst() {
        float[] a = random(1000, 5);
        float[] b = random(3000, 6);
        try (CudaKernels kernels = new CudaKernels(0)) {
            // The first round copies through buffers of its own, the second through the grown shared one.
            for (int round = 0; round < 2; round++) {
                float[] target = new float[4000];
                Kernels.Download first = kernels.startDownload(kernels.upload(a), target, 0, 1000);
                Kernels.Download second = kernels.startDownload(kernels.upload(b), target, 1000, 3000);
                second.finish();
                first.finish();
                first.finish();
                assertThat(java.util.Arrays.copyOfRange(target, 0, 1000)).as("round %d", round).containsExactly(a);
                assertThat(java.util.Arrays.copyOfRange(target, 1000, 4000)).as("round %d", round).containsExactly(b);
            }
        }
    }

    @Test
    void parametersStayOnTheDeviceBetweenSteps() {
        DenseNetwork network = DenseNetwork.mlp("mlp:20-16-4");
        Random random = new Random(2);
        float[] features = random(16 * 20, 2);
        int[] labels = random.ints(16, 0, 4).toArray();
        MiniBatch batch = new MiniBatch(16, 20, features, labels);
        try (DenseEngine engine = new DenseEngine(network, new CudaKernels(0))) {
            engine.setParameters(network.randomParameters(3));
            GradientStep first = engine.step(batch);
            GradientStep second = engine.step(batch);
            assertThat(second.gradient()).containsExactly(first.gradient());
        }
    }

    private static float[] gemm(Kernels kernels, boolean ta, boolean tb, int m, int n, int k, float[] a, int lda,
            float[] b, int ldb) {
        try (kernels) {
            Kernels.Buffer c = kernels.allocate((long) m * n);
            kernels.gemm(ta, tb, m, n, k, kernels.upload(a), lda, kernels.upload(b), ldb, c, m);
            float[] out = new float[m * n];
            kernels.download(c, out, out.length);
            return out;
        }
    }


    private static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
