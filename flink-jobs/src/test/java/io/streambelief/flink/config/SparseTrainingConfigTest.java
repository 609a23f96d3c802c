package io.streambelief.flink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.trainer.EngineChoice;
import io.streambelief.model.sparse.WideDeepSpec;

class SparseTrainingConfigTest {
    private static final SparseTraining FLIGHTS =
            SparseTraining.of(FeatureSchema.load("flights"), WideDeepSpec.parse("widedeep:dim=8,mlp=16"), 2, 1);

    @Test
    void aSparseModelsDenseSpecIsTheDeepPartsMlpAndItsDefinitionCarriesTheSchema() {
        TrainingConfig config = TrainingConfig.builder("broker:9092").sparse(FLIGHTS).build();

        assertThat(config.spec().source()).isEqualTo("mlp:73-16-1");
        assertThat(config.warmstartExamples()).as("no warmstart by default").isZero();
        assertThat(config.definition().sparse().schemaJson()).isEqualTo(FLIGHTS.schema().json());
    }

    @Test
    void optionsASparseModelDoesNotHonourAreRefusedNotIgnored() {
        assertThatThrownBy(() -> TrainingConfig.builder("broker:9092").sparse(FLIGHTS).nPush(2).build())
                .hasMessageContaining("leave --n-push, --n-fetch, --warmstart, --clip-norm");
        assertThatThrownBy(() -> TrainingConfig.builder("broker:9092").sparse(FLIGHTS)
                .compression(new GradientCompression(0.01, true)).build())
                .hasMessageContaining("gradient compression").hasMessageContaining("--gradient-density");
        assertThat(TrainingConfig.builder("broker:9092").sparse(FLIGHTS).build().compression())
                .as("whole gradients by default").isEqualTo(GradientCompression.NONE);
        assertThatThrownBy(() -> TrainingConfig.builder("broker:9092").sparse(FLIGHTS).mode(TrainingMode.BSP).build())
                .hasMessageContaining("async mode only");
        assertThatThrownBy(() -> TrainingConfig.builder("broker:9092").sparse(FLIGHTS).engine(EngineChoice.CUDA).build())
                .hasMessageContaining("train on the CPU engine");
        assertThat(TrainingConfig.builder("broker:9092").sparse(FLIGHTS).engine(EngineChoice.AUTO).build().engine())
                .as("auto is allowed: it falls back to the CPU").isEqualTo(EngineChoice.AUTO);
    }
}
