package io.streambelief.model.engine.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.model.engine.dense.CpuKernels;
import io.streambelief.model.DenseNetwork;
import io.streambelief.model.engine.dense.Kernels;

/**
 * The CUDA C that NVRTC compiles on a GPU host, checked where there is none: it compiles to PTX
 * with nvcc (when a CUDA toolkit is installed), and each kernel, run on the CPU one simulated
 * thread at a time by {@code kernel_harness.cpp} (when g++ is installed), computes what the
 * matching {@link CpuKernels} method computes. Skipped, saying which tool is missing, elsewhere.
 */
class CudaKernelSourceTest {
    @TempDir
    static Path dir;
    private static Path harness;
    private static String harnessProblem;

    @BeforeAll
    static void compileHarness() throws Exception {
        Files.writeString(dir.resolve(CudaKernels.SOURCE), CudaKernels.source());
        try (InputStream in = CudaKernelSourceTest.class.getResourceAsStream("kernel_harness.cpp")) {
            Files.write(dir.resolve("kernel_harness.cpp"), in.readAllBytes());
        }
        Result gpp = run(List.of("g++", "-std=c++17", "-O1", "-o", dir.resolve("harness").toString(),
                dir.resolve("kernel_harness.cpp").toString()), "");
        if (gpp.code == 0) {
            harness = dir.resolve("harness");
        } else {
            harnessProblem = gpp.output;
        }
    }

    @Test
    void theKernelSourceCompilesToPtxAndMachineCodeWithEveryKernel() throws Exception {
        Result nvcc = run(List.of("nvcc", "-ptx", "-arch=compute_90", "-o", dir.resolve("k.ptx").toString(),
                dir.resolve(CudaKernels.SOURCE).toString()), "");
        assumeTrue(nvcc.code != NOT_FOUND, "skipped: nvcc (the CUDA toolkit) is not installed here");
        assertThat(nvcc.code).as("nvcc: %s", nvcc.output).isZero();
        String ptx = Files.readString(dir.resolve("k.ptx"));
        for (String kernel : List.of("add_bias", "activate", "multiply_by_derivative", "softmax_cross_entropy",
                "sigmoid_cross_entropy")) {
            assertThat(ptx).contains(".entry " + kernel + "(");
        }
        // Machine code too, as CudaKernels asks NVRTC for first (sm_90: Hopper).
        Result cubin = run(List.of("nvcc", "-cubin", "-arch=sm_90", "-o", dir.resolve("k.cubin").toString(),
                dir.resolve(CudaKernels.SOURCE).toString()), "");
        assertThat(cubin.code).as("nvcc -cubin: %s", cubin.output).isZero();
        assertThat(Files.size(dir.resolve("k.cubin"))).isPositive();
    }

    @Test
    void addBiasAddsEachRowsBias() throws Exception {
        float[] m = random(5 * 9, 1);
        float[] bias = random(5, 2);
        float[] expected = cpu(m, k -> {
            Kernels.Buffer b = k.upload(m);
            k.addBias(b, k.upload(bias), 5, 9);
            return b;
        });
        assertClose(kernel(List.of("add_bias", "5", "9"), m, bias), expected);
    }

    @Test
    void activationsAndTheirDerivativesMatch() throws Exception {
        float[] z = random(50, 3);
        float[] g = random(50, 4);
        for (DenseNetwork.Activation activation : DenseNetwork.Activation.values()) {
            float[] activated = cpu(z, k -> {
                Kernels.Buffer b = k.upload(z);
                k.activate(activation, b, z.length);
                return b;
            });
            assertClose(kernel(List.of("activate", "" + activation.ordinal(), "50"), z), activated);
            float[] scaled = cpu(g, k -> {
                Kernels.Buffer b = k.upload(g);
                k.multiplyByDerivative(activation, k.upload(activated), b, g.length);
                return b;
            });
            assertClose(kernel(List.of("multiply_by_derivative", "" + activation.ordinal(), "50"), activated, g),
                    scaled);
        }
    }

    @Test
    void softmaxCrossEntropyGivesDeltaLossAndHits() throws Exception {
        int classes = 6;
        int batch = 25;
        float[] z = random(classes * batch, 5);
        float[] labels = labels(batch, classes, 6);
        assertClose(kernel(List.of("softmax_cross_entropy", "" + classes, "" + batch, "0.04"), z, labels),
                cpuLoss(DenseNetwork.Loss.SOFTMAX_CROSS_ENTROPY, z, labels, classes, batch, 0.04f));
    }

    @Test
    void sigmoidCrossEntropyGivesDeltaLossAndHits() throws Exception {
        int batch = 30;
        float[] z = random(batch, 7);
        float[] labels = labels(batch, 2, 8);
        assertClose(kernel(List.of("sigmoid_cross_entropy", "1", "" + batch, "0.5"), z, labels),
                cpuLoss(DenseNetwork.Loss.SIGMOID_CROSS_ENTROPY, z, labels, 1, batch, 0.5f));
    }

    private static float[] cpuLoss(DenseNetwork.Loss loss, float[] z, float[] labels, int classes, int batch,
            float scale) {
        try (CpuKernels k = new CpuKernels()) {
            Kernels.Buffer delta = k.allocate((long) classes * batch);
            Kernels.Buffer stats = k.allocate(2L * batch);
            k.loss(loss, k.upload(z), k.upload(labels), classes, batch, scale, delta, stats);
            float[] out = new float[classes * batch + 2 * batch];
            float[] d = new float[classes * batch];
            float[] s = new float[2 * batch];
            k.download(delta, d, d.length);
            k.download(stats, s, s.length);
            System.arraycopy(d, 0, out, 0, d.length);
            System.arraycopy(s, 0, out, d.length, s.length);
            return out;
        }
    }

    private interface Operation {
        Kernels.Buffer apply(Kernels kernels);
    }

    private static float[] cpu(float[] shape, Operation operation) {
        try (CpuKernels k = new CpuKernels()) {
            Kernels.Buffer result = operation.apply(k);
            float[] out = new float[shape.length];
            k.download(result, out, out.length);
            return out;
        }
    }


    private static float[] kernel(List<String> arguments, float[]... inputs) throws Exception {
        assumeTrue(harness != null, "skipped: g++ could not build the kernel harness here: " + harnessProblem);
        StringBuilder stdin = new StringBuilder();
        for (float[] input : inputs) {
            for (float v : input) {
                stdin.append(v).append('\n');
            }
        }
        List<String> command = new ArrayList<>();
        command.add(harness.toString());
        command.addAll(arguments);
        Result result = run(command, stdin.toString());
        assertThat(result.code).as("harness %s: %s", arguments, result.output).isZero();
        List<String> lines = result.output.lines().toList();
        float[] values = new float[lines.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.parseFloat(lines.get(i));
        }
        return values;
    }

    private static void assertClose(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("value %d of %s", i, Arrays.toString(actual))
                    .isCloseTo(expected[i], within(1e-5f * Math.max(1, Math.abs(expected[i]))));
        }
    }

    private static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian() * 2;
        }
        return values;
    }

    private static float[] labels(int batch, int classes, long seed) {
        Random random = new Random(seed);
        float[] labels = new float[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = random.nextInt(classes);
        }
        return labels;
    }

    private static final int NOT_FOUND = -1;

    private record Result(int code, String output) {}

    private static Result run(List<String> command, String stdin) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(NOT_FOUND, command.get(0) + " not found: " + e.getMessage());
        }
        try (var in = process.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Result(124, output);
        }
        return new Result(process.exitValue(), output);
    }
}
