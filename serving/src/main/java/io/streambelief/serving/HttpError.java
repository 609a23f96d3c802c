package io.streambelief.serving;

/** A request the server refuses, with the HTTP status and a message for the client. */
final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;

    HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }
}
