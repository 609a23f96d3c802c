package io.streambelief.model.record;

import java.nio.ByteBuffer;

/**
 * Binary form of a worker's error-feedback residual (format 1): the floats, big-endian, in the
 * {@link Frame} envelope. A byte array for the same reason as {@link ReplicaStateCodec}.
 */
public final class ResidualCodec {
    private static final Frame FRAME = new Frame("Residual", (byte) 'E', (byte) 1);

    private ResidualCodec() {}

    public static byte[] encode(float[] residual) {
        ByteBuffer buffer = FRAME.begin(4 + 4 * residual.length);
        Frame.putFloats(buffer, residual);
        return FRAME.seal(buffer);
    }

    public static float[] decode(byte[] bytes) {
        return FRAME.read(bytes, Frame::getFloats);
    }
}
