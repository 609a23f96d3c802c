package io.streambelief.benchmarks;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.MiniBatch;

/**
 * Plain DL4J's side of {@link GpuBenchmark}, in a class of its own so that the benchmark loads
 * without DL4J on the classpath (the GPU bundle has none) and only touches it when it is there.
 */
final class CpuEngineRun {
    private CpuEngineRun() {}

    static double examplesPerSecond(String preset, float[] params, MiniBatch[] pool, double seconds) {
        try (Dl4jGradientEngine engine = new Dl4jGradientEngine(ModelSpec.parse(preset, 42))) {
            return GpuBenchmark.examplesPerSecond(engine, params, pool, seconds);
        }
    }
}
