package io.streambelief.model.record;

import java.nio.ByteBuffer;

/**
 * Unsigned LEB128 integers: how our sparse records write ascending indices, each as its gap from
 * the one before (the first from -1), so that dense runs take a byte per index.
 */
final class Varints {
    private Varints() {}

    static int size(int value) {
        return value < 1 << 7 ? 1 : value < 1 << 14 ? 2 : value < 1 << 21 ? 3 : value < 1 << 28 ? 4 : 5;
    }

    static void put(ByteBuffer buffer, int value) {
        while ((value & ~0x7F) != 0) {
            buffer.put((byte) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        buffer.put((byte) value);
    }

    static int get(ByteBuffer in, String typeName) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = in.get();
            value |= (b & 0x7F) << shift;
            if (b >= 0) {
                return value;
            }
        }
        throw new RecordFormatException(typeName + " record has a malformed index gap");
    }

    /** The bytes {@link #putGaps} writes for {@code indices}. */
    static int gapsSize(int[] indices) {
        int size = 0;
        int previous = -1;
        for (int index : indices) {
            size += size(index - previous);
            previous = index;
        }
        return size;
    }

    /** Writes {@code indices}, ascending, as gaps. */
    static void putGaps(ByteBuffer buffer, int[] indices) {
        int previous = -1;
        for (int index : indices) {
            put(buffer, index - previous);
            previous = index;
        }
    }

    /** Reads {@code count} indices written by {@link #putGaps}, refusing any at or beyond {@code length}. */
    static int[] getGaps(ByteBuffer in, int count, int length, String typeName) {
        int[] indices = new int[count];
        int index = -1;
        for (int n = 0; n < count; n++) {
            index += get(in, typeName);
            if (index >= length) {
                throw new RecordFormatException(typeName + " entry " + index + " beyond length " + length);
            }
            indices[n] = index;
        }
        return indices;
    }
}
