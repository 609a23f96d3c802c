package io.streambelief.model.engine.cuda;

import java.util.Locale;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;

/**
 * Whether this JVM can run the CUDA engine, found out once: the JNI glue of JavaCPP's CUDA presets
 * loads only where the host has the NVIDIA driver ({@code libcuda.so.1}) and CUDA 13's runtime,
 * cuBLAS and NVRTC libraries. A failed load throws a {@link LinkageError}, after which every CUDA
 * class of the presets stays unusable in this JVM, so the probe is never repeated; DL4J's CPU
 * backend is not affected.
 */
public final class CudaRuntime {
    /** What a worker on {@code --engine cpu} knows about CUDA without loading it. */
    public static final Availability NOT_PROBED = new Availability(0, "not probed (--engine cpu)");

    private static volatile Availability availability;

    private CudaRuntime() {}

    /**
     * What the probe found.
     *
     * @param devices CUDA devices this process sees (0 when unusable)
     * @param reason when no device is usable: why, in one line
     */
    public record Availability(int devices, String reason) {
        public boolean usable() {
            return devices > 0;
        }
    }

    /** Probes on the first call, then answers from memory. */
    public static Availability probe() {
        Availability found = availability;
        if (found == null) {
            synchronized (CudaRuntime.class) {
                found = availability;
                if (found == null) {
                    found = availability = load();
                }
            }
        }
        return found;
    }

    private static Availability load() {
        String step = "the CUDA runtime";
        try {
            Loader.load(cudart.class);
            int[] count = new int[1];
            int code = cudart.cudaGetDeviceCount(count);
            if (code != cudart.cudaSuccess) {
                return new Availability(0, "no usable CUDA device (cudaGetDeviceCount: "
                        + cudart.cudaGetErrorString(code).getString() + ")");
            }
            if (count[0] == 0) {
                return new Availability(0, "no CUDA device");
            }
            step = "cuBLAS";
            Loader.load(cublas.class);
            step = "NVRTC";
            Loader.load(nvrtc.class);
            return new Availability(count[0], null);
        } catch (LinkageError | RuntimeException e) {
            return new Availability(0, explain(step, e));
        }
    }

    /** Names the missing piece the way a person installing it would look for it. */
    static String explain(String step, Throwable error) {
        // JavaCPP reports "no jnicudart in java.library.path"; the missing library is named by a cause.
        StringBuilder chain = new StringBuilder();
        for (Throwable t = error; t != null && chain.length() < 4096; t = t.getCause()) {
            chain.append(t.getMessage()).append('\n');
        }
        String message = String.valueOf(error.getMessage());
        String lower = chain.toString().toLowerCase(Locale.ROOT);
        if (lower.contains("libcuda.so")) {
            return "no NVIDIA driver (libcuda.so.1 not found; CUDA 13 needs driver R580 or newer)";
        }
        if (lower.contains("libcublas")) {
            return "no cuBLAS 13 (libcublas.so.13 not found; install the CUDA 13 toolkit or its cuBLAS libraries)";
        }
        if (lower.contains("libnvrtc")) {
            return "no NVRTC 13 (libnvrtc.so.13 not found; install the CUDA 13 toolkit or its NVRTC libraries)";
        }
        if (lower.contains("libcudart")) {
            return "no CUDA 13 runtime (libcudart.so.13 not found)";
        }
        String firstLine = message.lines().findFirst().orElse(message);
        return step + " could not be loaded (" + error.getClass().getSimpleName() + ": " + firstLine + ")";
    }
}
