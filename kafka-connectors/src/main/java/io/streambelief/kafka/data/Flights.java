package io.streambelief.kafka.data;

import java.io.BufferedInputStream;
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

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The default sparse data set: 231,083 US domestic flights of January to March 2001, sorted by
 * time — a real stream — from {@code package/data/flights-3m.csv} of the vega-datasets npm package.
 * Each line is {@code date,delay,distance,origin,destination}; the bundled {@code flights} schema
 * labels a flight late when {@code delay > 15}.
 */
public final class Flights {
    public static final String ENTRY = "package/data/flights-3m.csv";
    public static final String HEADER = "date,delay,distance,origin,destination";
    public static final int ROWS = 231_083;

    private Flights() {}

    /** The CSV lines, without the header, in file (time) order; the file located by the project's data step. */
    public static List<String> read() throws IOException, InterruptedException {
        return read(DataFiles.standard().locate(PublishedDataFile.VEGA_DATASETS));
    }

    public static List<String> read(Path tarball) throws IOException {
        try (InputStream file = new BufferedInputStream(Files.newInputStream(tarball), 1 << 16);
                TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(file, 1 << 16))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (entry.getName().equals(ENTRY)) {
                    BufferedReader reader = new BufferedReader(new InputStreamReader(tar, StandardCharsets.UTF_8));
                    String header = reader.readLine();
                    if (!HEADER.equals(header)) {
                        throw new IOException(tarball + ": " + ENTRY + " starts with '" + header + "', expected '" + HEADER + "'");
                    }
                    List<String> lines = new ArrayList<>(ROWS);
                    String line;
                    while ((line = reader.readLine()) != null) {
                        if (!line.isBlank()) {
                            lines.add(line);
                        }
                    }
                    return lines;
                }
            }
        }
        throw new IOException(tarball + " has no " + ENTRY + "; is it the vega-datasets@1.31.1 npm package?");
    }
}
