package io.streambelief.model.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

class ClientSamplingTest {

    @Test
    void eachRoundSamplesItsNumberOfDistinctClientsTheSameWayForEveryone() {
        ClientSampling sampling = new ClientSampling(100, 10, 7);
        Set<String> round3 = sampling.sampled(3);

        assertThat(round3).hasSize(10).allMatch(id -> id.matches("client-\\d+"));
        assertThat(new ClientSampling(100, 10, 7).sampled(3)).as("another process, the same set").isEqualTo(round3);
        assertThat(sampling.sampled(4)).isNotEqualTo(round3);
        assertThat(round3).allMatch(id -> sampling.isSampled(id, 3));
        assertThat(sampling.rate()).isEqualTo(0.1);
    }

    @Test
    void overManyRoundsEveryClientIsSampledAboutEquallyOften() {
        ClientSampling sampling = new ClientSampling(20, 5, 1);
        Map<String, Integer> times = new HashMap<>();
        for (int round = 0; round < 4_000; round++) {
            sampling.sampled(round).forEach(id -> times.merge(id, 1, Integer::sum));
        }
        // Each client's expected count is 1,000 with a standard deviation of about 27.
        assertThat(times).hasSize(20).allSatisfy((id, n) -> assertThat(n).isBetween(880, 1_120));
    }

    @Test
    void withoutAPopulationAnyClientMayReport() {
        assertThat(ClientSampling.ANY_CLIENT.sampled(1)).isEmpty();
        assertThat(ClientSampling.ANY_CLIENT.isSampled("anyone", 1)).isTrue();
        assertThatThrownBy(() -> new ClientSampling(5, 6, 0)).hasMessageContaining("6 of 5");
    }
}
