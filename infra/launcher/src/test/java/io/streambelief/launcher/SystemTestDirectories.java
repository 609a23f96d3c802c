package io.streambelief.launcher;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * Where this module's tests get their {@code @TempDir}: under {@code target/test-work/}, named
 * after the test, and kept when the test fails ({@code junit-platform.properties} sets cleanup to
 * on-success). A failed system test thus leaves its broker's, JobManager's and every
 * TaskManager's logs where CI and a developer can read them, instead of deleting the evidence.
 */
public final class SystemTestDirectories implements TempDirFactory {

    @Override
    public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context) throws Exception {
        Path root = Files.createDirectories(Path.of("target", "test-work").toAbsolutePath());
        String name = context.getRequiredTestClass().getSimpleName()
                + context.getTestMethod().map(method -> "-" + method.getName()).orElse("");
        return Files.createTempDirectory(root, name + "-");
    }
}
