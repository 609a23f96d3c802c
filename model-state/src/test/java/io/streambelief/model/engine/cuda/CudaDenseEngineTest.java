package io.streambelief.model.engine.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;

import io.streambelief.model.engine.dense.DenseEngineTest;
import io.streambelief.model.engine.dense.Kernels;

/** Every test of the composition against DL4J, on the CUDA primitives; skipped where no GPU is usable. */
class CudaDenseEngineTest extends DenseEngineTest {

    @BeforeEach
    void needsAGpu() {
        CudaRuntime.Availability cuda = CudaRuntime.probe();
        assumeTrue(cuda.usable(), () -> "skipped: CUDA is not usable here: " + cuda.reason());
    }

    @Override
    protected Kernels newKernels() {
        return new CudaKernels(0);
    }
}
