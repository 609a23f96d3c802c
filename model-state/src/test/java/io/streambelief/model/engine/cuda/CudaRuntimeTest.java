package io.streambelief.model.engine.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.TestBatches;
import io.streambelief.model.engine.Dl4jGradientEngine;

class CudaRuntimeTest {

    @Test
    void theProbeRunsOnceAndAnswersInOneLine() {
        CudaRuntime.Availability first = CudaRuntime.probe();
        assertThat(CudaRuntime.probe()).isSameAs(first);
        if (first.usable()) {
            assertThat(first.reason()).isNull();
        } else {
            assertThat(first.devices()).isZero();
            assertThat(first.reason()).isNotBlank().doesNotContain("\n");
        }
    }

    @Test
    void dl4jKeepsWorkingAfterAFailedProbe() {
        CudaRuntime.probe();
        ModelSpec spec = ModelSpec.parse("mlp:5-4-2", 1);
        try (Dl4jGradientEngine engine = new Dl4jGradientEngine(spec)) {
            assertThat(engine.step(TestBatches.random(spec, 8, 1)).gradient()).hasSize((int) spec.numParams());
        }
    }

    @Test
    void missingLibrariesAreNamedTheWayOneInstallsThem() {
        UnsatisfiedLinkError noDriver = new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib");
        noDriver.initCause(new UnsatisfiedLinkError(
                "/root/.javacpp/cache/libjnicudart.so: libcuda.so.1: cannot open shared object file"));
        assertThat(CudaRuntime.explain("the CUDA runtime", noDriver))
                .isEqualTo("no NVIDIA driver (libcuda.so.1 not found; CUDA 13 needs driver R580 or newer)");
        assertThat(CudaRuntime.explain("cuBLAS", new UnsatisfiedLinkError("libcublas.so.13: cannot open")))
                .startsWith("no cuBLAS 13");
        assertThat(CudaRuntime.explain("NVRTC", new UnsatisfiedLinkError("libnvrtc.so.13: cannot open")))
                .startsWith("no NVRTC 13");
        assertThat(CudaRuntime.explain("NVRTC", new NoClassDefFoundError("something\nelse")))
                .isEqualTo("NVRTC could not be loaded (NoClassDefFoundError: something)");
    }
}
