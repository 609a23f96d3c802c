package io.streambelief.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.engine.cuda.CudaKernels;
import io.streambelief.model.engine.cuda.CudaRuntime;
import io.streambelief.model.engine.dense.CpuKernels;
import io.streambelief.model.engine.dense.DenseEngine;
import io.streambelief.model.DenseNetwork;
import io.streambelief.model.engine.dense.Kernels;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Gradient steps per second of one worker's engine on a GPU host: the CUDA engine, plain DL4J on
 * the CPU (when DL4J is on the classpath, i.e. run from the build, not from the GPU bundle), and
 * PyTorch on the same GPU (when {@code python3 -c "import torch"} works there), on the same MLP,
 * the same synthetic batches and the same batch size. A step is what a worker needs per
 * mini-batch: the batch in, forward, backward, the flat gradient with loss and hits back in host
 * memory. The last line compares the wide MLP at batch 1024 with PyTorch and with the cuBLAS SGEMM
 * peak measured in the same run.
 *
 * <p>Uses no DL4J, Flink or Kafka class itself, so the bundle of {@code infra/gpu-bundle} runs it.
 */
@Command(name = "gpu", mixinStandardHelpOptions = true,
        description = "The CUDA engine against PyTorch on the same GPU and plain DL4J on the CPU (run on a GPU host).")
public final class GpuBenchmark implements Callable<Integer> {
    static final String WIDE = "mlp:4096-4096-4096-4096-1000@1024";
    private static final int POOL = 4;
    private static final long SEED = 42;

    @Option(names = "--configs", split = ",", defaultValue = "mlp:784-256-128-10@128,mlp:784-256-128-10@1024," + WIDE,
            description = "Models and batch sizes, MODEL@BATCH, comma-separated. Default: ${DEFAULT-VALUE}.")
    List<String> configs;

