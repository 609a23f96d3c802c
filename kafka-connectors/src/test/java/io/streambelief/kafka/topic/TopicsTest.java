package io.streambelief.kafka.topic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.processes.broker.KafkaBroker;

class TopicsTest {
    @TempDir
    static Path dir;

    private static KafkaBroker broker;
    private static Admin admin;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBroker.builder(dir).start();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    @AfterAll
    static void stopBroker() {
        admin.close();
        broker.close();
    }

    @Test
    void createsTheDeploymentsTopicsWithModelParamsCompacted() throws Exception {
        TopicNames names = new TopicNames("a-examples", "a-params", "a-snapshots", "a-dead", "a-metrics");

        Topics.ensure(admin, names, 3);

        Map<String, TopicDescription> topics = admin.describeTopics(names.all()).allTopicNames().get(30, TimeUnit.SECONDS);
        assertThat(topics.get("a-examples").partitions()).hasSize(3);
        assertThat(topics.get("a-params").partitions()).as("one ordered log of the model").hasSize(1);
        Config params = config("a-params");
        assertThat(params.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact");
        assertThat(params.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value())
                .isEqualTo(Integer.toString(Topics.MAX_RECORD_BYTES));
        Config dead = config("a-dead");
        assertThat(dead.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("delete");
        assertThat(dead.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value()).as("the limit dead letters are cut to")
                .isEqualTo(Topics.deadLetterConfig().get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
        Config snapshots = config("a-snapshots");
        assertThat(snapshots.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).as("retention by size").isEqualTo("delete");
        assertThat(snapshots.get(TopicConfig.RETENTION_BYTES_CONFIG).value())
                .isEqualTo(Long.toString(Topics.SNAPSHOT_RETENTION_BYTES));
    }

    @Test
    void existingTopicsAreLeftAsTheyAreAndTheExamplesPartitionsAreTheOnesThatExist() throws Exception {
        TopicNames names = new TopicNames("b-examples", "b-params", "b-snapshots", "b-dead", "b-metrics");
        assertThat(Topics.ensure(admin, names, 2)).isEqualTo(2);

        assertThat(Topics.ensure(admin, names, 5)).isEqualTo(2);

        assertThat(admin.describeTopics(List.of("b-examples")).allTopicNames().get(30, TimeUnit.SECONDS)
                .get("b-examples").partitions()).hasSize(2);
    }

    @Test
    void namesAndPartitionCountsAreChecked() {
        assertThatThrownBy(() -> new TopicNames("ex amples", "p", "s", "d", "m"))
                .hasMessage("'ex amples' is not a valid Kafka topic name");
        assertThatThrownBy(() -> Topics.ensure(admin, TopicNames.DEFAULTS, 0))
                .hasMessageContaining("at least one partition");
    }

    private static Config config(String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
    }
}
