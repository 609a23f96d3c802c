package io.streambelief.kafka.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import io.streambelief.kafka.example.ExampleParser;
import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.model.Example;

/**
 * A data file of {@code label,f1,...,fn} lines (gzip-compressed when its name ends in
 * {@code .gz}). A first line whose first field is not an integer is a header; blank lines are
 * skipped. The number of features comes from the first row, the number of labels is the largest
 * label plus one. A bad row stops the read with its line number: a file is not a stream.
 */
public final class CsvExamples {
    private CsvExamples() {}

    public static ExampleSet read(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("Data file " + path + " does not exist");
        }
        List<Example> examples = new ArrayList<>();
        ExampleParser parser = null;
        int maxLabel = 0;
        try (InputStream raw = Files.newInputStream(path);
                InputStream in = path.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
                BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
            String line;
            int number = 0;
            boolean firstContent = true;
            while ((line = lines.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                if (firstContent) {
                    firstContent = false;
                    if (isHeader(line)) {
                        continue;
                    }
                }
                if (parser == null) {
                    int features = line.split(",", -1).length - 1;
                    if (features < 1) {
                        throw new IOException(path + " line " + number + ": expected label,f1,...,fn");
                    }
                    // Labels are checked below against the largest one seen, not here.
                    parser = new ExampleParser(features, Integer.MAX_VALUE, Integer.MAX_VALUE);
                }
                try {
                    Example example = parser.parse(line.getBytes(StandardCharsets.UTF_8));
                    maxLabel = Math.max(maxLabel, example.label());
                    examples.add(example);
                } catch (MalformedExampleException e) {
                    throw new IOException(path + " line " + number + ": " + e.reason());
                }
            }
        }
        if (examples.isEmpty()) {
            throw new IOException(path + " holds no examples");
        }
        int features = examples.get(0).features().length;
        return new ExampleSet(path.getFileName().toString(), features, Math.max(2, maxLabel + 1), examples);
    }

    private static boolean isHeader(String line) {
        String first = line.split(",", 2)[0].strip();
        try {
            Integer.parseInt(first);
            return false;
        } catch (NumberFormatException e) {
            return true;
        }
    }
}
