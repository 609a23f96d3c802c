package io.streambelief.launcher.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.processes.ProjectHome;

/** {@code infra/flink-cluster} empties its work directory at every start, so it must be sure the directory is its own. */
class FlinkClusterScriptTest {

    @Test
    void refusesToEmptyAWorkDirectoryItDidNotCreate(@TempDir Path work) throws Exception {
        Path mine = Files.writeString(work.resolve("thesis.tex"), "years of work");

        for (String command : new String[] {"start", "submit"}) {
            ProcessBuilder builder = new ProcessBuilder("bash", "infra/flink-cluster", command)
                    .directory(ProjectHome.find().orElseThrow().toFile())
                    .redirectErrorStream(true);
            builder.environment().put("FLINK_CLUSTER_WORK", work.toString());
            Process script = builder.start();
            script.getOutputStream().close();
            assertThat(script.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String output = new String(script.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            assertThat(script.exitValue()).as(output).isEqualTo(2);
            assertThat(output).contains("was not created by infra/flink-cluster");
        }
        assertThat(mine).hasContent("years of work");
        try (var entries = Files.list(work)) {
            assertThat(entries).containsExactly(mine);
        }
    }
}
