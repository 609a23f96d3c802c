package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.flink.api.common.JobStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.model.Example;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.serving.ModelClient;

/**
 * The Kafka broker crashes in the middle of training (SIGKILL: no clean shutdown) and is started
 * again at once on its data and port. Everything that talks to it — the job's sources and sinks,
 * the model server — must carry on by itself, and every example must still be applied exactly
 * once: those fed before the crash, most still untrained when it came, and those fed after the
 * restart. (The broker is down for some 10 to 20 s, well within the producers' two-minute delivery
 * timeout: the job rides it out on client retries, its checkpoints waiting for the sinks' flush. A
 * longer outage would fail the sinks, and the job would restore from its last checkpoint as after
 * any failure; that is not tested here.)
 */
class BrokerRestartIT {
    private static final int EXAMPLES = 12_000;
    private static final int FED_BEFORE_CRASH = 8_000;

    @TempDir
    Path work;

    @Test
    void trainingAndServingResumeAfterTheBrokerIsKilledAndEveryExampleIsAppliedOnce() throws Exception {
        List<Example> examples = FashionMnist.read().train().shuffled(5).take(EXAMPLES).examples();
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).workers(2).seed(5)
                        .checkpointInterval(Duration.ofSeconds(1)).build())) {
            TrainingConfig config = deployment.config();
            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            feed(deployment, examples.subList(0, FED_BEFORE_CRASH));

            long servedAtCrash = awaitTrainingUnderway(client, 1_000);
            assertThat(servedAtCrash).as("examples served when the broker crashes: training is under way")
                    .isLessThan(FED_BEFORE_CRASH);
            long crashedPid = deployment.broker().pid();
            deployment.broker().kill();
            long killed = System.nanoTime();
            assertThat(deployment.broker().isAlive()).isFalse();
            // The port stays closed for the whole restart, some 10 s: a new JVM, log recovery, and the
            // wait for the crashed incarnation's session to expire before the broker may register again.
            deployment.restartBroker();
            long restarted = System.nanoTime();
            assertThat(deployment.broker().pid()).isNotEqualTo(crashedPid);
            feed(deployment, examples.subList(FED_BEFORE_CRASH, EXAMPLES));

            // Fails at once should the served model ever count more examples than fed.
            client.awaitExamplesTrained(EXAMPLES, Duration.ofMinutes(3));
            System.out.printf(Locale.ROOT, "Broker restart: killed with %,d examples served, down %.1f s; all %,d "
                    + "examples trained %.1f s after it came back; job failures: %d%n", servedAtCrash,
                    (restarted - killed) / 1e9, EXAMPLES, (System.nanoTime() - restarted) / 1e9,
                    jobFailures(deployment));
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            Map<Integer, ParamUpdate> latest = TopicContents.latestShards(deployment.bootstrapServers(), config);
            assertThat(latest).hasSize(config.layout().shardCount());
            assertThat(latest.values()).allSatisfy(shard -> assertThat(shard.examplesApplied())
                    .as("examples in shard %d: none lost, none twice", shard.shardId()).isEqualTo(EXAMPLES));
        }
    }

    private static void feed(LocalDeployment deployment, List<Example> examples) throws Exception {
        try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(),
                deployment.config().topics().examples(), ExampleFormat.BINARY)) {
            feeder.feed(examples, 1, n -> {});
        }
    }

    /** Failures in the job's exception history: each made it restore from its last checkpoint. */
    private static int jobFailures(LocalDeployment deployment) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                deployment.webUi().resolve("/jobs/" + deployment.jobId() + "/exceptions")).build(),
                HttpResponse.BodyHandlers.ofString());
        return new ObjectMapper().readTree(response.body()).path("exceptionHistory").path("entries").size();
    }

    /** Waits until the served model includes at least {@code examples} examples; returns how many it includes. */
    private static long awaitTrainingUnderway(ModelClient client, long examples) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (System.nanoTime() < deadline) {
            long served = client.status().map(ModelClient.Status::examplesTrained).orElse(0L);
            if (served >= examples) {
                return served;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("Training did not get under way within a minute");
    }
}
