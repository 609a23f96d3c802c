package io.streambelief.flink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.optimizer.Optimizer;
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

    /** No one example may ruin a model: optimizers whose steps grow with the gradient get a clip by default. */
    @Test
    void gradientsAreClippedByDefaultUnlessTheOptimizerBoundsEachStepItself() {
        assertThat(parse("--optimizer", "sgd:lr=0.1").clipNorm()).isEqualTo(TrainingConfig.DEFAULT_CLIP_NORM);
        assertThat(parse("--optimizer", "momentum").clipNorm()).isEqualTo(TrainingConfig.DEFAULT_CLIP_NORM);
        assertThat(parse().clipNorm()).as("adagrad").isZero();
        assertThat(parse("--optimizer", "adam").clipNorm()).isZero();
        assertThat(parse("--optimizer", "sgd", "--clip-norm", "0").clipNorm()).as("asked off").isZero();
        assertThat(parse("--optimizer", "adagrad", "--clip-norm", "2.5").clipNorm()).isEqualTo(2.5);
        assertThat(TrainingConfig.builder("b:9092").optimizer(Optimizer.parse("sgd")).build().toBuilder().build()
                .clipNorm()).isEqualTo(TrainingConfig.DEFAULT_CLIP_NORM);
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

    @Test
    void dealingByPartitionNeedsOnePartitionPerWorkerAndStartsWithoutWarmstart() {
        TrainingConfig byPartition = parse("--dealing", "partition", "--workers", "2");
        assertThat(byPartition.dealing()).isEqualTo(Dealing.PARTITION);
        assertThat(byPartition.warmstartExamples()).as("no default warmstart").isZero();
        assertThat(byPartition.toBuilder().build().dealing()).isEqualTo(Dealing.PARTITION);
        byPartition.checkExamplePartitions(2);
        assertThatThrownBy(() -> byPartition.checkExamplePartitions(3)).hasMessage("--dealing partition needs one "
                + "examples partition per worker: topic examples has 3 for 2 workers; use --workers 3 or "
                + "--dealing round-robin");
        parse("--workers", "2").checkExamplePartitions(3);
        assertThat(parse().warmstartExamples()).isEqualTo(10_000);

        assertThatThrownBy(() -> parse("--dealing", "partition", "--warmstart", "100"))
                .hasMessageContaining("leave --warmstart out");
        assertThatThrownBy(() -> parse("--dealing", "by-offset")).hasMessageContaining("use round-robin or partition");
    }

    /** The command line's defaults are the builder's: one set of defaults, whichever way a job is configured. */
    @Test
    void withoutOptionsTheCommandLineGivesTheBuildersDefaults() {
        assertThat(parse()).isEqualTo(TrainingConfig.builder("b:9092").build());
    }

    /** The seed makes a sparse model's dense part: a copy of the configuration must keep it. */
    @Test
    void aCopyOfTheConfigurationIsTheSameConfiguration() {
        TrainingConfig sparse = parse("--schema", "flights", "--seed", "3");
        TrainingConfig copy = sparse.toBuilder().build();

        assertThat(copy.seed()).isEqualTo(3);
        assertThat(copy.spec().initialParameters()).containsExactly(sparse.spec().initialParameters());
        assertThat(copy).isEqualTo(sparse);
    }

    @Test
    void everyTopicCanBeRenamed() {
        TrainingConfig renamed = parse("--examples-topic", "a", "--params-topic", "b", "--snapshots-topic", "c",
                "--dead-letter-topic", "d", "--metrics-topic", "e", "--embedding-gradients-topic", "f",
                "--embedding-rows-topic", "g", "--param-deltas-topic", "h");

        assertThat(renamed.topics()).isEqualTo(new io.streambelief.kafka.topic.TopicNames("a", "b", "c", "d", "e",
                "f", "g", "h"));
    }

    private static TrainingConfig parse(String... args) {
        TrainingOptions options = new TrainingOptions();
        new CommandLine(options).parseArgs(args);
        return options.toConfig("b:9092", 784, 10);
    }
}
