package io.streambelief.flink.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.JobStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.flink.FailureInjection;
import io.streambelief.flink.TrainingConfig;
import io.streambelief.flink.cluster.ClusterRestApi;
import io.streambelief.flink.sparse.SparseTraining;
import io.streambelief.kafka.broker.KafkaBroker;
import io.streambelief.kafka.data.Flights;
import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;
import io.streambelief.model.record.RowUpdate;
import io.streambelief.model.sparse.SparseExample;
import io.streambelief.model.sparse.WideDeepSpec;

/**
 * The hybrid model on the real pipeline: flights through two workers and two embedding shards,
 * with a worker and a parameter server failing. Every row must hold the gradient of every example
 * that touched it exactly once — no row misses one through a failure, none gets one twice through
 * a replay — and malformed records go to the dead-letter topic with their reason, one of them as
 * large as the examples topic takes (issue 16): its letter, cut to fit, fails nothing.
 */
class SparseTrainingTest {
    private static final int EXAMPLES = 6_000;

    @TempDir
    Path work;

    @Test
    void everyRowHoldsEachExampleThatTouchedItExactlyOnceThroughFailures() throws Exception {
        FeatureSchema schema = FeatureSchema.load("flights");
        List<String> flights = Flights.read().subList(0, EXAMPLES);
        byte[] atTheLimit = RecordAtTheLimit.json(KafkaBroker.MAX_MESSAGE_BYTES);
        List<String> malformed = List.of("01010530,5,370,LAX", "{\"date\": \"01010530\", \"delay\": 5, \"distance\": 370, "
                + "\"origin\": \"LAX\", \"destination\": \"PHX\", \"gate\": 4}", "01010530,late,370,LAX,PHX",
                new String(atTheLimit, StandardCharsets.UTF_8));
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).modelId("flights").workers(2).seed(3)
                        .checkpointInterval(Duration.ofSeconds(1))
                        .failureInjection(new FailureInjection(2, 20, 60, 5))
                        .sparse(SparseTraining.of(schema, WideDeepSpec.parse("widedeep:dim=8,mlp=16"), 2, 3))
                        .build())) {
            TrainingConfig config = deployment.config();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.CSV)) {
                feeder.feedLines(flights.subList(0, EXAMPLES / 2), n -> {});
                feeder.feedLines(malformed, n -> {});
                feeder.feedLines(flights.subList(EXAMPLES / 2, EXAMPLES), n -> {});
            }

            Map<Long, Long> touches = new HashMap<>();
            SparseExampleParser parser = new SparseExampleParser(schema, 1024);
            for (String line : flights) {
                SparseExample example = parser.parse(line.getBytes(StandardCharsets.UTF_8));
                for (long id : example.ids()) {
                    touches.merge(id, 1L, Long::sum);
                }
            }
            Map<Long, RowUpdate> rows = awaitRows(deployment, touches, Duration.ofMinutes(4));

            assertThat(TopicContents.injectedFailures(deployment)).as("the job failed and restored").isEqualTo(2);
            assertThat(new ClusterRestApi(deployment.webUi()).failures(deployment.jobId()))
                    .as("failures, none but the injected ones").hasSize(2);
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            assertThat(rows.keySet()).as("a row for every id, and only those").isEqualTo(touches.keySet());
            for (Map.Entry<Long, Long> id : touches.entrySet()) {
                assertThat(rows.get(id.getKey()).examplesApplied()).as("examples in row %x", id.getKey())
                        .isEqualTo(id.getValue());
            }

            // The dead-letter sink is at-least-once: a replay after a failure may write a record's letter again.
            Map<String, DeadLetter> letters = new HashMap<>();
            TopicContents.all(deployment.bootstrapServers(), config.topics().deadLetter()).stream()
                    .map(DeadLetter::fromConsumerRecord)
                    .forEach(letter -> letters.put(letter.sourcePartition() + "@" + letter.sourceOffset(), letter));
            assertThat(letters.values()).extracting(DeadLetter::reason).containsExactlyInAnyOrder(
                    "CSV record has 4 values, the schema has 5 columns (date,delay,distance,origin,destination)",
                    "unknown field 'gate' (columns: date, delay, distance, origin, destination)",
                    "field 'delay' is not a number: 'late'",
                    "record is " + atTheLimit.length + " bytes, the limit is 1048576");
            assertThat(letters.values()).filteredOn(DeadLetter::truncated).singleElement().satisfies(letter -> {
                assertThat(letter.originalValue()).isEqualTo(DeadLetter.Original.of(atTheLimit));
                // Bytes compared here, not by AssertJ: a failure message would print megabytes.
                assertThat(Arrays.equals(atTheLimit, 0, letter.value().length, letter.value(), 0, letter.value().length))
                        .as("the letter holds the record's first %,d bytes", letter.value().length).isTrue();
            });
        }
    }

    /** The latest published rows, once every touched row holds its examples (or the time is up). */
    private static Map<Long, RowUpdate> awaitRows(LocalDeployment deployment, Map<Long, Long> touches, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<Long, RowUpdate> rows = TopicContents.latestRows(deployment.bootstrapServers(), deployment.config());
            boolean complete = touches.entrySet().stream().allMatch(e -> rows.containsKey(e.getKey())
                    && rows.get(e.getKey()).examplesApplied() >= e.getValue());
            if (complete || System.nanoTime() > deadline) {
                return rows;
            }
            Thread.sleep(1000);
        }
    }
}
