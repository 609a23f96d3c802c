package io.streambelief.model.record;

import java.nio.ByteBuffer;

/** Unsigned LEB128 integers: how our sparse records write the gaps between ascending indices. */
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
}
