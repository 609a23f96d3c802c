package io.streambelief.processes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The checkout this code runs from, where build outputs (the broker's classpath, serving's
 * classpath) and the shared data folder beside it are found: the system property
 * {@code streambelief.home} (set by the launch scripts and by Maven for tests), else the nearest
 * ancestor of the working directory that holds the Maven wrapper.
 */
public final class ProjectHome {
    public static final String PROPERTY = "streambelief.home";

    private ProjectHome() {}

    public static Optional<Path> find() {
        String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured).toAbsolutePath().normalize());
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("mvnw"))) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    /** A build output under the checkout, or a clear error saying how to produce it. */
    public static Path buildOutput(String relativePath, String what) {
        Path home = find().orElseThrow(() -> new IllegalStateException("Cannot find the Streambelief checkout for "
                + what + ": run from inside it or set -D" + PROPERTY + "=<checkout>"));
        Path file = home.resolve(relativePath);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(what + " not found at " + file
                    + ": build the project first (./mvnw -q package -DskipTests)");
        }
        return file;
    }
}
