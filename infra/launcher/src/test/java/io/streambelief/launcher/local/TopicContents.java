package io.streambelief.launcher.local;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.util.Collector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.ParamUpdateDeserializer;
import io.streambelief.kafka.topic.PartitionContents;
import io.streambelief.model.record.ModelSnapshot;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowUpdate;
import io.streambelief.model.record.SnapshotReader;

/** What a topic partition holds now, for tests that check what the system wrote. */
public final class TopicContents {
    private TopicContents() {}

    /** Every record of partition 0 of {@code topic}, up to its end offset at the time of the call. */
    public static List<ConsumerRecord<byte[], byte[]>> all(String bootstrap, String topic) {
        return all(bootstrap, topic, "read_uncommitted");
    }

    /**
     * Every record of partition 0 of {@code topic} a consumer with {@code isolation} sees, up to
     * the end offset it sees (for read_committed: before the first open transaction).
     */
    static List<ConsumerRecord<byte[], byte[]>> all(String bootstrap, String topic, String isolation) {
        return PartitionContents.upToEnd(bootstrap, topic, isolation);
    }

    /** The last record of every shard of the model on model-params, by shard: what the compacted topic keeps. */
    static Map<Integer, ParamUpdate> latestShards(String bootstrap, TrainingConfig config) {
        Map<Integer, ParamUpdate> latest = new HashMap<>();
        publishedShards(bootstrap, config).forEach(update -> latest.put(update.shardId(), update));
        return latest;
    }

    /** The model's shard records on model-params, in the order published, read as the workers read them. */
    public static List<ParamUpdate> publishedShards(String bootstrap, TrainingConfig config) {
        ParamUpdateDeserializer deserializer = new ParamUpdateDeserializer(config.modelId());
        List<ParamUpdate> updates = new ArrayList<>();
        Collector<ParamUpdate> collector = new ListCollector<>(updates);
        for (ConsumerRecord<byte[], byte[]> record : all(bootstrap, config.topics().modelParams())) {
            deserializer.deserialize(record, collector);
        }
        return updates;
    }

    /** The model snapshots a read_committed reader of model-snapshots gets, in order, through {@code reader}. */
    static List<ModelSnapshot> committedSnapshots(String bootstrap, TrainingConfig config, SnapshotReader reader) {
        List<ModelSnapshot> snapshots = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : all(bootstrap, config.topics().modelSnapshots(), "read_committed")) {
            reader.accept(record.value()).ifPresent(snapshots::add);
        }
        return snapshots;
    }

    /** The latest published value of every row of the model on embedding-rows, by id. */
    static Map<Long, RowUpdate> latestRows(String bootstrap, TrainingConfig config) {
        Map<Long, RowUpdate> latest = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : all(bootstrap, config.topics().embeddingRows())) {
            RowUpdate update = RowCodecs.decodeUpdate(record.value());
            if (update.modelId().equals(config.modelId())) {
                latest.put(update.id(), update);
            }
        }
        return latest;
    }

    /** Failures in the job's exception history that were injected. */
    /** The ids of the job's checkpoints that completed, in order (from the web UI's history). */
    static List<Long> completedCheckpoints(LocalDeployment deployment) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                deployment.webUi().resolve("/jobs/" + deployment.jobId() + "/checkpoints")).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode checkpoints = new ObjectMapper().readTree(response.body());
        List<Long> completed = new ArrayList<>();
        for (JsonNode checkpoint : checkpoints.path("history")) {
            if (checkpoint.path("status").asText().equals("COMPLETED")) {
                completed.add(checkpoint.path("id").asLong());
            }
        }
        if (completed.size() < checkpoints.path("counts").path("completed").asLong()) {
            throw new IllegalStateException("the checkpoint history holds fewer than the " + checkpoints.path("counts")
                    .path("completed") + " completed checkpoints");
        }
        Collections.sort(completed);
        return completed;
    }

    static long injectedFailures(LocalDeployment deployment) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                deployment.webUi().resolve("/jobs/" + deployment.jobId() + "/exceptions")).build(),
                HttpResponse.BodyHandlers.ofString());
        long injected = 0;
        for (JsonNode entry : new ObjectMapper().readTree(response.body()).path("exceptionHistory").path("entries")) {
            if (entry.path("stacktrace").asText().contains("Injected failure")) {
                injected++;
            }
        }
        return injected;
    }
}
