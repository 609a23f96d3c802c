package io.streambelief.model.trainer;

import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;

import io.streambelief.model.DenseNetwork;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.cuda.CudaKernels;
import io.streambelief.model.engine.cuda.CudaRuntime;
import io.streambelief.model.engine.dense.DenseEngine;

/**
 * Which gradient engine a worker runs: {@code cpu} (DL4J on nd4j-native), {@code cuda} (our dense
 * engine on cuBLAS and NVRTC kernels) or {@code auto} (CUDA when a device is usable and the model
 * is one the CUDA engine computes, else the CPU, saying why in one line).
 */
public enum EngineChoice {
    CPU, CUDA, AUTO;

    public static EngineChoice parse(String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Unknown engine '" + text + "': use cpu, cuda or auto");
        }
    }

    /**
     * Decides for a worker bound to GPU {@code device} (if any).
     *
     * @param cuda what {@link CudaRuntime#probe()} found ({@link CudaRuntime#NOT_PROBED} for {@code cpu})
     * @throws IllegalArgumentException when {@code cuda} was asked for and cannot be had
     */
    public Decision decide(ModelSpec spec, OptionalInt device, CudaRuntime.Availability cuda) {
        Objects.requireNonNull(spec, "spec");
        if (this == CPU) {
            return new Decision(false, device, "cpu (DL4J)");
        }
        String unusable = null;
        if (!cuda.usable()) {
            unusable = cuda.reason();
        } else if (device.isEmpty()) {
            unusable = "no GPU was assigned to this worker";
        } else if (device.getAsInt() >= cuda.devices()) {
            unusable = "GPU " + device.getAsInt() + " was assigned but this process sees " + cuda.devices()
                    + " CUDA device(s)";
        } else {
            try {
                spec.denseNetwork();
            } catch (IllegalArgumentException e) {
                unusable = e.getMessage();
            }
        }
        if (unusable == null) {
            return new Decision(true, device, "cuda on GPU " + device.getAsInt());
        }
        if (this == CUDA) {
            throw new IllegalArgumentException("--engine cuda cannot run here: " + unusable
                    + "; use --engine cpu or auto");
        }
        return new Decision(false, device, "cpu (DL4J); CUDA not used: " + unusable);
    }

    /**
     * The choice for this process as a whole, in one line, before any worker starts: an error
     * for {@code cuda} where it cannot run, the CPU with the reason for {@code auto}.
     */
    public String summary(ModelSpec spec, CudaRuntime.Availability cuda) {
        Decision decision = decide(spec, cuda.usable() ? OptionalInt.of(0) : OptionalInt.empty(), cuda);
        return decision.cuda() ? "cuda on " + cuda.devices() + " GPU(s), shared out among the workers"
                : decision.description();
    }

    /**
     * What {@link #decide} chose.
     *
     * @param cuda whether the CUDA engine runs
     * @param device the GPU this subtask is bound to, if any (also when the CPU engine runs)
     * @param description one line for logs: the engine, and why CUDA is not used when it is not
     */
    public record Decision(boolean cuda, OptionalInt device, String description) {
        public String engineName() {
            return cuda ? "cuda" : "cpu";
        }

        /**
         * The CPU instead, for {@code auto} when the CUDA engine failed to start on a device the
         * probe found usable (a kernel that did not compile, a device out of memory).
         */
        public Decision fallBack(Throwable failure) {
            String message = String.valueOf(failure.getMessage()).lines().findFirst().orElse("");
            return new Decision(false, device, "cpu (DL4J); CUDA not used: the CUDA engine failed to start ("
                    + failure.getClass().getSimpleName() + ": " + message + ")");
        }

        public GradientEngine newEngine(ModelSpec spec) {
            if (!cuda) {
                return new Dl4jGradientEngine(spec);
            }
            DenseNetwork network = spec.denseNetwork();
            return new DenseEngine(network, new CudaKernels(device.getAsInt()));
        }
    }
}
