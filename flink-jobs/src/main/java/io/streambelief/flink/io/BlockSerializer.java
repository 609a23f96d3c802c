package io.streambelief.flink.io;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.streambelief.model.record.ExampleDigest;

/**
 * Base of our serializers for the records that cross the network between operators: shard
 * values and gradients of 64 Ki floats. Flink's own array serializer writes one float per call;
 * these write an array as one block of bytes. Records are immutable, so copies share nothing but
 * are only made where Flink asks for them.
 */
abstract class BlockSerializer<T> extends TypeSerializerSingleton<T> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    /** A record in its codec's bytes, length first: for records whose codec already chooses a compact form. */
    static void writeEncoded(DataOutputView out, byte[] encoded) throws IOException {
        out.writeInt(encoded.length);
        out.write(encoded);
    }

    static byte[] readEncoded(DataInputView in) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return bytes;
    }

    static void writeFloats(DataOutputView out, float[] values) throws IOException {
        out.writeInt(values.length);
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length);
        bytes.asFloatBuffer().put(values);
        out.write(bytes.array());
    }

    static void writeDigest(DataOutputView out, ExampleDigest digest) throws IOException {
        out.writeLong(digest.count());
        out.writeLong(digest.sum());
        out.writeLong(digest.xor());
    }

    static ExampleDigest readDigest(DataInputView in) throws IOException {
        return new ExampleDigest(in.readLong(), in.readLong(), in.readLong());
    }

    static float[] readFloats(DataInputView in) throws IOException {
        int length = in.readInt();
        byte[] bytes = new byte[4 * length];
        in.readFully(bytes);
        float[] values = new float[length];
        ByteBuffer.wrap(bytes).asFloatBuffer().get(values);
        return values;
    }
}
