package io.streambelief.model.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.TestBatches;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.cuda.CudaRuntime;

class EngineChoiceTest {
    private static final ModelSpec MLP = ModelSpec.parse("mlp:8-6-3", 1);
    private static final CudaRuntime.Availability NO_DRIVER = new CudaRuntime.Availability(0,
            "no NVIDIA driver (libcuda.so.1 not found; CUDA 13 needs driver R580 or newer)");
    private static final CudaRuntime.Availability TWO_GPUS = new CudaRuntime.Availability(2, null);

    @Test
    void parsesTheThreeChoicesAndRefusesOthers() {
        assertThat(EngineChoice.parse("cpu")).isEqualTo(EngineChoice.CPU);
        assertThat(EngineChoice.parse(" CUDA ")).isEqualTo(EngineChoice.CUDA);
        assertThat(EngineChoice.parse("auto")).isEqualTo(EngineChoice.AUTO);
        assertThatThrownBy(() -> EngineChoice.parse("gpu")).hasMessage("Unknown engine 'gpu': use cpu, cuda or auto");
    }

    @Test
    void autoWithoutAUsableGpuRunsDl4jAndSaysWhyInOneLine() {
        EngineChoice.Decision decision = EngineChoice.AUTO.decide(MLP, OptionalInt.empty(), NO_DRIVER);
        assertThat(decision.cuda()).isFalse();
        assertThat(decision.description()).isEqualTo(
                "cpu (DL4J); CUDA not used: no NVIDIA driver (libcuda.so.1 not found; CUDA 13 needs driver R580 or newer)")
                .doesNotContain("\n");
        try (GradientEngine engine = decision.newEngine(MLP)) {
            assertThat(engine).isInstanceOf(Dl4jGradientEngine.class);
            assertThat(engine.step(TestBatches.random(MLP, 4, 1)).size()).isEqualTo(4);
        }
    }

    @Test
    void cudaWhereItCannotRunIsAnErrorNamingTheReason() {
        assertThatThrownBy(() -> EngineChoice.CUDA.decide(MLP, OptionalInt.empty(), NO_DRIVER))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--engine cuda cannot run here: no NVIDIA driver")
                .hasMessageContaining("use --engine cpu or auto");
    }

    @Test
    void withAUsableGpuAndASupportedModelCudaRunsOnTheBoundDevice() {
        EngineChoice.Decision decision = EngineChoice.AUTO.decide(MLP, OptionalInt.of(1), TWO_GPUS);
        assertThat(decision.cuda()).isTrue();
        assertThat(decision.device()).hasValue(1);
        assertThat(decision.description()).isEqualTo("cuda on GPU 1");
        assertThat(EngineChoice.AUTO.decide(MLP, OptionalInt.empty(), TWO_GPUS).description())
                .isEqualTo("cpu (DL4J); CUDA not used: no GPU was assigned to this worker");
    }

    @Test
    void aCudaEngineThatFailsToStartFallsBackKeepingItsGpu() {
        EngineChoice.Decision cuda = EngineChoice.AUTO.decide(MLP, OptionalInt.of(1), TWO_GPUS);
        EngineChoice.Decision fallback = cuda.fallBack(new IllegalStateException("NVRTC could not compile\nline 2"));
        assertThat(fallback.cuda()).isFalse();
        assertThat(fallback.device()).hasValue(1);
        assertThat(fallback.description()).isEqualTo("cpu (DL4J); CUDA not used: the CUDA engine failed to start "
                + "(IllegalStateException: NVRTC could not compile)");
    }

    @Test
    void theProcessWideSummaryIsOneLine() {
        assertThat(EngineChoice.AUTO.summary(MLP, TWO_GPUS)).isEqualTo("cuda on 2 GPU(s), shared out among the workers");
        assertThat(EngineChoice.AUTO.summary(MLP, NO_DRIVER)).startsWith("cpu (DL4J); CUDA not used: no NVIDIA driver");
        assertThat(EngineChoice.CPU.summary(MLP, CudaRuntime.NOT_PROBED)).isEqualTo("cpu (DL4J)");
        assertThatThrownBy(() -> EngineChoice.CUDA.summary(MLP, NO_DRIVER)).hasMessageContaining("cannot run here");
    }

    @Test
    void aFlinkAssignedGpuIsReportedEvenWhenCudaIsNotUsable() {
        EngineChoice.Decision decision = EngineChoice.AUTO.decide(MLP, OptionalInt.of(7), NO_DRIVER);
        assertThat(decision.cuda()).isFalse();
        assertThat(decision.device()).hasValue(7);
        assertThat(EngineChoice.CPU.decide(MLP, OptionalInt.of(7), NO_DRIVER).device()).hasValue(7);
    }

    @Test
    void autoFallsBackForAGpuItDoesNotHaveOrAModelTheCudaEngineDoesNotCompute() throws Exception {
        assertThat(EngineChoice.AUTO.decide(MLP, OptionalInt.of(5), TWO_GPUS).description())
                .isEqualTo("cpu (DL4J); CUDA not used: GPU 5 was assigned but this process sees 2 CUDA device(s)");
        String json = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(1)
                .dataType(org.nd4j.linalg.api.buffer.DataType.FLOAT).list()
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                        org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MSE).nIn(3).nOut(2)
                        .activation(org.nd4j.linalg.activations.Activation.IDENTITY).build())
                .build().toJson();
        java.nio.file.Path file = java.nio.file.Files.createTempFile("mse", ".json");
        java.nio.file.Files.writeString(file, json);
        ModelSpec regression = ModelSpec.parse(file.toString(), 1);
        assertThat(EngineChoice.AUTO.decide(regression, OptionalInt.of(0), TWO_GPUS).description())
                .startsWith("cpu (DL4J); CUDA not used: Model ").contains("not supported");
        java.nio.file.Files.delete(file);
    }
}