    @Option(names = "--seconds", defaultValue = "3", description = "Timed seconds per engine and configuration. "
            + "Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Option(names = "--device", defaultValue = "0", description = "CUDA device. Default: ${DEFAULT-VALUE}.")
    int device;

    @Option(names = "--python", defaultValue = "python3", description = "Python with PyTorch. Default: ${DEFAULT-VALUE}.")
    String python;

    @Option(names = "--no-cpu", description = "Skip plain DL4J on the CPU.")
    boolean noCpu;

    @Option(names = "--self-check", description = "Only check that this installation can run the benchmark: the "
            + "engine's composition on CPU kernels, the CUDA probe, PyTorch. Needs no GPU.")
    boolean selfCheck;

    public static void main(String[] args) {
        System.exit(new CommandLine(new GpuBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        CudaRuntime.Availability cuda = CudaRuntime.probe();
        String torch = torchProblem();
        if (selfCheck) {
            return selfCheck(cuda, torch);
        }
        if (!cuda.usable()) {
            System.err.println("gpu benchmark: CUDA is not usable here: " + cuda.reason()
                    + " (run it on a GPU host, e.g. from the bundle infra/gpu-bundle builds)");
            return 2;
        }
        boolean dl4j = !noCpu && dl4jPresent();
        try (CudaKernels probe = new CudaKernels(device)) {
            System.out.println("GPU " + device + ": " + probe.deviceName() + "; PyTorch: "
                    + (torch == null ? "yes" : "no (" + torch + ")") + "; plain DL4J on the CPU: "
                    + (dl4j ? "yes, " + Runtime.getRuntime().availableProcessors() + " cores" : "no"));
        }
        double peak = sgemmPeak();
        System.out.printf(Locale.ROOT, "cuBLAS SGEMM 8192^3: %.1f TFLOP/s%n", peak / 1e12);
        Path dir = Files.createTempDirectory("streambelief-gpu-bench");
        double cudaWide = Double.NaN;
        double torchWide = Double.NaN;
        for (String config : configs) {
            String[] parts = config.strip().split("@");
            DenseNetwork network = DenseNetwork.mlp(parts[0]);
            int batchSize = Integer.parseInt(parts[1]);
            MiniBatch[] pool = batches(network, batchSize);
            float[] params = network.randomParameters(SEED);

            double cudaRate;
            try (DenseEngine engine = new DenseEngine(network, new CudaKernels(device))) {
                cudaRate = examplesPerSecond(engine, params, pool, seconds);
            }
            double cpuRate = dl4j ? CpuEngineRun.examplesPerSecond(parts[0], params, pool, Math.min(seconds, 10)) : Double.NaN;
            double torchRate = torch == null ? torchExamplesPerSecond(dir, network, pool, batchSize) : Double.NaN;
            System.out.printf(Locale.ROOT, "%s batch %d: cuda %s ex/s (%.1f%% of SGEMM peak), torch %s, cpu (DL4J) %s;"
                    + " cuda/torch %s, cuda/cpu %s%n", parts[0], batchSize, rate(cudaRate),
                    100 * cudaRate * network.flopsPerExample() / peak, rate(torchRate), rate(cpuRate),
                    ratio(cudaRate, torchRate), ratio(cudaRate, cpuRate));
            if (config.strip().equals(WIDE)) {
                cudaWide = cudaRate;
                torchWide = torchRate;
            }
        }
        if (Double.isNaN(cudaWide)) {
            System.out.println("(the summary line needs " + WIDE + " among --configs)");
            return 0;
        }
        double efficiency = cudaWide * DenseNetwork.mlp(WIDE.split("@")[0]).flopsPerExample() / peak;
        System.out.printf(Locale.ROOT, "cuda_examples_per_s=%.0f torch_examples_per_s=%s torch_ratio=%s gemm_efficiency=%.3f%n",
                cudaWide, Double.isNaN(torchWide) ? "n/a" : String.format(Locale.ROOT, "%.0f", torchWide),
                ratio(cudaWide, torchWide), efficiency);
        return 0;
    }

    /**
     * Warms up, then steps through the pool for at least {@code seconds}, each gradient into the
     * same array, as a worker does.
     */
    static double examplesPerSecond(GradientEngine engine, float[] params, MiniBatch[] pool, double seconds) {
        engine.setParameters(params);
        float[] gradient = new float[params.length];
        for (int i = 0; i < 3; i++) {
            engine.step(pool[i % pool.length], gradient);
        }
        long start = System.nanoTime();
        long examples = 0;
        int steps = 0;
        double elapsed;
        do {
            MiniBatch batch = pool[steps++ % pool.length];
            engine.step(batch, gradient);
            examples += batch.size();
            elapsed = (System.nanoTime() - start) / 1e9;
        } while (elapsed < seconds || steps < 3);
        return examples / elapsed;
    }

    /** Achieved FLOP/s of cuBLAS's SGEMM on square 8192 matrices: what the engine's products could reach. */
    private double sgemmPeak() {
        int n = 8192;
        try (CudaKernels kernels = new CudaKernels(device)) {
            Kernels.Buffer a = kernels.allocate((long) n * n);
            Kernels.Buffer b = kernels.allocate((long) n * n);
            Kernels.Buffer c = kernels.allocate((long) n * n);
            float[] one = new float[1];
            for (int i = 0; i < 2; i++) {
                kernels.gemm(false, false, n, n, n, a, n, b, n, c, n);
            }
            kernels.download(c, one, 1);
            int repeats = 10;
            long start = System.nanoTime();
            for (int i = 0; i < repeats; i++) {
                kernels.gemm(false, false, n, n, n, a, n, b, n, c, n);
            }
            kernels.download(c, one, 1);
            return 2.0 * n * n * n * repeats / ((System.nanoTime() - start) / 1e9);
        }
    }

    private int selfCheck(CudaRuntime.Availability cuda, String torch) {
        DenseNetwork network = DenseNetwork.mlp("mlp:784-256-128-10");
        MiniBatch[] pool = batches(network, 128);
        try (DenseEngine engine = new DenseEngine(network, new CpuKernels())) {
            engine.setParameters(network.randomParameters(SEED));
            double loss = engine.step(pool[0]).loss();
            System.out.printf(Locale.ROOT, "engine composition on CPU kernels: ok (loss %.3f on a random batch)%n", loss);
        }
        System.out.println("CUDA: " + (cuda.usable() ? cuda.devices() + " device(s)" : "not usable: " + cuda.reason()));
        System.out.println("PyTorch: " + (torch == null ? "usable" : "not usable: " + torch));
        System.out.println("plain DL4J: " + (dl4jPresent() ? "on the classpath" : "not in this installation"));
        return 0;
    }

    /** Why PyTorch on a GPU cannot be measured here, or null when it can. */
    private String torchProblem() {
        try {
            Process process = new ProcessBuilder(python, "-c",
                    "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'")
                    .redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return python + " -c 'import torch' did not finish";
            }
            if (process.exitValue() != 0) {
                List<String> lines = output.lines().toList();
                return lines.isEmpty() ? python + " failed" : lines.get(lines.size() - 1);
            }
            return null;
        } catch (IOException e) {
            return python + " not found";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private double torchExamplesPerSecond(Path dir, DenseNetwork network, MiniBatch[] pool, int batchSize)
            throws IOException, InterruptedException {
        Path script = dir.resolve("torch_mlp.py");
        try (InputStream in = GpuBenchmark.class.getResourceAsStream("torch_mlp.py")) {
            Files.write(script, in.readAllBytes());
        }
        Path features = dir.resolve("features.f32");
        Path labels = dir.resolve("labels.i32");
        ByteBuffer f = ByteBuffer.allocate(pool.length * pool[0].features().length * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer l = ByteBuffer.allocate(pool.length * batchSize * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (MiniBatch batch : pool) {
            f.asFloatBuffer().put(batch.features());
            f.position(f.position() + batch.features().length * Float.BYTES);
            for (int label : batch.labels()) {
                l.putInt(label);
            }
        }
        Files.write(features, f.array());
        Files.write(labels, l.array());
        StringBuilder sizes = new StringBuilder().append(network.numInputs());
        network.layers().forEach(layer -> sizes.append(',').append(layer.outputs()));
        List<String> command = new ArrayList<>(List.of(python, script.toString(), "--layers", sizes.toString(),
                "--batch", "" + batchSize, "--pool", "" + pool.length, "--features", features.toString(), "--labels",
                labels.toString(), "--seconds", "" + seconds, "--device", "" + device));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        for (String line : output.lines().toList()) {
            if (line.startsWith("examples_per_s=")) {
                return Double.parseDouble(line.substring("examples_per_s=".length()));
            }
        }
        System.out.println("PyTorch run failed: " + output.strip());
        return Double.NaN;
    }

    /** {@value #POOL} seeded random batches, cycled through by every engine. */
    static MiniBatch[] batches(DenseNetwork network, int batchSize) {
        SplittableRandom random = new SplittableRandom(SEED);
        int labels = network.loss() == DenseNetwork.Loss.SIGMOID_CROSS_ENTROPY ? 2 : network.numOutputs();
        MiniBatch[] pool = new MiniBatch[POOL];
        for (int p = 0; p < POOL; p++) {
            float[] features = new float[batchSize * network.numInputs()];
            for (int i = 0; i < features.length; i++) {
                features[i] = (float) random.nextDouble();
            }
            int[] classes = new int[batchSize];
            for (int i = 0; i < batchSize; i++) {
                classes[i] = random.nextInt(labels);
            }
            pool[p] = new MiniBatch(batchSize, network.numInputs(), features, classes);
        }
        return pool;
    }

    private static boolean dl4jPresent() {
        try {
            Class.forName("org.nd4j.linalg.factory.Nd4j", false, GpuBenchmark.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static String rate(double examplesPerSecond) {
        return Double.isNaN(examplesPerSecond) ? "n/a" : String.format(Locale.ROOT, "%,.0f", examplesPerSecond);
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? "n/a" : String.format(Locale.ROOT, "%.2f", a / b);
    }
}
