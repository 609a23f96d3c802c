package io.streambelief.deployment.compose;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.streambelief.processes.ProjectHome;

/** infra/docker/compose.yaml agrees with the images and the code, and each mistake below is caught. */
class ComposeFileTest {
    private ComposeFileCheck check;
    private JsonNode compose;

    @BeforeEach
    void read() throws Exception {
        Path docker = ProjectHome.find().orElseThrow().resolve("infra/docker");
        check = new ComposeFileCheck(docker);
        compose = ComposeFileCheck.YAML.readTree(docker.resolve("compose.yaml").toFile());
    }

    @Test
    void theComposeFileAgreesWithTheImagesAndTheCode() {
        assertThat(check.problemsIn(compose)).isEmpty();
    }

    @Test
    void aWrongJobOptionIsCaught() {
        ObjectNode submit = (ObjectNode) compose.path("services").path("submit");
        submit.put("command", submit.path("command").asText().replace("--workers", "--worker"));
        assertThat(check.problemsIn(compose)).singleElement().asString()
                .contains("submit: the job's options do not parse", "--worker");
    }

    @Test
    void aJobOnAnotherBrokerIsCaught() {
        ObjectNode submit = (ObjectNode) compose.path("services").path("submit");
        submit.put("command", submit.path("command").asText().replace("kafka:29092", "kafka:9092"));
        assertThat(check.problemsIn(compose)).singleElement().asString()
                .contains("the job reads Kafka at kafka:9092", "kafka:29092");
    }

    @Test
    void aServerPortThatIsNotPublishedIsCaught() {
        ArrayNode command = (ArrayNode) compose.path("services").path("model-server").path("command");
        for (int i = 0; i < command.size(); i++) {
            if (command.get(i).asText().equals("--port")) {
                command.set(i + 1, "8502");
            }
        }
        assertThat(check.problemsIn(compose)).singleElement().asString().contains("listens on 8502");
    }

    @Test
    void checkpointsOffTheSharedVolumeAreCaught() throws Exception {
        ObjectNode environment = (ObjectNode) compose.path("x-flink").path("environment");
        environment.put("FLINK_PROPERTIES", environment.path("FLINK_PROPERTIES").asText()
                .replace("file:///flink-data/checkpoints", "file:///tmp/checkpoints"));
        assertThat(check.problemsIn(compose)).singleElement().asString()
                .contains("execution.checkpointing.dir file:///tmp/checkpoints");
    }
}
