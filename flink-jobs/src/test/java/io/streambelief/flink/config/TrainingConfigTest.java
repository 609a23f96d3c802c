package io.streambelief.flink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.trainer.EngineChoice;
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

    /**
     * A copy is the same configuration, field for field: the seed makes a sparse model's dense
     * part, so a copy that lost it would train another model. Between them the configurations
     * below set every field away from its default, which the test checks so that a field added
     * later is covered too.
     */
    @Test
    void aCopyOfTheConfigurationIsTheSameConfiguration() throws Exception {
        TrainingConfig defaults = TrainingConfig.builder("b:9092").build();
        List<TrainingConfig> configs = List.of(
                TrainingConfig.builder("other:9093")
                        .topics(new TopicNames("a", "b", "c", "d", "e", "f", "g", "h"))
                        .modelId("other")
                        .spec(ModelSpec.parse("mlp:4-3-2", 9))
                        .seed(7)
                        .shardSize(1000)
                        .optimizer(Optimizer.parse("sgd:lr=0.1"))
                        .engine(EngineChoice.AUTO)
                        .workers(3)
                        .parameterServers(2)
                        .batchSize(16)
                        .nPush(2)
                        .nFetch(3)
                        .stalenessBound(2)
                        .clipNorm(2.5)
                        .compression(new GradientCompression(0.05, false))
                        .warmstartExamples(500L)
                        .averageDecay(0.5)
                        .publishInterval(Duration.ofMillis(250))
                        .servingPublishInterval(Duration.ofMillis(900))
                        .checkpointInterval(Duration.ofSeconds(7))
                        .metricsInterval(Duration.ofSeconds(3))
                        .idleFlush(Duration.ofMillis(700))
                        .maxExampleBytes(4096)
                        .failureInjection(new FailureInjection(1, 2, 3, 4))
                        .build(),
                TrainingConfig.builder("b:9092").mode(TrainingMode.SSP).dealing(Dealing.PARTITION).build(),
                parse("--schema", "flights", "--seed", "3", "--min-count", "2"),
                parse("--mode", "fedavg", "--clients", "100", "--clients-per-round", "10", "--min-clients", "8",
                        "--round-deadline", "30s", "--server-optimizer", "fedadam:lr=0.05", "--noise-multiplier", "1.1",
                        "--update-clip-norm", "0.5", "--dp-delta", "1e-6", "--buffer-size", "4", "--max-staleness", "3"));

        for (RecordComponent field : TrainingConfig.class.getRecordComponents()) {
            Object byDefault = field.getAccessor().invoke(defaults);
            assertThat(configs).as(field.getName() + " set away from its default")
                    .anySatisfy(config -> assertThat(field.getAccessor().invoke(config)).isNotEqualTo(byDefault));
        }
        for (TrainingConfig config : configs) {
            assertThat(config.toBuilder().build()).isEqualTo(config);
        }
    }

    @Test
    void federatedOptionsAreCheckedWhenParsed() {
        TrainingConfig fedavg = parse("--mode", "fedavg", "--clients", "100", "--clients-per-round", "10",
                "--noise-multiplier", "1.1", "--update-clip-norm", "0.5");
        assertThat(fedavg.federation().sampling().sampled(0)).hasSize(10);
        assertThat(fedavg.federation().noise().standardDeviation()).isCloseTo(0.55, within(1e-12));
        assertThatThrownBy(() -> parse("--mode", "fedavg", "--clients", "10", "--clients-per-round", "3",
                "--min-clients", "4")).hasMessageContaining("--min-clients 4 can never be reached");
        assertThatThrownBy(() -> parse("--mode", "fedbuff", "--schema", "flights"))
                .hasMessageContaining("Federated training aggregates dense models");
        assertThatThrownBy(() -> parse("--server-optimizer", "fedsgd")).hasMessageContaining("Unknown server optimizer");
    }

    @Test
    void everyTopicCanBeRenamed() {
        TrainingConfig renamed = parse("--examples-topic", "a", "--params-topic", "b", "--snapshots-topic", "c",
                "--dead-letter-topic", "d", "--metrics-topic", "e", "--embedding-gradients-topic", "f",
                "--embedding-rows-topic", "g", "--param-deltas-topic", "h", "--client-updates-topic", "i");

        assertThat(renamed.topics()).isEqualTo(new TopicNames("a", "b", "c", "d", "e",
                "f", "g", "h", "i"));
    }

    private static TrainingConfig parse(String... args) {
        TrainingOptions options = new TrainingOptions();
        new CommandLine(options).parseArgs(args);
        return options.toConfig("b:9092", 784, 10);
    }
}
