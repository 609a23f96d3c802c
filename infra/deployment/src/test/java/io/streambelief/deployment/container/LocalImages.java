package io.streambelief.deployment.container;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;

import io.streambelief.processes.ProjectHome;

/**
 * The images the container tests run, built once per test JVM by {@code infra/docker/build-images
 * --local} — the script users run, on the local stand-ins for the official base images that
 * {@code infra/docker/setup-docker} makes where no registry is reachable.
 *
 * <p>Where Docker or those base images are missing the tests are skipped with the reason, except on
 * CI ({@code CI=true}), where {@code .ci/run} sets Docker up and a missing engine is a failure.
 */
final class LocalImages {
    static final String TAG = "it";
    static final String FLINK_JOB = "streambelief/flink-job:" + TAG;
    static final String MODEL_SERVER = "streambelief/model-server:" + TAG;
    static final String KAFKA = "streambelief/kafka:" + TAG;
    private static final List<String> BASES = List.of("streambelief/debian:bookworm", "streambelief/java:17");

    private static boolean built;

    private LocalImages() {}

    /** Builds the images unless this JVM has; skips (or fails on CI) where they cannot be. */
    static synchronized void build() throws IOException, InterruptedException {
        if (built) {
            return;
        }
        requireDocker();
        Path home = ProjectHome.find()
                .orElseThrow(() -> new IllegalStateException("The checkout was not found (streambelief.home)"));
        Path log = Files.createDirectories(home.resolve("infra/deployment/target")).resolve("build-images.log");
        System.out.println("Building the images with infra/docker/build-images --local (log " + log + ")");
        Process build = new ProcessBuilder(home.resolve("infra/docker/build-images").toString(), "--local", "--tag", TAG)
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!build.waitFor(15, TimeUnit.MINUTES)) {
            build.destroyForcibly();
            fail("infra/docker/build-images did not finish within 15 minutes; log " + log);
        }
        String output = Files.readString(log);
        if (build.exitValue() != 0) {
            fail("infra/docker/build-images failed with exit code " + build.exitValue() + ":\n" + output);
        }
        output.lines().filter(line -> line.startsWith("build-images:")).forEach(System.out::println);
        built = true;
    }

    private static void requireDocker() {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            unusable("no Docker engine is reachable (infra/docker/setup-docker starts one, as root)");
        }
        for (String base : BASES) {
            try {
                DockerClientFactory.instance().client().inspectImageCmd(base).exec();
            } catch (RuntimeException e) {
                unusable("the local base image " + base + " is missing (infra/docker/setup-docker builds it, as root)");
            }
        }
    }

    private static void unusable(String reason) {
        if ("true".equals(System.getenv("CI"))) {
            fail("CI=true but Docker is not usable: " + reason + "; .ci/run runs infra/docker/setup-docker first");
        }
        Assumptions.abort("Container tests skipped: " + reason);
    }
}
