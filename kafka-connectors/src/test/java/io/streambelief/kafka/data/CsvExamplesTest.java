package io.streambelief.kafka.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.model.Example;

class CsvExamplesTest {
    @TempDir
    Path dir;

    @Test
    void readsLabelledRowsSkippingAHeaderAndBlankLines() throws IOException {
        Path file = write("data.csv", "label,a,b,c\n1,0.5,0,2\n\n0,1,1,1\n3,0,0,-1\n");

        ExampleSet set = CsvExamples.read(file);

        assertThat(set.examples()).containsExactly(
                new Example(new float[] {0.5f, 0f, 2f}, 1),
                new Example(new float[] {1f, 1f, 1f}, 0),
                new Example(new float[] {0f, 0f, -1f}, 3));
        assertThat(set.numFeatures()).isEqualTo(3);
        assertThat(set.numLabels()).as("largest label + 1").isEqualTo(4);
        assertThat(set.name()).isEqualTo("data.csv");
    }

    @Test
    void readsGzipWhenTheNameSaysSo() throws IOException {
        Path file = dir.resolve("data.csv.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write("0,1,2\n1,3,4\n".getBytes(StandardCharsets.UTF_8));
        }

        assertThat(CsvExamples.read(file).examples()).hasSize(2);
    }

    @Test
    void aBadRowStopsTheReadNamingTheLine() throws IOException {
        Path file = write("bad.csv", "0,1,2\n1,3\n");

        assertThatThrownBy(() -> CsvExamples.read(file))
                .isInstanceOf(IOException.class)
                .hasMessage(file + " line 2: has 1 features, the model takes 2");
    }

    @Test
    void aFileWithoutExamplesIsAnError() throws IOException {
        Path headerOnly = write("empty.csv", "label,x\n\n");

        assertThatThrownBy(() -> CsvExamples.read(headerOnly)).hasMessageEndingWith("holds no examples");
        assertThatThrownBy(() -> CsvExamples.read(dir.resolve("missing.csv"))).hasMessageEndingWith("does not exist");
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }
}
