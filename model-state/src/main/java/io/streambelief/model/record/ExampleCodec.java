package io.streambelief.model.record;

import java.nio.ByteBuffer;

import io.streambelief.model.Example;

/**
 * Compact binary form of an {@link Example} (format 1): the label, then the features as
 * big-endian floats, in the {@link Frame} envelope. Its type byte, 0xE5, is not printable ASCII,
 * so one glance at the first byte tells binary from JSON ({@code {}) and CSV text.
 */
public final class ExampleCodec {
    public static final byte TYPE = (byte) 0xE5;
    private static final Frame FRAME = new Frame("Example", TYPE, (byte) 1);

    private ExampleCodec() {}

    public static byte[] encode(Example example) {
        ByteBuffer buffer = FRAME.begin(4 + 4 + 4 * example.features().length);
        buffer.putInt(example.label());
        Frame.putFloats(buffer, example.features());
        return FRAME.seal(buffer);
    }

    public static Example decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            int label = body.getInt();
            float[] features = Frame.getFloats(body);
            if (label < 0) {
                throw new RecordFormatException("Example record has negative label " + label);
            }
            return new Example(features, label);
        });
    }

    public static boolean looksLikeBinary(byte[] value) {
        return value != null && value.length > 0 && value[0] == TYPE;
    }
}
