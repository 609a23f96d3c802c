package io.streambelief.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.streambelief.model.compression.GradientCompression;
import picocli.CommandLine;

class TrainingConfigTest {

    @Test
    void denseAsyncAndSspWorkersCompressByDefaultAndBspSendsWholeGradients() {
        assertThat(TrainingConfig.builder("b:9092").build().compression()).isEqualTo(TrainingConfig.DEFAULT_COMPRESSION);
        assertThat(TrainingConfig.builder("b:9092").mode(TrainingMode.SSP).build().compression())
                .isEqualTo(TrainingConfig.DEFAULT_COMPRESSION);
        assertThat(TrainingConfig.builder("b:9092").mode(TrainingMode.BSP).build().compression())
                .isEqualTo(GradientCompression.NONE);
        assertThatThrownBy(() -> TrainingConfig.builder("b:9092").mode(TrainingMode.BSP)
                .compression(new GradientCompression(0.1, false)).build())
                .hasMessageContaining("BSP").hasMessageContaining("--gradient-density");
    }

    @Test
    void theCompressionOptionsOverrideTheDefaultOneByOne() {
        assertThat(parse("--gradient-density", "0.05").compression()).isEqualTo(new GradientCompression(0.05, true));
        assertThat(parse("--no-bfloat16").compression()).isEqualTo(new GradientCompression(0.01, false));
        assertThat(parse("--gradient-density", "1", "--no-bfloat16").compression()).isEqualTo(GradientCompression.NONE);
        assertThat(parse().compression()).isEqualTo(TrainingConfig.DEFAULT_COMPRESSION);
        assertThatThrownBy(() -> parse("--gradient-density", "0")).hasMessageContaining("(0, 1]");
    }

    @Test
    void theWorkerLoopGetsTheModeAsItsStepBound() {
        assertThat(TrainingConfig.builder("b:9092").mode(TrainingMode.SSP).stalenessBound(3).build()
                .trainerSettings()).satisfies(settings -> {
                    assertThat(settings.bound()).isEqualTo(io.streambelief.model.trainer.StepBound.STALENESS);
                    assertThat(settings.stalenessBound()).isEqualTo(3);
                    assertThat(settings.workers()).isEqualTo(2);
                });
    }

    private static TrainingConfig parse(String... args) {
        TrainingOptions options = new TrainingOptions();
        new CommandLine(options).parseArgs(args);
        return options.toConfig("b:9092", 784, 10);
    }
}
