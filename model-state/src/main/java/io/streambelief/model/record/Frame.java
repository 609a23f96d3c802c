package io.streambelief.model.record;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The envelope every binary record of ours shares: a type byte, a format-version byte, the body,
 * and a CRC32 of everything before it. The type byte makes a record read as the wrong type fail
 * loudly; the version lets later releases refuse formats they do not know, naming what they read.
 */
final class Frame {
    static final int HEADER = 2;
    static final int TRAILER = 4;

    private final String typeName;
    private final byte type;
    private final byte currentVersion;

    Frame(String typeName, byte type, byte currentVersion) {
        this.typeName = typeName;
        this.type = type;
        this.currentVersion = currentVersion;
    }

    /** A buffer for a body of {@code bodySize} bytes, with the header already written. */
    ByteBuffer begin(int bodySize) {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER + bodySize + TRAILER);
        buffer.put(type).put(currentVersion);
        return buffer;
    }

    /** Appends the checksum; the buffer must be filled exactly up to the trailer. */
    byte[] seal(ByteBuffer buffer) {
        if (buffer.remaining() != TRAILER) {
            throw new IllegalStateException(typeName + " body size was miscomputed by " + (buffer.remaining() - TRAILER));
        }
        CRC32 crc = new CRC32();
        crc.update(buffer.array(), 0, buffer.position());
        buffer.putInt((int) crc.getValue());
        return buffer.array();
    }

    /** Validates the envelope and returns a buffer positioned at the body, limited before the CRC. */
    ByteBuffer open(byte[] bytes) {
        if (bytes == null || bytes.length < HEADER + TRAILER) {
            throw new RecordFormatException(typeName + " record is " + (bytes == null ? "missing" : "only "
                    + bytes.length + " bytes") + ", shorter than its envelope");
        }
        if (bytes[0] != type) {
            throw new RecordFormatException("Not a " + typeName + " record: type byte " + (bytes[0] & 0xff)
                    + ", expected " + (type & 0xff));
        }
        int version = bytes[1] & 0xff;
        if (version < 1 || version > currentVersion) {
            throw new RecordFormatException(typeName + " record has format version " + version
                    + "; this build reads versions 1 to " + currentVersion);
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - TRAILER);
        int expected = ByteBuffer.wrap(bytes, bytes.length - TRAILER, TRAILER).getInt();
        if ((int) crc.getValue() != expected) {
            throw new RecordFormatException(typeName + " record is corrupt: CRC32 mismatch");
        }
        return ByteBuffer.wrap(bytes, HEADER, bytes.length - HEADER - TRAILER).slice();
    }

    /** Reads the body with {@code reader}, turning truncation into a format error. */
    <T> T read(byte[] bytes, BodyReader<T> reader) {
        ByteBuffer body = open(bytes);
        try {
            T value = reader.read(body);
            if (body.hasRemaining()) {
                throw new RecordFormatException(typeName + " record has " + body.remaining() + " unexpected trailing bytes");
            }
            return value;
        } catch (BufferUnderflowException e) {
            throw new RecordFormatException(typeName + " record is truncated");
        }
    }

    interface BodyReader<T> {
        T read(ByteBuffer body);
    }

    static int stringSize(String s) {
        return 4 + s.getBytes(StandardCharsets.UTF_8).length;
    }

    static void putString(ByteBuffer buffer, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        buffer.putInt(utf8.length).put(utf8);
    }

    static String getString(ByteBuffer buffer) {
        int length = buffer.getInt();
        if (length < 0 || length > buffer.remaining()) {
            throw new BufferUnderflowException();
        }
        byte[] utf8 = new byte[length];
        buffer.get(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    static void putFloats(ByteBuffer buffer, float[] values) {
        buffer.putInt(values.length);
        buffer.asFloatBuffer().put(values);
        buffer.position(buffer.position() + 4 * values.length);
    }

    static float[] getFloats(ByteBuffer buffer) {
        int length = buffer.getInt();
        if (length < 0 || 4L * length > buffer.remaining()) {
            throw new BufferUnderflowException();
        }
        float[] values = new float[length];
        buffer.asFloatBuffer().get(values);
        buffer.position(buffer.position() + 4 * length);
        return values;
    }
}
