package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.JobStatus;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.launcher.cluster.ClusterRestApi;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamDeltaCodec;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.serving.ModelClient;

/**
 * Every topic the job and the model server read is input: records anyone with write access can
 * append — undecodable, non-finite, from the far future, acknowledging pushes never made, a model
 * too large to build — are skipped and counted, while training and serving go on untouched.
 */
class HostileTopicsIT {
    private static final int EXAMPLES = 6_000;

    @TempDir
    Path work;

    @Test
    void hostileRecordsOnEveryTopicStopNeitherTrainingNorServing() throws Exception {
        ExampleSet train = FashionMnist.read().train().shuffled(9).take(EXAMPLES);
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).workers(2).seed(9)
                        .checkpointInterval(Duration.ofSeconds(1)).build());
                ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(),
                        deployment.config().topics().examples(), ExampleFormat.BINARY)) {
            TrainingConfig config = deployment.config();
            feeder.feed(train.examples().subList(0, EXAMPLES / 2), 1, n -> {});

            try (KafkaProducer<byte[], byte[]> producer = producer(deployment.bootstrapServers())) {
                String model = config.modelId();
                int shard = 0;
                int length = config.layout().length(shard);
                float[] nan = new float[length];
                nan[7] = Float.NaN;
                byte[] modelKey = model.getBytes(StandardCharsets.UTF_8);
                byte[] shardKey = ModelIds.shardKey(model, shard).getBytes(StandardCharsets.UTF_8);
                long future = System.currentTimeMillis() + Duration.ofDays(365).toMillis();
                String deltas = config.topics().modelParamDeltas();
                String params = config.topics().modelParams();
                List<ProducerRecord<byte[], byte[]>> hostile = List.of(
                        // The feedback topic the workers follow.
                        new ProducerRecord<>(deltas, modelKey, "garbage".getBytes(StandardCharsets.UTF_8)),
                        new ProducerRecord<>(deltas, modelKey, new byte[0]),
                        new ProducerRecord<>(deltas, modelKey, ParamDeltaCodec.encode(ParamDelta.whole(
                                new ParamUpdate(model, shard, 1, 1, future, nan, new float[0][], new long[] {0, 0},
                                        new float[0])))),
                        new ProducerRecord<>(deltas, modelKey, ParamDeltaCodec.encode(ParamDelta.whole(
                                new ParamUpdate(model, shard, 1, 1, future, new float[length], new float[0][],
                                        new long[] {1L << 40, 1L << 40}, new float[0])))),
                        new ProducerRecord<>(deltas, modelKey, ParamDeltaCodec.encode(ParamDelta.whole(
                                new ParamUpdate(model, 99, 1, 1, future, new float[3])))),
                        // The compacted topic the model server (and the bounded modes) follow.
                        new ProducerRecord<>(params, shardKey, "garbage".getBytes(StandardCharsets.UTF_8)),
                        new ProducerRecord<>(params, shardKey, ParamUpdateCodec.encode(
                                new ParamUpdate(model, shard, 1, 1, System.currentTimeMillis(), nan))),
                        new ProducerRecord<>(params, shardKey, ParamUpdateCodec.encode(
                                new ParamUpdate(model, shard, 1, 1, future, new float[length]))),
                        new ProducerRecord<>(params, ModelIds.definitionKey("huge").getBytes(StandardCharsets.UTF_8),
                                ModelDefinitionCodec.encode(new ModelDefinition("huge",
                                        ModelSpec.parse("mlp:40000-40000-10", 1), 1 << 20))),
                        // The dashboard's and the snapshots' topics.
                        new ProducerRecord<>(config.topics().trainingMetrics(), null,
                                ("{\"v\": 1, \"model\": \"" + model + "\", \"worker\": 0, \"time\": " + future
                                        + ", \"examples\": 1, \"window_examples\": 1, \"window_seconds\": 1, "
                                        + "\"loss\": 1, \"accuracy\": 0.5}").getBytes(StandardCharsets.UTF_8)),
                        new ProducerRecord<>(config.topics().trainingMetrics(), null, new byte[] {'{'}),
                        new ProducerRecord<>(config.topics().modelSnapshots(), modelKey, new byte[] {1, 2, 3}));
                for (ProducerRecord<byte[], byte[]> record : hostile) {
                    producer.send(record).get();
                }
            }

            feeder.feed(train.examples().subList(EXAMPLES / 2, EXAMPLES), 1, n -> {});
            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            client.awaitExamplesTrained(EXAMPLES, Duration.ofMinutes(4));

            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            assertThat(new ClusterRestApi(deployment.webUi()).failures(deployment.jobId())).as("job failures").isEmpty();
            assertThat(client.accuracy(FashionMnist.read().test().take(1_000).examples(), "latest"))
                    .as("it learned, on finite parameters").isGreaterThan(0.6);
            for (float[] prediction : client.predict(List.of(train.examples().get(0).features()), "latest")) {
                assertThat(Arrays.toString(prediction)).doesNotContain("NaN");
            }
            JsonNode health = get(deployment, "/healthz");
            assertThat(health.path("status").asText()).isEqualTo("ok");
            assertThat(health.path("consumer").path("alive").asBoolean()).isTrue();
            assertThat(metric(deployment, "streambelief_records_skipped_total")).as("server records skipped")
                    .isGreaterThanOrEqualTo(4);
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static JsonNode get(LocalDeployment deployment, String path) throws Exception {
        return new ObjectMapper().readTree(body(deployment, path));
    }

    private static String body(LocalDeployment deployment, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(deployment.servingUri().resolve(path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double metric(LocalDeployment deployment, String name) throws Exception {
        return body(deployment, "/metrics").lines().filter(line -> line.startsWith(name + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(name.length() + 1).strip())).sum();
    }
}
