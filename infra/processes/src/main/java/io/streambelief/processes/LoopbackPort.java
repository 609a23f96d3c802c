package io.streambelief.processes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Ports for the processes Streambelief starts on this machine (broker, Flink, model server),
 * all of which listen on 127.0.0.1 only.
 */
public final class LoopbackPort {
    private LoopbackPort() {}

    /**
     * A port on 127.0.0.1 that was free a moment ago. Another process can take it before the
     * caller binds it; callers start their listener right after asking.
     */
    public static int free() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("No free port on 127.0.0.1", e);
        }
    }

    /** {@code port}, or a free one for 0. */
    public static int orFree(int port) {
        return port != 0 ? port : free();
    }
}
