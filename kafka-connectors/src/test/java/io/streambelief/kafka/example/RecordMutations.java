package io.streambelief.kafka.example;

import java.util.Arrays;
import java.util.Random;

/**
 * Fuzzing input for parsers: well-formed seed records with one to four random edits (a byte from
 * an alphabet of the format's own characters, a cut, any byte), and now and then random bytes.
 */
public final class RecordMutations {
    private final Random random;
    private final byte[][] seeds;
    private final byte[] alphabet;
    private final int randomEvery;
    private final int maxRandomLength;
    private long n;

    /**
     * @param randomEvery every this many records are random bytes (up to {@code maxRandomLength})
     */
    public RecordMutations(long seed, byte[][] seeds, byte[] alphabet, int randomEvery, int maxRandomLength) {
        this.random = new Random(seed);
        this.seeds = seeds;
        this.alphabet = alphabet;
        this.randomEvery = randomEvery;
        this.maxRandomLength = maxRandomLength;
    }

    public byte[] next() {
        if (n++ % randomEvery == 0) {
            byte[] input = new byte[random.nextInt(maxRandomLength)];
            random.nextBytes(input);
            return input;
        }
        byte[] input = seeds[random.nextInt(seeds.length)].clone();
        for (int e = 0, edits = 1 + random.nextInt(4); e < edits && input.length > 0; e++) {
            int at = random.nextInt(input.length);
            switch (random.nextInt(3)) {
                case 0 -> input[at] = alphabet[random.nextInt(alphabet.length)];
                case 1 -> input = Arrays.copyOf(input, at);
                default -> input[at] = (byte) random.nextInt(256);
            }
        }
        return input;
    }
}
