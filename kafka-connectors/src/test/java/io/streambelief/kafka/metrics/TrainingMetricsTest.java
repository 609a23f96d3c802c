package io.streambelief.kafka.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class TrainingMetricsTest {

    @Test
    void aReportIsOneJsonLineThatReadsBack() {
        TrainingMetrics report = TrainingMetrics.of("fashion", 1, 1_700_000_000_000L, 12_000, 4_000, 2.0, 0.45, 0.83);

        String line = new String(report.toJson(), StandardCharsets.UTF_8);

        assertThat(line).doesNotContain("\n").startsWith("{\"v\":1,\"model\":\"fashion\",\"worker\":1,");
        assertThat(TrainingMetrics.fromJson(report.toJson())).isEqualTo(report);
        assertThat(report.examplesPerSecond()).isEqualTo(2_000.0);
    }

    @Test
    void fieldsOfLaterMinorAdditionsAreIgnoredButANewerFormatIsRefused() {
        String withExtra = "{\"v\":1,\"model\":\"m\",\"worker\":0,\"time\":1,\"examples\":2,\"window_examples\":2,"
                + "\"window_seconds\":1.0,\"loss\":0.1,\"accuracy\":0.5,\"auc\":0.7}";
        String newer = withExtra.replace("\"v\":1", "\"v\":2");

        assertThat(TrainingMetrics.fromJson(bytes(withExtra)).accuracy()).isEqualTo(0.5);
        assertThatThrownBy(() -> TrainingMetrics.fromJson(bytes(newer)))
                .hasMessageContaining("format version 2; this build reads versions 1 to 1");
        assertThatThrownBy(() -> TrainingMetrics.fromJson(bytes("not json")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Not a training-metrics line");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
