package io.streambelief.flink.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

class GpuAssignmentTest {

    @Test
    void workersShareTheTaskManagersGpusOutLeastUsedFirstAndGiveThemBack() {
        List<Integer> gpus = List.of(7, 3);
        OptionalInt first = GpuAssignment.acquire(gpus);
        OptionalInt second = GpuAssignment.acquire(gpus);
        OptionalInt third = GpuAssignment.acquire(gpus);
        try {
            assertThat(first).hasValue(3);
            assertThat(second).as("the other one, not the first again").hasValue(7);
            assertThat(third).as("with more workers than GPUs, they double up evenly").hasValue(3);
        } finally {
            GpuAssignment.release(first);
            GpuAssignment.release(second);
            GpuAssignment.release(third);
        }
        OptionalInt again = GpuAssignment.acquire(gpus);
        GpuAssignment.release(again);
        assertThat(again).as("all given back").hasValue(3);
        assertThat(GpuAssignment.acquire(List.of())).isEmpty();
    }

    @Test
    void indexesComeFromTheDriversIndexPropertyAndMalformedOnesAreNamed() {
        assertThat(GpuAssignment.indexes(List.of(gpu(Map.of("index", "3")), gpu(Map.of("index", " 7"))))).containsExactly(3, 7);
        assertThatThrownBy(() -> GpuAssignment.indexes(List.of(gpu(Map.of("index", "GPU-1f2e")))))
                .hasMessageContaining("index 'GPU-1f2e', not a number");
        assertThatThrownBy(() -> GpuAssignment.indexes(List.of(gpu(Map.of("uuid", "x")))))
                .hasMessageContaining("no 'index' property");
    }

    private static ExternalResourceInfo gpu(Map<String, String> properties) {
        return new ExternalResourceInfo() {
            @Override
            public Optional<String> getProperty(String key) {
                return Optional.ofNullable(properties.get(key));
            }

            @Override
            public Collection<String> getKeys() {
                return properties.keySet();
            }
        };
    }
}
