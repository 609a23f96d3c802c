package io.streambelief.kafka.example;

import java.nio.charset.StandardCharsets;

import io.streambelief.model.Example;
import io.streambelief.model.record.ExampleCodec;

/**
 * The formats a record of the examples topic may be written in. {@link ExampleParser} reads all
 * three, telling them apart by the first byte. Binary is the compact default of our feeder;
 * JSON and CSV are for people and for producers in other languages.
 */
public enum ExampleFormat {
    /** {@link ExampleCodec}: label and float features, checksummed. */
    BINARY {
        @Override
        public byte[] encode(Example example) {
            return ExampleCodec.encode(example);
        }
    },
    /** {@code {"features":[0.1,0,...],"label":3}} */
    JSON {
        @Override
        public byte[] encode(Example example) {
            StringBuilder json = new StringBuilder(16 + 6 * example.features().length).append("{\"features\":[");
            appendFeatures(json, example.features());
            return json.append("],\"label\":").append(example.label()).append('}').toString()
                    .getBytes(StandardCharsets.UTF_8);
        }
    },
    /** {@code label,f1,...,fn} */
    CSV {
        @Override
        public byte[] encode(Example example) {
            StringBuilder csv = new StringBuilder(8 + 6 * example.features().length).append(example.label()).append(',');
            appendFeatures(csv, example.features());
            return csv.toString().getBytes(StandardCharsets.UTF_8);
        }
    };

    public abstract byte[] encode(Example example);

    /** Shortest text that reads back as the same float; zeros, most of an image, as one character. */
    private static void appendFeatures(StringBuilder out, float[] features) {
        for (int i = 0; i < features.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            float f = features[i];
            if (f == 0f && Float.floatToRawIntBits(f) == 0) {
                out.append('0');
            } else {
                out.append(f);
            }
        }
    }
}
